"""The docs' account of the shipped model matches what is actually served."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_docs_state_the_shipped_models_name_and_thresholds() -> None:
    from classifiers import load_classifier

    model = load_classifier("default")  # lazy: no weights are loaded for these attributes
    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    glance = doc[doc.index("## At a glance"):doc.index("## Results")]
    assert f"`{model.name}`" in glance
    assert f"**{model.negative_threshold}** (`[classifier] negative_threshold`)" in glance
    assert f"**{model.alert_threshold}** (`[classifier] alert_threshold`)" in glance
    # The v1 description (a VADER blend labelled negative from 0.35) must not come back.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "0.35" not in readme and "0.35" not in glance
    for example in (ROOT / "docs" / "configuration.md", ROOT / "settings.toml"):
        text = example.read_text(encoding="utf-8")
        assert re.search(rf"negative_threshold = {model.negative_threshold}\b", text), example
        assert re.search(rf"alert_threshold = {model.alert_threshold}\b", text), example


def test_model_doc_has_each_section_once() -> None:
    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## .+$", doc, flags=re.M)
    assert len(headings) == len(set(headings)), headings


def test_import_docs_say_imported_app_reviews_need_a_brand() -> None:
    doc = " ".join((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").split())
    assert "Most exports carry no app id" in doc and "give those rows a `brand` column (or `--brand`)" in doc
