"""`listenpost train` and `listenpost eval` tell a user what their data and thresholds can and cannot do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifiers import load_classifier
from classifiers.evaluation import lowest_meeting, render
from classifiers.transformer import SHIPPED_WEIGHTS, model_thresholds, quiet_transformers
from monitor.cli import cli
from monitor.core.errors import ModelError
from monitor.core.records import Mention
from monitor.store import Store

needs_weights = pytest.mark.skipif(not SHIPPED_WEIGHTS.exists(), reason="shipped weights not built")

NEGATIVE = ["Terrible product, broke after {} days and support never answered",
            "Worst service ever, I waited {} hours on hold", "Lost my order again, that is {} times now"]
POSITIVE = ["Love the new update, it is {} times faster", "Great support, fixed my problem in {} minutes"]
NEUTRAL = ["The shop opens at {} on Saturdays", "The new store is on street number {}"]


def labeled_csv(path: Path, rows: int, extra: str = "") -> Path:
    lines = ["text,label"]
    for i in range(rows):
        for texts, label in ((NEGATIVE, "negative"), (POSITIVE, "positive"), (NEUTRAL, "neutral")):
            lines.append(f'"{texts[i % len(texts)].format(i + 2)}",{label}')
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.mark.both_backends
def test_a_mention_corrected_on_two_channels_is_one_example(store) -> None:
    # Closing the Slack and the email copy of one alert (ids 39 and 40) stores the mention twice.
    for origin in ("slack", "email"):
        store.add_labeled_example(source="reddit", external_id="t3_1", text="Acme's new logo", label="neutral",
                                  origin=origin)
    store.add_labeled_example(source="reddit", external_id="t3_2", text="Acme opens in Leeds", label="neutral",
                              origin="slack")
    store.add_labeled_example(source="reddit", external_id="t3_2", text="Acme opens in Leeds", label="positive",
                              origin="slack")
    examples = store.labeled_examples()
    assert [(e.text, e.label, e.origin) for e in examples] == [
        ("Acme's new logo", "neutral", "email"), ("Acme opens in Leeds", "positive", "slack")]


def test_lowest_threshold_meeting_the_target_precision() -> None:
    rows = [(0.3, 0.5), (0.4, 0.76), (0.5, 0.7), (0.6, 0.9)]
    assert lowest_meeting(rows, 0.75) == 0.4
    assert lowest_meeting(rows, 0.8) == 0.6
    assert lowest_meeting(rows, 0.95) is None


def test_eval_alert_table_marks_the_rule_and_rows_the_settings_cannot_reach() -> None:
    gold = ["negative", "negative", "neutral", "positive"]
    # Alerted sets by threshold: 0.3 flags a neutral too (precision 0.667), from 0.4 only negatives.
    alerts = [(0.3, [True, True, True, False]), (0.35, [True, True, False, False]),
              (0.4, [True, False, True, False]), (0.5, [True, True, False, False]), (0.7, [True, False, False, False])]
    out = render("m", gold, ["negative", "negative", "neutral", "positive"], [0.9, 0.8, 0.1, 0.1], alerts=alerts,
                 label_threshold=0.4, alert_threshold=0.7, target_precision=0.75).splitlines()
    table = out[next(i for i, line in enumerate(out) if line.startswith("alerted")):]
    alert_rows = [line for line in table if line.strip()[:2] == "0."]
    assert len(alert_rows) == 5
    assert alert_rows[0].endswith("  *") and alert_rows[1].endswith("  *")  # 0.30 and 0.35: below 0.4
    # 0.35 reaches 0.75 but lies below the negative threshold; 0.40 is at 0.5 precision; 0.50 is the pick.
    assert alert_rows[3].endswith("<- lowest with precision >= 0.75"), alert_rows
    assert alert_rows[4].endswith("<- alert_threshold"), alert_rows
    text = "\n".join(out)
    assert "from the negative threshold up, whose precision reaches the target (0.75, --target-precision): here 0.50" \
        in text
    assert "* below the negative threshold (0.4): not possible as configured" in text
    assert "relevance (brand queries, competitors, own accounts) is applied by the pipeline" in text


def test_eval_leaves_out_rows_in_languages_the_model_does_not_cover_like_classify(tmp_path: Path) -> None:
    data = tmp_path / "gold.csv"
    data.write_text(
        "text,label,language\n"
        '"Terrible, broken, awful, worst ever",negative,\n'
        '"Great, lovely, works perfectly",positive,\n'
        '"The store opens at 9am.",neutral,\n'
        '"Le service client est vraiment horrible et beaucoup trop lent",negative,\n'
        '"Das ist schlecht",negative,de\n'
        '"El servicio es terrible, nunca más compraré en esta tienda",negative,es\n', encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", str(data), "--model", "lexicon"])
    assert result.exit_code == 0, result.output
    assert "3 rows in other languages are unscored by lexicon, as the pipeline leaves them; measured on the other 3" \
        in result.output
    assert "texts: 3" in result.output
    classified = runner.invoke(cli, ["classify", str(data), "--model", "lexicon", "-o", str(tmp_path / "out.jsonl")])
    assert classified.exit_code == 0, classified.output
    labels = [json.loads(line)["label"] for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert labels.count("unscored") == 3 and labels[3:] == ["unscored"] * 3


def test_model_card_thresholds_are_served_and_bad_ones_ignored(tmp_path: Path) -> None:
    assert model_thresholds(str(tmp_path)) == (0.5, None)  # no card: the untuned defaults
    (tmp_path / "listenpost.json").write_text(json.dumps({"name": "acme", "negative_threshold": 0.45,
                                                          "alert_threshold": 0.7}), encoding="utf-8")
    assert model_thresholds(str(tmp_path)) == (0.45, 0.7)
    model = load_classifier(str(tmp_path))
    assert (model.negative_threshold, model.alert_threshold) == (0.45, 0.7)
    (tmp_path / "listenpost.json").write_text(json.dumps({"negative_threshold": 2, "alert_threshold": True}),
                                              encoding="utf-8")
    assert model_thresholds(str(tmp_path)) == (0.5, None)
    (tmp_path / "listenpost.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not a readable model card"):
        model_thresholds(str(tmp_path))


def test_quiet_transformers_restores_logging_and_lets_errors_through(tmp_path: Path) -> None:
    from transformers.utils import logging as hf_logging

    from classifiers.transformer import load_pretrained

    before = (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled())
    with quiet_transformers():
        assert hf_logging.get_verbosity() == hf_logging.ERROR and not hf_logging.is_progress_bar_enabled()
    assert (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()) == before
    with pytest.raises(ModelError, match="not a model folder"):  # refused before transformers sees it
        load_pretrained(str(tmp_path), label_map=None, allow_download=False)
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="cannot load model"):
        load_pretrained(str(tmp_path), label_map=None, allow_download=False)
    assert (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()) == before


@needs_weights
def test_tiny_one_class_corrections_warn_explain_the_steps_and_the_thresholds(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Store("lp.db") as store:
        for i, text in enumerate(["Acme's new logo", "Acme opens in Leeds", "Acme hires", "Acme at the expo",
                                  "Acme's event today"]):
            for origin in ("slack", "email") if i == 0 else ("slack",):
                store.add_labeled_example(source="x", external_id=str(i), text=text, label="neutral", origin=origin)
    result = CliRunner().invoke(cli, ["--db", "lp.db", "train", "--corrections", "--max-steps", "20", "-o", "corr"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "adding 5 corrections made by staff (one per mention)" in out
    assert "Warning: all 5 examples are neutral: the model can only learn to push everything toward neutral" in out
    assert "Warning: only 5 examples (fewer than 30)" in out
    assert "1 step: 5 examples in batches of 32, 1 epoch; use --epochs to train longer" in out
    assert "wrote corr after 1 step in" in out
    assert "served with 0.5 negative / 0.5 alert unless set; the shipped 0.4 / 0.72 were chosen for the shipped" in out
    assert "`listenpost eval FILE --model corr`" in out and "`[classifier] negative_threshold`" in out
    assert "Loading weights" not in out and "Writing model shards" not in out
    card = json.loads((tmp_path / "corr" / "listenpost.json").read_text(encoding="utf-8"))
    assert card["data"]["corrections"] == {"negative": 0, "neutral": 5, "positive": 0}
    assert "negative_threshold" not in card


@needs_weights
def test_validation_data_chooses_thresholds_stored_with_the_model(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data, validation = labeled_csv(tmp_path / "data.csv", 12), labeled_csv(tmp_path / "val.csv", 12)
    runner = CliRunner()
    result = runner.invoke(cli, ["train", str(data), "--validation", str(validation), "--max-steps", "2", "-o", "m"])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "m" / "listenpost.json").read_text(encoding="utf-8"))
    assert card["thresholds_chosen_on"] == {"data": "val.csv", "examples": 36, "target_precision": 0.75}
    assert 0 < card["negative_threshold"] < 1
    assert card["alert_threshold"] is None or card["alert_threshold"] >= card["negative_threshold"]
    assert "thresholds chosen on val.csv (36 rows), stored with the model" in result.output
    assert f"negative {card['negative_threshold']:g}" in result.output
    model = load_classifier(str(tmp_path / "m"))
    assert model.negative_threshold == card["negative_threshold"] and model.alert_threshold == card["alert_threshold"]
    evaluated = runner.invoke(cli, ["eval", str(validation), "--model", "m"])
    assert evaluated.exit_code == 0, evaluated.output
    assert f"(negative threshold {card['negative_threshold']:g}," in evaluated.output
    assert "Loading weights" not in evaluated.output
    # Too small to choose on: the model is served with the untuned thresholds, and the user is told why.
    small = labeled_csv(tmp_path / "small.csv", 3)
    result = runner.invoke(cli, ["train", str(data), "--validation", str(small), "--max-steps", "1", "-o", "s"])
    assert result.exit_code == 0, result.output
    assert "small.csv has too few rows or negatives to choose them on: at least 30 and 5" in result.output
    assert "negative_threshold" not in json.loads((tmp_path / "s" / "listenpost.json").read_text(encoding="utf-8"))


@needs_weights
def test_too_few_reviews_beside_a_file_warn_and_train_on_the_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Store("lp.db") as store:
        store.save_mentions([Mention(source="appstore", external_id=f"r{i}", brand="Acme", kind="review",
                                     rating=1 + i % 5, text=f"Review number {i}",
                                     created_at=datetime(2026, 11, 1, tzinfo=UTC)) for i in range(16)])
    runner = CliRunner()
    alone = runner.invoke(cli, ["--db", "lp.db", "train", "--reviews", "--max-steps", "1", "-o", "r"])
    assert alone.exit_code == 2 and "16 rated reviews stored; learning from reviews needs at least 30" in alone.output
    assert not (tmp_path / "r").exists()
    data = labeled_csv(tmp_path / "mentions.csv", 31)
    result = runner.invoke(cli, ["--db", "lp.db", "train", str(data), "--reviews", "--max-steps", "1", "-o", "fc"])
    assert result.exit_code == 0, result.output
    assert "Warning: 16 rated reviews stored; learning from reviews needs at least 30, some of them 1-2 stars: " \
           "training without them" in result.output
    card = json.loads((tmp_path / "fc" / "listenpost.json").read_text(encoding="utf-8"))
    assert card["data"] == {"mentions.csv": {"negative": 31, "neutral": 31, "positive": 31}}


@needs_weights
def test_train_checks_its_output_folder_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = labeled_csv(tmp_path / "data.csv", 12)
    (tmp_path / "afile").write_text("keep me", encoding="utf-8")
    junk = tmp_path / "junk"
    junk.mkdir()
    for name in ("notes.txt", "photo.jpg", "todo.md", "zz.csv"):
        (junk / name).write_text("mine", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(cli, ["train", str(data), "--max-steps", "1", "-o", "afile"])
    assert refused.exit_code == 2 and "afile is a file, not a folder" in refused.output
    assert "Training" not in refused.output and (tmp_path / "afile").read_text(encoding="utf-8") == "keep me"
    refused = runner.invoke(cli, ["train", str(data), "--max-steps", "1", "-o", "junk"])
    assert refused.exit_code == 2, refused.output
    assert "junk is not empty and not a listenpost model folder (it holds notes.txt, photo.jpg, todo.md and 1 more)" \
        in refused.output and "--force" in refused.output
    assert sorted(p.name for p in junk.iterdir()) == ["notes.txt", "photo.jpg", "todo.md", "zz.csv"]
    forced = runner.invoke(cli, ["train", str(data), "--max-steps", "1", "-o", "junk", "--force"])
    assert forced.exit_code == 0, forced.output
    assert (junk / "listenpost.json").is_file() and (junk / "notes.txt").read_text(encoding="utf-8") == "mine"
    # A listenpost model's folder is written over without --force.
    again = runner.invoke(cli, ["train", str(data), "--max-steps", "1", "-o", "junk"])
    assert again.exit_code == 0, again.output
