"""Pattern thumbnails: each head's attention pooled into a few blocks and drawn as a tiny PNG.

A thumbnail must stay small (a 6 x 12 model has 72 of them in the page) and still show the
pattern: a diagonal for previous-token heads, a bright first column for [CLS] heads, stripes
for delimiter heads. So the ``[T, T]`` matrix is pooled into at most ``MAX_BLOCKS`` blocks per
side - the attention a block of queries gives a block of keys, **summed over the keys and
averaged over the queries**, so every pooled row still sums to 1 and a value is the share of
the query block's attention that lands on the key block. The pooling is the grid view's own
(``headlab.views.thumbnails.pool``, re-exported here), so the page and the live grid show one
picture of a head. Each thumbnail is written as an 8-bit palette PNG whose palette is the
report's viridis (``headlab.views.scales``, domain 0..1, the "share" scale). The page scales it
up with ``image-rendering: pixelated``; the CSP allows ``data:`` images, and no script is needed.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

from headlab.views import scales
from headlab.views.thumbnails import MAX_BLOCKS, pool

__all__ = ["pool", "png_palette", "thumbnail_uris", "MAX_BLOCKS", "LEVELS"]

#: palette size: colours of the share scale at 0, 1/(LEVELS-1), ..., 1
LEVELS = 64


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_palette(index: np.ndarray, palette: list[str]) -> bytes:
    """An 8-bit palette PNG of ``index uint8 [h, w]`` (values index into ``palette``, ``#rrggbb``)."""
    index = np.asarray(index, dtype=np.uint8)
    h, w = index.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), index], axis=1)   # filter byte 0 per row
    plte = b"".join(bytes(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in palette)
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
            + _chunk(b"PLTE", plte)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
            + _chunk(b"IEND", b""))


def share_palette(levels: int = LEVELS) -> list[str]:
    """The share scale (0..1 on viridis) at ``levels`` evenly spaced values."""
    lo, hi = scales.domain("share")
    return [scales.colour(lo + (hi - lo) * i / (levels - 1), lo, hi) for i in range(levels)]


def thumbnail_uris(layer_weights: np.ndarray, max_blocks: int = MAX_BLOCKS) -> tuple[list[str], int, int]:
    """``data:`` PNG URIs of every head of one layer, ``float [H, T, T]`` -> H URIs.

    Returns ``(uris, S, b)``: the thumbnails are ``S x S`` pixels, each pixel ``b x b`` tokens.
    """
    pooled, b = pool(layer_weights, max_blocks)                             # [H, S, S]
    index = np.rint(np.clip(pooled, 0.0, 1.0) * (LEVELS - 1)).astype(np.uint8)
    palette = share_palette()
    uris = ["data:image/png;base64," + base64.b64encode(png_palette(ix, palette)).decode("ascii")
            for ix in index]
    return uris, int(pooled.shape[-1]), b
