"""The `listenpost` command: a thin click group over the library functions.

Exit codes: 0 ok, 1 runtime failure, 2 usage or settings error.
"""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor import __version__
from monitor.core.errors import ListenpostError

if TYPE_CHECKING:
    from monitor.core.config import Settings
    from monitor.core.database import DatabaseLocation

# command name -> "module:attribute"; each module holds the commands of one area.
COMMANDS: dict[str, str] = {
    "init": "monitor.cli.setup:init",
    "config": "monitor.cli.setup:config",
    "demo": "monitor.cli.setup:demo",
    "collect": "monitor.cli.collect:collect",
    "import": "monitor.cli.collect:import_file",
    "classify": "monitor.cli.collect:classify",
    "backfill": "monitor.cli.sources:backfill",
    "sources": "monitor.cli.sources:sources",
    "mentions": "monitor.cli.browse:mentions",
    "browse": "monitor.cli.webview:browse",
    "alerts": "monitor.cli.alerting:alerts",
    "serve": "monitor.cli.alerting:serve",
    "status": "monitor.cli.browse:status",
    "run": "monitor.cli.run:run",
    "stats": "monitor.cli.browse:stats",
    "train": "monitor.cli.model:train",
    "eval": "monitor.cli.model:eval_command",
    "digest": "monitor.cli.digest:digest",
    "report": "monitor.cli.digest:report",
    "db": "monitor.cli.db:db",
}


