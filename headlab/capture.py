"""Streaming attention capture.

A forward hook on each attention module hands that layer's weights ``[B, H, T, T]`` to the
caller's reducer the moment they are computed; nothing keeps a reference afterwards, so peak
memory holds one layer's attention instead of all of them (``output_attentions=True`` keeps
``n_layers`` blocks alive until the forward pass returns).

Weights are per *query* head: transformers' eager attention repeats key/value heads for GQA
models before the softmax, so a GQA model reports ``n_heads`` patterns per layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import torch
from torch import nn

from headlab.errors import UnsupportedModelError
from headlab.text import Sample


@dataclass
class Batch:
    """A padded batch handed to reducers together with each layer's block.

    Attributes:
        index: ``[B]`` positions of these samples in the caller's list.
        samples: the ``B`` samples.
        input_ids, attention_mask: ``[B, T]`` (right padding).
        lengths: ``[B]`` real token counts.
        visible: bool ``[B, T, T]``: query ``i`` may see key ``j`` (both real tokens, and
            ``j <= i`` for causal models).
    """

    index: list[int]
    samples: list[Sample]
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor | None
    lengths: list[int]
    visible: torch.Tensor


Reducer = Callable[[int, torch.Tensor, Batch], None]


def find_attention_modules(model: nn.Module) -> list[tuple[str, nn.Module, int]]:
    """The self-attention modules of ``model`` in layer order, as ``(name, module, index)``.

    ``index`` is where the attention weights sit in the module's output tuple. We use the
    model's own declaration of where attentions are recorded (``_can_record_outputs``, the
    mechanism transformers itself uses for ``output_attentions``) and fall back to class
    names ending in "SelfAttention"/"Attention" for models that do not declare it.
    """
    spec = None
    for m in model.modules():
        rec = getattr(m, "_can_record_outputs", None)
        if isinstance(rec, dict) and "attentions" in rec:
            spec = rec["attentions"]
            break
    found: list[tuple[str, nn.Module, int]] = []
    if spec is not None:
        target = getattr(spec, "target_class", spec)
        index = getattr(spec, "index", 1) if hasattr(spec, "target_class") else 1
        layer_name = getattr(spec, "layer_name", None)
        class_name = getattr(spec, "class_name", None)
        for name, m in model.named_modules():
            hit = isinstance(m, target) if isinstance(target, type) else False
            if class_name is not None:
                hit = type(m).__name__.endswith(class_name)
            if hit and (layer_name is None or name.endswith(layer_name.lstrip("."))):
                found.append((name, m, index))
    if not found:
        for cls_suffix in ("SelfAttention", "Attention"):
            found = [
                (name, m, 1)
                for name, m in model.named_modules()
                if type(m).__name__.endswith(cls_suffix) and "cross" not in name.lower()
            ]
            # keep only the outermost module of each nested chain
            found = [f for f in found if not any(f[0].startswith(o[0] + ".") for o in found if o is not f)]
            if found:
                break
    if not found:
        raise UnsupportedModelError(
            f"No attention modules found in {type(model).__name__}: headlab analyses transformer "
            "attention heads, and this model has none it can hook."
        )
    return found


def visibility(attention_mask: torch.Tensor, causal: bool) -> torch.Tensor:
    """bool ``[B, T, T]``: which keys each query may attend to."""
    m = attention_mask.bool()
    vis = m[:, :, None] & m[:, None, :]
    if causal:
        T = m.shape[1]
        vis &= torch.ones(T, T, dtype=torch.bool, device=m.device).tril()
    return vis


def make_batches(samples: Sequence[Sample], batch_size: int, pad_id: int, causal: bool,
                 order: Iterable[int] | None = None) -> Iterator[Batch]:
    """Group samples into right-padded batches (sorted by length to waste little padding)."""
    idx = list(order) if order is not None else sorted(range(len(samples)), key=lambda i: len(samples[i]))
    for start in range(0, len(idx), batch_size):
        chunk = idx[start : start + batch_size]
        group = [samples[i] for i in chunk]
        T = max(len(s) for s in group)
        ids = torch.full((len(group), T), pad_id, dtype=torch.long)
        mask = torch.zeros((len(group), T), dtype=torch.long)
        types = None
        if all(s.token_type_ids is not None for s in group):
            types = torch.zeros((len(group), T), dtype=torch.long)
        for b, s in enumerate(group):
            n = len(s)
            ids[b, :n] = torch.tensor(s.input_ids)
            mask[b, :n] = 1
            if types is not None:
                types[b, :n] = torch.tensor(s.token_type_ids)
        yield Batch(
            index=chunk,
            samples=group,
            input_ids=ids,
            attention_mask=mask,
            token_type_ids=types,
            lengths=[len(s) for s in group],
            visible=visibility(mask, causal),
        )


class LayerHooks:
    """Context manager: while active, each attention module's weights go to ``reducer``."""

    def __init__(self, modules: list[tuple[str, nn.Module, int]], reducer: Callable[[int, torch.Tensor], None]):
        self.modules = modules
        self.reducer = reducer
        self.handles: list = []

    def __enter__(self) -> "LayerHooks":
        for layer, (name, module, index) in enumerate(self.modules):
            self.handles.append(module.register_forward_hook(self._hook(layer, name, index)))
        return self

    def _hook(self, layer: int, name: str, index: int):
        def hook(_module, _inputs, output):
            weights = output[index] if isinstance(output, (tuple, list)) and len(output) > index else None
            if weights is None or not torch.is_tensor(weights) or weights.dim() != 4:
                raise UnsupportedModelError(
                    f"Attention module {name!r} returned no attention weights. headlab needs eager "
                    "attention (SDPA and flash attention never materialise the weights); load the "
                    "model with attn_implementation='eager'."
                )
            self.reducer(layer, weights)

        return hook

    def __exit__(self, *exc) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()
