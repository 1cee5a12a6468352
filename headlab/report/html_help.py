"""The explanations the report shows next to its numbers: what a score, CI, q and n mean.

Written from the report's own provenance (method, test, null, correction, alpha, CI settings),
so the text always describes the numbers on the page, with the docs/methods.md anchors that
define them.
"""

from __future__ import annotations

from headlab.report.html_format import SCORE_ANCHORS, esc, methods_ref, num

__all__ = ["explanations", "score_meaning", "correction_name"]

_CORRECTIONS = {
    "fdr_bh": "Benjamini–Hochberg-adjusted p (false-discovery rate)",
    "fdr_by": "Benjamini–Yekutieli-adjusted p (false-discovery rate under any dependence)",
    "holm": "Holm-adjusted p (family-wise error rate)",
    "bonferroni": "Bonferroni-adjusted p (family-wise error rate)",
    "none": "the p-value itself (no correction for multiple testing)",
}


def correction_name(correction: str | None) -> str:
    return _CORRECTIONS.get(str(correction), f"the p-value adjusted by {correction}")


def _null_text(null) -> str:
    if isinstance(null, dict):
        values = sorted({num(v) for v in null.values()})
        return values[0] if len(values) == 1 else "its role's chance level (see Method)"
    return num(null)


def score_meaning(method: str, null) -> str:
    """One sentence: what the score column is and what its 0 and 1 mean."""
    if method == "lift":
        return ("the head's mean <b>lift</b> across samples, the effect size. 0: no more attention on the role's "
                "keys than uniform attention would put there; 1: all of its attention on them; below 0 (orange): "
                "less than uniform, the head avoids them. The same at every text length.")
    if method == "pande":
        return ("the head's mean <b>sieve bias</b> (Pande et al. 2021): attention per role key over attention per "
                f"key. 1: uniform attention; the test asks for more than τ = {_null_text(null)}. Its maximum grows "
                "with text length, so compare it only between texts of similar length.")
    if method == "probe":
        return ("the head's mean <b>probe score</b> on generated probes, mostly a share of attention (0: none on "
                "the probe's target, 1: all of it); copying runs from −1 to 1.")
    if method == "compare":
        return "the mean <b>difference</b> between two reports on the same samples (second minus first)."
    return f"the head's mean score ({esc(method)}) across samples."


def explanations(report, prefix: str = "") -> str:
    """A definition list of the report's columns, with anchors the table heads link to."""
    p = report.provenance
    ci = p.get("ci") or {}
    level = ci.get("level", 0.95)
    null = p.get("null")
    n_boot = ci.get("n_boot", "")
    ci_kind = "percentile" if ci.get("method", "percentile") == "percentile" else str(ci.get("method"))
    method = report.method
    test = p.get("test") or "a one-sided test"
    items = [
        (f"{prefix}help-score", "score", score_meaning(method, null)
         + " " + methods_ref(SCORE_ANCHORS.get(method)) + " " + methods_ref("methods-effect-size")),
        (f"{prefix}help-ci", f"{level:.0%} CI",
         f"a {esc(ci_kind)} bootstrap interval of the mean score: the samples are resampled {esc(str(n_boot))} "
         "times (seeded) and the middle "
         f"{level:.0%} of the resampled means is kept. " + methods_ref("methods-bootstrap")),
        (f"{prefix}help-q", "q",
         f"{correction_name(p.get('correction'))}. p comes from {esc(str(test))} across samples of "
         f"mean score &gt; {esc(_null_text(null))}; a head is <b>significant</b> (dot in the grids) when "
         f"q &lt; alpha = {report.alpha:g}. " + methods_ref("methods-tests") + " "
         + methods_ref("methods-multiple-testing")),
        (f"{prefix}help-n", "n",
         "the number of samples the role applied to, the samples its test used (a text without the role's "
         "keys - no [SEP], one sentence for block - is left out). With n = 1 there is no CI and no test: "
         "the page says “n/a (n = 1)”. " + methods_ref("methods-unit")),
        (f"{prefix}help-rank", "order and colour",
         "heads are ranked and coloured by their score (the effect size), never by p or q. With "
         f"N = {report.n_samples} samples nearly every q can be tiny, so q tells whether an effect is there, "
         "not how large it is."),
    ]
    body = "".join(f'<dt id="{i}">{t}</dt><dd>{d}</dd>' for i, t, d in items)
    return f'<details class="help" open><summary>How to read the numbers</summary><dl>{body}</dl></details>'