@dataclass
class App:
    """What every command shares: where the settings and database are, loaded on first use."""

    config_path: str | None
    db_path: str | None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from monitor.core.config import load_settings

            self._settings = load_settings(self.config_path, overrides={"database": self.db_path})
        return self._settings

    @property
    def db_label(self) -> str:
        """The database for messages: a file path, or a URL with its password masked."""
        from monitor.core.database import mask_url

        value = self.db_path or (self._settings.database if self._settings is not None else "")
        return mask_url(value) if "://" in value else value

    def check_database(self) -> DatabaseLocation:
        """The database the settings name: an SQLite file, or a PostgreSQL server tried now, so that
        an unreachable one ends the command in one line (a URL is never turned into a file)."""
        from monitor.core.database import check_database

        return check_database(self.settings.database)

    def brand_name(self, brand: str | None) -> str | None:
        """A --brand filter as settings.toml spells the brand (`--brand acme` finds "Acme")."""
        from monitor.core.brands import configured_name

        if brand is None:
            return None
        return configured_name(self.settings, brand) or brand

    def store(self) -> Any:
        from monitor.store import Store

        return Store(self.settings.database)


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs, so `--help` stays instant."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            from monitor.core.registry import resolve

            command: click.Command = resolve(COMMANDS, name, "command")
            return command
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ListenpostError as exc:
            fail(ctx, str(exc), exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # `listenpost mentions list | head`: the reader has what it wanted
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            ctx.exit(1)
        except OSError as exc:  # a full disk, a port in use, a folder that cannot be written
            where = f"{exc.filename}: " if exc.filename else ""
            fail(ctx, f"{where}{exc.strerror or exc}", 1, exc)
        except sqlite3.Error as exc:  # "database or disk is full", "disk I/O error"
            fail(ctx, f"database {ctx.obj.db_label}: {exc}", 1, exc)
        except Exception as exc:  # a traceback is no message for a user; -vv logs it
            if type(exc).__module__.startswith("psycopg"):  # PostgreSQL, from outside the store's wrapper
                from monitor.core.database import connect_failure

                app = ctx.obj
                url = app.db_path or (app._settings.database if app._settings is not None else "")
                fail(ctx, f"database {app.db_label}: {connect_failure(exc, url)}", 1, exc)
            fail(ctx, f"unexpected {type(exc).__name__}: {exc} (run with -vv for details)", 1, exc)


def fail(ctx: click.Context, message: str, code: int, exc: BaseException | None = None) -> None:
    """End a command with one line on stderr; the traceback, if any, goes to the debug log."""
    if exc is not None:
        logging.getLogger("listenpost").debug("traceback", exc_info=exc)
    from alerts.message import plain

    # One line, and no control characters: an error can quote a file's or a server's text.
    click.secho("Error: " + " ".join(plain(message).split()), fg="red", err=True)
    ctx.exit(code)


class OneLineFormatter(logging.Formatter):
    """One log record, one line: a name or text with a line break or an escape sequence in it
    (from an imported file, an API, a Slack user) cannot forge a log line or drive the terminal."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _CONTROL.sub(lambda m: repr(m.group())[1:-1], record.message)
        return super().formatMessage(record)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="LISTENPOST_CONFIG",
              help="Settings file (default: ./settings.toml, or $LISTENPOST_CONFIG).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Database file or postgresql://host/dbname URL (default: the `database` setting, "
                   "or $LISTENPOST_DATABASE).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="listenpost")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None, verbose: int) -> None:
    """listenpost: watch brand mentions and reviews, flag the unhappy ones, alert your team.

    Start with `listenpost demo` (offline, bundled data), then `listenpost init` to write a
    settings.toml for your own brands.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # LISTENPOST_CONFIG set but empty (an unset variable in a compose or systemd file) means no choice made.
    ctx.obj = App(config_path=config_path if config_path and config_path.strip() else None, db_path=db_path)


def main() -> None:
    cli(prog_name="listenpost")


pass_app = click.make_pass_decorator(App)


@contextmanager
def progress(length: int, label: str, *, percent: bool = False) -> Iterator[Any]:
    """A progress bar on stderr (click hides it when stderr is not a terminal).

    Counts items ("120/500"), or with ``percent`` shows only a percentage. A log line written
    meanwhile first clears the bar's line, so the two never run together; the bar redraws after.
    """
    bar = click.progressbar(length=length, label=label, file=sys.stderr, show_pos=not percent,
                            show_percent=True, show_eta=True)
    clear = _ClearBar(bar)
    handlers = logging.getLogger().handlers
    for handler in handlers:
        handler.addFilter(clear)
    try:
        with bar:
            yield bar
    finally:
        for handler in handlers:
            handler.removeFilter(clear)


class _ClearBar(logging.Filter):
    def __init__(self, bar: Any) -> None:
        super().__init__()
        self.bar = bar

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.bar.hidden and self.bar._is_atty:
            sys.stderr.write("\r\033[K")
        return True


def width() -> int:
    """The terminal's width in columns ($COLUMNS first; 80 when output is not a terminal)."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def fit(line: str, columns: int | None = None) -> str:
    """One line cut to the terminal's width, ending in … when cut."""
    columns = columns or width()
    return line if len(line) <= columns else line[: columns - 1] + "…"


def cell(text: str, size: int) -> str:
    """One column of a table: ``text`` on one line, padded to ``size``; a longer one is cut to leave
    a space before the next column and ends in … so that a cut name is not read as a whole one."""
    from alerts.message import inline, truncate

    return f"{truncate(inline(text), size - 1):<{size}}"


def wrap(text: str, indent: str = "", columns: int | None = None) -> list[str]:
    """Long text (a URL, say) broken into lines that fit, each indented; nothing is dropped."""
    room = (columns or width()) - len(indent)
    return [indent + text[i:i + room] for i in range(0, len(text), room)] or [indent]


def say(text: str, indent: str = "", *, fg: str | None = None, err: bool = False) -> None:
    """Print ``text`` wrapped to the terminal, continuation lines indented a little further."""
    lines = textwrap.wrap(text, width(), initial_indent=indent, subsequent_indent=indent + "  ",
                          break_on_hyphens=False) or [indent]
    click.secho("\n".join(lines), fg=fg, err=err)


def resolve_path(path: str) -> Path:
    return Path(path).expanduser()
