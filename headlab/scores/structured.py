"""The attention mass structured sieves catch (``headlab.scores.shapes``), a chunk of rows at a time.

Each shape answers two questions for a batch of samples (``B`` samples, ``T`` positions, real
lengths ``lengths [B]``), for the visible keys only (real keys, and ``j <= i`` for causal models):

* ``sizes``: ``s_i = |S_i ∩ V_i|`` per query, int ``[B, T]`` - needed by the scores' chance
  levels and known before any attention is seen;
* ``mass(rows, q0)``: ``m_i = Σ_{j ∈ S_i} A_ij`` for a chunk of query rows ``rows [B, H, c, Tk]``
  starting at query ``q0``, float ``[B, H, c]`` - the only part that reads attention. ``Tk <= T``:
  a causal chunk may come with only the keys it can see (``headlab.capture``, ``prefix_keys``);
  the keys after ``Tk`` then carry no weight.

All of it is torch, vectorised over samples, heads and queries, on the attention's device.
The dense form stays available (``dense(T)``) so every shape is tested against it.
"""

from __future__ import annotations

import numpy as np
import torch

from headlab.scores.shapes import Band, Blocks, Dense, Keys, Pairs

__all__ = ["stack", "fuse", "visible_counts"]


def _visible_keys(lengths: torch.Tensor, T: int, causal: bool, q: torch.Tensor | None = None) -> torch.Tensor:
    """bool ``[B, Q, T]``: key ``j`` visible to query ``q`` (default: all queries ``0..T-1``)."""
    keys = torch.arange(T, device=lengths.device)
    q = torch.arange(T, device=lengths.device) if q is None else q
    vis = keys[None, None, :] < lengths[:, None, None]
    if causal:
        vis = vis & (keys[None, None, :] <= q[None, :, None])
    return vis


def visible_counts(lengths: torch.Tensor, T: int, causal: bool) -> torch.Tensor:
    """``n_i``, the number of keys query ``i`` can see, int ``[B, T]`` (0 for padding queries)."""
    q = torch.arange(T, device=lengths.device)
    n = torch.minimum(q[None, :] + 1, lengths[:, None]) if causal else lengths[:, None].expand(-1, T)
    return torch.where(q[None, :] < lengths[:, None], n, torch.zeros_like(n))


class _Stacked:
    """One role's sieves for a batch (``None`` where the role does not apply to a sample)."""

    def __init__(self, shapes: list, lengths: torch.Tensor, T: int, causal: bool):
        self.B, self.T, self.causal = len(shapes), T, causal
        self.lengths = lengths
        self.device = lengths.device

    def sizes(self) -> torch.Tensor:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def mass(self, rows: torch.Tensor, q0: int) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def to(self, device) -> "_Stacked":
        """The same sieves on another device (layers of a sharded model live on several)."""
        out = object.__new__(type(self))
        out.__dict__.update({k: (v.to(device) if torch.is_tensor(v) else v) for k, v in self.__dict__.items()})
        out.device = torch.device(device)
        return out


class _BandStack(_Stacked):
    """All samples share one band; only the lengths differ."""

    def __init__(self, band: Band, present: torch.Tensor, lengths, T, causal):
        super().__init__([None] * len(present), lengths, T, causal)
        self.lo, self.hi = band.lo, band.hi
        self.present = present.to(self.device)                         # bool [B]

    def sizes(self) -> torch.Tensor:
        q = torch.arange(self.T, device=self.device)
        lo = torch.clamp(q + self.lo, min=0)                            # [T]
        hi_key = (q + self.hi) if not self.causal else torch.minimum(q + self.hi, q)
        hi = torch.minimum(hi_key[None, :], self.lengths[:, None] - 1)  # [B, T]
        s = torch.clamp(hi - lo[None, :] + 1, min=0)
        s = torch.where(q[None, :] < self.lengths[:, None], s, torch.zeros_like(s))
        return torch.where(self.present[:, None], s, torch.zeros_like(s))

    def mass(self, rows, q0):
        B, H, c, T = rows.shape
        offsets = torch.arange(self.lo, self.hi + 1, device=rows.device)
        q = torch.arange(q0, q0 + c, device=rows.device)
        keys = q[:, None] + offsets[None, :]                            # [c, w]
        ok = (keys >= 0) & (keys < T)
        picked = torch.gather(rows, 3, keys.clamp(0, T - 1)[None, None].expand(B, H, c, -1))
        # keys beyond a sample's length hold weight 0 already (padding), and causal rows hold 0 above the diagonal
        out = (picked * ok[None, None].to(picked.dtype)).sum(-1)
        return out * self.present[:, None, None].to(out.dtype)


