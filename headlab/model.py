"""HeadModel: load a transformers model, tokenize with offsets, capture attention per layer.

Attention weights must be real, so every model runs with *eager* attention: SDPA and flash
attention never materialise the softmax weights (transformers either returns ``None`` or
silently falls back).  A model passed in with another implementation is switched to eager
**in place** (``model.set_attn_implementation("eager")``); if that is impossible headlab
raises ``UnsupportedModelError`` rather than analysing something else.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from headlab import zoo
from headlab.analyses import ablate as ablation
from headlab.analyses import probe_roles, text_roles
from headlab.capture import Batch, LayerHooks, find_attention_modules, make_batches
from headlab import validate as V
from headlab.errors import InputError, ModelLoadError, UnsupportedModelError
from headlab.loading import DEFAULT_MODEL_NAME, default_model_path, from_hub, pretrained
from headlab.attention import Attention
from headlab.text import Sample, check_texts, tokenize

# Families whose learned positions start after the padding index, so fewer real tokens fit.
_OFFSET_POSITION_TYPES = {"roberta", "xlm-roberta", "camembert", "longformer", "data2vec-text",
                          "xmod", "roberta-prelayernorm", "mpnet"}


class HeadModel:
    """A transformers model prepared for head analysis.

    Attributes:
        model, tokenizer: the underlying transformers objects.
        name: a display name (hub id, zoo name or folder).
        n_layers, n_heads: attention layers and query heads per layer.
        n_kv_heads: key/value heads per layer (fewer than ``n_heads`` for GQA models).
        is_causal: whether queries only see earlier keys.
        max_length: the most tokens one input may have.
    """

    def __init__(self, model, tokenizer, name: str | None = None, device: str | torch.device = "cpu"):
        if tokenizer is None:
            raise InputError("A tokenizer is needed: hl.load(model=..., tokenizer=...).")
        self.model = model
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        if not hasattr(model, "config") or not isinstance(model, torch.nn.Module):
            raise UnsupportedModelError(
                f"Expected a transformers model (a PreTrainedModel), got {type(model).__name__}."
            )
        self.name = name or getattr(model.config, "_name_or_path", None) or type(model).__name__
        self._ensure_eager()
        self.model.eval()
        self.model.to(self.device)
        self._modules = find_attention_modules(self.model)
        cfg = self.model.config
        self.n_layers = len(self._modules)
        self.n_heads = int(_first_attr(cfg, "num_attention_heads", "n_head", "num_heads"))
        self.n_kv_heads = int(_first_attr(cfg, "num_key_value_heads", default=self.n_heads) or self.n_heads)
        self.is_causal = self._detect_causal()
        self.max_length = self._detect_max_length()
        if self.tokenizer.pad_token_id is None:
            # Padding positions are masked out, so any id works; eos is the usual choice.
            self._pad_id = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else 0
        else:
            self._pad_id = self.tokenizer.pad_token_id
        self._core = getattr(self.model, "base_model", self.model)
        # Only pass token types the tokenizer means and the model takes (GPT-2 would embed
        # them with its word embeddings).
        accepts = inspect.signature(self._core.forward).parameters
        self._uses_token_types = ("token_type_ids" in getattr(self.tokenizer, "model_input_names", [])
                                  and "token_type_ids" in accepts)

    # ----------------------------------------------------------------- set-up helpers
    def _ensure_eager(self) -> None:
        impl = getattr(self.model.config, "_attn_implementation", None)
        if impl in (None, "eager"):
            return
        try:
            self.model.set_attn_implementation("eager")
        except Exception as exc:  # noqa: BLE001 - any failure means we cannot get weights
            raise UnsupportedModelError(
                f"This model uses {impl!r} attention, which never materialises attention weights, "
                f"and it could not be switched to eager attention ({exc}). Reload it with "
                "attn_implementation='eager'."
            ) from None
        if getattr(self.model.config, "_attn_implementation", None) != "eager":
            raise UnsupportedModelError(
                f"This model uses {impl!r} attention and refused to switch to eager attention; "
                "reload it with attn_implementation='eager'."
            )

    def _detect_causal(self) -> bool:
        flags = [getattr(m, "is_causal", None) for _, m, _ in self._modules]
        flags = [f for f in flags if isinstance(f, bool)]
        if flags:
            return any(flags)
        return bool(getattr(self.model.config, "is_decoder", False))

    def _detect_max_length(self) -> int:
        cfg = self.model.config
        limits = []
        mpe = _first_attr(cfg, "max_position_embeddings", "n_positions", "n_ctx", default=None)
        if mpe:
            if getattr(cfg, "model_type", "") in _OFFSET_POSITION_TYPES:
                mpe -= (getattr(cfg, "pad_token_id", 1) or 1) + 1
            limits.append(int(mpe))
        tml = getattr(self.tokenizer, "model_max_length", None)
        if tml and tml < 1_000_000:
            limits.append(int(tml))
        return min(limits) if limits else 1_000_000

    # ----------------------------------------------------------------- tokenisation
    def tokenize(self, texts: Any, truncate: bool = False) -> list[Sample]:
        """Tokenise one text, one pair or a list of them into ``Sample`` objects."""
        items, _ = check_texts(texts)
        return [tokenize(self.tokenizer, t, self.max_length, truncate) for t in items]

    # ----------------------------------------------------------------- capture
    def stream(
        self,
        samples: Sequence[Sample],
        reducer: Callable[[int, torch.Tensor, Batch], None],
        batch_size: int = 16,
        progress: bool = False,
        desc: str = "forward",
    ) -> None:
        """Run the model over ``samples`` and hand each layer's attention to ``reducer``.

        ``reducer(layer, weights, batch)`` receives float ``[B, n_heads, T, T]`` (padded; see
        ``batch.visible`` for which entries are real) as soon as the layer computes it. The
        block is not kept, so peak memory holds one layer's attention, not all of them.
        """
        if batch_size < 1:
            raise InputError("batch_size must be at least 1.")
        batches = list(make_batches(samples, batch_size, self._pad_id, self.is_causal))
        iterator = batches
        if progress:
            from tqdm.auto import tqdm

            iterator = tqdm(batches, desc=desc, unit="batch")
        for batch in iterator:
            with LayerHooks(self._modules, lambda layer, w, b=batch: reducer(layer, w, b)):
                self._forward(batch)

    def _forward(self, batch: Batch) -> None:
        inputs = {
            "input_ids": batch.input_ids.to(self.device),
            "attention_mask": batch.attention_mask.to(self.device),
        }
        if self._uses_token_types and batch.token_type_ids is not None:
            inputs["token_type_ids"] = batch.token_type_ids.to(self.device)
        if self.is_causal:
            inputs["use_cache"] = False
        with torch.inference_mode():
            self._core(**inputs)

    def forward_only(self, samples: Sequence[Sample], batch_size: int = 16) -> None:
        """The bare eager forward pass over ``samples`` (the baseline benchmarks compare to)."""
        for batch in make_batches(samples, batch_size, self._pad_id, self.is_causal):
            self._forward(batch)

    def attention(self, texts: Any, truncate: bool = False, batch_size: int = 8):
        """Attention of every head: one ``Attention`` for one input, a list for a list.

        ``texts`` is a string, an ``(a, b)`` sentence pair (encoders: ``[CLS] a [SEP] b [SEP]``)
        or a list of them. Inputs longer than ``max_length`` raise ``TooLongError`` unless
        ``truncate=True``. Each result's ``weights`` is float32 ``[n_layers, n_heads, T, T]``
        with padding removed.
        """
        items, single = check_texts(texts)
        samples = [tokenize(self.tokenizer, t, self.max_length, truncate) for t in items]
        out = [np.zeros((self.n_layers, self.n_heads, len(s), len(s)), dtype=np.float32) for s in samples]

        def keep(layer: int, w: torch.Tensor, batch: Batch) -> None:
            w = w.float().cpu()
            for b, i in enumerate(batch.index):
                n = batch.lengths[b]
                out[i][layer] = w[b, :, :n, :n].numpy()

        self.stream(samples, keep, batch_size=batch_size)
        result = [Attention(o, s, self.name, self.is_causal) for o, s in zip(out, samples)]
        return result[0] if single else result

    # ----------------------------------------------------------------- analyses
    def roles(self, texts=None, roles=None, **kwargs):
        """Natural-text roles scored per text and tested across texts -> ``Report``.

        Delegates to :func:`headlab.analyses.text_roles.analyse` (all arguments documented there).
        """
        return text_roles.analyse(self, texts, roles=roles, **kwargs)

    def detect(self, roles=None, **kwargs):
        """Probe roles (previous-token, induction, ...) on generated probes -> ``Report``.

        Delegates to :func:`headlab.analyses.probe_roles.detect`.
        """
        return probe_roles.detect(self, roles=roles, **kwargs)

    def ablate(self, heads, **kwargs):
        """Causal check: ablate heads and measure the paired effect -> ``AblationResult``.

        Delegates to :func:`headlab.analyses.ablate.ablate`.
        """
        return ablation.ablate(self, heads, **kwargs)

    def __repr__(self) -> str:
        kind = "causal" if self.is_causal else "encoder"
        gqa = f", kv_heads={self.n_kv_heads}" if self.n_kv_heads != self.n_heads else ""
        return f"HeadModel({self.name!r}, {kind}, layers={self.n_layers}, heads={self.n_heads}{gqa}, max_length={self.max_length})"


def _first_attr(obj, *names, default=None):
    for n in names:
        v = getattr(obj, n, None)
        if v is not None:
            return v
    return default


def load(
    name: str | os.PathLike | None = None,
    *,
    model=None,
    tokenizer=None,
    device: str = "cpu",
    trust_remote_code: bool = False,
) -> HeadModel:
    """Load a model for head analysis.

    - ``load()``: the embedded default, all-MiniLM-L6-v2 (BERT, 6 layers x 12 heads), offline.
    - ``load("toy-induction")``: a model from headlab's zoo.
    - ``load("path/to/folder")`` or ``load("org/name")``: a local folder or a hub model (a hub
      name needs network access the first time; without it headlab says so within seconds).
    - ``load(model=hf_model, tokenizer=tok)``: objects already built.
    Weights are read from safetensors only (never pickle); remote code stays off unless
    ``trust_remote_code=True``. Failures raise ``ModelLoadError`` with what to do.
    """
    V.flag("trust_remote_code", trust_remote_code)
    if model is not None:
        if tokenizer is None:
            raise InputError("Pass the model's tokenizer too: hl.load(model=m, tokenizer=tok).")
        return HeadModel(model, tokenizer, name=str(name) if name else None, device=device)
    if tokenizer is not None:
        raise InputError("tokenizer= is only used together with model=; pass both, or neither.")
    if name is None:
        source, label = default_model_path(), DEFAULT_MODEL_NAME
    elif not isinstance(name, (str, os.PathLike)):
        raise InputError(f"The model name must be a string or a path, got {V.describe(name)}. Pass e.g. "
                         "hl.load('toy-induction'), a folder, or nothing for the default model.")
    elif str(name) in zoo.ZOO:
        source, label = zoo.zoo_path(str(name)), str(name)
    else:
        path = Path(name).expanduser()
        if path.is_dir():
            source, label = path, path.name
        elif path.suffix or str(name).startswith((".", "/", "~")) or str(name).count("/") > 1:
            raise ModelLoadError(f"No model folder at {str(name)!r}. Check the path, or pass a zoo name "
                                 f"({', '.join(sorted(zoo.ZOO))}) or a hub name such as 'gpt2'.")
        else:
            hf_model, hf_tokenizer = from_hub(str(name), zoo.ZOO, trust_remote_code=trust_remote_code,
                                              dtype=torch.float32)
            return HeadModel(hf_model, hf_tokenizer, name=str(name), device=device)
    hf_model, hf_tokenizer = pretrained(Path(source), trust_remote_code=trust_remote_code, dtype=torch.float32)
    return HeadModel(hf_model, hf_tokenizer, name=label, device=device)
