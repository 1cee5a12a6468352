"""Pattern thumbnails of the HTML report: pooling keeps shares, PNGs decode to the shared scale."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from headlab.report.html_png import LEVELS, pool, png_palette, share_palette, thumbnail_uris
from headlab.views import scales


def decode_png(data: bytes) -> tuple[np.ndarray, list[str]]:
    """A minimal reader for the 8-bit palette PNGs the report writes: (index [h, w], palette)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 3)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, w + 1)
    assert (raw[:, 0] == 0).all()                         # filter "none" on every row
    plte = chunks[b"PLTE"]
    palette = ["#" + plte[i:i + 3].hex() for i in range(0, len(plte), 3)]
    return raw[:, 1:], palette


def test_pool_fixed_values():
    w = np.zeros((5, 5))
    w[np.arange(1, 5), np.arange(4)] = 1                  # previous token
    w[0, 0] = 1
    pooled, b = pool(w, max_blocks=3)                     # b = 2, S = 3: blocks {0,1}, {2,3}, {4}
    assert b == 2
    np.testing.assert_allclose(pooled, [[1.0, 0.0, 0.0],
                                        [0.5, 0.5, 0.0],
                                        [0.0, 1.0, 0.0]])


@settings(max_examples=60, deadline=None)
@given(T=st.integers(1, 70), blocks=st.integers(1, 20), seed=st.integers(0, 2**16))
def test_pooled_rows_still_sum_to_one(T, blocks, seed):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(T), size=(2, T))            # [2, T, T], rows sum to 1
    pooled, b = pool(w, max_blocks=blocks)
    S = pooled.shape[-1]
    assert S <= blocks and S == -(-T // b)
    np.testing.assert_allclose(pooled.sum(-1), 1.0, atol=1e-5)        # float32 shares
    assert (pooled >= 0).all()


def test_the_report_pools_with_the_grid_views_pool():
    """One pooling for the HTML page and the live grid's thumbnails, not two copies."""
    from headlab.views import thumbnails

    assert pool is thumbnails.pool
    w = np.random.default_rng(0).dirichlet(np.ones(40), size=(3, 40))
    uris, S, b = thumbnail_uris(w)
    pooled, b2 = thumbnails.pool(w)
    assert (S, b) == (pooled.shape[-1], b2) == (14, 3)
    index, _ = decode_png(base64.b64decode(uris[2].split(",", 1)[1]))
    np.testing.assert_array_equal(index, np.rint(np.clip(pooled[2], 0, 1) * (LEVELS - 1)).astype(np.uint8))


def test_png_round_trip_and_palette_is_the_share_scale():
    rng = np.random.default_rng(0)
    index = rng.integers(0, LEVELS, size=(7, 5)).astype(np.uint8)
    decoded, palette = decode_png(png_palette(index, share_palette()))
    np.testing.assert_array_equal(decoded, index)
    assert palette[0] == scales.colour(0.0, 0.0, 1.0) == scales.viridis(0)
    assert palette[-1] == scales.viridis(1)
    assert palette == [scales.colour(i / (LEVELS - 1), *scales.domain("share")) for i in range(LEVELS)]


def test_thumbnails_show_the_pattern():
    T = 40
    layer = np.full((2, T, T), 1.0 / T)
    layer[1] = 0
    layer[1, :, 0] = 1                                    # head 1: everything on token 0 ([CLS])
    uris, S, b = thumbnail_uris(layer)
    assert (S, b) == (14, 3) and len(uris) == 2
    cls, _ = decode_png(base64.b64decode(uris[1].split(",", 1)[1]))
    assert cls.shape == (14, 14)
    assert (cls[:, 0] == LEVELS - 1).all() and (cls[:, 1:] == 0).all()
    uniform, _ = decode_png(base64.b64decode(uris[0].split(",", 1)[1]))
    # a block of 3 keys holds 3/40 of each row; the last block has 1 key
    assert (uniform[:, :-1] == round(3 / 40 * (LEVELS - 1))).all()
    assert (uniform[:, -1] == round(1 / 40 * (LEVELS - 1))).all()