class _KeysStack(_Stacked):
    """A key mask per sample ``[B, T]``; mass is one matrix-vector product per row chunk."""

    def __init__(self, shapes, lengths, T, causal):
        super().__init__(shapes, lengths, T, causal)
        mask = torch.zeros((self.B, T), dtype=torch.bool)
        for b, s in enumerate(shapes):
            if s is not None:
                keys = [k for k in s.keys if k < T]
                mask[b, keys] = True
        self.mask = mask.to(self.device) & (torch.arange(T, device=self.device)[None, :] < lengths[:, None])

    def sizes(self) -> torch.Tensor:
        m = self.mask.to(torch.int64)
        s = m.cumsum(-1) if self.causal else m.sum(-1, keepdim=True).expand(-1, self.T)
        q = torch.arange(self.T, device=self.device)
        return torch.where(q[None, :] < self.lengths[:, None], s, torch.zeros_like(s))

    def mass(self, rows, q0):
        Tk = rows.shape[3]
        return torch.matmul(rows, self.mask[:, :Tk].to(rows.dtype)[:, None, :, None])[..., 0]


#: up to this many blocks a batch's block masses are one matrix product with a one-hot
#: ``[B, T, nb]``; past it (a long text with hundreds of sentences) that product costs
#: ``T * nb`` per row and summing each row into its blocks (``scatter_add``, ``T`` per row)
#: is faster: on 8,192-token rows the two cross near 100 blocks.
MATMUL_BLOCKS = 96


def _searchsorted(keys: torch.Tensor, values: torch.Tensor, side: str) -> torch.Tensor:
    """``torch.searchsorted`` on the GPU; numpy's on the CPU, where torch hands even a few hundred
    lookups to its thread pool (7.6 ms on a busy 2-core machine for a batch's 800, against
    0.04 ms in numpy)."""
    if keys.device.type != "cpu":
        return torch.searchsorted(keys, values, right=side == "right")
    return torch.from_numpy(np.searchsorted(keys.numpy(), values.numpy(), side=side))


class _BlocksStack(_Stacked):
    """Block ids per sample; mass sums each row over its block, by a one-hot matrix product when
    there are few blocks and by adding each key into its block's bin when there are many."""

    def __init__(self, shapes, lengths, T, causal):
        super().__init__(shapes, lengths, T, causal)
        block = torch.full((self.B, T), -1, dtype=torch.int64)
        key = torch.zeros((self.B, T), dtype=torch.bool)
        for b, s in enumerate(shapes):
            if s is not None:
                n = min(T, len(s.block))
                block[b, :n] = torch.as_tensor(s.block[:n])
                key[b, :n] = torch.as_tensor(s.key[:n])
        real = torch.arange(T)[None, :] < lengths.cpu()[:, None]
        block = torch.where(real, block, torch.full_like(block, -1))
        nb = int(block.max().item()) + 1 if (block >= 0).any() else 1
        self.nb = nb
        self.block = block.to(self.device)                               # query's block, -1 = none
        # each key's bin: its block, or nb (a bin nobody reads) for non-keys and padding
        self.bins = torch.where((block >= 0) & key, block, torch.full_like(block, nb)).to(self.device)
        self.onehot = None
        if nb <= MATMUL_BLOCKS:
            onehot = torch.zeros((self.B, T, nb + 1))
            onehot.scatter_(2, self.bins.cpu()[..., None], 1.0)
            self.onehot = onehot[..., :nb].to(self.device)               # key in block, [B, T, nb]

    def sizes(self) -> torch.Tensor:
        # Keys sorted by (sample, block, position); a query's count is how many of them fall in
        # its block (up to its own position when causal): two binary searches, O(T log T).
        B, T = self.block.shape
        pos = torch.arange(T, device=self.device)[None, :]
        sample = torch.arange(B, device=self.device)[:, None] * (self.nb + 1)
        code = (sample + self.bins) * (T + 1) + pos
        keys = code[self.bins < self.nb].sort().values
        first = (sample + self.block.clamp(min=0)) * (T + 1)
        last = first + (pos if self.causal else T)
        s = _searchsorted(keys, last, "right") - _searchsorted(keys, first, "left")
        return torch.where(self.block >= 0, s, torch.zeros_like(s))

    def per_block(self, rows: torch.Tensor) -> torch.Tensor:
        """Each row's mass in every block, ``[B, H, c, nb]``."""
        B, H, c, T = rows.shape
        if self.onehot is not None:
            return torch.matmul(rows, self.onehot[:, :T].to(rows.dtype)[:, None])
        out = rows.new_zeros((B, H, c, self.nb + 1))
        return out.scatter_add_(3, self.bins[:, None, None, :T].expand(B, H, c, T), rows)[..., :self.nb]

    def mass(self, rows, q0):
        B, H, c, T = rows.shape
        idx = self.block[:, q0:q0 + c].clamp(min=0)
        out = torch.gather(self.per_block(rows), 3, idx[:, None, :, None].expand(B, H, c, 1))[..., 0]
        return out * (self.block[:, None, q0:q0 + c] >= 0).to(out.dtype)


