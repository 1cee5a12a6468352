"""Per-sample role scores from chunks of attention rows: the reducer behind ``m.roles``.

For one batch, every role's sieves are built once (structured, ``headlab.scores.structured``),
with what the scores need that does not depend on attention: ``s_i`` (keys of the sieve a
query can see), ``n_i`` (keys it can see at all) and the query weights. Each chunk of rows
``A [B, H, c, T]`` then adds its queries' contributions, so nothing larger than a chunk is
ever held (docs/methods.md#methods-lift, #methods-sieve-bias, #methods-pande):

* lift (default): ``k_i = (m_i - u_i) / (1 - u_i)`` with ``m_i`` the mass on the sieve and
  ``u_i = s_i / n_i``; queries with ``0 < s_i < n_i`` count;
* Pande et al.'s sieve bias: ``b_i = (m_i / s_i) / (1 / n_i)``; queries with ``s_i > 0``;
  their block score multiplies ``b_i`` by the row's entropy (nats).

Rows are softmax rows over the keys a query can see, so their visible mass is 1 (the general
formulas divide ``m_i`` by it; ``headlab.scores.sieve`` keeps that form for arbitrary arrays).

A sample's score is the weighted mean over its counted queries (weights 1, or
``1/|pieces of the word|`` for syntactic roles).
"""

from __future__ import annotations

import numpy as np
import torch

from headlab.roles import Role, sieve_for
from headlab.scores.structured import fuse, stack, visible_counts

__all__ = ["BatchRoles", "METHODS"]

METHODS = ("lift", "pande")


class BatchRoles:
    """Every role's sieves on one batch, and the per-sample scores they give, a layer at a time.

    Args:
        roles: the roles to score.
        samples: the batch's samples; ``lengths``: their real lengths; ``T``: padded length.
        causal: whether queries see only earlier keys.
        method: ``"lift"`` or ``"pande"``.
        block_entropy: for ``"pande"``, the index of the ``block`` role whose score is
            multiplied by the row entropy (Pande et al.'s block score), or None.
    """

    def __init__(self, roles: list[Role], samples, lengths: list[int], T: int, causal: bool,
                 method: str = "lift", block_entropy: int | None = None, sieves: list[list] | None = None):
        B, R = len(samples), len(roles)
        self.method, self.block_entropy = method, block_entropy
        self.lengths = torch.as_tensor(lengths, dtype=torch.int64)
        if sieves is None:
            sieves = [[sieve_for(role, s, causal) for s in samples] for role in roles]
        qw = torch.zeros((B, R, T), dtype=torch.float32)
        self.stacks = []
        for r, results in enumerate(sieves):
            self.stacks.append(stack([None if res is None else res.sieve for res in results], self.lengths, T, causal))
            for b, res in enumerate(results):
                if res is None:
                    continue
                n = int(lengths[b])
                qw[b, r, :n] = 1.0 if res.query_weights is None else torch.as_tensor(res.query_weights[:n],
                                                                                       dtype=torch.float32)
        s = torch.stack([st.sizes() for st in self.stacks], dim=1).to(torch.float32)     # [B, R, T]
        n = visible_counts(self.lengths, T, causal).to(torch.float32)[:, None, :]          # [B, 1, T]
        eligible = ((s > 0) & (s < n)) if method == "lift" else (s > 0)
        w = qw * eligible
        den = w.sum(-1, keepdim=True)                                                      # [B, R, 1]
        self.valid = den[..., 0] > 0                                                       # [B, R]
        self.fused = fuse(self.stacks)         # all roles' masses from one matmul, one gather, ...
        self.w = torch.where(den > 0, w / den.clamp(min=1e-30), torch.zeros_like(w))       # sums to 1 per (b, r)
        self.u = s / n.clamp(min=1)
        self.s, self.n = s, n
        self._on: dict = {}
        self.num: torch.Tensor | None = None

    def _device_parts(self, device):
        """The batch's sieve data on ``device`` (the layers of a sharded model live on several)."""
        key = str(device)
        if key not in self._on:
            if torch.device(device) == torch.device("cpu"):
                self._on[key] = (self.fused, self.w, self.u, self.s, self.n)
            else:
                self._on[key] = (self.fused.to(device), self.w.to(device), self.u.to(device),
                                 self.s.to(device), self.n.to(device))
        return self._on[key]

    def add(self, rows: torch.Tensor, q0: int) -> None:
        """Add the contribution of query rows ``q0 .. q0 + c`` of one layer: ``rows [B, H, c, T]``."""
        rows = rows.float()
        fused, w, u, s, n = self._device_parts(rows.device)
        c = rows.shape[2]
        sl = slice(q0, q0 + c)
        # m_i for every role at once; a softmax row sums to 1 over the keys it sees (v_i = 1)
        m = fused.mass(rows, q0)                                                          # [B, H, R, c]
        if self.method == "lift":
            uu = u[:, None, :, sl]
            k = (m - uu) / (1.0 - uu).clamp(min=1e-12)
        else:
            k = m * n[:, None, :, sl] / s[:, None, :, sl].clamp(min=1)
            if self.block_entropy is not None:
                entropy = -(rows * torch.log(rows.clamp(min=1e-30))).sum(-1)             # [B, H, c]
                k[:, :, self.block_entropy] = k[:, :, self.block_entropy] * entropy
        part = (torch.nan_to_num(k, nan=0.0) * w[:, None, :, sl]).sum(-1).double()         # [B, H, R]
        self.num = part if self.num is None else self.num + part.to(self.num.device)

    def finish(self) -> np.ndarray:
        """The layer's per-sample scores, float32 ``[B, H, R]`` (NaN where a role does not apply),
        and a fresh start for the next layer."""
        out = self.num.cpu().numpy().astype(np.float32)
        out[~self.valid.numpy()[:, None, :].repeat(out.shape[1], axis=1)] = np.nan
        self.num = None
        return out
