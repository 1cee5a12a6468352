"""The offline HTML report (headlab.report.html) on synthetic reports and attention: per-head
sections, drawings, thumbnails, explanations, colour scale, near-duplicate roles, n/a cells.

No model is loaded: reports come from ``Report.from_samples`` on planted per-sample scores and
the example attention is built by hand, so every expected value below is known exactly.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest

import headlab as hl
from headlab import roles as registry
from headlab.attention import Attention
from headlab.errors import InputError
from headlab.report.html import render_html
from headlab.report.html_drawing import MIN_WEIGHT
from headlab.report.html_format import ci_text, q_or_reason
from headlab.report.html_heads import head_rows
from headlab.text import Sample
from headlab.views import scales


# ----------------------------------------------------------------------------- fixtures
def synthetic(roles=("local", "cls", "previous"), L=2, H=3, N=20, model="m", method="lift", seed=0, null=0.1):
    """One strong head per role (layer 1, head i % H), the rest near 0."""
    rng = np.random.default_rng(seed)
    samples = {}
    for i, role in enumerate(roles):
        x = rng.normal(0.02, 0.02, size=(N, L, H))
        x[:, L - 1, i % H] += 0.6
        samples[role] = x
    return hl.Report.from_samples(samples, method=method, null=null, n_boot=50, model_name=model, catalog=False)


def attention(L=2, H=3, T=6, tokens=None):
    """Hand-made attention: L0H0 previous token (query 0 on itself), L0H1 all on token 0, others uniform."""
    w = np.full((L, H, T, T), 1.0 / T, dtype=np.float32)
    prev = np.zeros((T, T), np.float32)
    prev[0, 0] = 1
    prev[np.arange(1, T), np.arange(T - 1)] = 1
    w[0, 0] = prev
    w[0, 1] = 0
    w[0, 1, :, 0] = 1
    tokens = tokens or ["[CLS]"] + [f"w{i}" for i in range(1, T - 1)] + ["[SEP]"]
    sample = Sample(text=" ".join(tokens[1:-1]), input_ids=list(range(T)), tokens=tokens,
                    word_ids=[None] + list(range(T - 2)) + [None], spans=[None] * T,
                    special_mask=np.array([True] + [False] * (T - 2) + [True]), segment_ids=np.zeros(T, int))
    return Attention(w, sample, "m")


class Page(HTMLParser):
    """ids, hrefs and the elements of a rendered page, for structural assertions."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.hrefs, self.tags = set(), [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])


def section(page: str, label: str) -> str:
    start = page.index(f'<section class="head" id="{label}">')
    return page[start:page.index("</section>", start)]


# ----------------------------------------------------------------------------- per-head sections
def test_every_head_has_a_section_and_every_link_lands():
    rep = synthetic()
    page = render_html(rep, attention=attention())
    doc = Page(page)
    labels = {f"L{layer}H{h}" for layer in range(2) for h in range(3)}
    assert labels <= doc.ids
    assert page.count('<section class="head"') == 6
    # every in-page link has a target: grid cells, thumbnails, head navigation, table heads
    local = [h[1:] for h in doc.hrefs if h.startswith("#") and h != "#hlc" and h != "#hltok"]
    assert local and set(local) <= doc.ids
    # each role grid links all of its cells to the heads, in layer-major order
    for role in rep.roles:
        svg = re.search(rf'<svg class="hm"[^>]*data-role="{role}".*?</svg>', page).group(0)
        assert re.findall(r'<a href="#(L\d+H\d+)">', svg) == [f"L{layer}H{h}" for layer in range(2) for h in range(3)]


