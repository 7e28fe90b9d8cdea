"""Commands that set things up: init, config show/check, demo."""

from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import click

from alerts.message import plural
from monitor.cli import App, pass_app
from monitor.core.names import SECRET_VARIABLES


def starter_settings() -> str:
    return resources.files("monitor.cli").joinpath("templates/settings.toml").read_text(encoding="utf-8")


@click.command()
@click.argument("path", default="settings.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented starter settings file (default ./settings.toml)."""
    target = Path(path)
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; use --force to overwrite it")
    from monitor.core.textfile import private_file

    with private_file(target) as fh:
        fh.write(starter_settings())
    click.echo(f"Wrote {target}. Edit the brands and sources, then run `listenpost config check`.")


@click.group()
def config() -> None:
    """Show or check the effective settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="As JSON instead of TOML-like text.")
@pass_app
def config_show(app: App, as_json: bool) -> None:
    """Print the effective settings (file + environment + flags), secrets masked."""
    from monitor.core.config import mask, secret

    settings = app.settings
    location = settings.database_location
    secrets = {f"LISTENPOST_{name}": mask(secret(name)) for name in SECRET_VARIABLES}
    secrets["PGPASSWORD"] = mask(os.environ.get("PGPASSWORD") or None)
    if location.kind == "postgresql":  # a password given in LISTENPOST_DATABASE or --db stays hidden
        settings = dataclasses.replace(settings, database=location.display())
    if as_json:
        data = dataclasses.asdict(settings)
        data.pop("path", None)
        click.echo(json.dumps({"settings": data, "secrets": secrets}, indent=2, default=str))
        return
    click.echo(f"# from {settings.path or 'built-in defaults'}")
    if location.kind == "sqlite" and settings.database != ":memory:" and not Path(settings.database).is_absolute():
        # Relative to the working directory here; in a saved copy it would be read relative to
        # that file, so the copy would open another database.
        settings = dataclasses.replace(settings, database=str(Path(settings.database).absolute()))
    _show(settings)
    # Commented out, so the whole output stays a settings file that loads back.
    click.echo("\n# secrets (environment only)")
    for name, shown in secrets.items():
        click.echo(f"# {name} = {shown}")


def _toml(value: Any) -> str:
    """A value as TOML writes it: strings quoted, lists and inline tables, true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    return json.dumps(str(value), ensure_ascii=False)


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _show(obj: Any, section: str = "") -> None:
    """Print settings as the settings file writes them: durations as "15m", tables and arrays of tables."""
    from monitor.core.config import format_duration

    tables: list[tuple[str, Any]] = []
    for f in dataclasses.fields(obj):
        if f.name == "path":
            continue
        value = getattr(obj, f.name)
        name = f"{section}.{f.name}" if section else f.name
        if dataclasses.is_dataclass(value):
            tables.append((f"[{name}]", value))
        elif isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            tables.extend((f"[[{name}]]", item) for item in value)
        elif isinstance(value, dict) and value and all(dataclasses.is_dataclass(v) for v in value.values()):
            tables.extend((f"[{name}.{_key(k)}]", v) for k, v in value.items())
        elif f.metadata.get("duration") and isinstance(value, int | float):
            click.echo(f"{f.name} = {_toml(format_duration(value))}")
        elif value is not None:
            click.echo(f"{f.name} = {_toml(value)}")
    for header, value in tables:
        click.echo(f"\n{header}")
        _show(value, header.strip("[]"))


@config.command("check")
@pass_app
def config_check(app: App) -> None:
    """Validate the settings, then what they need from the environment.

    Exits 2 with the file, key and problem when the settings are wrong, or when an enabled
    alert channel lacks its credentials; sources that lack theirs are listed (named, never shown).
    """
    from monitor.app.preflight import check_settings, missing_credentials, short_send_lease, unrouted_channels
    from monitor.core.errors import ConfigError

    settings = app.settings
    check_settings(settings, build=True)
    too_short = short_send_lease(settings)
    if too_short:
        raise ConfigError(f"{settings.path or 'settings'}: {too_short}")
    click.echo(f"{settings.path or 'defaults'}: settings are valid "
               f"({plural(len(settings.brands), 'brand')}, {plural(len(settings.sources), 'source')}, "
               f"{plural(len(settings.alerts.channels), 'channel')}).")
    problems = missing_credentials(settings)
    for _, problem in problems:
        click.secho(f"  {problem}", fg="yellow", err=True)
    for name in unrouted_channels(settings):
        click.secho(f"  alert channel {name}: no [[alerts.routes]] entry sends to it, so it gets no alerts "
                    f"(add it to a route: channels = [\"{name}\"])", fg="yellow", err=True)
    # A source without credentials is skipped and the rest still run; a channel without its
    # token would hold every alert routed to it, so that fails the check.
    blocking = [name for name, _ in problems if name.startswith("alert channel ")]
    if blocking:
        click.secho(f"Not ready: {', '.join(blocking)} cannot send.", fg="red", err=True)
        raise SystemExit(2)


@click.command()
@click.option("--model", help="Classifier to use (default: the shipped model).")
@click.option("--limit", type=click.IntRange(1, 50), default=5, show_default=True,
              help="How many alerts to show in full.")
@pass_app
def demo(app: App, model: str | None, limit: int) -> None:
    """Run the whole pipeline offline on bundled sample data.

    About 200 mentions of two fictional brands from several sources go through collection,
    classification and alert routing into ./listenpost-demo.db (or --db). Running it again
    on the same database adds nothing and alerts nothing twice.
    """
    import os

    from monitor.cli.demo import demo_command
    from monitor.core.database import check_database

    # The settings file's `database` is the real one: only --db or $LISTENPOST_DATABASE point the
    # demo elsewhere. $LISTENPOST_DATABASE usually names a real install: a database it names that
    # holds other brands' mentions is refused; --db is a deliberate choice.
    database = app.db_path or os.environ.get("LISTENPOST_DATABASE") or "listenpost-demo.db"
    check_database(database)
    demo_command(database, model, limit, only_demo_brands=not app.db_path)
