"""The Python widgets, headlab/views/protocol.py and js/src/protocol.ts agree on every name."""

import re
from pathlib import Path

import numpy as np
import pytest

from headlab.head_names import head_label
from headlab.views import codec, payload, protocol, thumbnails, widgets

TS = Path(__file__).resolve().parents[2] / "js" / "src" / "protocol.ts"
#: fields the static hosts add to a model; never synced from Python
PAGE_ONLY = {"preload", "_static"}
#: traits anywidget / ipywidgets sync for every widget
FRAMEWORK = {"_esm", "_css", "_anywidget_id", "_dom_classes", "layout", "tabbable", "tooltip", "comm", "keys", "log"}


def ts_interfaces() -> dict[str, tuple[list[str], list[str]]]:
    """``{name: (parents, fields)}`` of every ``export interface`` in protocol.ts."""
    text = TS.read_text(encoding="utf-8")
    out = {}
    for m in re.finditer(r"export interface (\w+)(?:<[^>]*>)?(?: extends ([\w, ]+))? \{(.*?)\n\}", text, re.S):
        name, parents, body = m.group(1), m.group(2), m.group(3)
        fields = re.findall(r"^\s{2}(\w+)\??:", body, re.M)
        out[name] = ([p.strip() for p in parents.split(",")] if parents else [], fields)
    return out


def ts_fields(name: str, interfaces) -> set[str]:
    parents, fields = interfaces[name]
    out = set(fields)
    for p in parents:
        out |= ts_fields(p, interfaces)
    return out


@pytest.mark.parametrize("view,interface", [("grid", "GridTraits"), ("attention", "AttentionTraits"),
                                            ("explorer", "ExplorerTraits"), ("catalog", "CatalogTraits")])
def test_trait_names_match_typescript(view, interface):
    interfaces = ts_interfaces()
    common = {"_view", "title"}
    assert ts_fields(interface, interfaces) - PAGE_ONLY == set(protocol.TRAITS[view]) - common
    assert common <= ts_fields("AllTraits", interfaces)


@pytest.mark.parametrize("view,cls", [("grid", widgets.HeadGrid), ("attention", widgets.AttentionView),
                                      ("explorer", widgets.Explorer), ("catalog", widgets.CatalogBrowser)])
def test_widget_classes_sync_exactly_the_protocol_traits(view, cls):
    synced = {n for n in cls.class_trait_names(sync=True) if not n.startswith("_model_") and not n.startswith("_view_")}
    assert synced - FRAMEWORK == set(protocol.TRAITS[view])


@pytest.mark.parametrize("kind,interface", [("pattern_request", "PatternRequest"), ("pattern_reply", "PatternReply"),
                                            ("entry_request", "EntryRequest"), ("entry_reply", "EntryReply"),
                                            ("error_reply", "ErrorReply")])
def test_messages_match_typescript(kind, interface):
    assert set(ts_interfaces()[interface][1]) == {"kind", *protocol.MESSAGES[kind]}


def test_payload_format_matches_typescript():
    interfaces = ts_interfaces()
    assert interfaces["HeadlabPayload"][1] == protocol.PAYLOAD_KEYS
    assert interfaces["Budget"][1] == protocol.BUDGET_KEYS
    assert interfaces["PackedSparse"][1] == protocol.SPARSE_FIELDS


def test_sparse_reply_and_packed_pattern_agree():
    """A live reply is a packed pattern whose four binary fields travel as buffers, in SPARSE_FIELDS order,
    plus the queries it carries (``rows``)."""
    from headlab.views.sparse import BUFFERS

    meta = [f for f in protocol.SPARSE_FIELDS if f not in BUFFERS]
    assert list(BUFFERS) == protocol.SPARSE_FIELDS[len(meta):]
    assert set(protocol.MESSAGES["pattern_reply"]) == {"rid", "layer", "head", *meta, "rows"}


def test_head_key_is_the_one_head_name():
    assert protocol.head_key(3, 5) == head_label(3, 5) == "L3H5"
    assert "`L${layer}H${head}`" in TS.read_text(encoding="utf-8")


def test_score_info_and_thumbnails_match_typescript():
    interfaces = ts_interfaces()
    assert interfaces["ScoreInfo"][1] == protocol.SCORE_INFO_KEYS
    assert interfaces["PackedThumbs"][1] == protocol.THUMB_KEYS
    assert set(payload.score_info("lift", ["local"])) == set(protocol.SCORE_INFO_KEYS)
    assert list(thumbnails.pack_thumbnails(np.zeros((1, 2, 3, 3), np.uint8), 4)) == protocol.THUMB_KEYS
    text = TS.read_text(encoding="utf-8")
    assert 'grid_mode: "scores" | "patterns";' in text and protocol.GRID_MODES == ["scores", "patterns"]


def test_grid_fields_carry_n_and_the_grid_stays_exact():
    """n travels in the grid; above 2,048 samples the grid is float32 so n prints exactly."""
    from types import SimpleNamespace

    import pandas as pd

    assert protocol.GRID_FIELDS[-1] == "n"
    for n, dtype in ((656, "float16"), (5001, "float32")):
        rows = [dict(role="a", layer=0, head=h, score=0.5, ci_low=0.4, ci_high=0.6, p_value=0.01, q_value=0.02,
                     significant=True, n=n) for h in range(2)]
        rep = SimpleNamespace(table=pd.DataFrame(rows), roles=["a"], n_layers=1, n_heads=2, alpha=0.05, model_name="m")
        state = widgets.HeadGrid(rep).get_state()
        assert state["grid"]["dtype"] == dtype
        back = codec.unpack_array(state["grid"])
        assert back[0, state["fields"].index("n")].tolist() == [[n, n]]