def test_head_section_lists_every_role_ranked_by_score():
    rep = synthetic()
    sec = section(render_html(rep), "L1H1")            # cls is planted on L1H1
    rows = re.findall(r"<tr( class=s)?><td>([^<]+)<td>([^<]+)<td>([^<]+)<td>([^<]+)<td>(\d+)", sec)
    assert [r[1] for r in rows][0] == "cls"
    assert sorted(r[1] for r in rows) == sorted(rep.roles)
    scores = [float(r[2]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    t = rep.table.set_index(["role", "layer", "head"])
    for sig, role, score, ci, q, n in rows:
        rec = t.loc[(role, 1, 1)]
        assert int(n) == rec["n"] == 20
        assert ci == ci_text(rec["ci_low"], rec["ci_high"], rec["n"])
        assert bool(sig) == bool(rec["significant"])
    assert "Significant for 1 role: cls" in sec


def test_head_rows_order_puts_missing_scores_last():
    rep = synthetic()
    x = rep.samples("local").copy()
    x[:, 0, 0] = np.nan
    rep2 = hl.Report.from_samples({"local": x, "cls": rep.samples("cls")}, method="lift", null=0.1, n_boot=20,
                                  catalog=False)
    rows = head_rows(rep2)[(0, 0)]
    assert [r[0] for r in rows] == ["cls", "local"] and np.isnan(rows[-1][1])


def test_drawing_has_one_line_per_strong_key():
    page = render_html(synthetic(), attention=attention(T=6))
    sec = section(page, "L0H0")                         # previous-token head
    d = "".join(re.findall(r'<path stroke-opacity="1" d="([^"]+)"', sec))
    lines = re.findall(r"M0 ([\d.]+)L1 ([\d.]+)", d)
    assert sorted((float(a) - 0.5, float(b) - 0.5) for a, b in lines) == [(0, 0)] + [(i, i - 1) for i in range(1, 6)]
    # a uniform head (1/6 per key) draws every query's three strongest keys at opacity 0.2
    uni = section(page, "L1H2")
    assert 1 / 6 >= MIN_WEIGHT
    assert len(re.findall(r"M0 ", uni)) == 6 * 3 and 'stroke-opacity="0.2"' in uni
    assert page.count('<svg class="lines"') == 6 and page.count('<symbol id="hltok"') == 1


def test_no_attention_means_no_drawings_but_a_hint():
    page = render_html(synthetic())
    assert '<svg class="lines"' not in page and 'class="by-patterns"' not in page
    assert "attention=m.attention(text)" in page


def test_attention_of_another_model_is_refused():
    with pytest.raises(InputError, match="3 x 3 heads but the report 2 x 3"):
        render_html(synthetic(), attention=attention(L=3, H=3))
    with pytest.raises(InputError, match="hl.Attention"):
        render_html(synthetic(), attention=np.zeros((2, 3, 4, 4)))


def test_tokens_are_escaped_in_drawings():
    att = attention(tokens=["[CLS]", "<script>", "a&b", "\"q\"", "x" * 40, "[SEP]"])
    page = render_html(synthetic(), attention=att)
    assert "<script" not in page and "&lt;script&gt;" in page and "a&amp;b" in page
    symbol = page[page.index('<symbol id="hltok"'):page.index("</symbol>")]
    assert "x" * 12 + "…" in symbol and "x" * 13 not in symbol


def test_published_roles_of_a_known_model():
    rep = synthetic(L=12, H=12, model="gpt2")
    page = render_html(rep)
    sec = section(page, "L10H7")
    assert "Copy Suppression Head" in sec and "copy_suppression_head" in sec and "McDougall et al. 2023" in sec
    assert "no published role" in section(page, "L0H0")
    # the size rule: a 2 x 3 model called gpt2 gets no links
    small = render_html(synthetic(model="gpt2"))
    assert "Copy Suppression" not in small and "no published role for this head of <code>gpt2</code>" in small


# ----------------------------------------------------------------------------- thumbnails
def test_thumbnail_grid_links_every_head():
    page = render_html(synthetic(), attention=attention())
    imgs = re.findall(r'<a href="#(L\d+H\d+)" title="\1"><img src="data:image/png;base64,[A-Za-z0-9+/=]+" '
                      r'width="48" height="48" alt="\1 attention pattern"></a>', page)
    assert imgs == [f"L{layer}H{h}" for layer in range(2) for h in range(3)]
    assert 'id="mode-scores"' in page and 'id="mode-patterns"' in page and "<script" not in page


# ----------------------------------------------------------------------------- explanations
def test_numbers_are_explained_where_they_are():
    rep = synthetic()
    page = render_html(rep)
    for needle in ("0: no more attention on the role's keys than uniform", "1: all of its attention",
                   "below 0 (orange)", "bootstrap interval", "Benjamini–Hochberg-adjusted p", "n = 1",
                   "ranked and coloured by their score (the effect size), never by p or q",
                   "docs/methods.md#methods-lift", "docs/methods.md#methods-bootstrap",
                   "docs/methods.md#methods-multiple-testing", "docs/methods.md#methods-unit"):
        assert needle in page, needle
    for role in rep.roles:                        # each role's sieve in one line, with its methods anchor
        assert registry.get(role).description in page
    assert "docs/methods.md#methods-sieve-local" in page and "docs/methods.md#methods-sieve-delimiters" in page
    # column heads link to the explanations
    assert len(re.findall(r"href=['\"]#help-q['\"]", page)) >= 1 + 6 and 'id="help-q"' in page


def test_pande_and_probe_reports_explain_their_own_scale():
    pande = render_html(synthetic(method="pande", null=3.0))
    assert "sieve bias" in pande and "τ = 3.000" in pande and "the p-value itself" not in pande
    probe = synthetic(roles=("induction", "copying"), method="probe", null=0.0)
    assert "probe score" in render_html(probe)


# ----------------------------------------------------------------------------- colours
def _fills(page, role):
    svg = re.search(rf'<svg class="hm"[^>]*data-role="{re.escape(role)}".*?</svg>', page).group(0)
    return re.findall(r'<use href="#hlc" x="\d+" fill="(#[0-9a-f]{6})"', svg)


def test_heatmap_colours_are_the_shared_scale():
    rep = synthetic()
    page = render_html(rep)
    for role in rep.roles:
        expected = [scales.colour(v, -1.0, 1.0) for v in rep.matrix(role).ravel()]
        assert _fills(page, role) == expected


def test_random_model_scores_stay_at_the_bottom_of_the_scale():
    # a random model: every lift is ±3e-6 - the colours must not stretch over the range
    rng = np.random.default_rng(1)
    x = rng.choice([-3e-6, 3e-6], size=(20, 2, 3)) + rng.normal(0, 1e-7, size=(20, 2, 3))
    rep = hl.Report.from_samples({"local": x, "cls": -x}, method="lift", null=0.1, n_boot=20, catalog=False)
    page = render_html(rep)
    fills = set(_fills(page, "local")) | set(_fills(page, "cls"))
    assert fills <= {scales.viridis(0.0), scales.negative(0.0)}
    assert '<text x="0" y="30" class="st">-1</text>' in page and '<text x="240" y="30" class="end">1</text>' in page


def test_probe_reports_colour_shares_and_copying_on_their_own_fixed_scales():
    rep = synthetic(roles=("induction", "copying"), method="probe", null=0.0)
    page = render_html(rep)
    assert _fills(page, "induction") == [scales.colour(v, 0.0, 1.0) for v in rep.matrix("induction").ravel()]
    assert _fills(page, "copying") == [scales.colour(v, -1.0, 1.0) for v in rep.matrix("copying").ravel()]


@pytest.mark.parametrize("method", ["lift", "probe", "pande", "compare", "", None])
def test_score_kind_is_the_views_decision(method):
    from types import SimpleNamespace

    from headlab.report import html_colour

    for role in ("previous", "induction", "copying", "local"):
        assert html_colour.score_kind(SimpleNamespace(method=method), role) == scales.score_kind(method, role)
    assert html_colour.score_kind(SimpleNamespace(method="probe"), "copying") == "copying"
    assert html_colour.score_kind(SimpleNamespace(method="lift"), "copying") == "lift"


def test_legend_negative_part_is_light_at_the_low_end_and_dark_just_below_zero():
    from headlab.report.html_colour import legend_svg, luminance

    svg = legend_svg(-1.0, 1.0, "g")
    neg = re.search(r'<linearGradient id="gn">(.*?)</linearGradient>', svg).group(1)
    stops = re.findall(r'<stop offset="([\d.]+)" stop-color="(#[0-9a-f]{6})"/>', neg)
    assert stops[0] == ("0.00", scales.NEGATIVE[-1]) and stops[-1] == ("1.00", scales.NEGATIVE[0])
    lum = [luminance(c) for _, c in stops]
    assert lum == sorted(lum, reverse=True)                  # left (lo) lightest ... right (just below 0) darkest
    # the bar's colours are the scale's: lo gets the light end, -0.01 the dark one
    assert scales.colour(-1.0, -1.0, 1.0) == scales.NEGATIVE[-1]
    assert luminance(scales.colour(-0.01, -1.0, 1.0)) < luminance(scales.colour(-0.9, -1.0, 1.0))
    assert 'id="gn"' not in legend_svg(0.0, 1.0, "g")       # no negative part without negative values


def test_own_range_scores_say_so():
    page = render_html(synthetic(method="pande", null=3.0))
    assert "(range of these scores)" in page


# ----------------------------------------------------------------------------- near-duplicate roles
def test_near_duplicate_roles_are_pointed_out():
    rng = np.random.default_rng(0)
    base = rng.normal(0.0, 0.02, size=(30, 3, 4))
    strong = base.copy()
    strong[:, :2, :] += 0.6                                  # 8 of 12 heads
    other = base.copy()
    other[:, 2, :2] += 0.6
    rep = hl.Report.from_samples({"delimiter": strong, "cls": strong + 0.01, "previous": other},
                                 method="lift", null=0.1, n_boot=20, catalog=False)
    page = render_html(rep)
    note = page[page.index('id="overlap"'):]
    note = note[:note.index("</div>")]
    assert "<code>delimiter</code> and <code>cls</code>: 8 heads flag both (8 and 8 of 12 are significant; " \
           "Jaccard 1.00)" in note
    assert "previous" not in note
    assert 'id="overlap"' not in render_html(synthetic())   # distinct roles: no note


# ----------------------------------------------------------------------------- n/a cells
def test_cells_without_a_test_show_n():
    rng = np.random.default_rng(0)
    x = rng.normal(0.3, 0.05, size=(5, 2, 3))
    x[1:, 0, 0] = np.nan                                    # L0H0: one sample
    x[:, 0, 1] = 0.3                                        # L0H1: the same score on every sample
    rep = hl.Report.from_samples({"local": x}, method="lift", null=0.1, n_boot=20, catalog=False)
    page = render_html(rep)
    assert "n/a – n/a" not in page and "n/a - n/a" not in page
    one = section(page, "L0H0")
    assert "<td>n/a (n = 1)<td>n/a (n = 1)<td>1" in one
    assert "[n/a (n = 1)] q=n/a (n = 1) n=1" in page            # the grid tooltip
    const = section(page, "L0H1")
    assert "<td>0.300 – 0.300<td>no test (same score on all 5 samples)<td>5" in const
    assert ci_text(float("nan"), float("nan"), 0) == "n/a (n = 0)"
    assert q_or_reason(float("nan"), 1) == "n/a (n = 1)" and q_or_reason(0.0, 9) == "<1e-300"


def test_skipped_roles_are_listed_with_reasons():
    page = render_html(synthetic(), run={"skipped": [{"role": "bos", "reason": "for causal <models> only"}]})
    assert "Roles not scored." in page and "<code>bos</code>: for causal &lt;models&gt; only" in page


def test_long_examples_are_drawn_up_to_64_tokens():
    page = render_html(synthetic(), attention=attention(T=70))
    symbol = page[page.index('<symbol id="hltok"'):page.index("</symbol>")]
    assert symbol.count("<text") == 2 + 2 * 64 and "w63" in symbol and "w64" not in symbol
    assert "Only its first 64 of 70 tokens are drawn." in page
    assert 'viewBox="0 0 1 64"' in section(page, "L0H0")
