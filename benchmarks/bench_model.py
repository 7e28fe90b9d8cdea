"""Speed, memory, accuracy and alert precision of the shipped sentiment model against VADER, on this machine.

    python benchmarks/bench_model.py [--data-dir DIR] [--models default,lexicon]
    python benchmarks/bench_model.py --alert-sweep      # negative precision/recall by alert threshold

DIR (or $LISTENPOST_DATA_DIR) is a folder you supply holding tweeteval-val/ (model selection only) and
kaggle-tweet-sentiment-extraction/ (its test split is held out), the layout docs/model.md describes.
Each model is measured in a fresh process so that load time and peak RSS are its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The labeled data's folder, when not given with --data-dir.
DEFAULT_DATA = os.environ.get("LISTENPOST_DATA_DIR")
SPEED_TEXTS = 1024
SINGLE_TEXTS = 200


def _demo_examples() -> list:
    """The demo's hand-labeled brand mentions (reviews keep their star rating)."""
    from classifiers.corpora import Example
    from monitor.app.demo import demo_data_path

    demo = demo_data_path()
    rows = [json.loads(line) for line in demo.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(r["text"] if not r.get("title") else f"{r['title']}. {r['text']}", r["label"], "demo",
                    r.get("rating")) for r in rows if r.get("label") in ("negative", "neutral", "positive")]


def _eval_sets(data: Path) -> dict[str, list]:
    from classifiers import corpora

    sets = {}
    if (data / corpora.TWEETEVAL_FOLDER).is_dir():
        sets["tweeteval-val"] = corpora.tweeteval(data / corpora.TWEETEVAL_FOLDER)
    if (data / corpora.KAGGLE_FOLDER).is_dir():
        sets["kaggle test (held out)"] = corpora.kaggle_tweets(data / corpora.KAGGLE_FOLDER, split="test")
    sets["airline held-out"] = corpora.airline_tweets(heldout=True)
    # Star-rated reviews: the rating is the label, and the pipeline's rating rule is left out so
    # that the text model itself is measured.
    sets["drug reviews (test)"] = corpora.drug_reviews(split="Test")
    sets["demo mentions"] = _demo_examples()
    return sets


