"""Head-output hooks: each head's output at the input of the attention output projection.

In every supported family the attention block computes per-head outputs ``z_h [B, T, d_head]``
(attention-weighted values), concatenates them to ``[B, T, n_heads·d_head]`` and applies the
output projection ``W_O`` (+ bias). That concatenated input is where heads are still separate,
so it is where headlab reads and edits them:

==================  ========================================  ================
family              attention module                          output projection
==================  ========================================  ================
GPT-2               ``transformer.h.L.attn``                  ``attn.c_proj`` (Conv1D)
GPT-NeoX / Pythia   ``gpt_neox.layers.L.attention``           ``attention.dense``
Llama / Mistral     ``model.layers.L.self_attn``              ``self_attn.o_proj``
Qwen2 (GQA)         ``model.layers.L.self_attn``              ``self_attn.o_proj``
BERT / RoBERTa      ``encoder.layer.L.attention.self``        ``attention.output.dense``
DistilBERT          ``transformer.layer.L.attention``         ``attention.out_lin``
==================  ========================================  ================

Head ``h``'s contribution to the residual stream is ``z_h @ W_O[h]`` where ``W_O[h]`` is the
``[d_head, d_model]`` slice of the projection; the block output is ``Σ_h z_h W_O[h] + b``.
For GQA models the projection input is per *query* head (``n_heads·d_head``), so hooks,
ablation and direct-logit scores are per query head; the key/value heads a group shares are
left untouched.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from headlab.errors import InputError, UnsupportedModelError

__all__ = ["OutputProjection", "output_projections", "head_hook", "head_contributions",
           "ablation", "head_means", "final_norm", "unembedding", "has_lm_head", "direct_logits"]

_PROJ_NAMES = ("o_proj", "c_proj", "dense", "out_proj", "out_lin", "wo")


@dataclass
class OutputProjection:
    """The output projection of one attention layer.

    Attributes:
        layer: layer index; name: module name; module: the projection (``nn.Linear`` or
        GPT-2's ``Conv1D``); n_heads: query heads; d_head: per-head width.
    """

    layer: int
    name: str
    module: nn.Module
    n_heads: int
    d_head: int

    @property
    def is_conv1d(self) -> bool:
        return type(self.module).__name__ == "Conv1D"

    def weight_per_head(self) -> torch.Tensor:
        """``W_O`` split per head: float ``[n_heads, d_head, d_model]``."""
        W = self.module.weight.detach()
        W = W if self.is_conv1d else W.T                       # -> [n_heads·d_head, d_model]
        return W.reshape(self.n_heads, self.d_head, W.shape[-1])

    @property
    def bias(self) -> torch.Tensor | None:
        return getattr(self.module, "bias", None)


def _in_features(module: nn.Module) -> int | None:
    if type(module).__name__ == "Conv1D":
        return int(module.weight.shape[0])
    return getattr(module, "in_features", None)


def output_projections(m) -> list[OutputProjection]:
    """The output projection of every attention layer of a ``HeadModel`` (cached on it)."""
    cached = getattr(m, "_headlab_projections", None)
    if cached is not None:
        return cached
    named = dict(m.model.named_modules())
    out = []
    for layer, (name, module, _) in enumerate(m._modules):
        proj, pname = None, None
        for attr in _PROJ_NAMES:                                  # GPT-2, NeoX, Llama, Qwen2, DistilBERT
            cand = getattr(module, attr, None)
            if isinstance(cand, nn.Module) and _in_features(cand):
                proj, pname = cand, f"{name}.{attr}"
                break
        if proj is None and "." in name:                          # BERT family: attention.output.dense
            parent_name = name.rsplit(".", 1)[0]
            parent = named.get(parent_name)
            cand = getattr(getattr(parent, "output", None), "dense", None)
            if isinstance(cand, nn.Module) and _in_features(cand):
                proj, pname = cand, f"{parent_name}.output.dense"
        if proj is None:
            raise UnsupportedModelError(
                f"Could not find the output projection of attention layer {layer} ({name!r}, "
                f"{type(module).__name__}). Head-output hooks support GPT-2, GPT-NeoX, Llama/Mistral, "
                "Qwen2 and BERT-family models; use one of those for ablation and copying scores."
            )
        d_in = _in_features(proj)
        if d_in % m.n_heads:
            raise UnsupportedModelError(
                f"The output projection of layer {layer} takes {d_in} features, not a multiple of "
                f"{m.n_heads} heads; cannot split it per head."
            )
        out.append(OutputProjection(layer, pname, proj, m.n_heads, d_in // m.n_heads))
    m._headlab_projections = out
    return out


@contextlib.contextmanager
def head_hook(m, fn: Callable[[int, torch.Tensor], torch.Tensor | None], layers: Iterable[int] | None = None):
    """While active, ``fn(layer, z)`` sees each layer's per-head outputs ``z [B, T, n_heads, d_head]``
    (the input of the output projection, split per head) and may return a replacement of the
    same shape (``None`` keeps the input)."""
    projs = output_projections(m)
    wanted = set(range(len(projs))) if layers is None else set(layers)
    handles = []

    def make(p: OutputProjection):
        def pre(_module, args, kwargs):
            x = args[0]
            z = x.reshape(*x.shape[:-1], p.n_heads, p.d_head)
            new = fn(p.layer, z)
            if new is None:
                return None
            return (new.reshape(x.shape),) + tuple(args[1:]), kwargs

        return pre

    try:
        for p in projs:
            if p.layer in wanted:
                handles.append(p.module.register_forward_pre_hook(make(p), with_kwargs=True))
        yield
    finally:
        for h in handles:
            h.remove()


def head_contributions(proj: OutputProjection, z: torch.Tensor) -> torch.Tensor:
    """Each head's write to the residual stream: ``z [..., T, n_heads, d_head]`` →
    ``[..., n_heads, T, d_model]`` (``z_h @ W_O[h]``, without the bias)."""
    W = proj.weight_per_head().to(z.dtype)
    return torch.einsum("...thd,hdm->...htm", z, W)


@contextlib.contextmanager
def ablation(m, heads: Sequence[tuple[int, int]], mode: str = "zero", means: dict | None = None):
    """Ablate ``heads`` while active: ``mode="zero"`` sets their outputs to 0; ``mode="mean"``
    replaces them by ``means[layer]`` (float ``[T, n_heads, d_head]`` or ``[n_heads, d_head]``,
    from :func:`head_means`)."""
    if mode not in ("zero", "mean"):
        raise InputError(f"mode must be 'zero' or 'mean', got {mode!r}; pass mode='zero' or mode='mean'.")
    if mode == "mean" and means is None:
        raise InputError("Mean ablation needs the heads' mean outputs: pass means=head_means(m, run), or use mode='zero'.")
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, []).append(head)

    def fn(layer: int, z: torch.Tensor):
        hs = by_layer.get(layer)
        if not hs:
            return None
        z = z.clone()
        if mode == "zero":
            z[..., hs, :] = 0
        else:
            mu = means[layer].to(z.dtype)
            T = z.shape[-3]
            if mu.dim() == 3:                                     # per position, when lengths match
                mu = mu[:T] if mu.shape[0] >= T else mu.mean(0)
            z[..., hs, :] = mu[..., hs, :]
        return z

    with head_hook(m, fn, layers=by_layer):
        yield


def head_means(m, batches_fn: Callable[[], None], layers: Iterable[int] | None = None) -> dict[int, torch.Tensor]:
    """Mean per-head output at each position over the samples that ``batches_fn`` runs.

    ``batches_fn()`` runs the model (e.g. ``lambda: m.forward_only(samples)``) while the hook is
    active; padding is counted, so use equal-length samples (probe sets are). Returns
    ``{layer: float [T, n_heads, d_head]}``.
    """
    sums: dict[int, torch.Tensor] = {}
    counts: dict[int, int] = {}

    def fn(layer: int, z: torch.Tensor):
        s = z.detach().float().sum(0)
        if layer in sums and sums[layer].shape == s.shape:
            sums[layer] += s
        else:
            sums[layer] = s.clone()
        counts[layer] = counts.get(layer, 0) + z.shape[0]
        return None

    with head_hook(m, fn, layers=layers):
        batches_fn()
    return {k: v / counts[k] for k, v in sums.items()}


# ----------------------------------------------------------------------------- direct path to the logits
_NORM_NAMES = ("ln_f", "norm", "final_layer_norm", "final_layernorm", "ln_final")


def final_norm(m) -> nn.Module:
    """The final norm of a causal LM's base model (GPT-2 ``ln_f``, Llama/Qwen2 ``norm``,
    GPT-NeoX ``final_layer_norm``)."""
    for attr in _NORM_NAMES:
        mod = getattr(m._core, attr, None)
        if isinstance(mod, nn.Module):
            return mod
    raise UnsupportedModelError(
        f"Could not find the final norm of {type(m._core).__name__}; the direct path to the logits "
        "(copying score) supports GPT-2, GPT-NeoX, Llama/Mistral and Qwen2 models."
    )


def has_lm_head(m) -> bool:
    """Whether the model has a language-model head with a weight (``unembedding`` would work)."""
    get = getattr(m.model, "get_output_embeddings", None)
    head = get() if callable(get) else None
    return getattr(head, "weight", None) is not None


def unembedding(m) -> torch.Tensor:
    """``W_U`` as float ``[vocab, d_model]`` (the LM head's weight)."""
    head = m.model.get_output_embeddings() if hasattr(m.model, "get_output_embeddings") else None
    if head is None or getattr(head, "weight", None) is None:
        raise UnsupportedModelError(
            "This model has no language-model head (it was loaded without one, or it is an encoder); "
            "the copying score, retrieval decoding and loss-based ablation need next-token logits. "
            "Load a causal LM (AutoModelForCausalLM), e.g. hl.load('gpt2')."
        )
    return head.weight.detach()


def direct_logits(norm: nn.Module, W_U: torch.Tensor, contrib: torch.Tensor, resid: torch.Tensor) -> torch.Tensor:
    """Direct logit contribution of residual-stream writes ``contrib [..., T, d_model]`` through
    the final norm, with the norm's scale frozen at the full residual ``resid [T, d_model]``
    (the usual direct-logit-attribution linearisation), then ``W_U``: → ``[..., T, vocab]``.

    LayerNorm: ``γ ⊙ (c − mean(c)) / σ(resid)``; RMSNorm: ``γ ⊙ c / rms(resid)``; biases are
    left out (they are not the component's).
    """
    resid = resid.float()
    c = contrib.float()
    name = type(norm).__name__.lower()
    eps = float(getattr(norm, "eps", getattr(norm, "variance_epsilon", 1e-5)))
    gamma = getattr(norm, "weight", None)
    if "rms" in name:
        scale = torch.rsqrt(resid.pow(2).mean(-1, keepdim=True) + eps)
    else:
        scale = torch.rsqrt(resid.var(-1, keepdim=True, unbiased=False) + eps)
        c = c - c.mean(-1, keepdim=True)
    out = c * scale
    if gamma is not None:
        out = out * gamma.detach().float()
    return out @ W_U.float().T
