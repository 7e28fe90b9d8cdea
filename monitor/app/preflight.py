"""Checks of the settings that need each source's and channel's own knowledge, run before work starts.

Settings validation (monitor.core.config) knows the names of sources and channel types; which
options each one takes is known only to its class, so `config check`, `run`, `collect` and
`serve` ask them here: a misspelled option fails the command instead of being ignored.
"""

from __future__ import annotations

import os

from alerts import channel_class
from alerts.channels import build_channels
from collectors import build_collectors, collector_class
from monitor.core.config import Settings, secret
from monitor.core.errors import ConfigError, ListenpostError, MissingCredential
from monitor.core.names import ENV_PREFIX
from monitor.core.validation import alert_below_negative


def check_settings(settings: Settings, *, build: bool = False) -> None:
    """Raise ConfigError naming the file and the first unknown option of a source or channel.

    With ``build``, each enabled source and each channel is also built, which checks its
    option values and required options (`config check`), and the problems of every source are
    named together; commands that build them anyway report those per source.
    """
    problems: list[str] = []
    try:
        for name, source in settings.sources.items():
            collector = collector_class(name)
            if not build:
                collector.check_options(source.options)
                continue
            # Building one checks its option values too; one whose secrets are not set yet is
            # checked as far as it gets (`config check` lists the missing variables), and for the
            # account ids it cannot work without. Every source's problem is listed.
            try:
                collector.check_options(source.options)
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            error = next(build_collectors(settings, [name])).error if source.enabled else None
            if isinstance(error, MissingCredential):
                what = collector.accounts_are
                if what and not any(brand.accounts.get(name) for brand in settings.brands):
                    problems.append(f"{name}: no {what}; list them in a brand's accounts = {{ {name} = [...] }}")
            elif error is not None:
                if not isinstance(error, ConfigError):
                    raise error
                problems.append(str(error))
        if problems:
            raise ConfigError("; ".join(problems))
        for name, channel in settings.alerts.channels.items():
            channel_class(channel.type).check_options(name, channel.options)
        if build:
            for error in _channel_errors(settings).values():
                if not isinstance(error, MissingCredential):
                    raise error
    except ConfigError as exc:
        raise ConfigError(f"{settings.path or 'settings'}: {exc}") from None
    check_alert_threshold(settings)


def check_alert_threshold(settings: Settings) -> None:
    """An alert threshold set under the model's own negative threshold (negative_threshold unset) is
    refused as settings validation refuses one under a set negative_threshold. Only the classifier's
    tuned thresholds are read (the model card), never its weights."""
    alert = settings.classifier.alert_threshold
    if alert is None or settings.classifier.negative_threshold is not None:
        return  # nothing set to check, or both set: settings validation compared them
    from classifiers import load_active_classifier
    from monitor.app.pipeline import negative_threshold

    classifier = load_active_classifier(settings.classifier)
    labeled = negative_threshold(classifier, None)
    if alert < labeled:
        variable = ENV_PREFIX + "CLASSIFIER__ALERT_THRESHOLD"
        where = variable if os.environ.get(variable) else settings.path or "settings"
        raise ConfigError(f"{where}: " + alert_below_negative(
            alert, labeled, "the negative threshold",
            f" that model {settings.classifier.model!r} was tuned for (negative_threshold is not set)"))


def short_send_lease(settings: Settings) -> str | None:
    """Why schedule.send_lease is too short, or None: it must outlast the longest send an enabled
    channel may make (its timeout), or another dispatcher could take over an alert mid-send."""
    longest: tuple[float, str] | None = None
    for name, channel in settings.alerts.channels.items():
        if not channel.enabled:
            continue
        timeout = channel.options.get("timeout", channel_class(channel.type).default_timeout)
        if isinstance(timeout, int | float) and not isinstance(timeout, bool) and (
                longest is None or timeout > longest[0]):
            longest = (float(timeout), name)
    if longest is None or settings.schedule.send_lease >= longest[0]:
        return None
    return (f"schedule.send_lease: {settings.schedule.send_lease:g}s is shorter than alert channel "
            f"{longest[1]}'s timeout ({longest[0]:g}s); make it at least that long, or an alert "
            "could be sent twice")


def channels_missing_credentials(settings: Settings) -> dict[str, MissingCredential]:
    """Enabled channels that cannot send because a secret is not set: their alerts wait in the outbox."""
    # A channel with a wrong option is reported by check_settings.
    return {name: error for name, error in _channel_errors(settings).items() if isinstance(error, MissingCredential)}


def _channel_errors(settings: Settings) -> dict[str, ListenpostError]:
    """Why each enabled channel that cannot be built cannot, by name."""
    errors: dict[str, ListenpostError] = {}
    build_channels(settings, errors=errors)
    return errors


def unrouted_channels(settings: Settings) -> list[str]:
    """Enabled channels that no route, no escalation and no praise setting uses: set up, yet never
    sent anything."""
    used = {c for route in settings.alerts.routes for c in route.channels}
    used.update(settings.alerts.escalation.channels)
    used.update(settings.alerts.praise.channels)
    return [name for name, channel in settings.alerts.channels.items() if channel.enabled and name not in used]


def missing_credentials(settings: Settings) -> list[tuple[str, str]]:
    """Enabled sources and alert channels that cannot work with the environment as it is:
    (name, what is missing)."""
    problems = []
    for name, source in settings.sources.items():
        if not source.enabled:
            continue
        missing = [c for c in collector_class(name).credentials if secret(c) is None]
        if missing:
            problems.append((name, f"{name}: enabled but missing " + ", ".join(f"LISTENPOST_{c}" for c in missing)))
    for name, exc in channels_missing_credentials(settings).items():
        problems.append((f"alert channel {name}", f"alert channel {name}: missing {exc.variable}; "
                                                  "its alerts wait in the outbox until it is set"))
    return problems