def _speed_texts(data: Path) -> list[str]:
    """Short social posts to time: the TweetEval tweets, else the demo's bundled mentions."""
    tweeteval = data / "tweeteval-val"
    if tweeteval.is_dir():
        return (tweeteval / "val_text.txt").read_text(encoding="utf-8").splitlines()[:SPEED_TEXTS]
    from monitor.app.demo import demo_data_path

    demo = demo_data_path()
    texts = [json.loads(line)["text"] for line in demo.read_text(encoding="utf-8").splitlines() if line.strip()]
    return (texts * (SPEED_TEXTS // len(texts) + 1))[:SPEED_TEXTS]


# Variants of the shipped model: as served, without the lexicon blend, and quantized to int8.
VARIANTS = {"default-alone": ("default", "alone"), "default-int8": ("default", "int8")}


def _alerts(classifier, scores, examples, at: float, *, ratings: bool) -> list[bool]:
    from alerts.outbox.triage import decide_all

    stars = [e.rating if ratings else None for e in examples]
    return [d.alert for d in decide_all(scores, [e.text for e in examples], stars,
                                        negative_threshold=classifier.negative_threshold, alert_threshold=at)]


def worker(model: str, data: Path, variant: str) -> dict:
    """Runs inside the child process: load, time, note peak memory, then evaluate."""
    from classifiers import load_classifier
    from classifiers.evaluation import flagged_quality, macro_recall, per_class

    started = time.perf_counter()
    classifier = load_classifier(model, lexicon_weight=0.0 if variant == "alone" else None, int8=variant == "int8")
    classifier.classify(["warm up"])
    load_seconds = time.perf_counter() - started

    speed_texts = _speed_texts(data)
    alert_at = max(classifier.alert_threshold or classifier.negative_threshold, classifier.negative_threshold)
    result: dict = {"model": classifier.name + (" int8" if variant == "int8" else ""), "load_s": load_seconds,
                    "threshold": classifier.negative_threshold, "alert_threshold": alert_at}
    # Calls of exactly 1 and 32 texts, as a stream of mentions arrives; then one call with all
    # texts, where the classifier sorts them by length before cutting batches of 32.
    for label, call, count in (("b1", 1, SINGLE_TEXTS), ("b32", 32, SPEED_TEXTS), ("sorted", SPEED_TEXTS, SPEED_TEXTS)):
        texts = speed_texts[:count]
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(texts), call):
            classifier.classify(texts[start : start + call])
        result[f"posts_per_s_{label}"] = len(texts) / (time.perf_counter() - wall)
        result[f"posts_per_cpu_s_{label}"] = len(texts) / (time.process_time() - cpu)
    # Peak memory of serving, before the evaluation corpora are read into this process too.
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    sets = _eval_sets(data)
    for name, examples in sets.items():
        scores = classifier.classify([e.text for e in examples])
        gold = [e.label for e in examples]
        # The pipeline's label: negative from the model's negative threshold up.
        labeled = [s.label(classifier.negative_threshold) for s in scores]
        negative = next(r for r in per_class(gold, labeled) if r.label == "negative")
        precision, recall, _, flagged = flagged_quality(
            gold, _alerts(classifier, scores, examples, alert_at, ratings=name == "demo mentions"))
        result[name] = {"macro_recall": macro_recall(gold, labeled), "negative_f1": negative.f1,
                        "alert_precision": precision, "alert_recall": recall, "alerts": flagged,
                        "negatives": sum(g == "negative" for g in gold), "n": len(gold)}
        if name == "demo mentions":
            alerted = _alerts(classifier, scores, examples, alert_at, ratings=True)
            result[name]["agreement"] = sum(g == p for g, p in zip(gold, labeled, strict=True)) / len(gold)
            result[name]["positives_alerted"] = sum(a and g == "positive" for a, g in zip(alerted, gold, strict=True))
    return result


SWEEP_ALERT = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def alert_sweep(data: Path, model: str) -> None:
    """Negative precision and recall of the alert decision by threshold, per evaluation set."""
    from classifiers import load_classifier
    from classifiers.evaluation import flagged_quality

    classifier = load_classifier(model)
    for name, examples in _eval_sets(data).items():
        scores = classifier.classify([e.text for e in examples])
        gold = [e.label for e in examples]
        print(f"\n{name} ({len(gold):,} texts, {sum(g == 'negative' for g in gold):,} negative)")
        print("| alert threshold | precision | recall | F1 | alerts |")
        print("|---:|---:|---:|---:|---:|")
        for at in SWEEP_ALERT:
            p, r, f1, n = flagged_quality(gold, _alerts(classifier, scores, examples, at,
                                                        ratings=name == "demo mentions"))
            print(f"| {at:.2f} | {p:.3f} | {r:.3f} | {f1:.3f} | {n} |", flush=True)


SWEEP = (0.0, 0.2, 0.3, 0.4, 0.5, 1.0)


def blend_sweep(data: Path) -> None:
    """Macro-recall (likeliest class) of the shipped model blended with VADER at several weights."""
    import numpy as np

    from classifiers import LABELS, load_classifier
    from classifiers.evaluation import macro_recall

    model, lexicon = load_classifier("default", lexicon_weight=0.0), load_classifier("lexicon")
    print("| lexicon weight | " + " | ".join(f"{w:g}" for w in SWEEP) + " |")
    print("|---|" + "---:|" * len(SWEEP))
    for name, examples in _eval_sets(data).items():
        texts, gold = [e.text for e in examples], [e.label for e in examples]
        ours = np.array([[s.negative, s.neutral, s.positive] for s in model.classify(texts)])
        vader = np.array([[s.negative, s.neutral, s.positive] for s in lexicon.classify(texts)])
        cells = []
        for w in SWEEP:
            predicted = [LABELS[i] for i in ((1 - w) * ours + w * vader).argmax(axis=1)]
            cells.append(f"{macro_recall(gold, predicted):.3f}")
        print(f"| {name} ({len(texts):,}) | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(DEFAULT_DATA) if DEFAULT_DATA else None,
                        required=DEFAULT_DATA is None,
                        help="folder holding tweeteval-val/ and kaggle-tweet-sentiment-extraction/, each a folder "
                        "of aligned text files as their READMEs describe (default: $LISTENPOST_DATA_DIR)")
    parser.add_argument("--models", default="default,default-alone,lexicon",
                        help="comma-separated: default, default-alone (no lexicon blend), default-int8, lexicon, "
                        "or a model id/directory")
    parser.add_argument("--blend-sweep", action="store_true",
                        help="only print macro-recall by lexicon weight (docs/model.md, 'The lexicon blend')")
    parser.add_argument("--alert-sweep", action="store_true",
                        help="only print negative precision/recall of alerts by threshold (docs/model.md)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.blend_sweep:
        blend_sweep(args.data_dir)
        return
    if args.alert_sweep:
        alert_sweep(args.data_dir, args.models.split(",")[0])
        return
    if args.worker:
        model, _, variant = args.worker.partition(":")
        print(json.dumps(worker(model, args.data_dir, variant)))
        return

    rows = []
    for spec in args.models.split(","):
        model, variant = VARIANTS.get(spec, (spec, ""))
        output = subprocess.run(
            [sys.executable, __file__, "--worker", f"{model}:{variant}", "--data-dir", str(args.data_dir)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))

    import torch

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    sets = [key for key in rows[0] if isinstance(rows[0][key], dict)]
    header = ["model", "negative / alert threshold", "load s", "posts/s b1", "posts/s b32", "posts/s sorted",
              "posts/CPU-s b32", "peak RSS MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [
            row["model"],
            f"{row['threshold']:g} / {row['alert_threshold']:g}",
            f"{row['load_s']:.2f}",
            f"{row['posts_per_s_b1']:.0f}",
            f"{row['posts_per_s_b32']:.0f}",
            f"{row['posts_per_s_sorted']:.0f}",
            f"{row['posts_per_cpu_s_b32']:.0f}",
            f"{row['peak_rss_mb']:.0f}",
        ]
        print("| " + " | ".join(cells) + " |")
    print("\n| model | set | texts | macro-recall | negative F1 | alerts | alert precision | alert recall |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        for name in sets:
            r = row[name]
            print(f"| {row['model']} | {name} | {r['n']:,} | {r['macro_recall']:.3f} | {r['negative_f1']:.3f} | "
                  f"{r['alerts']} | {r['alert_precision']:.3f} | {r['alert_recall']:.3f} |")
    for row in rows:
        demo = row.get("demo mentions")
        if demo:
            print(f"\n{row['model']}: demo agreement with hand labels {demo['agreement']:.1%}, "
                  f"positive-labeled mentions alerted: {demo['positives_alerted']}")


if __name__ == "__main__":
    main()