class _PairsStack(_Stacked):
    """All pairs of the batch as flat index arrays; mass gathers them and adds them per query."""

    def __init__(self, shapes, lengths, T, causal):
        super().__init__(shapes, lengths, T, causal)
        bs, qs, ks = [], [], []
        for b, s in enumerate(shapes):
            if s is None or not s.queries:
                continue
            q = np.asarray(s.queries, dtype=np.int64)
            k = np.asarray(s.keys, dtype=np.int64)
            n = int(lengths[b])
            ok = (q < n) & (k < n)
            if causal:
                ok &= k <= q
            bs.append(np.full(int(ok.sum()), b))
            qs.append(q[ok])
            ks.append(k[ok])
        cat = (lambda xs: torch.as_tensor(np.concatenate(xs) if xs else np.zeros(0, np.int64)))
        self.b, self.q, self.k = cat(bs).to(self.device), cat(qs).to(self.device), cat(ks).to(self.device)

    def sizes(self) -> torch.Tensor:
        s = torch.zeros((self.B, self.T), dtype=torch.int64, device=self.device)
        s.index_put_((self.b, self.q), torch.ones_like(self.b), accumulate=True)
        return s

    def mass(self, rows, q0):
        B, H, c, T = rows.shape
        sel = (self.q >= q0) & (self.q < q0 + c)
        b, q, k = self.b[sel], self.q[sel] - q0, self.k[sel]
        out = torch.zeros((B, c, H), dtype=rows.dtype, device=rows.device)
        out.index_put_((b, q), rows[b, :, q, k], accumulate=True)          # rows[b, :, q, k]: [nnz, H]
        return out.permute(0, 2, 1)


class _DenseStack(_Stacked):
    """A padded bool ``[B, T, T]``; for user sieves on inputs short enough to hold it."""

    def __init__(self, shapes, lengths, T, causal):
        super().__init__(shapes, lengths, T, causal)
        S = torch.zeros((self.B, T, T), dtype=torch.bool)
        for b, s in enumerate(shapes):
            if s is not None:
                n = int(lengths[b])
                S[b, :n, :n] = torch.as_tensor(s.dense(n))
        S &= _visible_keys(lengths.cpu(), T, causal)
        self.S = S.to(self.device)

    def sizes(self) -> torch.Tensor:
        return self.S.sum(-1).to(torch.int64)

    def mass(self, rows, q0):
        c, Tk = rows.shape[2], rows.shape[3]
        return (rows * self.S[:, None, q0:q0 + c, :Tk].to(rows.dtype)).sum(-1)


def stack(shapes: list, lengths: torch.Tensor, T: int, causal: bool) -> _Stacked:
    """One role's sieves for a batch, in the cheapest stacked form that holds all of them.

    ``shapes``: one ``Shape`` (or None: the role does not apply) per sample. Mixed shapes (a
    user role returning a band for one sample and a matrix for another) fall back to dense.
    """
    kinds = {type(s) for s in shapes if s is not None}
    if kinds == {Band} and len({(s.lo, s.hi) for s in shapes if s is not None}) == 1:
        present = torch.tensor([s is not None for s in shapes])
        return _BandStack(next(s for s in shapes if s is not None), present, lengths, T, causal)
    if kinds == {Keys}:
        return _KeysStack(shapes, lengths, T, causal)
    if kinds == {Blocks}:
        return _BlocksStack(shapes, lengths, T, causal)
    if kinds == {Pairs}:
        return _PairsStack(shapes, lengths, T, causal)
    return _DenseStack([None if s is None else (s if isinstance(s, Dense) else Dense(s.dense(T)))
                        for s in shapes], lengths, T, causal)


