"""Files a package reads at run time (templates, demo data, weights) are named in package-data,
so a non-editable `pip install .` ships them."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_template_is_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    templates = [p for top in ("alerts", "monitor") for p in (ROOT / top).rglob("templates/*") if p.is_file()]
    assert templates
    missing = []
    for path in templates:
        relative = path.relative_to(ROOT)
        shipped = any(
            relative.is_relative_to(Path(*package.split("."))) and any(
                fnmatch(str(relative.relative_to(Path(*package.split(".")))), pattern) for pattern in patterns)
            for package, patterns in package_data.items())
        if not shipped:
            missing.append(str(relative))
    assert missing == []
