"""Commands that set things up: init, config show/check, demo."""

from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import click

from monitor.cli import App, pass_app
from monitor.config import SECRET_VARIABLES


def starter_settings() -> str:
    return resources.files("monitor").joinpath("templates/settings.toml").read_text(encoding="utf-8")


@click.command()
@click.argument("path", default="settings.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented starter settings file (default ./settings.toml)."""
    target = Path(path)
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; use --force to overwrite it")
    from monitor.textfile import private_file

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
    from monitor.config import mask, secret

    settings = app.settings
    data = dataclasses.asdict(settings)
    data.pop("path", None)
    secrets = {f"LISTENPOST_{name}": mask(secret(name)) for name in SECRET_VARIABLES}
    if as_json:
        click.echo(json.dumps({"settings": data, "secrets": secrets}, indent=2, default=str))
        return
    click.echo(f"# from {settings.path or 'built-in defaults'}")
    _show(data)
    click.echo("\n# secrets (environment only)")
    for name, shown in secrets.items():
        click.echo(f"{name} = {shown}")


INLINE_TABLES = ("options", "apps", "accounts", "label_map")


def _show(data: dict[str, Any], section: str = "") -> None:
    """Print a settings table TOML-style: scalars first, then each sub-table under its full name."""
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and k not in INLINE_TABLES}
    for key, value in data.items():
        if key not in tables:
            click.echo(f"{key} = {json.dumps(value, ensure_ascii=False, default=str)}")
    for key, value in tables.items():
        name = f"{section}.{key}" if section else key
        if value and all(isinstance(v, dict) for v in value.values()):
            for sub, inner in value.items():
                click.echo(f"\n[{name}.{sub}]")
                _show(inner, f"{name}.{sub}")
        else:
            click.echo(f"\n[{name}]")
            _show(value, name)


@config.command("check")
@pass_app
def config_check(app: App) -> None:
    """Validate the settings; exit 2 with the file, key and problem when they are wrong."""
    from collectors import collector_class
    from monitor.preflight import check_settings

    settings = app.settings
    check_settings(settings, build=True)
    click.echo(f"{settings.path or 'defaults'}: settings are valid "
               f"({len(settings.brands)} brands, {len(settings.sources)} sources, "
               f"{len(settings.alerts.channels)} channels).")
    for name, source in settings.sources.items():
        if not source.enabled:
            continue
        missing = [c for c in collector_class(name).credentials if not os.environ.get(f"LISTENPOST_{c}")]
        if missing:
            click.secho(f"  {name}: enabled but missing " + ", ".join(f"LISTENPOST_{c}" for c in missing),
                        fg="yellow")
    from monitor.preflight import channels_missing_credentials

    for name, exc in channels_missing_credentials(settings).items():
        click.secho(f"  alert channel {name}: missing {exc.variable}; its alerts wait in the outbox until it is set",
                    fg="yellow")


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
    from monitor.demo import run_demo

    run_demo(db_path=app.db_path or "listenpost-demo.db", model=model, show=limit)
