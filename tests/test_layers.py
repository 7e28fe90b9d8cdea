"""The architecture picture in README and CONVENTIONS, held against the code.

README draws the floors, top to bottom:

    monitor/cli/         prints what the application returns (only monitor/__main__.py imports it)
    monitor/app/         pipeline, scheduler, workers, serve, demo, health, copy
    alerts/              channels/ (one file each; Slack in channels/slack/), outbox/, digest/
    classifiers/  collectors/   the model and the sources (neither imports the other)
    monitor/store/       all SQL: one module per concern, SQLite and PostgreSQL dialects
    monitor/core/        records, rows, errors, settings, times, and the registries in names.py

Every import in the four packages is read with `ast` (tests/layerkit.py): import statements,
also inside functions (which is how cycles hide), `importlib.import_module("…")` and
`__import__("…")` with a literal name, and `import pkg` followed by `pkg.sub.name`. An import may
point down any number of floors, never up. Imports outside `if TYPE_CHECKING:` blocks form no
cycle, between modules (a submodule importing its own package counts) nor between the packages
under the four (alerts.channels, Slack's sub-package included, and alerts.outbox, say). The
"module:attribute" registries name modules that exist, in the package their kind belongs to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.layerkit import (
    FLOORS,
    cli_importers,
    cycles,
    floor_of,
    homeless,
    imports,
    module_graph,
    package_graph,
    registry_problems,
    upward_imports,
)


def test_every_module_sits_on_a_floor():
    assert homeless() == []


def test_no_import_points_up_or_sideways():
    assert upward_imports() == []


def test_no_import_cycle_between_modules():
    assert cycles(module_graph()) == []


def test_no_import_cycle_between_packages():
    assert cycles(package_graph()) == []


def test_only_the_entry_point_imports_the_cli():
    assert cli_importers() == []


def test_the_registries_name_modules_that_exist_on_their_floor():
    assert registry_problems() == []


def test_the_checker_catches_an_upward_import(tmp_path):
    # the rule itself: a ground module importing an alert channel would be flagged
    assert FLOORS[floor_of("alerts.channels.slack")] > FLOORS[floor_of("monitor.core.config")]
    assert floor_of("monitor.store.audience") == "monitor.store"
    assert floor_of("monitor.cli.setup") == "monitor.cli"
    assert floor_of("monitor.app.pipeline") == "monitor.app"


# The checks on a small planted tree: each must fail where it should, or it could pass silently.

def plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in ("monitor", "monitor/core", "monitor/store", "monitor/app", "monitor/cli", "alerts",
                    "alerts/channels", "alerts/outbox", "collectors"):
        init = root / package / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text("", encoding="utf-8")
    for module in ("monitor/cli/alerting.py", "alerts/outbox/dispatch.py", "alerts/channels/console.py"):
        if not (root / module).exists():
            (root / module).write_text("", encoding="utf-8")
    return root


@pytest.mark.parametrize("source", [
    'import importlib\nimportlib.import_module("monitor.cli.alerting")\n',
    'from importlib import import_module\n\ndef later():\n    return import_module("monitor.cli.alerting")\n',
    '__import__("alerts.outbox.dispatch")\n',
    "import monitor\n\ndef later():\n    return monitor.cli.alerting.main\n",
    "import monitor.core\nmonitor.app = monitor.cli.alerting\n",
    "import alerts as a\n\ndef later():\n    return a.outbox.dispatch.send\n",
])
def test_the_checker_sees_dynamic_and_attribute_imports(tmp_path, source):
    root = plant(tmp_path, {"monitor/core/planted.py": source})
    found = [target for target, _, _ in imports(root / "monitor/core/planted.py", root)]
    assert {"monitor.cli.alerting", "alerts.outbox.dispatch"} & set(found)
    assert any("monitor/core/planted.py" in v for v in upward_imports(root))


def test_the_checker_ignores_names_that_only_look_like_modules(tmp_path):
    root = plant(tmp_path, {"monitor/cli/planted.py": (
        "import click\nalerts = click.Group()\nalerts.outbox = 1\n"
        "import importlib\nname = 'alerts.outbox.dispatch'\nimportlib.import_module(name)\n")})
    assert [t for t, _, _ in imports(root / "monitor/cli/planted.py", root)] == ["click", "importlib"]


def test_the_checker_catches_a_cycle_through_a_package_init(tmp_path):
    root = plant(tmp_path, {
        "monitor/store/__init__.py": "from monitor.store.planted import Store\n",
        "monitor/store/planted.py": "from monitor.store import parse_ts\n\nclass Store: ...\n",
    })
    assert cycles(module_graph(root)) == ["monitor.store → monitor.store.planted → monitor.store"]


def test_a_submodule_importing_its_package_is_no_cycle_by_itself(tmp_path):
    root = plant(tmp_path, {"monitor/store/planted.py": "from monitor.store import parse_ts\n"})
    assert module_graph(root)["monitor.store.planted"] == {"monitor.store"}
    assert cycles(module_graph(root)) == []


def test_the_checker_catches_a_cycle_between_packages(tmp_path):
    root = plant(tmp_path, {
        "alerts/channels/planted.py": "from alerts.outbox.dispatch import refresh\n",
        "alerts/outbox/dispatch.py": "from alerts.channels import console\n",
    })
    assert cycles(module_graph(root)) == []  # no module imports itself back ...
    assert cycles(package_graph(root)) == ["alerts.channels → alerts.outbox → alerts.channels"]  # ... but packages do


def test_a_sub_package_counts_in_its_package(tmp_path):
    root = plant(tmp_path, {
        "alerts/channels/slack/__init__.py": "",
        "alerts/channels/slack/interactions.py": "from alerts.outbox.dispatch import refresh\n",
        "alerts/outbox/dispatch.py": "import alerts.channels\n",
    })
    assert cycles(package_graph(root)) == ["alerts.channels → alerts.outbox → alerts.channels"]


def test_a_type_checking_import_makes_no_cycle(tmp_path):
    root = plant(tmp_path, {
        "alerts/channels/planted.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                      "    from alerts.outbox.dispatch import Report\n",
        "alerts/outbox/dispatch.py": "from alerts.channels import console\n",
    })
    assert cycles(package_graph(root)) == []


REGISTRY_FILES = {
    "monitor/core/names.py": ('SOURCES: dict[str, str] = {"rss": "collectors.rss:RssCollector"}\n'
                              'CHANNEL_TYPES = {"console": "alerts.channels.console:ConsoleChannel"}\n'),
    "monitor/cli/__init__.py": 'COMMANDS: dict[str, str] = {"alerts": "monitor.cli.alerting:alerts"}\n',
    "collectors/rss.py": "class RssCollector: ...\n",
    "alerts/channels/console.py": "class ConsoleChannel: ...\n",
    "monitor/cli/alerting.py": "import click\n\n@click.group()\ndef alerts(): ...\n",
}


@pytest.mark.parametrize(("file", "change", "problem"), [
    ("monitor/core/names.py", ("collectors.rss:", "collectors.atom:"), "no module collectors.atom"),
    ("monitor/core/names.py", ("RssCollector", "FeedCollector"), "collectors.rss defines no FeedCollector"),
    ("monitor/core/names.py", ("alerts.channels.console:", "alerts.console:"), "inside alerts.channels"),
    ("monitor/core/names.py", ("collectors.rss:", "alerts.channels.console:"), "inside collectors"),
    ("monitor/cli/__init__.py", ("monitor.cli.alerting:", "monitor.app.alerting:"), "inside monitor.cli"),
    ("monitor/cli/__init__.py", ("alerting:alerts", "alerting"), "not a module:attribute"),
])
def test_the_checker_catches_a_registry_entry_that_points_astray(tmp_path, file, change, problem):
    assert registry_problems(plant(tmp_path / "good", dict(REGISTRY_FILES))) == []
    files = dict(REGISTRY_FILES)
    files[file] = files[file].replace(*change)
    found = registry_problems(plant(tmp_path / "bad", files))
    assert len(found) == 1 and problem in found[0], found
