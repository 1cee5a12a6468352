"""One colour scale everywhere: headlab/views/scales.py and its twin js/src/scales.ts agree.

The stops are read out of scales.ts; js/tests/scale-cases.json holds expected colours that the
Python scale must give here and the TypeScript scale must give in js/tests/scales.test.ts.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from hypothesis import given, strategies as st

from headlab.views import scales, svg

ROOT = Path(__file__).resolve().parents[2]
TS = (ROOT / "js" / "src" / "scales.ts").read_text(encoding="utf-8")
CASES = json.loads((ROOT / "js" / "tests" / "scale-cases.json").read_text(encoding="utf-8"))


def _ts_list(name: str) -> list[str]:
    m = re.search(rf"export const {name} = \[(.*?)\];", TS, re.S)
    assert m, name
    return re.findall(r'"(#[0-9a-f]{6})"', m.group(1))


def _lum(hex_colour: str) -> float:
    chans = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_typescript_has_the_same_stops_and_domains():
    assert _ts_list("VIRIDIS_STOPS") == scales.VIRIDIS
    assert _ts_list("NEGATIVE_STOPS") == scales.NEGATIVE
    assert f'export const NAN_COLOUR = "{scales.NAN_COLOUR}";' in TS
    domains = dict(re.findall(r"(\w+): \[(-?\d+, -?\d+)\]", re.search(r"FIXED_DOMAINS[^=]*= \{(.*?)\};", TS).group(1)))
    assert {k: tuple(float(x) for x in v.split(", ")) for k, v in domains.items()} == scales.FIXED_DOMAINS


def test_the_shared_cases_are_what_python_gives():
    """The file both sides test against was written from this scale and still holds."""
    assert len(CASES["colour"]) > 200
    for v, lo, hi, want in CASES["colour"]:
        assert scales.colour(v, lo, hi) == want, (v, lo, hi)
    for t, vir, neg in CASES["ramps"]:
        assert (scales.viridis(t), scales.negative(t)) == (vir, neg), t
    for kind, values, want in CASES["domain"]:
        vals = None if values is None else [math.nan if v is None else v for v in values]
        assert list(scales.domain(kind, vals)) == want, kind


def test_rounding_is_half_up_as_in_javascript():
    # viridis(0.05) lies halfway between two stops: channels of 18.5 and 100.5 become 19 and 101 (0x13,
    # 0x65) as Math.round gives, where Python's round() would give 18 and 100
    assert scales.viridis(0.05) == "#461365"


def test_negative_ramp_runs_from_dark_below_zero_to_light_at_minus_one():
    lum = [_lum(scales.colour(-i / 40, -1.0, 1.0)) for i in range(1, 41)]
    assert all(b > a for a, b in zip(lum, lum[1:]))                 # brighter the further below 0
    assert abs(_lum(scales.colour(-0.01, -1, 1)) - _lum(scales.colour(0.0, -1, 1))) < 0.02   # -0.01 ~ 0
    assert _lum(scales.colour(-1.0, -1, 1)) > 0.6
    # and it never looks like viridis: orange hues (red > blue) where viridis is blue-green-yellow
    for i in range(1, 21):
        h = scales.negative(i / 20)
        assert int(h[1:3], 16) > int(h[5:7], 16)


@given(st.floats(-1, 1), st.sampled_from(["lift", "copying"]))
def test_fixed_kinds_put_sign_on_separate_ramps(v, kind):
    lo, hi = scales.domain(kind)
    c = scales.colour(v, lo, hi)
    ramp = scales.NEGATIVE if v < 0 else scales.VIRIDIS
    # the colour lies between two neighbouring stops of its own ramp
    t = (v / lo) if v < 0 else v / hi
    x = t * (len(ramp) - 1)
    i = min(int(x), len(ramp) - 2)
    a, b = ramp[i], ramp[i + 1]
    for k in (1, 3, 5):
        lo_c, hi_c = sorted((int(a[k:k + 2], 16), int(b[k:k + 2], 16)))
        assert lo_c <= int(c[k:k + 2], 16) <= hi_c


@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=30))
def test_own_domain_spans_the_values_and_zero(values):
    lo, hi = scales.domain("own", values)
    assert lo <= min(0.0, min(values)) and hi >= max(0.0, max(values)) and hi > lo


def test_kinds_of_every_method():
    assert scales.score_kind("lift", "local") == "lift"
    assert scales.score_kind("probe", "induction") == "share" and scales.score_kind("probe", "copying") == "copying"
    assert scales.score_kind("pande", "local") == scales.score_kind("compare", "x") == scales.score_kind("", "x") == "own"


def test_static_grid_picture_uses_the_fixed_lift_scale():
    """A random model's lifts of ±3e-6 stay at the bottom of the picture's scale too."""
    rng = np.random.default_rng(1)
    tiny = rng.choice([-3e-6, 3e-6], size=(3, 4))
    part = svg.grid_part(tiny, caption="random", kind="lift")
    root = ET.fromstring(svg.document([part]))
    fills = {r.get("fill") for r in root.iter("{http://www.w3.org/2000/svg}rect")
             if r.get("width") == r.get("height") and r.get("width") not in (None, "100%")}
    assert fills == {scales.viridis(0.0), scales.negative(0.0)}
    own, _, _ = svg.grid_part(np.array([[1.0, 26.0]]), kind="own")
    assert "range of this role" in own
    assert scales.colour(26.0, *scales.domain("own", [1.0, 26.0])) in own
