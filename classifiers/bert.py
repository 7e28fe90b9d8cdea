"""A small BERT sequence classifier for inference of the shipped weights, in plain torch.

The shipped model is trained with transformers' ``BertForSequenceClassification`` and its weights
keep those names. Serving it needs only the forward pass: this module holds it, which keeps
transformers' model code (about 150 MB of memory once imported) out of the process, fuses the
query, key and value projections into one matrix product, and runs the matrix products on a batch's
real tokens only: padding is laid out again just for attention. ``tests/test_classifiers.py`` checks its
outputs against transformers' own model on the shipped weights.

torch is imported inside functions so that importing this module is free.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.core.errors import ModelError


@dataclass(frozen=True)
class BertShape:
    hidden: int
    heads: int
    intermediate: int
    layers: int
    vocab: int
    positions: int
    token_types: int
    eps: float

    @classmethod
    def from_config(cls, path: Path, *, layers: int | None = None) -> BertShape:
        config = json.loads(path.read_text(encoding="utf-8"))
        if config.get("model_type") != "bert" or config.get("hidden_act", "gelu") != "gelu":
            raise ModelError(f"{path}: not a BERT encoder with GELU activations")
        return cls(
            hidden=config["hidden_size"], heads=config["num_attention_heads"],
            intermediate=config["intermediate_size"], layers=layers or config["num_hidden_layers"],
            vocab=config["vocab_size"], positions=config["max_position_embeddings"],
            token_types=config.get("type_vocab_size", 2), eps=config.get("layer_norm_eps", 1e-12),
        )


# Packed token rows are rounded up to a multiple of this (see ``Batch``).
PACKED_ROWS = 64


def build(shape: BertShape, num_labels: int) -> Any:
    """An untrained model of this shape; ``load_weights`` fills it."""
    import torch
    from torch import nn
    from torch.nn import functional

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(shape.hidden, 3 * shape.hidden)
            self.attention_out = nn.Linear(shape.hidden, shape.hidden)
            self.attention_norm = nn.LayerNorm(shape.hidden, eps=shape.eps)
            self.intermediate = nn.Linear(shape.hidden, shape.intermediate)
            self.output = nn.Linear(shape.intermediate, shape.hidden)
            self.output_norm = nn.LayerNorm(shape.hidden, eps=shape.eps)

        def forward(self, x: torch.Tensor, batch: Batch) -> torch.Tensor:
            # x holds the batch's real tokens only, packed: [tokens, hidden]. Only attention needs
            # them laid out by text, so padding costs no work in the matrix products.
            q, k, v = (
                batch.unpack(self.qkv(x))
                .view(batch.size, batch.width, 3, shape.heads, shape.hidden // shape.heads)
                .permute(2, 0, 3, 1, 4)
            )
            context = functional.scaled_dot_product_attention(q, k, v, attn_mask=batch.mask)
            context = batch.pack(context.transpose(1, 2).reshape(batch.size, batch.width, shape.hidden))
            x = self.attention_norm(x + self.attention_out(context))
            return self.output_norm(x + self.output(functional.gelu(self.intermediate(x))))

    class Batch:
        """Where a padded batch's real tokens are, to pack them for the products and unpack for attention.

        The packed rows are rounded up to a multiple of ``PACKED_ROWS`` with copies of the last
        token, computed and dropped: oneDNN keeps a kernel for every matrix shape it meets, and
        with exact token counts a long run met hundreds of shapes (peak RSS 790 MB after 20,000
        texts, against 480 MB rounded).
        """

        def __init__(self, attention_mask: torch.Tensor) -> None:
            self.size, self.width = attention_mask.shape
            keep = attention_mask.reshape(-1).bool()
            lengths = attention_mask.sum(dim=1)
            # Each text's first token ([CLS]) in the packed order; texts are padded on the right.
            self.first = torch.cumsum(lengths, dim=0) - lengths
            # None when nothing is padded (one text, or texts of one length): no copies needed.
            self.mask: torch.Tensor | None = None
            self.gather: torch.Tensor | None = None
            if bool(keep.all()):
                return
            # True where a key may be attended to, broadcast over heads and query positions.
            self.mask = attention_mask.bool()[:, None, None, :]
            positions = keep.nonzero().squeeze(1)
            extra = -positions.numel() % PACKED_ROWS
            # Rows are read from the last real token and written to a spare row past the end.
            self.gather = torch.cat([positions, positions[-1:].expand(extra)])
            self.scatter = torch.cat([positions, positions.new_full((extra,), self.size * self.width)])

        def pack(self, padded: torch.Tensor) -> torch.Tensor:
            flat = padded.reshape(self.size * self.width, -1)
            return flat if self.gather is None else flat.index_select(0, self.gather)

        def unpack(self, packed: torch.Tensor) -> torch.Tensor:
            if self.gather is None:
                return packed
            full = packed.new_zeros(self.size * self.width + 1, packed.shape[1])
            return full.index_copy_(0, self.scatter, packed)[:-1]

    class BertClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.words = nn.Embedding(shape.vocab, shape.hidden)
            self.positions = nn.Embedding(shape.positions, shape.hidden)
            self.token_types = nn.Embedding(shape.token_types, shape.hidden)
            self.embedding_norm = nn.LayerNorm(shape.hidden, eps=shape.eps)
            self.layers = nn.ModuleList(Layer() for _ in range(shape.layers))
            self.pooler = nn.Linear(shape.hidden, shape.hidden)
            self.classifier = nn.Linear(shape.hidden, num_labels)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            batch = Batch(attention_mask)
            width = input_ids.shape[1]
            x = batch.pack(self.words(input_ids) + self.positions.weight[:width] + self.token_types.weight[0])
            x = self.embedding_norm(x)
            for layer in self.layers:
                x = layer(x, batch)
            return self.classifier(torch.tanh(self.pooler(x[batch.first])))

    return BertClassifier().eval()


# transformers' parameter names -> ours; {i} is the layer number.
_NAMES = {
    "bert.embeddings.word_embeddings.weight": "words.weight",
    "bert.embeddings.position_embeddings.weight": "positions.weight",
    "bert.embeddings.token_type_embeddings.weight": "token_types.weight",
    "bert.embeddings.LayerNorm.weight": "embedding_norm.weight",
    "bert.embeddings.LayerNorm.bias": "embedding_norm.bias",
    "bert.pooler.dense.weight": "pooler.weight",
    "bert.pooler.dense.bias": "pooler.bias",
    "classifier.weight": "classifier.weight",
    "classifier.bias": "classifier.bias",
}
_LAYER_NAMES = {
    "attention.output.dense": "attention_out",
    "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "intermediate",
    "output.dense": "output",
    "output.LayerNorm": "output_norm",
}
_QKV = ("query", "key", "value")


def layer_count(names: set[str]) -> int:
    return len({name.split(".")[3] for name in names if name.startswith("bert.encoder.layer.")})


def load_weights(model: Any, weights: Path) -> None:
    """Copy a transformers-named safetensors file into ``model``, checking every name and shape."""
    import torch
    from safetensors import safe_open

    targets = dict(model.state_dict())
    filled: list[str] = []
    with safe_open(str(weights), framework="pt") as handle, torch.no_grad():
        names = set(handle.keys())

        def copy(target: str, tensor: torch.Tensor, rows: slice | None = None) -> None:
            destination = targets[target] if rows is None else targets[target][rows]
            if tensor.shape != destination.shape:
                raise ModelError(f"{weights}: {target} has shape {tuple(tensor.shape)}, "
                                 f"the model expects {tuple(destination.shape)}")
            destination.copy_(tensor)
            filled.append(target)

        for name in names:
            if name.endswith("position_ids"):
                continue  # a buffer some transformers versions save; positions are implied here
            if name in _NAMES:
                copy(_NAMES[name], handle.get_tensor(name))
                continue
            parts = name.split(".")
            if parts[:3] != ["bert", "encoder", "layer"] or len(parts) < 6:
                raise ModelError(f"{weights}: unexpected tensor {name}")
            index, inner, kind = parts[3], ".".join(parts[4:-1]), parts[-1]
            if inner.startswith("attention.self.") and inner.split(".")[-1] in _QKV:
                part = _QKV.index(inner.split(".")[-1])
                size = targets[f"layers.{index}.qkv.{kind}"].shape[0] // 3
                copy(f"layers.{index}.qkv.{kind}", handle.get_tensor(name), slice(part * size, (part + 1) * size))
            elif inner in _LAYER_NAMES:
                copy(f"layers.{index}.{_LAYER_NAMES[inner]}.{kind}", handle.get_tensor(name))
            else:
                raise ModelError(f"{weights}: unexpected tensor {name}")
    # Each fused qkv tensor is filled from three (query, key, value); everything else from one.
    missing = sorted(t for t in targets if filled.count(t) < (3 if ".qkv." in t else 1))
    if missing:
        raise ModelError(f"{weights} does not fit the model: missing {missing[:3]}")


class WordPiece:
    """The base encoder's tokenizer from its tokenizer.json, called like a transformers tokenizer.

    Only what inference asks of it: ids per text, truncated, never padded (batches pad themselves).
    """

    def __init__(self, base: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._max_length: int | None = None
        self.pad_token_id = self._tokenizer.token_to_id("[PAD]") or 0

    def __call__(
        self, texts: list[str], *, truncation: bool = True, max_length: int = 512
    ) -> dict[str, list[list[int]]]:
        wanted = max_length if truncation else None
        if wanted != self._max_length:
            if wanted is None:
                self._tokenizer.no_truncation()
            else:
                self._tokenizer.enable_truncation(max_length=wanted)
            self._max_length = wanted
        return {"input_ids": [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]}
