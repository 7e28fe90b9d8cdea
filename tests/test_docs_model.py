"""The README's account of the shipped model matches what is actually served."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_states_the_shipped_models_thresholds_and_no_blend() -> None:
    from classifiers import load_classifier

    model = load_classifier("default")  # lazy: no weights are loaded for these attributes
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The sentiment model"):readme.index("## The data model")]
    assert f"**{model.negative_threshold}** (`negative_threshold`)" in section
    assert f"**{model.alert_threshold}** (`alert_threshold`)" in section
    assert model.name in section
    # The v1 description (a 40 % VADER blend labelled negative from 0.35) must not come back.
    assert "40 %" not in section and "0.35" not in readme
    settings_example = readme[readme.index("## Configuration"):readme.index("## Commands")]
    assert re.search(rf"negative_threshold = {model.negative_threshold}\b", settings_example)
    assert re.search(rf"alert_threshold = {model.alert_threshold}\b", settings_example)


def test_model_doc_has_each_section_once() -> None:
    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## .+$", doc, flags=re.M)
    assert len(headings) == len(set(headings)), headings


def test_readme_says_imported_app_reviews_need_a_brand() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "An export carries no app id" in readme and "Give them a `brand` column (or `--brand`)" in readme
