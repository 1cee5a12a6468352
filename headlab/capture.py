"""Streaming attention capture that keeps the model's own attention implementation.

Reducers receive one layer's attention a block of query rows at a time and keep only what
they need (a score per head, a top-k per row, ...)::

    reducer(layer: int, rows: Tensor [B, H, c, Tk], q0: int, batch: Batch) -> None

``rows[:, :, i]`` is query ``q0 + i``; each row sums to 1 over the keys the query can see, and
keys it cannot see (padding, the future of a causal model) hold exactly 0. The chunks of one
layer arrive in order and cover every query before the next layer starts. Rows live on the
layer's device; reducers return small summaries.

headlab never switches a model to another attention implementation. While a capture is active,
the model's own attention function - SDPA, flash, flex, eager, or one the user registered - is
wrapped in transformers' ``AttentionInterface``: the model computes its output exactly as
before, and the wrapper computes the softmax weights for the reducers from the same query and
key (after rotary embeddings) with the model's own mask (causal, padding, sliding window),
scaling and soft-capping, one key/value head per group of query heads (GQA), in chunks of
queries sized to a memory budget. So ``[n_heads, T, T]`` is never held for all heads and rows at
once, and nothing of a layer is kept after its reducers ran.

For eager attention the model computes the weights itself; they are passed on, chunked, with
no second computation. Models whose attention modules bypass the interface are caught: if a
forward pass ends without a layer reporting, ``UnsupportedModelError`` says so and what to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import torch
from torch import nn

from headlab.errors import UnsupportedModelError
from headlab.text import LazySamples, Sample

__all__ = ["Batch", "Reducer", "Capture", "find_attention_modules", "make_batches", "attention_rows",
           "DEFAULT_BUDGET"]

#: bytes the attention rows of one chunk may take (scores and softmax, float32)
DEFAULT_BUDGET = 64 * 1024 * 1024


@dataclass
class Batch:
    """A padded batch handed to reducers together with each layer's rows.

    Attributes:
        index: ``[B]`` positions of these samples in the caller's list.
        samples: the ``B`` samples.
        input_ids, attention_mask: ``[B, T]`` (right padding).
        token_type_ids: ``[B, T]`` or None.
        lengths: ``[B]`` real token counts.
        causal: whether queries see only earlier keys.
    """

    index: list[int]
    samples: list[Sample]
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor | None
    lengths: list[int]
    causal: bool = False

    @property
    def T(self) -> int:
        return int(self.input_ids.shape[1])

    def lengths_tensor(self, device=None) -> torch.Tensor:
        return torch.as_tensor(self.lengths, dtype=torch.int64, device=device)


Reducer = Callable[[int, torch.Tensor, int, "Batch"], None]


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
            "attention heads, and this model has none it can hook. Pass a transformer model "
            "(BERT, GPT-2, Llama, ...)."
        )
    return found


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


#: layers whose attention would take at least this much are followed by a trim; below it a
#: layer frees too little to matter, and a trim (about 1 ms) would cost more than it gives back
TRIM_BYTES = 16 << 20


def release_freed_memory() -> None:
    """Give the pages of freed blocks back to the system (glibc's ``malloc_trim``; elsewhere a no-op).

    Each layer frees tens of MB of work arrays (rows, sieve products, activations). glibc keeps
    them in its heaps, and with small long-lived arrays in between, the process's resident size
    ratchets up batch after batch, so a long corpus looked like a memory leak. Called once per
    layer of large batches (``TRIM_BYTES``); about a millisecond against a layer's tens.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def make_batches(samples: Sequence[Sample], batch_size: int, pad_id: int, causal: bool,
                 order: Iterable[int] | None = None) -> Iterator[Batch]:
    """Group samples into right-padded batches (sorted by length to waste little padding)."""
    if order is None:
        if isinstance(samples, LazySamples):      # knows its lengths without tokenising again
            order = samples.by_length()
        else:
            order = sorted(range(len(samples)), key=lambda i: len(samples[i]))
    idx = list(order)
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
            causal=causal,
        )



