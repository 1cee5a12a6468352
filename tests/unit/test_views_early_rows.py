"""A click on a long head that must still be computed: the rows around the page's focus come
first, the whole head next, under the same request id (issue #13: click-to-arcs at 8,000
tokens). Short, held, kept or cached heads get one reply, as before."""

from __future__ import annotations

import numpy as np
import pytest

import headlab.views.widgets as W
from headlab.views import sparse
from headlab.views.attention_view import EARLY_ROWS
from test_views_teach import LazyLike
from test_widgets import fake_attention, fake_report

T = 2 * EARLY_ROWS + 88


def _replies(view, content):
    sent = []
    view.send = lambda msg, buffers=None: sent.append((msg, buffers))
    view._on_custom_msg(view, content, [])
    del view.send
    return [(msg, None if bufs is None else sparse.unpack_sparse({**msg, **dict(zip(sparse.BUFFERS, bufs))}))
            for msg, bufs in sent]


def _ask(view, layer, head, **extra):
    return _replies(view, {"kind": "pattern", "rid": "r7", "layer": layer, "head": head, **extra})


@pytest.fixture
def lazy():
    return LazyLike(fake_attention(T=T, L=1, H=2, seed=3))


@pytest.mark.parametrize("near,lo", [(300, 300 - EARLY_ROWS // 2), (0, 0), (T - 1, T - EARLY_ROWS)])
def test_a_cold_long_head_sends_the_rows_around_the_focus_first_then_the_whole_head(lazy, near, lo):
    view = W.AttentionView(lazy, heads=(0, 0))
    calls = lazy.rows_calls
    (first, part), (last, whole) = _ask(view, 0, 1, near=near)
    hi = lo + EARLY_ROWS
    assert first["rid"] == last["rid"] == "r7" and first["kind"] == last["kind"] == "pattern"
    assert first["rows"] == [lo, hi] and last["rows"] == [0, T]
    # the early rows are the whole head's rows, and no other row keeps a key
    assert part.n == whole.n == T
    assert part.counts[:lo].sum() == part.counts[hi:].sum() == 0
    assert np.array_equal(part.counts[lo:hi], whole.counts[lo:hi])
    assert np.array_equal(part.dense()[lo:hi], whole.dense()[lo:hi])
    # what the early reply says it keeps describes its own rows
    kept = sparse.sparse_pattern(lazy._a, 0, 1).kept[lo:hi]
    assert first["kept_min"] == pytest.approx(float(kept.min()), abs=1e-6)
    assert first["kept_mean"] == pytest.approx(float(kept.mean()), abs=1e-6)
    assert lazy.rows_calls == calls + 1                  # one call for the early rows; the head via top_k
    # asked again, the head is cached: one whole reply
    assert [m["rows"] for m, _ in _ask(view, 0, 1, near=near)] == [[0, T]]


@pytest.mark.parametrize("extra", [{}, {"near": -1}, {"near": T}, {"near": True}, {"near": "3"}, {"near": 2.5}])
def test_without_a_usable_focus_the_head_comes_whole(lazy, extra):
    view = W.AttentionView(lazy, heads=(0, 0))
    assert [m["rows"] for m, _ in _ask(view, 0, 1, **extra)] == [[0, T]]


def test_short_held_kept_or_rowless_heads_come_whole():
    short = LazyLike(fake_attention(T=2 * EARLY_ROWS - 1, L=1, H=2))
    assert [m["rows"] for m, _ in _ask(W.AttentionView(short), 0, 1, near=5)] == [[0, 2 * EARLY_ROWS - 1]]
    held = fake_attention(T=T, L=1, H=2)
    assert [m["rows"] for m, _ in _ask(W.AttentionView(held), 0, 1, near=5)] == [[0, T]]
    kept = W.Explorer(LazyLike(fake_attention(T=T, L=1, H=2)), report=fake_report(L=1, H=2), background=False)
    assert len(kept._replies) == 2                     # the thumbnail pass kept both heads' replies
    assert [m["rows"] for m, _ in _ask(kept, 0, 1, near=5)] == [[0, T]]
    rowless = LazyLike(fake_attention(T=T, L=1, H=2))
    rowless.rows = None
    assert [m["rows"] for m, _ in _ask(W.AttentionView(rowless), 0, 1, near=5)] == [[0, T]]


def test_a_bad_head_gets_one_error_reply(lazy):
    view = W.AttentionView(lazy)
    [(msg, _)] = _ask(view, 3, 0, near=5)
    assert msg["kind"] == "error" and msg["rid"] == "r7" and "does not exist" in msg["message"]
    [(msg, _)] = _ask(view, None, 0, near=5)
    assert msg["kind"] == "error" and "(layer, head)" in msg["message"]


def test_the_pages_windows_fit_in_the_early_rows():
    """js/src/attention.ts draws windows of at most 2 x ARC_WINDOW units, and picks its own focus
    among the first FOCUS_SEARCH queries: the early rows must hold such windows."""
    import re
    from pathlib import Path

    ts = (Path(__file__).resolve().parents[2] / "js" / "src" / "attention.ts").read_text(encoding="utf-8")
    const = {name: int(v) for name, v in re.findall(r"export const (\w+) = (\d+);", ts)}
    window = 2 * const["ARC_WINDOW"]
    assert window <= EARLY_ROWS and const["FOCUS_SEARCH"] + window // 2 <= EARLY_ROWS
