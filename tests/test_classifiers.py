"""Sentiment classifiers: VADER baseline, the shipped model, language detection, metrics and training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifiers import Classifier, Scores, load_classifier
from classifiers.evaluation import confusion_matrix, macro_recall, negative_by_threshold, per_class
from classifiers.language import detect_language
from classifiers.lexicon import compound_to_scores
from classifiers.normalize import normalize
from classifiers.transformer import SHIPPED_WEIGHTS
from monitor.cli import cli
from monitor.core.config import ClassifierSettings, Settings
from monitor.core.errors import ModelError

NEGATIVE = [
    "@united lost my bag AGAIN and nobody at the desk cares. Worst airline ever.",
    "Terrible product, broke after two days and support never answered.",
]
POSITIVE = [
    "Loved the new update, the app is so much faster now! Thank you!",
    "Fantastic service, the staff were friendly and my order arrived early.",
]


needs_weights = pytest.mark.skipif(not SHIPPED_WEIGHTS.exists(), reason="shipped weights not built")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@Acme_Support  help!!", "@user help!!"),
        ("see https://t.co/abc123 now", "see http now"),
        ("www.example.com/page?x=1 is down", "http is down"),
        ("fish &amp; chips", "fish & chips"),
        ("line\n\tbreaks   here", "line breaks here"),
        ("mail me at a@b.com", "mail me at a@b.com"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_truncates_long_text() -> None:
    assert len(normalize("word " * 10_000)) <= 2000


def test_scores_likeliest_and_dict() -> None:
    scores = Scores(negative=0.7, neutral=0.2, positive=0.1)
    assert scores.likeliest == "negative"
    assert scores.as_dict() == {"negative": 0.7, "neutral": 0.2, "positive": 0.1}
    assert Scores(0.4, 0.4, 0.2).likeliest == "neutral"


@pytest.mark.parametrize(
    ("compound", "label"),
    [
        (-0.9, "negative"),
        (-0.05, "negative"),
        (-0.049, "neutral"),
        (0.0, "neutral"),
        (0.049, "neutral"),
        (0.05, "positive"),
        (1.0, "positive"),
    ],
)
def test_vader_scores_follow_vader_cutoffs(compound: float, label: str) -> None:
    scores = compound_to_scores(compound)
    assert scores.likeliest == label
    assert sum(scores.as_dict().values()) == pytest.approx(1.0)
    assert min(scores.as_dict().values()) >= 0


def test_lexicon_baseline() -> None:
    lexicon = load_classifier("lexicon")
    assert lexicon is load_classifier("lexicon")
    assert lexicon.name == "lexicon" and lexicon.languages == frozenset({"en"})
    labels = [s.likeliest for s in lexicon.classify(NEGATIVE + POSITIVE)]
    assert labels == ["negative"] * 2 + ["positive"] * 2
    assert lexicon.classify([]) == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The delivery was late again and the box was damaged, really disappointed.", "en"),
        ("Die Lieferung kam wieder zu spät und der Karton war beschädigt.", "de"),
        ("Le service client est vraiment nul, personne ne répond.", "fr"),
        ("ok", None),
        ("😡😡😡 @acme http://x.co", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


# Short brand posts: the brand name, handle, link and emoji are no words of the post's language.
SHORT_FOREIGN = [
    ("FreshCrate me ha cobrado dos veces y nadie responde. Una vergüenza.", "es"),
    ("La caja de FreshCrate llegó perfecta, me encanta…", "es"),
    ("Muy contenta con FreshCrate, todo fresquísimo 😍", "es"),
    ("@FreshCrate pedido perdido otra vez 😡", "es"),
    ("Livraison FreshCrate impeccable, merci beaucoup !", "fr"),
    ("Trop contente de ma box FreshCrate 🥰 https://t.co/abc", "fr"),
    ("Colis FreshCrate arrivé abîmé, service client injoignable", "fr"),
    ("FreshCrate hat meine Lieferung wieder vergessen. Sehr enttäuschend!", "de"),
    ("Danke FreshCrate, die Box war perfekt!", "de"),
    ("A entrega da FreshCrate atrasou de novo, péssimo atendimento", "pt"),
    ("Adorei a caixa da FreshCrate, chegou tudo fresquinho!", "pt"),
    ("Consegna FreshCrate in ritardo, pessimo servizio clienti", "it"),
    ("Scatola FreshCrate perfetta, grazie mille!", "it"),
]
# English posts naming a foreign brand, or with a foreign word: English, or too unsure to say
# (both are scored by an English model); never another language, which would leave them unscored.
SHORT_ENGLISH = [
    "My Deutsche Bahn train was cancelled again, so annoying",
    "Ordered from Señor Taco tonight and it was cold again",
    "Le Creuset pan arrived cracked, really disappointed",
    "Loving my new Maison Kitsuné sweater, great quality",
    "The Müller yoghurt was amazing",
    "Pão de Açúcar delivery was fast and friendly",
    "Über Eats order never arrived, worst app",
    "@FreshCrate where is my order?? 😡 https://t.co/x",
    "thanks FreshCrate love it 😍",
    "Customer service = zero",
    "Sushi was fresh, sashimi divine",
    "Quinoa salad + kombucha = perfect lunch",
    "Gracias amigo, see you tmrw",
    "Merci for nothing, FreshCrate",
]


@pytest.mark.parametrize(("text", "language"), SHORT_FOREIGN)
def test_short_foreign_brand_posts_are_told_apart_from_english(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", SHORT_ENGLISH)
def test_short_english_posts_with_foreign_names_are_not_taken_for_another_language(text: str) -> None:
    assert detect_language(text) in (None, "en")


def test_a_brand_name_given_is_left_out_of_detection() -> None:
    """A plain-word brand name is English to the detector; named, it no longer votes."""
    text = "Sunday Kitchen pessimo servizio"
    assert detect_language(text) is None
    assert detect_language(text, ["sunday kitchen"]) == "it"
    assert detect_language("Sunday Kitchen delivered early, great", ["Sunday Kitchen"]) in (None, "en")


def test_metrics_on_a_known_confusion_matrix() -> None:
    gold = ["negative"] * 4 + ["neutral"] * 3 + ["positive"] * 3
    predicted = [
        "negative",
        "negative",
        "negative",
        "neutral",
        "neutral",
        "neutral",
        "negative",
        "positive",
        "positive",
        "neutral",
    ]
    assert confusion_matrix(gold, predicted) == [[3, 1, 0], [1, 2, 0], [0, 1, 2]]
    negative, neutral, positive = per_class(gold, predicted)
    assert negative.precision == pytest.approx(3 / 4) and negative.recall == pytest.approx(3 / 4)
    assert neutral.precision == pytest.approx(2 / 4) and neutral.recall == pytest.approx(2 / 3)
    assert positive.precision == pytest.approx(1.0) and positive.f1 == pytest.approx(0.8)
    assert macro_recall(gold, predicted) == pytest.approx((3 / 4 + 2 / 3 + 2 / 3) / 3)


def test_negative_precision_recall_by_threshold() -> None:
    gold = ["negative", "negative", "neutral", "positive"]
    rows = negative_by_threshold(gold, [0.9, 0.4, 0.6, 0.1], thresholds=(0.5, 0.95))
    assert rows[0] == pytest.approx((0.5, 0.5, 0.5, 0.5))
    assert rows[1] == (0.95, 0.0, 0.0, 0.0)


@needs_weights
def test_shipped_model_loads_offline_and_reads_sentiment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = load_classifier("default")
    assert model is load_classifier("default")
    assert model.languages == frozenset({"en"})
    scores = model.classify(NEGATIVE + POSITIVE + ["The store opens at 9am on Mondays."])
    assert [s.likeliest for s in scores[:4]] == ["negative"] * 2 + ["positive"] * 2
    assert all(sum(s.as_dict().values()) == pytest.approx(1.0, abs=1e-4) for s in scores)


@needs_weights
def test_served_model_matches_transformers_on_the_shipped_weights(tmp_path: Path) -> None:
    # The plain-torch BERT that serves the shipped weights must compute what transformers'
    # BertForSequenceClassification computes, padding included, with the same tokens.
    import torch

    from classifiers.transformer import load_shipped, load_shipped_for_inference, predict_proba

    served, reference = load_shipped_for_inference(), load_shipped()
    assert type(reference.model).__name__ == "BertForSequenceClassification"
    texts = [normalize(t) for t in [*NEGATIVE, *POSITIVE, "ok", "word " * 400, "Ünïcödé ça va 😀 @x http://y"]]
    assert served.tokenizer(texts, max_length=128)["input_ids"] == reference.tokenizer(
        texts, truncation=True, max_length=128)["input_ids"]
    assert predict_proba(served, texts) == pytest.approx(predict_proba(reference, texts), abs=1e-4)
    ids = torch.randint(1000, 20000, (3, 17))
    mask = torch.ones_like(ids)
    # Served, the products run on the real tokens only, packed; attention unpacks them per text.
    with torch.no_grad():
        for padded in ({}, {1: 9}, {0: 3, 2: 12}):
            for row, length in padded.items():
                mask[row, length:] = 0
            ours = served.model(input_ids=ids, attention_mask=mask)
            theirs = reference.model(input_ids=ids, attention_mask=mask).logits
            assert torch.allclose(ours, theirs, atol=1e-4), padded

    # A file that does not fit is refused with a message naming the tensor.
    from safetensors.torch import load_file, save_file

    state = load_file(str(SHIPPED_WEIGHTS))
    state["classifier.weight"] = state["classifier.weight"][:2]
    broken = tmp_path / "broken.safetensors"
    save_file(state, str(broken), metadata={"labels": "negative,neutral,positive"})
    with pytest.raises(ModelError, match=r"classifier\.weight"):
        load_shipped_for_inference(broken)
    del state["classifier.weight"]
    save_file(state, str(broken), metadata={"labels": "negative,neutral,positive"})
    with pytest.raises(ModelError, match="missing"):
        load_shipped_for_inference(broken)


@needs_weights
def test_serving_the_shipped_model_leaves_transformers_model_code_unloaded() -> None:
    # transformers' model code costs about 150 MB of memory; the shipped model does without it.
    code = (
        "import sys; from classifiers import load_classifier; "
        "print(load_classifier('default').classify(['awful service'])[0].likeliest); "
        "print(sorted(m for m in sys.modules if m.startswith('transformers.models')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.stdout.splitlines() == ["negative", "[]"], out.stdout + out.stderr


def test_lexicon_blend_mixes_scores_and_names_the_mix() -> None:
    from classifiers.blend import BlendedClassifier

    class Fixed(Classifier):
        name, languages = "fixed", frozenset({"en", "de"})

        def classify(self, texts: Sequence[str]) -> list[Scores]:
            return [Scores(0.6, 0.3, 0.1) for _ in texts]

    lexicon = load_classifier("lexicon")
    blend = BlendedClassifier(Fixed(), lexicon, 0.25)
    assert blend.name == "fixed+lexicon0.25" and blend.languages == frozenset({"en", "de"})
    text = "What a wonderful, lovely day!"
    (mixed,) = blend.classify([text])
    (vader,) = lexicon.classify([text])
    assert vader.positive > 0.5
    assert mixed.negative == pytest.approx(0.75 * 0.6 + 0.25 * vader.negative)
    assert mixed.positive == pytest.approx(0.75 * 0.1 + 0.25 * vader.positive)
    assert sum(mixed.as_dict().values()) == pytest.approx(1.0)
    assert blend.classify([]) == []
    with pytest.raises(ValueError):
        BlendedClassifier(Fixed(), lexicon, 1.0)


def test_shipped_model_is_served_alone_with_its_tuned_thresholds_and_a_blend_on_request() -> None:
    # Nothing is loaded until the first classify call, so this costs no model load.
    from classifiers.blend import BlendedClassifier
    from classifiers.transformer import SHIPPED_ALERT_THRESHOLD, SHIPPED_NEGATIVE_THRESHOLD
    from monitor.app.pipeline import alert_threshold, negative_threshold

    served = load_classifier("default")
    assert not isinstance(served, BlendedClassifier) and served.name == "listenpost-minilm-v2"
    assert load_classifier("default", lexicon_weight=0.0) is served
    assert load_classifier("lexicon", lexicon_weight=0.5).name == "lexicon"
    mixed = load_classifier("default", lexicon_weight=0.2)
    assert isinstance(mixed, BlendedClassifier) and mixed.name == "listenpost-minilm-v2+lexicon0.2"
    # The thresholds tuned for the model go with the model alone; settings override them.
    assert (served.negative_threshold, served.alert_threshold) == (SHIPPED_NEGATIVE_THRESHOLD,
                                                                   SHIPPED_ALERT_THRESHOLD) == (0.4, 0.72)
    assert mixed.negative_threshold == 0.5 and mixed.alert_threshold is None
    assert load_classifier("lexicon").negative_threshold == 0.5
    assert negative_threshold(served, None) == 0.4 and negative_threshold(served, 0.6) == 0.6
    assert alert_threshold(served, Settings()) == 0.72
    assert alert_threshold(served, Settings(classifier=ClassifierSettings(alert_threshold=0.9))) == 0.9
    # An alert threshold below the negative threshold means "every labeled negative".
    low = Settings(classifier=ClassifierSettings(negative_threshold=0.6, alert_threshold=0.3))
    assert alert_threshold(served, low) == 0.6 and alert_threshold(mixed, Settings()) == 0.5


@needs_weights
def test_int8_setting_chooses_quantized_or_full_precision_serving(tmp_path: Path) -> None:
    import torch

    from classifiers import load_active_classifier
    from monitor.cli import App

    settings = tmp_path / "settings.toml"
    settings.write_text("[classifier]\nint8 = true\n", encoding="utf-8")
    quantized = load_active_classifier(
        App(config_path=str(settings), db_path=str(tmp_path / "db.sqlite")).settings.classifier)
    full = load_classifier("default")
    assert full is not quantized and full.name == quantized.name  # same model, same stored name
    texts = NEGATIVE + POSITIVE
    full_scores, quantized_scores = full.classify(texts), quantized.classify(texts)
    assert [s.likeliest for s in full_scores] == [s.likeliest for s in quantized_scores]
    assert [s.negative for s in full_scores] == pytest.approx([s.negative for s in quantized_scores], abs=0.1)

    def linear_types(classifier: object) -> set[type]:
        model = classifier.load().model
        return {type(m) for m in model.modules() if "Linear" in type(m).__name__}

    assert linear_types(full) == {torch.nn.Linear}
    assert torch.nn.Linear not in linear_types(quantized)
    # In full precision a text scores the same alone as in a batch of texts of other lengths.
    batch = [*texts, "ok", "The store opens at 9am on Mondays, and closes at 6pm on weekdays."]
    alone = [full.classify([text])[0].negative for text in batch]
    assert [s.negative for s in full.classify(batch)] == pytest.approx(alone, abs=1e-5)


def test_length_batches_cap_count_and_padded_size() -> None:
    from classifiers.transformer import length_batches

    lengths = [30, 5, 128, 7, 31, 6, 120, 8]
    batches = length_batches(lengths, batch_size=3, token_budget=200)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 200
    # Shortest first, so the long texts share no batch with the short ones.
    assert batches[0] == [1, 5, 3] and batches[-1] == [2]
    assert length_batches([], batch_size=32, token_budget=100) == []


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHIPPED_WEIGHTS.exists():
        pytest.skip("shipped weights not built")
    root = tmp_path_factory.mktemp("train")
    rows = [{"text": t, "label": "negative"} for t in NEGATIVE] + [{"text": t, "label": "positive"} for t in POSITIVE]
    rows += [{"text": "Our shop is on Main Street.", "label": "neutral"}, {"text": "no label here", "label": "maybe"}]
    data = root / "labeled.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["train", str(data), "--output", str(root / "acme"), "--epochs", "2", "--max-steps", "2",
         "--name", "acme-v1"],
    )
    assert result.exit_code == 0, result.output
    assert "skipped 1 rows" in result.output
    return root / "acme"


def test_training_writes_a_loadable_model_dir(trained_dir: Path) -> None:
    card = json.loads((trained_dir / "listenpost.json").read_text(encoding="utf-8"))
    assert card["name"] == "acme-v1" and card["steps"] == 2
    model = load_classifier(str(trained_dir))
    assert model.name == "acme-v1" and model.languages == frozenset({"en"})
    assert len(model.classify(["great", "awful"])) == 2


def test_label_map_for_models_with_generic_labels(trained_dir: Path, tmp_path: Path) -> None:
    generic = tmp_path / "generic"
    generic.mkdir()
    for item in trained_dir.iterdir():
        if item.name not in ("config.json", "listenpost.json"):
            (generic / item.name).symlink_to(item)
    config = json.loads((trained_dir / "config.json").read_text(encoding="utf-8"))
    config["id2label"] = {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}
    config["label2id"] = {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}
    (generic / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelError, match="label_map"):
        load_classifier(str(generic)).classify(["x"])
    mapped = load_classifier(
        str(generic), label_map={"LABEL_0": "negative", "LABEL_1": "neutral", "LABEL_2": "positive"}
    )
    assert mapped.classify(["awful"])[0].as_dict().keys() == {"negative", "neutral", "positive"}


def test_eval_command_compares_two_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "gold.csv"
    lines = ["text,label"] + [f'"{t}",negative' for t in NEGATIVE] + [f'"{t}",positive' for t in POSITIVE]
    data.write_text("\n".join([*lines, '"The store opens at 9am.",neutral']) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["eval", str(data), "--model", "lexicon", "--compare", "lexicon", "--threshold", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "macro-recall" in result.output and "confusion" in result.output
    assert "negative when score >= threshold" in result.output
    assert "alerted (Slack, email) when score >= threshold" in result.output
    assert result.output.count("lexicon") >= 4


def test_eval_label_table_applies_star_ratings_like_the_per_class_table(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The row marked negative_threshold is the pipeline's label, so it agrees with the per-class row."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "gold.csv"
    rows = ["text,label,rating",
            '"Love this app, use it every day",positive,1',        # 1 star: labeled negative
            '"Crashes constantly, lost all my data",negative,5',   # 5 stars: labeled positive
            '"Terrible, broken, awful, worst ever",negative,',
            '"Great, lovely, works perfectly",positive,']
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", str(data), "--model", "lexicon", "--threshold", "0.5"])
    assert result.exit_code == 0, result.output
    out = result.output
    negative = next(line for line in out.splitlines() if line.startswith("negative "))
    precision, recall = (float(x) for x in negative.split()[1:3])
    assert (precision, recall) == (0.5, 0.5)
    marked = next(line for line in out.splitlines() if line.endswith("<- negative_threshold"))
    assert marked.split()[1:5] == ["0.500", "0.500", "0.500", "2"], marked
    assert "star ratings applied (stats, digest)" in out


def test_training_learns_from_staff_corrections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.store import Store

    if not SHIPPED_WEIGHTS.exists():
        pytest.skip("shipped weights not built")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    empty = runner.invoke(cli, ["--db", "lp.db", "train", "--corrections", "--output", "m"])
    assert empty.exit_code == 2 and "no corrections stored yet" in empty.output
    with Store("lp.db") as store:
        for i, text in enumerate(["Acme's new logo is here", "Acme opens a shop in Leeds"]):
            store.add_labeled_example(source="x", external_id=str(i), text=text, label="neutral",
                                      origin="false_positive", created_by="U1")
    result = runner.invoke(cli, ["--db", "lp.db", "train", "--corrections", "--output", "m", "--max-steps", "1"])
    assert result.exit_code == 0, result.output
    assert "adding 2 corrections made by staff" in result.output
    card = json.loads((tmp_path / "m" / "listenpost.json").read_text(encoding="utf-8"))
    assert card["steps"] == 1


def test_training_on_stored_rated_reviews_reports_before_and_after(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from classifiers.corpora import rating_label, split_reviews
    from monitor.core.records import Mention
    from monitor.store import Store

    if not SHIPPED_WEIGHTS.exists():
        pytest.skip("shipped weights not built")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    texts = {1: "Crashes every time I open it, useless", 2: "Lost my data after the update, bad",
             3: "It's ok, does the job", 4: "Nice app, works well", 5: "Love it, perfect every day"}
    with Store("lp.db") as store:
        store.save_mentions([Mention(source="appstore", external_id=f"r{i}", brand="Acme", kind="review",
                                     rating=1 + i % 5, text=f"{texts[1 + i % 5]} #{i}",
                                     created_at=datetime(2026, 11, 1, tzinfo=UTC)) for i in range(10)])
    few = runner.invoke(cli, ["--db", "lp.db", "train", "--reviews", "--output", "m"])
    assert few.exit_code == 2 and "10 rated reviews stored" in few.output
    with Store("lp.db") as store:
        store.save_mentions([Mention(source="appstore", external_id=f"r{i}", brand="Acme", kind="review",
                                     rating=1 + i % 5, text=f"{texts[1 + i % 5]} #{i}",
                                     created_at=datetime(2026, 11, 1, tzinfo=UTC)) for i in range(10, 80)])
        train, held = split_reviews(store.rated_reviews("Acme"))
    assert len(train) + len(held) == 80 and held and {e.label for e in train} == {"negative", "neutral", "positive"}
    assert [rating_label(r) for r in (1, 2, 3, 4, 5)] == ["negative", "negative", "neutral", "positive", "positive"]
    result = runner.invoke(cli, ["--db", "lp.db", "train", "--reviews", "--brand", "Acme", "--output", "m",
                                 "--max-steps", "1"])
    assert result.exit_code == 0, result.output
    assert f"adding {len(train)} rated reviews of Acme; {len(held)} held out" in result.output
    assert f"held-out stored reviews ({len(held)}): macro-recall " in result.output
    card = json.loads((tmp_path / "m" / "listenpost.json").read_text(encoding="utf-8"))
    assert card["data"]["stored reviews"]["negative"] > 0


def test_eval_measures_alerts_against_a_teams_own_alert_column(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "verdicts.csv"
    data.write_text("Text,Label,Alert\n"  # any case, as `listenpost import` reads columns
                    '"I hate this awful terrible service",negative,true\n'
                    '"Terrible awful day at work lol",negative,false\n'   # negative, but nothing to answer
                    '"Lovely, great, works perfectly",positive,no\n'
                    '"meh",neutral,\n'                                     # no verdict: left out of that table
                    '"bad",negative,maybe\n', encoding="utf-8")           # unreadable: skipped, said
    result = CliRunner().invoke(cli, ["eval", str(data), "--model", "lexicon", "--threshold", "0.5"])
    assert result.exit_code == 0, result.output
    assert "1 rows have an `alert` that is not true/false" in result.output
    assert "texts: 5" in result.output  # that row still counts for the labels
    table = result.output[result.output.index("measured against your `alert` column (3 rows, 1 marked alert)"):]
    marked = next(line for line in table.splitlines() if line.endswith("<- alert_threshold"))
    # both negatives alerted, one of them wanted: precision 0.5, recall 1
    assert marked.split()[1:5] == ["0.500", "1.000", "0.667", "2"], marked