def attention_rows(module: nn.Module, query: torch.Tensor, key: torch.Tensor, attention_mask: torch.Tensor | None,
                   q0: int, q1: int, keys_upto: int | None = None, **kwargs) -> torch.Tensor:
    """Softmax attention weights of queries ``q0:q1``, float32 ``[B, H, q1 - q0, Tk]``.

    ``keys_upto``: compute only keys ``0:keys_upto`` (``[B, H, c, keys_upto]``); only right
    when the keys after it are masked for these queries (a causal layer, ``keys_upto >= q1``).

    Follows transformers' attention functions: ``scaling`` (default ``d**-0.5``), ``softcap``
    (``tanh(s / cap) * cap``), the mask (bool: True = attend; float: added to the scores; 2-D
    ``[B, Tk]``: a padding mask, as flash attention gets), causality when there is no 4-D mask
    (``kwargs["is_causal"]`` or ``module.is_causal``; queries are the last ``Tq`` positions of
    the keys) and ``sliding_window`` likewise. Key heads are shared by groups of query heads
    (GQA) without repeating them in memory. Rows that can see no key are all 0.
    """
    B, H, Tq, d = query.shape
    Hkv, Tk_all = key.shape[1], key.shape[2]
    Tk = Tk_all if keys_upto is None else int(keys_upto)
    key = key[:, :, :Tk]
    c = q1 - q0
    scaling = kwargs.get("scaling")
    scaling = d ** -0.5 if scaling is None else float(scaling)
    q = query[:, :, q0:q1].float().reshape(B, Hkv, H // Hkv, c, d)
    scores = torch.matmul(q, key.float().transpose(-1, -2)[:, :, None]).reshape(B, H, c, Tk)
    scores.mul_(scaling)
    softcap = kwargs.get("softcap")
    if softcap:
        scores = torch.tanh(scores / softcap) * softcap
    masked = False
    if attention_mask is not None and attention_mask.dim() == 4:
        m = attention_mask[..., q0:q1, :Tk]
        if m.dtype == torch.bool:
            scores.masked_fill_(~m, float("-inf"))
        else:
            scores.add_(m.float())
        masked = True
    else:
        allowed = None
        if attention_mask is not None:                       # [B, Tk] padding mask, 1 = real key
            allowed = attention_mask.bool()[:, None, None, :Tk]
        causal = kwargs.get("is_causal")
        causal = getattr(module, "is_causal", False) if causal is None else bool(causal)
        if causal and Tq > 1:
            qpos = torch.arange(q0, q1, device=scores.device)[:, None] + (Tk_all - Tq)
            kpos = torch.arange(Tk, device=scores.device)[None, :]
            ok = kpos <= qpos
            window = kwargs.get("sliding_window")
            if window:
                ok = ok & (kpos > qpos - int(window))
            allowed = ok[None, None] if allowed is None else (allowed & ok[None, None])
        if allowed is not None:
            scores.masked_fill_(~allowed, float("-inf"))
            masked = attention_mask is not None or bool(kwargs.get("sliding_window"))
    rows = torch.softmax(scores, dim=-1)
    if masked:                       # a row that sees no key at all is NaN after the softmax: make it 0
        rows.nan_to_num_(nan=0.0)
    return rows


def _chunk_rows(budget: int, B: int, H: int, Tk: int) -> int:
    """Query rows per chunk so that a chunk's float32 scores, softmax and one reducer copy fit ``budget``."""
    return max(1, int(budget // max(1, 3 * 4 * B * H * Tk)))


class Capture:
    """Context manager: while active, every attention layer's rows go to ``reducer``.

    Args:
        model: the transformers model (its ``config._attn_implementation`` is read, never changed).
        modules: ``find_attention_modules(model)``.
        reducer: ``reducer(layer, rows, q0, batch)``; ``batch`` is whatever was set with
            :meth:`set_batch` before the forward pass. None: compute no rows (with ``keep_qk``).
        budget: bytes one chunk of rows may take (the chunk size follows from it).
        layers: only these layers are computed and reported (default: all).
        keep_qk: also keep each reported layer's query and key (after rotary embeddings) on
            the CPU in ``self.qk[layer] = (query [B, H, T, d], key [B, Hkv, T, d], kwargs)`` -
            what lazy attention needs to rebuild any head later without another forward pass.
        tail: only the last ``tail`` query rows of every layer are computed and reported (a
            decoding step needs its newest query only; the prompt's other rows are skipped).
        prefix_keys: in causal layers, a chunk of queries ``q0:q1`` gets only the keys it can
            see, ``rows [B, H, c, q1]`` instead of ``[B, H, c, T]`` (the keys after ``q1`` carry
            no weight): half the work over a layer. For reducers that read ``rows.shape[-1]``.
    """

    # The interface patch is process-wide: one capture at a time per process (re-entrant, so a
    # capture may run inside another's reducer in the same thread).
    _lock = threading.RLock()

    def __init__(self, model: nn.Module, modules: list[tuple[str, nn.Module, int]], reducer: Reducer,
                 budget: int = DEFAULT_BUDGET, layers: Iterable[int] | None = None, keep_qk: bool = False,
                 tail: int | None = None, prefix_keys: bool = False):
        self.model, self.modules, self.reducer, self.budget = model, modules, reducer, int(budget)
        self.prefix_keys = prefix_keys
        self.layer_of = {id(m): i for i, (_, m, _) in enumerate(modules)}
        self.layers = set(range(len(modules))) if layers is None else set(layers)
        self.keep_qk = keep_qk
        self.tail = tail
        self.qk: dict[int, tuple] = {}
        self.batch = None
        self.seen: set[int] = set()
        self._patched: list = []
        self._handles: list = []

    def set_batch(self, batch) -> None:
        self.batch = batch
        self.seen = set()

    # ------------------------------------------------------------------ the interface route
    def _wrap(self, original: Callable | None, impl: str) -> Callable:
        capture = self

        def wrapper(module, query, key, value, attention_mask, *args, **kwargs):
            fn = original if original is not None else _module_eager(module)
            out, weights = fn(module, query, key, value, attention_mask, *args, **kwargs)
            layer = capture.layer_of.get(id(module))
            if layer is not None and layer in capture.layers:
                capture._report(layer, module, query, key, attention_mask, weights, kwargs)
            return out, weights

        wrapper.__name__ = f"headlab_capture_{impl}"
        return wrapper

    def _report(self, layer, module, query, key, mask, weights, kwargs) -> None:
        self.seen.add(layer)
        with torch.no_grad():
            B, H, Tq, _ = query.shape
            Tk = key.shape[2]
            if B * H * Tq * Tk * 4 >= TRIM_BYTES:
                release_freed_memory()
            step = _chunk_rows(self.budget, B, H, Tk)
            if self.keep_qk:
                self.qk[layer] = (query.detach().float().cpu(), key.detach().float().cpu(),
                                  _mask_info(module, mask, kwargs))
            if self.reducer is None:
                return
            use_given = torch.is_tensor(weights) and weights.dim() == 4 and weights.shape[1] == H
            for q0 in range(self._first(Tq), Tq, step):
                q1 = min(Tq, q0 + step)
                k1 = self._key_end(module, q1, Tq, Tk)
                rows = weights[:, :, q0:q1, :k1].float() if use_given else \
                    attention_rows(module, query, key, mask, q0, q1, keys_upto=k1, **kwargs)
                self.reducer(layer, rows, q0, self.batch)

    # ------------------------------------------------------------------ the output-hook route
    def _hook(self, layer: int, name: str, index: int):
        def hook(_module, _inputs, output):
            if layer in self.seen or layer not in self.layers:
                return
            weights = output[index] if isinstance(output, (tuple, list)) and len(output) > index else None
            if weights is None or not torch.is_tensor(weights) or weights.dim() != 4:
                return          # checked after the forward pass (check_all_reported)
            self.seen.add(layer)
            if self.reducer is None:
                return
            with torch.no_grad():
                B, H, Tq, Tk = weights.shape
                step = _chunk_rows(self.budget, B, H, Tk)
                for q0 in range(self._first(Tq), Tq, step):
                    k1 = self._key_end(_module, min(Tq, q0 + step), Tq, Tk)
                    self.reducer(layer, weights[:, :, q0:q0 + step, :k1].float(), q0, self.batch)

        return hook

    def _key_end(self, module, q1: int, Tq: int, Tk: int) -> int:
        """How many keys the chunk ending at query ``q1`` needs: all of them, or with
        ``prefix_keys`` in a causal layer (the module says so) only those up to its last query."""
        if self.prefix_keys and self.batch is not None and getattr(self.batch, "causal", False) \
                and getattr(module, "is_causal", False):
            return min(Tk, q1 + (Tk - Tq))
        return Tk

    def _first(self, Tq: int) -> int:
        return 0 if self.tail is None else max(0, Tq - int(self.tail))

    def check_all_reported(self) -> None:
        """Raise if a layer produced no attention in the last forward pass."""
        missing = sorted(self.layers - self.seen)
        if missing:
            name = self.modules[missing[0]][0]
            impl = getattr(self.model.config, "_attn_implementation", None)
            raise UnsupportedModelError(
                f"Attention layer {missing[0]} ({name!r}) computed its attention without going through "
                f"transformers' attention interface ({impl!r} attention), so headlab could not see its "
                "weights. Load the model with attn_implementation='eager' (or 'sdpa'), which every "
                "transformers model routes through that interface."
            )

    def __enter__(self) -> "Capture":
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS, AttentionInterface

        self._lock.acquire()
        self._locked = True
        try:
            impl = getattr(self.model.config, "_attn_implementation", None) or "eager"
            for key in {impl, "eager"}:
                local = ALL_ATTENTION_FUNCTIONS._local_mapping
                had_local, old_local = key in local, local.get(key)
                had_global, old_global = key in AttentionInterface._global_mapping, \
                    AttentionInterface._global_mapping.get(key)
                original = old_local if had_local else old_global
                wrapper = self._wrap(original, key)
                AttentionInterface._global_mapping[key] = wrapper
                if had_local:
                    local[key] = wrapper
                self._patched.append((key, had_local, old_local, had_global, old_global))
            for layer, (name, module, index) in enumerate(self.modules):
                self._handles.append(module.register_forward_hook(self._hook(layer, name, index)))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS, AttentionInterface

        for key, had_local, old_local, had_global, old_global in reversed(self._patched):
            if had_global:
                AttentionInterface._global_mapping[key] = old_global
            else:
                AttentionInterface._global_mapping.pop(key, None)
            if had_local:
                ALL_ATTENTION_FUNCTIONS._local_mapping[key] = old_local
        self._patched.clear()
        for h in self._handles:
            h.remove()
        self._handles.clear()
        if getattr(self, "_locked", False):
            self._locked = False
            self._lock.release()


def _module_eager(module: nn.Module) -> Callable:
    """The eager attention function of the module's own modeling file (what transformers falls back to)."""
    fn = getattr(sys.modules.get(type(module).__module__), "eager_attention_forward", None)
    if fn is None:
        raise UnsupportedModelError(
            f"{type(module).__name__} asks for eager attention but its modeling file has no "
            "eager_attention_forward; load the model with attn_implementation='sdpa'."
        )
    return fn


def _mask_info(module, mask, kwargs) -> dict:
    """What attention_rows needs besides query and key, detached and on the CPU."""
    keep = {k: kwargs[k] for k in ("scaling", "softcap", "sliding_window", "is_causal") if k in kwargs}
    keep.setdefault("is_causal", getattr(module, "is_causal", False))
    return {"mask": None if mask is None else mask.detach().cpu(), **keep}
