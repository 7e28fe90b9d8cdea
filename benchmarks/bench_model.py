"""Speed, memory and accuracy of the shipped sentiment model against VADER, on this machine.

    python benchmarks/bench_model.py [--tweeteval ../shared/data/tweeteval-val] [--models default,lexicon]

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

DEFAULT_TWEETEVAL = ROOT.parent / "shared" / "data" / "tweeteval-val"
SPEED_TEXTS = 1024
SINGLE_TEXTS = 200


def _eval_sets(tweeteval: Path) -> dict[str, list]:
    from classifiers import corpora

    sets = {
        "airline held-out": corpora.airline_tweets(heldout=True),
        "drug reviews (test)": corpora.drug_reviews(split="Test"),
    }
    if tweeteval.is_dir():
        sets = {"tweeteval-val": corpora.tweeteval(tweeteval), **sets}
    return sets


def _speed_texts(tweeteval: Path) -> list[str]:
    """Short social posts to time: the TweetEval tweets, else the demo's bundled mentions."""
    if tweeteval.is_dir():
        return (tweeteval / "val_text.txt").read_text(encoding="utf-8").splitlines()[:SPEED_TEXTS]
    demo = ROOT / "monitor" / "demo_data" / "mentions.jsonl"
    texts = [json.loads(line)["text"] for line in demo.read_text(encoding="utf-8").splitlines() if line.strip()]
    return (texts * (SPEED_TEXTS // len(texts) + 1))[:SPEED_TEXTS]


# Variants of the shipped model: as served, without the lexicon blend, and quantized to int8.
VARIANTS = {"default-alone": ("default", "alone"), "default-int8": ("default", "int8")}


def worker(model: str, tweeteval: Path, variant: str) -> dict:
    """Runs inside the child process: load, time, note peak memory, then evaluate."""
    from classifiers import load_classifier
    from classifiers.evaluation import macro_recall, per_class
    from monitor.pipeline import decide_label

    started = time.perf_counter()
    classifier = load_classifier(model, lexicon_weight=0.0 if variant == "alone" else None, int8=variant == "int8")
    classifier.classify(["warm up"])
    load_seconds = time.perf_counter() - started

    speed_texts = _speed_texts(tweeteval)
    result: dict = {"model": classifier.name + (" int8" if variant == "int8" else ""), "load_s": load_seconds,
                    "threshold": classifier.negative_threshold}
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

    sets = _eval_sets(tweeteval)
    for name, examples in sets.items():
        scores = classifier.classify([e.text for e in examples])
        gold = [e.label for e in examples]
        # The likeliest class, and the pipeline's rule (negative from the model's default threshold up).
        predicted = [s.label for s in scores]
        alerted = [decide_label(s, classifier.negative_threshold) for s in scores]
        negative = next(r for r in per_class(gold, predicted) if r.label == "negative")
        negative_at = next(r for r in per_class(gold, alerted) if r.label == "negative")
        result[name] = {"macro_recall": macro_recall(gold, predicted), "negative_f1": negative.f1,
                        "macro_recall_pipeline": macro_recall(gold, alerted), "negative_f1_pipeline": negative_at.f1,
                        "n": len(gold)}
    return result


SWEEP = (0.0, 0.2, 0.3, 0.4, 0.5, 1.0)


def blend_sweep(tweeteval: Path) -> None:
    """Macro-recall (likeliest class) of the shipped model blended with VADER at several weights."""
    import numpy as np

    from classifiers import LABELS, load_classifier
    from classifiers.evaluation import macro_recall

    model, lexicon = load_classifier("default", lexicon_weight=0.0), load_classifier("lexicon")
    print("| lexicon weight | " + " | ".join(f"{w:g}" for w in SWEEP) + " |")
    print("|---|" + "---:|" * len(SWEEP))
    for name, examples in _eval_sets(tweeteval).items():
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
    parser.add_argument("--tweeteval", type=Path, default=DEFAULT_TWEETEVAL)
    parser.add_argument("--models", default="default,default-alone,lexicon",
                        help="comma-separated: default, default-alone (no lexicon blend), default-int8, lexicon, "
                        "or a model id/directory")
    parser.add_argument("--blend-sweep", action="store_true",
                        help="only print macro-recall by lexicon weight (docs/model.md, 'The lexicon blend')")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.blend_sweep:
        blend_sweep(args.tweeteval)
        return
    if args.worker:
        model, _, variant = args.worker.partition(":")
        print(json.dumps(worker(model, args.tweeteval, variant)))
        return

    rows = []
    for spec in args.models.split(","):
        model, variant = VARIANTS.get(spec, (spec, ""))
        output = subprocess.run(
            [sys.executable, __file__, "--worker", f"{model}:{variant}", "--tweeteval", str(args.tweeteval)],
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
    header = ["model", "threshold", "load s", "posts/s b1", "posts/s b32", "posts/s sorted", "posts/CPU-s b32",
              "peak RSS MB"]
    for name in sets:
        header += [f"{name} macro-R", f"{name} neg F1", f"{name} macro-R pipeline", f"{name} neg F1 pipeline"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [
            row["model"],
            f"{row['threshold']:g}",
            f"{row['load_s']:.2f}",
            f"{row['posts_per_s_b1']:.0f}",
            f"{row['posts_per_s_b32']:.0f}",
            f"{row['posts_per_s_sorted']:.0f}",
            f"{row['posts_per_cpu_s_b32']:.0f}",
            f"{row['peak_rss_mb']:.0f}",
        ]
        for name in sets:
            cells += [f"{row[name][key]:.3f}" for key in
                      ("macro_recall", "negative_f1", "macro_recall_pipeline", "negative_f1_pipeline")]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
