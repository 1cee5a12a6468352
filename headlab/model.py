"""``hl.load`` and ``HeadModel``: a transformers model ready for head analysis.

headlab leaves the model as the user made it: its attention implementation (SDPA, flash,
eager, ...), its dtype and its placement (one device, or sharded with accelerate's
``device_map``). Attention weights are computed for the analyses by ``headlab.capture`` from
each layer's own queries and keys, a chunk of query rows at a time.

``roles``, ``detect`` and ``ablate`` are one-line delegates to ``headlab.analyses``.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from headlab import validate as V
from headlab import zoo
from headlab.attention import Attention, LazyAttention
from headlab.capture import DEFAULT_BUDGET, Batch, Capture, Reducer, find_attention_modules, make_batches
from headlab.errors import InputError, ModelLoadError, UnsupportedModelError
from headlab.loading import DEFAULT_MODEL_NAME, default_model_path, from_hub, pretrained
from headlab.text import Sample, check_texts, tokenize

__all__ = ["HeadModel", "load", "DENSE_LIMIT"]

# Families whose learned positions start after the padding index, so fewer real tokens fit.
_OFFSET_POSITION_TYPES = {"roberta", "xlm-roberta", "camembert", "longformer", "data2vec-text",
                          "xmod", "roberta-prelayernorm", "mpnet"}

#: m.attention returns every layer in memory up to this many bytes, a LazyAttention above
DENSE_LIMIT = 256 * 1024 * 1024


class HeadModel:
    """A transformers model prepared for head analysis.

    Attributes:
        model, tokenizer: the underlying transformers objects (never modified).
        name: a display name (hub id, zoo name or folder).
        n_layers, n_heads: attention layers and query heads per layer.
        n_kv_heads: key/value heads per layer (fewer than ``n_heads`` for GQA models).
        is_causal: whether queries only see earlier keys.
        max_length: the most tokens one input may have.
        device: where inputs go (the device of the input embeddings).
        budget: bytes one chunk of attention rows may take during capture.
    """

    def __init__(self, model, tokenizer, name: str | None = None, device: str | torch.device | None = None,
                 budget: int = DEFAULT_BUDGET):
        if tokenizer is None:
            raise InputError("A tokenizer is needed: hl.load(model=..., tokenizer=...).")
        if not hasattr(model, "config") or not isinstance(model, torch.nn.Module):
            raise UnsupportedModelError(
                f"Expected a transformers model (a PreTrainedModel), got {type(model).__name__}. "
                "Pass a model loaded with transformers, e.g. AutoModel.from_pretrained(...)."
            )
        self.model = model
        self.tokenizer = tokenizer
        # How hl.load built this model, as plain data: hl.scan's workers load it again from it
        # (None for a model passed in as an object).
        self.load_spec: dict | None = None
        self.budget = V.integer("budget", budget, min=1 << 20, example=DEFAULT_BUDGET)
        self.name = name or getattr(model.config, "_name_or_path", None) or type(model).__name__
        self.model.eval()
        if device is not None and getattr(model, "hf_device_map", None) is None:
            self.model.to(torch.device(device))       # a sharded model stays where accelerate put it
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

    @property
    def device(self) -> torch.device:
        """The device inputs go to: where the input embeddings live."""
        emb = self.model.get_input_embeddings() if hasattr(self.model, "get_input_embeddings") else None
        weight = getattr(emb, "weight", None)
        return weight.device if weight is not None and weight.device.type != "meta" else torch.device("cpu")

    @property
    def attn_implementation(self) -> str:
        """The attention implementation the model runs with (headlab never changes it)."""
        return str(getattr(self.model.config, "_attn_implementation", None) or "eager")

    # ----------------------------------------------------------------- set-up helpers
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
        V.flag("truncate", truncate)
        return [tokenize(self.tokenizer, t, self.max_length, truncate) for t in items]

    # ----------------------------------------------------------------- capture
    def stream(self, samples: Sequence[Sample], reducer: Reducer | None, batch_size: int = 16,
               progress: bool = False, desc: str = "forward", layers=None, capture: Capture | None = None,
               prefix_keys: bool = False) -> None:
        """Run the model over ``samples``; each layer's attention goes to ``reducer`` in row chunks.

        ``reducer(layer, rows [B, H, c, T], q0, batch)`` (see :mod:`headlab.capture`). Batches are
        right-padded; ``batch.lengths`` says which positions are real. Nothing of a layer is kept
        after its reducer calls, so memory holds one chunk of rows, never every layer.
        ``layers`` limits the layers computed; ``capture`` reuses a configured ``Capture``;
        ``prefix_keys``: causal chunks come with only the keys they can see (``Capture``).
        """
        batch_size = V.integer("batch_size", batch_size, min=1, max=4096, example=16)
        # Batches are made one at a time: their padded id tensors are not all held at once.
        iterator = make_batches(samples, batch_size, self._pad_id, self.is_causal)
        if progress:
            from tqdm.auto import tqdm

            iterator = tqdm(iterator, desc=desc, unit="batch", total=-(-len(samples) // batch_size))
        cap = capture or Capture(self.model, self._modules, reducer, budget=self.budget, layers=layers,
                                 prefix_keys=prefix_keys)
        with cap:
            for batch in iterator:
                cap.set_batch(batch)
                self._forward(batch)
                cap.check_all_reported()

    def _forward(self, batch: Batch) -> None:
        device = self.device
        inputs = {
            "input_ids": batch.input_ids.to(device),
            "attention_mask": batch.attention_mask.to(device),
        }
        if self._uses_token_types and batch.token_type_ids is not None:
            inputs["token_type_ids"] = batch.token_type_ids.to(device)
        if self.is_causal:
            inputs["use_cache"] = False
        with torch.inference_mode():
            self._core(**inputs)

    def forward_only(self, samples: Sequence[Sample], batch_size: int = 16) -> None:
        """The bare forward pass over ``samples``, with the model's own attention (the baseline
        the benchmarks compare to)."""
        for batch in make_batches(samples, batch_size, self._pad_id, self.is_causal):
            self._forward(batch)

    def attention(self, texts: Any, truncate: bool = False, batch_size: int = 8, lazy: bool | None = None):
        """Attention of every head: one ``Attention`` for one input, a list for a list.

        ``texts`` is a string, an ``(a, b)`` sentence pair (encoders: ``[CLS] a [SEP] b [SEP]``)
        or a list of them. Inputs longer than ``max_length`` raise ``TooLongError`` unless
        ``truncate=True``. An input whose ``[n_layers, n_heads, T, T]`` float32 weights fit in
        ``DENSE_LIMIT`` (256 MB) comes back in memory (``att.weights``); a longer one as a
        :class:`headlab.attention.LazyAttention`, which keeps each layer's queries and keys and
        computes a head, a layer or the top keys of every row when asked (``lazy=True`` or
        ``False`` forces either form).
        """
        items, single = check_texts(texts)
        samples = [tokenize(self.tokenizer, t, self.max_length, V.flag("truncate", truncate)) for t in items]
        if lazy is not None:
            V.flag("lazy", lazy)
        out: list = [None] * len(samples)
        dense = [i for i, s in enumerate(samples)
                 if not (lazy if lazy is not None else self._dense_bytes(len(s)) > DENSE_LIMIT)]
        for i in sorted(set(range(len(samples))) - set(dense)):
            out[i] = LazyAttention.capture(self, samples[i])
        if dense:
            sub = [samples[i] for i in dense]
            arrays = [np.zeros((self.n_layers, self.n_heads, len(s), len(s)), dtype=np.float32) for s in sub]

            def keep(layer: int, rows: torch.Tensor, q0: int, batch: Batch) -> None:
                rows = rows.float().cpu()
                for b, i in enumerate(batch.index):
                    n = batch.lengths[b]
                    if q0 < n:
                        arrays[i][layer, :, q0:min(n, q0 + rows.shape[2])] = rows[b, :, :n - q0, :n].numpy()

            self.stream(sub, keep, batch_size=batch_size)
            for j, i in enumerate(dense):
                out[i] = Attention(arrays[j], samples[i], self.name, self.is_causal)
        return out[0] if single else out

    def _dense_bytes(self, T: int) -> int:
        return 4 * self.n_layers * self.n_heads * T * T

    # ----------------------------------------------------------------- analyses
    def roles(self, texts=None, roles=None, **kwargs):
        """Natural-text roles scored per text and tested across texts -> ``Report``.

        Delegates to :func:`headlab.analyses.text_roles.analyse` (all arguments documented there).
        """
        from headlab.analyses import text_roles      # (statistics and reports: scipy, pandas)

        return text_roles.analyse(self, texts, roles=roles, **kwargs)

    def detect(self, roles=None, **kwargs):
        """Probe roles (previous-token, induction, ...) on generated probes -> ``Report``.

        Delegates to :func:`headlab.analyses.probe_roles.detect`.
        """
        from headlab.analyses import probe_roles

        return probe_roles.detect(self, roles=roles, **kwargs)

    def ablate(self, heads, **kwargs):
        """Causal check: ablate heads and measure the paired effect -> ``AblationResult``.

        Delegates to :func:`headlab.analyses.ablate.ablate`.
        """
        from headlab.analyses import ablate as ablation

        return ablation.ablate(self, heads, **kwargs)

    def __repr__(self) -> str:
        kind = "causal" if self.is_causal else "encoder"
        gqa = f", kv_heads={self.n_kv_heads}" if self.n_kv_heads != self.n_heads else ""
        return (f"HeadModel({self.name!r}, {kind}, layers={self.n_layers}, heads={self.n_heads}{gqa}, "
                f"max_length={self.max_length}, attention={self.attn_implementation!r})")


def _first_attr(obj, *names, default=None):
    for n in names:
        v = getattr(obj, n, None)
        if v is not None:
            return v
    return default


_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _load_options(device, dtype, device_map, max_memory, offload_folder) -> dict:
    """``from_pretrained`` keywords for the placement the user asked for, checked."""
    if dtype is None:
        torch_dtype = torch.float32
    elif isinstance(dtype, torch.dtype):
        torch_dtype = dtype
    elif isinstance(dtype, str) and dtype in _DTYPES:
        torch_dtype = _DTYPES[dtype]
    else:
        raise InputError(f"dtype must be one of {', '.join(_DTYPES)} or a torch.dtype; got {V.describe(dtype)}. "
                         "Pass e.g. dtype='float32'.")
    opts: dict = {"dtype": torch_dtype}
    if device_map is not None:
        if device is not None:
            raise InputError("Pass device= or device_map=, not both: device_map places the layers itself.")
        try:
            import accelerate  # noqa: F401  (only its presence is checked)
        except ImportError:
            from headlab.errors import MissingExtraError

            raise MissingExtraError("device_map needs accelerate: pip install accelerate.") from None
        opts["device_map"] = device_map
        if max_memory is not None:
            opts["max_memory"] = max_memory
        if offload_folder is not None:
            opts["offload_folder"] = str(V.path("offload_folder", offload_folder))
    elif max_memory is not None or offload_folder is not None:
        raise InputError("max_memory= and offload_folder= work with device_map=, e.g. device_map='auto'.")
    return opts


def _check_device(device):
    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (TypeError, RuntimeError):
        raise InputError(f"device must be 'cpu', 'cuda', 'cuda:1', 'mps', ... or a torch.device; got "
                         f"{V.describe(device)}. Pass e.g. device='cpu'.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device='cuda' was asked for but no CUDA GPU is available here; use device='cpu'.")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InputError("device='mps' was asked for but Apple's MPS is not available here; use device='cpu'.")
    return dev


def load(
    name: str | os.PathLike | None = None,
    *,
    model=None,
    tokenizer=None,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    device_map: str | dict | None = None,
    max_memory: dict | None = None,
    offload_folder: str | os.PathLike | None = None,
    trust_remote_code: bool = False,
) -> HeadModel:
    """Load a model for head analysis.

    - ``load()``: the embedded default, all-MiniLM-L6-v2 (BERT, 6 layers x 12 heads), offline.
    - ``load("toy-induction")``: a model from headlab's zoo.
    - ``load("path/to/folder")`` or ``load("org/name")``: a local folder or a hub model (a hub
      name needs network access the first time; without it headlab says so within seconds).
    - ``load(model=hf_model, tokenizer=tok)``: objects already built; used as they are.

    Placement: ``device`` ("cpu", "cuda", "mps", ...; default: where the model is, or the CPU),
    ``dtype`` ("float32" by default, "float16", "bfloat16"), or ``device_map`` ("auto", or a
    dict of module -> device, with ``max_memory`` and ``offload_folder``; needs accelerate) to
    shard a model across devices or offload layers to the CPU or disk. Attention is computed
    on each layer's own device. The model keeps its attention implementation.

    Weights are read from safetensors only (never pickle); remote code stays off unless
    ``trust_remote_code=True``. Failures raise ``ModelLoadError`` with what to do.
    """
    V.flag("trust_remote_code", trust_remote_code)
    dev = _check_device(device)
    if model is not None:
        if tokenizer is None:
            raise InputError("Pass the model's tokenizer too: hl.load(model=m, tokenizer=tok).")
        if dtype is not None or device_map is not None:
            raise InputError("dtype= and device_map= apply when headlab loads the model; a model passed as "
                             "model= is used as it is (load it with those options yourself).")
        return HeadModel(model, tokenizer, name=str(name) if name else None, device=dev)
    if tokenizer is not None:
        raise InputError("tokenizer= is only used together with model=; pass both, or neither.")
    opts = _load_options(dev, dtype, device_map, max_memory, offload_folder)
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
            hf_model, hf_tokenizer = from_hub(str(name), zoo.ZOO, trust_remote_code=trust_remote_code, **opts)
            m = HeadModel(hf_model, hf_tokenizer, name=str(name), device=dev)
            return _remember(m, str(name), device, trust_remote_code, dtype, device_map)
    hf_model, hf_tokenizer = pretrained(Path(source), trust_remote_code=trust_remote_code, **opts)
    m = HeadModel(hf_model, hf_tokenizer, name=label, device=dev)
    spec_name = None if name is None else (label if str(name) in zoo.ZOO else str(Path(source).resolve()))
    return _remember(m, spec_name, device, trust_remote_code, dtype, device_map)


def _remember(m: HeadModel, name: str | None, device, trust_remote_code: bool, dtype, device_map) -> HeadModel:
    """Keep how the model was loaded (``m.load_spec``), so ``hl.scan(m, ...)`` loads it on workers."""
    options = {"trust_remote_code": True} if trust_remote_code else {}
    if dtype is not None:
        options["dtype"] = str(dtype).replace("torch.", "")
    if isinstance(device_map, str):
        options["device_map"] = device_map
    m.load_spec = {"name": name, "device": "cpu" if device is None else str(device), "options": options}
    return m