class Fused:
    """Several roles' stacked sieves evaluated together: one matrix product for every ``Keys``
    and ``Blocks`` role (their key matrices side by side), one gather for every ``Band`` role
    (the union of their offsets), one gather and scatter-add for every ``Pairs`` role (their
    index lists end to end), and the ``Dense`` roles one by one.

    ``mass(rows, q0)`` gives ``[B, H, R, c]``, the roles in the order given.
    """

    def __init__(self, stacks: list[_Stacked]):
        self.R = len(stacks)
        self.linear: list[tuple[int, str, int, int, torch.Tensor | None]] = []   # (role, kind, start, stop, block ids)
        mats = []
        col = 0
        for r, st in enumerate(stacks):
            if isinstance(st, _KeysStack):
                mats.append(st.mask.to(torch.float32)[..., None])
                self.linear.append((r, "keys", col, col + 1, None))
                col += 1
            elif isinstance(st, _BlocksStack) and st.onehot is not None:
                nb = st.onehot.shape[-1]
                mats.append(st.onehot)
                self.linear.append((r, "blocks", col, col + nb, st.block))
                col += nb
        self.M = torch.cat(mats, dim=-1) if mats else None                             # [B, T, K]
        self.bands = [(r, st) for r, st in enumerate(stacks) if isinstance(st, _BandStack)]
        if self.bands:
            self.lo = min(st.lo for _, st in self.bands)
            self.hi = max(st.hi for _, st in self.bands)
        in_matrix = {r for r, *_ in self.linear}
        # every Pairs role's (sample, query, key) lists end to end, tagged with the role's place
        # among them: one gather and one scatter-add per chunk instead of one of each per role
        pairs = [st for st in stacks if isinstance(st, _PairsStack)]
        self.pair_roles = [r for r, st in enumerate(stacks) if isinstance(st, _PairsStack)]
        if pairs:
            self.pb, self.pq, self.pk = (torch.cat([getattr(st, a) for st in pairs]) for a in "bqk")
            self.pr = torch.cat([torch.full_like(st.b, i) for i, st in enumerate(pairs)])
        self.others = [(r, st) for r, st in enumerate(stacks)
                       if r not in in_matrix and not isinstance(st, (_BandStack, _PairsStack))]

    def to(self, device) -> "Fused":
        out = object.__new__(Fused)
        out.__dict__.update(self.__dict__)
        out.M = None if self.M is None else self.M.to(device)
        out.linear = [(r, k, a, b, None if blk is None else blk.to(device)) for r, k, a, b, blk in self.linear]
        out.bands = [(r, st.to(device)) for r, st in self.bands]
        if self.pair_roles:
            out.pb, out.pq, out.pk, out.pr = (t.to(device) for t in (self.pb, self.pq, self.pk, self.pr))
        out.others = [(r, st.to(device)) for r, st in self.others]
        return out

    def mass(self, rows: torch.Tensor, q0: int) -> torch.Tensor:
        B, H, c, T = rows.shape
        out = rows.new_zeros((B, H, self.R, c))
        if self.M is not None:
            P = torch.matmul(rows, self.M[:, None, :T])                                  # [B, H, c, K]
            for r, kind, a, b, block in self.linear:
                if kind == "keys":
                    out[:, :, r] = P[..., a]
                else:
                    idx = block[:, q0:q0 + c].clamp(min=0)
                    got = torch.gather(P[..., a:b], 3, idx[:, None, :, None].expand(B, H, c, 1))[..., 0]
                    out[:, :, r] = got * (block[:, None, q0:q0 + c] >= 0).to(got.dtype)
        if self.bands:
            offsets = torch.arange(self.lo, self.hi + 1, device=rows.device)
            keys = torch.arange(q0, q0 + c, device=rows.device)[:, None] + offsets[None, :]     # [c, w]
            ok = ((keys >= 0) & (keys < T)).to(rows.dtype)
            G = torch.gather(rows, 3, keys.clamp(0, T - 1)[None, None].expand(B, H, c, -1)) * ok   # [B, H, c, w]
            for r, st in self.bands:
                part = G[..., st.lo - self.lo: st.hi - self.lo + 1].sum(-1)
                out[:, :, r] = part * st.present[:, None, None].to(part.dtype)
        if self.pair_roles:
            sel = (self.pq >= q0) & (self.pq < q0 + c)
            b, q, k, r = self.pb[sel], self.pq[sel] - q0, self.pk[sel], self.pr[sel]
            acc = torch.zeros((B, len(self.pair_roles), c, H), dtype=rows.dtype, device=rows.device)
            acc.index_put_((b, r, q), rows[b, :, q, k], accumulate=True)              # rows[b, :, q, k]: [nnz, H]
            out[:, :, self.pair_roles] = acc.permute(0, 3, 1, 2)
        for r, st in self.others:
            out[:, :, r] = st.mass(rows, q0)
        return out


def fuse(stacks: list[_Stacked]) -> Fused:
    """Evaluate several roles' stacked sieves together (see :class:`Fused`)."""
    return Fused(stacks)
