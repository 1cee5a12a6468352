"""headlab.stats against scipy / statsmodels, plus validity checks of the resampling tests."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st_
from statsmodels.stats.multitest import multipletests

from headlab import stats
from headlab.errors import InputError

ALTS = ["greater", "less", "two-sided"]


def _data(n=40, k=144, seed=1, loc=0.2):
    """[n, k] normal data with a few NaN patterns (a block, a stride) in some columns."""
    rng = np.random.default_rng(seed)
    x = rng.normal(loc, 1.0, size=(n, k))
    x[:5, 3] = np.nan
    x[::7, 5] = np.nan
    x[10:, 7] = np.nan
    return x


def _col(x, k):
    c = x[:, k]
    return c[~np.isnan(c)]


# ---------------------------------------------------------------- t test


@pytest.mark.parametrize("alternative", ALTS)
def test_t_equals_scipy_ttest_1samp_per_column(alternative):
    x = _data()
    res = stats.one_sample(x, null=0.1, test="t", alternative=alternative)
    assert res.p_value.shape == (144,)
    for k in range(144):
        ref = ss.ttest_1samp(_col(x, k), 0.1, alternative=alternative)
        assert res.p_value[k] == pytest.approx(ref.pvalue, rel=1e-12, abs=1e-15)
        assert res.statistic[k] == pytest.approx(ref.statistic, rel=1e-12)
    assert res.n[3] == 35 and res.n[7] == 10 and res.n[0] == 40
    assert "t" in res.test and alternative in res.test and "ddof=1" in res.test
    assert res.alternative == alternative and res.null == 0.1


def test_t_keeps_trailing_shape_and_effect_size():
    x = _data(k=12).reshape(40, 3, 4)
    res = stats.one_sample(x, null=0.0)
    assert res.p_value.shape == (3, 4)
    c = _col(x.reshape(40, 12), 0)
    assert res.mean[0, 0] == pytest.approx(c.mean())
    assert res.sd[0, 0] == pytest.approx(c.std(ddof=1))
    assert res.effect_size[0, 0] == pytest.approx(c.mean() / c.std(ddof=1))


def test_t_undefined_columns_are_nan():
    x = np.random.default_rng(0).normal(size=(10, 4))
    x[:, 0] = 2.5  # zero variance
    x[1:, 1] = np.nan  # n = 1
    x[:, 2] = np.nan  # n = 0
    res = stats.one_sample(x)
    assert np.isnan(res.p_value[:3]).all()
    assert np.isfinite(res.p_value[3])
    assert res.n.tolist() == [10, 1, 0, 10]
    assert np.isnan(res.effect_size[0])


def test_ddof0_reproduces_pande_variant():
    x = np.random.default_rng(3).normal(0.3, 1, size=(20, 1))
    c = x[:, 0]
    t0 = (c.mean() - 0) / (c.std(ddof=0) / np.sqrt(20))
    res = stats.one_sample(x, ddof=0)
    assert res.statistic[0] == pytest.approx(t0)
    assert res.p_value[0] == pytest.approx(ss.t.sf(t0, 19))


# ---------------------------------------------------------------- Wilcoxon


@pytest.mark.parametrize("alternative", ALTS)
def test_wilcoxon_exact_matches_scipy(alternative):
    x = _data(n=30, k=144, seed=2)
    res = stats.one_sample(x, null=0.1, test="wilcoxon", alternative=alternative)
    for k in range(144):
        ref = ss.wilcoxon(_col(x, k) - 0.1, alternative=alternative, method="exact")
        assert res.p_value[k] == pytest.approx(ref.pvalue, rel=1e-10)
        assert res.statistic[k] == ref.statistic


@pytest.mark.parametrize("alternative", ALTS)
def test_wilcoxon_ties_zeros_large_n_match_scipy_asymptotic(alternative):
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(0.1, 1, size=(80, 144)), 1)  # many ties and some zeros
    x[:30, 1] = np.nan
    res = stats.one_sample(x, test="wilcoxon", alternative=alternative)
    for k in range(144):
        ref = ss.wilcoxon(_col(x, k), alternative=alternative, method="asymptotic")
        assert res.p_value[k] == pytest.approx(ref.pvalue, rel=1e-10)
        assert res.statistic[k] == ref.statistic


@pytest.mark.parametrize("test", ["t", "wilcoxon", "signflip"])
def test_trailing_axes_equal_flattened_columns(test):
    x = np.round(np.random.default_rng(0).normal(0.2, 1, (40, 3, 4)), 1)
    x[:5, 1, 2] = np.nan
    a = stats.one_sample(x, test=test, n_perm=999)
    b = stats.one_sample(x.reshape(40, 12), test=test, n_perm=999)
    assert a.p_value.shape == (3, 4)
    np.testing.assert_allclose(a.p_value.ravel(), b.p_value, rtol=1e-12)
    np.testing.assert_array_equal(a.n.ravel(), b.n)


# ---------------------------------------------------------------- sign flip


def test_signflip_valid_on_symmetric_null():
    rng = np.random.default_rng(11)
    # symmetric but heavy-tailed null data: 4 x 144 columns of t(3) noise around 0
    x = rng.standard_t(3, size=(25, 576))
    res = stats.one_sample(x, test="signflip", n_perm=999, seed=0)
    p = res.p_value
    assert p.min() >= 1 / 1000
    # Under H0 P(p <= a) <= a.  With 576 columns the rejection rate at 0.05 has sd ~0.009.
    assert np.mean(p <= 0.05) < 0.05 + 3 * 0.0091
    assert np.mean(p <= 0.2) < 0.2 + 3 * 0.0167
    # and the p-values are spread out, not piled at 1
    assert 0.35 < np.median(p) < 0.65


def test_signflip_detects_effect_and_agrees_with_scipy_permutation_test():
    rng = np.random.default_rng(12)
    x = rng.normal(0.0, 1.0, size=(30, 3))
    x[:, 0] += 1.0
    x[:, 1] += 0.35
    x[::4, 2] = np.nan
    res = stats.one_sample(x, test="signflip", n_perm=4999, seed=1)
    assert res.p_value[0] == pytest.approx(1 / 5000)
    assert res.statistic[0] == pytest.approx(x[:, 0].mean())
    for k in (1, 2):
        ref = ss.permutation_test(
            (_col(x, k),), np.mean, permutation_type="samples", alternative="greater",
            n_resamples=4999, rng=0,
        ).pvalue
        # two Monte-Carlo estimates of the same p; sd of each <= 0.5/sqrt(5000) ~ 0.007
        assert abs(res.p_value[k] - ref) < 0.03
    assert res.n[2] == 22


def test_signflip_matches_exact_enumeration_for_small_n():
    """For n = 8 all 256 sign patterns can be enumerated: the exact p counts the patterns
    with a flipped sum >= the observed one (the identity included)."""
    rng = np.random.default_rng(13)
    x = np.column_stack([rng.normal(0.4, 1, 8), np.arange(1.0, 9.0), rng.normal(0, 1, 8)])
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * 8)).reshape(8, -1).T  # [256, 8]
    res = stats.one_sample(x, test="signflip", n_perm=20000, seed=2)
    for k in range(3):
        flipped = signs @ x[:, k]
        for alt, exact in (
            ("greater", np.mean(flipped >= x[:, k].sum() - 1e-12)),
            ("two-sided", np.mean(np.abs(flipped) >= abs(x[:, k].sum()) - 1e-12)),
        ):
            p = stats.one_sample(x[:, [k]], test="signflip", n_perm=20000, seed=2, alternative=alt).p_value[0]
            assert abs(p - exact) < 4 * np.sqrt(exact * (1 - exact) / 20000) + 1e-4, (k, alt, p, exact)
    # all-positive column: only the identity reaches the observed sum -> p = 1/256
    assert res.p_value[1] == pytest.approx(1 / 256, abs=4 * np.sqrt(1 / 256 / 20000))


def test_signflip_is_seeded():
    x = np.random.default_rng(0).normal(0.1, 1, size=(20, 10))
    a = stats.one_sample(x, test="signflip", seed=3, n_perm=500).p_value
    b = stats.one_sample(x, test="signflip", seed=3, n_perm=500).p_value
    c = stats.one_sample(x, test="signflip", seed=4, n_perm=500).p_value
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


# ---------------------------------------------------------------- paired


def test_paired_equals_ttest_rel():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(25, 6))
    b = a + rng.normal(0.3, 1, size=(25, 6))
    res = stats.paired(a, b)
    ref = ss.ttest_rel(a, b, axis=0)
    np.testing.assert_allclose(res.p_value, ref.pvalue, rtol=1e-12)
    np.testing.assert_allclose(res.statistic, ref.statistic, rtol=1e-12)
    assert res.test.startswith("paired") and res.alternative == "two-sided"
    with pytest.raises(InputError):
        stats.paired(a, b[:, :3])


# ---------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("method,scipy_method", [("percentile", "percentile"), ("bca", "BCa")])
def test_bootstrap_ci_agrees_with_scipy_within_mc_error(method, scipy_method):
    rng = np.random.default_rng(21)
    y = rng.exponential(size=60)  # skewed, so BCa and percentile differ
    ours = stats.bootstrap_ci(y[:, None], n_boot=20000, method=method, seed=0)
    ref = ss.bootstrap((y,), np.mean, method=scipy_method, n_resamples=20000, rng=0).confidence_interval
    width = ref.high - ref.low
    # Monte-Carlo error of a 2.5% quantile from 20000 resamples is ~1% of the width
    assert abs(ours.low[0] - ref.low) < 0.04 * width
    assert abs(ours.high[0] - ref.high) < 0.04 * width


def test_bca_differs_from_percentile_on_skewed_data():
    y = np.random.default_rng(21).exponential(size=(60, 1))
    p = stats.bootstrap_ci(y, method="percentile", n_boot=5000)
    b = stats.bootstrap_ci(y, method="bca", n_boot=5000)
    assert b.low[0] > p.low[0] and b.high[0] > p.high[0]  # BCa shifts right for right skew


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_vectorised_columns_equal_single_column_runs(method):
    """Same n in every column -> same draws; the exact resample sums make a column's interval
    independent of the other columns in the product, bit for bit."""
    x = np.round(np.random.default_rng(2).normal(size=(50, 144)), 1)  # ties with the mean too
    full = stats.bootstrap_ci(x, n_boot=500, seed=9, method=method)
    for k in (0, 77, 143):
        one = stats.bootstrap_ci(x[:, [k]], n_boot=500, seed=9, method=method)
        assert (full.low[k], full.high[k]) == (one.low[0], one.high[0])
    rev = stats.bootstrap_ci(x[:, ::-1], n_boot=500, seed=9, method=method)
    np.testing.assert_array_equal(rev.low[::-1], full.low)


def test_bootstrap_nan_columns_use_only_their_samples():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(80, 3))
    x[:40, 1] = np.nan  # half the samples missing
    x[:, 2] = np.nan
    x[0, 2] = 1.0  # n = 1
    ci = stats.bootstrap_ci(x, n_boot=4000)
    ref = ss.bootstrap((x[40:, 1],), np.mean, method="percentile", n_resamples=4000, rng=0).confidence_interval
    w = ref.high - ref.low
    assert abs(ci.low[1] - ref.low) < 0.08 * w and abs(ci.high[1] - ref.high) < 0.08 * w
    assert np.isnan(ci.low[2]) and np.isnan(ci.high[2])
    # the half-size column has a wider interval than the full one (same distribution)
    assert (ci.high[1] - ci.low[1]) > (ci.high[0] - ci.low[0])


def test_bootstrap_constant_column_and_shape():
    x = np.ones((10, 2, 3))
    x[:, 1, 2] = np.arange(10)
    for method in ("percentile", "bca"):
        lo, hi = stats.bootstrap_ci(x, method=method, n_boot=200)
        assert lo.shape == (2, 3)
        assert lo[0, 0] == hi[0, 0] == 1.0
        assert lo[1, 2] < 4.5 < hi[1, 2]


# ---------------------------------------------------------------- multiple testing


def _pvals(seed=0, m=300):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=m - 40), rng.uniform(0, 0.002, size=40)])
    p[5] = p[6]  # a tie
    return p


@pytest.mark.parametrize("ours,theirs", [("fdr_bh", "bh"), ("fdr_by", "by")])
def test_fdr_equals_scipy(ours, theirs):
    p = _pvals()
    np.testing.assert_allclose(stats.adjust(p, ours), ss.false_discovery_control(p, method=theirs), rtol=1e-12)


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh", "fdr_by"])
def test_adjust_equals_statsmodels(method):
    p = _pvals(1)
    np.testing.assert_allclose(stats.adjust(p, method), multipletests(p, method=method)[1], rtol=1e-12)


def test_adjust_nan_excluded_from_family_and_shape_kept():
    p = _pvals(2, m=60).reshape(5, 12)
    p_nan = p.copy()
    p_nan[0, :4] = np.nan
    q = stats.adjust(p_nan, "fdr_bh")
    assert q.shape == (5, 12)
    assert np.isnan(q[0, :4]).all()
    keep = ~np.isnan(p_nan)
    np.testing.assert_allclose(q[keep], ss.false_discovery_control(p_nan[keep]), rtol=1e-12)
    assert np.array_equal(stats.adjust(p_nan, "none"), p_nan, equal_nan=True)
    assert np.isnan(stats.adjust(np.full(3, np.nan))).all()


@settings(max_examples=50, deadline=None)
@given(st_.lists(st_.floats(0, 1), min_size=1, max_size=40))
def test_adjust_properties(ps):
    p = np.array(ps)
    for method in ("fdr_bh", "fdr_by", "holm", "bonferroni"):
        q = stats.adjust(p, method)
        assert (q >= p - 1e-15).all() and (q <= 1).all()
        order = np.argsort(p, kind="stable")
        assert (np.diff(q[order]) >= -1e-15).all()  # monotone in p


def test_bad_choices_raise_input_error():
    x = np.zeros((5, 2))
    with pytest.raises(InputError, match="test"):
        stats.one_sample(x, test="z")
    with pytest.raises(InputError, match="alternative"):
        stats.one_sample(x, alternative="bigger")
    with pytest.raises(InputError, match="method must be one of 'fdr_bh'"):
        stats.adjust([0.1], "fdr")
    with pytest.raises(InputError):
        stats.adjust([1.5])
    with pytest.raises(InputError):
        stats.one_sample(np.array([1.0, np.inf])[:, None])


# ---------------------------------------------------------------- co-location


def test_fisher_and_jaccard_hand_checked():
    a = np.zeros((12, 12), bool)
    b = np.zeros((12, 12), bool)
    a[:2, :] = True  # 24 heads
    b[1:3, :] = True  # 24 heads, 12 shared
    res = stats.fisher_exact_2x2(a, b)
    table = [[12, 12], [12, 108]]
    assert res.table.tolist() == table
    assert res.expected == pytest.approx(24 * 24 / 144)
    ref_or, ref_p = ss.fisher_exact(table, alternative="greater")
    assert res.odds_ratio == pytest.approx(ref_or) and res.p_greater == pytest.approx(ref_p)
    assert res.p_two_sided == pytest.approx(ss.fisher_exact(table)[1])
    assert stats.jaccard(a, b) == pytest.approx(12 / 36)
    assert np.isnan(stats.jaccard(np.zeros(3, bool), np.zeros(3, bool)))
    with pytest.raises(InputError):
        stats.fisher_exact_2x2(a, b.astype(int))


def test_zero_variance_sign_option_gives_the_exact_sign_test():
    x = np.random.default_rng(0).normal(size=(10, 4))
    x[:, 0] = 2.5            # all above the null
    x[:, 1] = -1.0           # all below it
    x[:, 2] = 0.0            # all on it
    default = stats.one_sample(x)
    res = stats.one_sample(x, zero_variance="sign")
    assert np.isnan(default.p_value[:3]).all()
    np.testing.assert_allclose(res.p_value[:3], [0.5 ** 10, 1.0, 1.0])
    assert res.p_value[3] == default.p_value[3]                    # other columns untouched
    assert "sign test" in res.test and "sign test" not in default.test
    two = stats.paired(x, np.zeros_like(x), zero_variance="sign")
    np.testing.assert_allclose(two.p_value[:3], [2 * 0.5 ** 10, 2 * 0.5 ** 10, 1.0])
    np.testing.assert_allclose(stats.constant_sign_p(3, -1.0, 0.0, "less"), 0.125)
    with pytest.raises(InputError):
        stats.one_sample(x, zero_variance="drop")


# ---------------------------------------------------------------- golden values (before the split)

_spec = importlib.util.spec_from_file_location(
    "stats_golden_cases", Path(__file__).parent / "data" / "stats_golden_cases.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


def _load_golden():
    with np.load(golden.GOLDEN_PATH, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


_GOLDEN = _load_golden()
_GOLDEN_INPUTS = {k[4:]: v for k, v in _GOLDEN.items() if k.startswith("in__")}
_GOLDEN_CASES = golden.cases(stats, _GOLDEN_INPUTS)


def _tied_columns(x):
    """Columns with repeated values: there, resampled means can equal the estimate exactly."""
    x2 = x.reshape(x.shape[0], -1)
    return np.array([np.unique(c[~np.isnan(c)]).size < np.sum(~np.isnan(c)) for c in x2.T])


def _constant_columns(x):
    """Columns whose non-NaN values are all identical (two or more of them)."""
    x2 = x.reshape(x.shape[0], -1)
    return np.array([np.sum(~np.isnan(c)) >= 2 and np.unique(c[~np.isnan(c)]).size == 1 for c in x2.T])


def test_golden_file_holds_every_case_without_pickles():
    stored = {k.split("__")[0] for k in _GOLDEN if not k.startswith("in__")}
    assert stored == set(_GOLDEN_CASES) and len(stored) > 80
    assert all(v.dtype != object for v in _GOLDEN.values())


@pytest.mark.parametrize("case", list(_GOLDEN_CASES))
def test_golden_values_of_the_single_module_are_reproduced(case):
    """Every output of the calls in stats_golden_cases.py equals the value the single-module
    headlab/stats.py gave (exactly for counts, names and tables; floats to rtol 1e-12) --
    except (a) BCa limits of columns with tied values.  There, whether a resampled mean counts as
    below the estimate (BCa's z0) used to hang on BLAS rounding: the same column gave other
    limits when other columns shared its product.  Resample sums are exact now, so such ties
    are decided consistently (tests below), and those limits moved.  And (b) the t test's
    fields on columns whose values are all identical: their floating mean differed from the
    values by ~1e-17, which gave sd ~1e-17, a huge t and p ~ 0; sd is 0 there now and the t
    test is undefined, as for any constant column (test_identical_values_... below)."""
    got = golden.flatten(_GOLDEN_CASES[case]())
    stored = {k.split("__")[1]: v for k, v in _GOLDEN.items() if k.split("__")[0] == case}
    assert set(got) == set(stored)
    keep = None
    if case.startswith("bootstrap-") and "bca" in case:
        data = "small" if case.startswith("bootstrap-3d") else case.split("-")[1]
        keep = ~_tied_columns(_GOLDEN_INPUTS[data])
        assert keep.sum() >= 0.5 * keep.size  # most columns are still held to the old values
    constant = None
    if case.startswith("one_sample-") or case.startswith("paired-"):
        x = (_GOLDEN_INPUTS["small"] if case == "one_sample-t-3d" else
             _GOLDEN_INPUTS["pa"] - _GOLDEN_INPUTS["pb"] if case.startswith("paired") else
             _GOLDEN_INPUTS[case.split("-")[2]])
        constant = _constant_columns(x)
        if constant.any():                       # (b): exactly zero spread, no t statistic
            assert (np.ravel(got["sd"])[constant] == 0).all()
            assert np.isnan(np.ravel(got["effect_size"])[constant]).all()
            if case.startswith("one_sample-t-") or case.startswith("paired-t-"):
                assert np.isnan(np.ravel(got["statistic"])[constant]).all()
    moved = {"sd", "effect_size"} | ({"statistic", "p_value"} if "-t-" in case + "-" else set())
    for field, want in stored.items():
        have = got[field]
        if want.dtype.kind in "US":
            assert str(have) == str(want), field
        elif want.dtype.kind in "biu":
            np.testing.assert_array_equal(have, want, err_msg=f"{case} {field}")
        else:
            w, h = np.ravel(want), np.ravel(have)
            if keep is not None:
                w, h = w[keep], h[keep]
            elif constant is not None and field in moved:
                w, h = w[~constant], h[~constant]
            np.testing.assert_allclose(h, w, rtol=1e-12, atol=0, err_msg=f"{case} {field}")


# ---------------------------------------------------------------- bootstrap: exactness, blocks, many


def test_numpy_int64_draws_continue_across_blocks():
    """What the block-size invariance rests on: Generator.integers (int64) split into row
    blocks gives the same stream as one draw, below and above 2**32."""
    for high in (2, 3, 656, 5001, 2**31 + 1, 2**32 + 7, 2**40):
        one = np.random.default_rng(5).integers(0, high, size=(100, 7))
        rng = np.random.default_rng(5)
        parts = [rng.integers(0, high, size=(b, 7)) for b in (1, 3, 33, 63)]
        np.testing.assert_array_equal(np.concatenate(parts), one)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_identical_for_any_block_size(monkeypatch, method):
    from headlab.stats import _resample

    x = _data(n=60, k=20, seed=8)
    x[:, 10:] = np.round(x[:, 10:], 1)
    ref = stats.bootstrap_ci(x, n_boot=701, seed=4, method=method)
    for cells in (1, 59, 61 * 7, 10**9):
        monkeypatch.setattr(_resample, "BLOCK_CELLS", cells)
        got = stats.bootstrap_ci(x, n_boot=701, seed=4, method=method)
        np.testing.assert_array_equal(got.low, ref.low)
        np.testing.assert_array_equal(got.high, ref.high)


def test_resample_sums_are_exact_up_to_final_rounding():
    from fractions import Fraction

    from headlab.stats._resample import ExactSums, draw_counts

    rng = np.random.default_rng(3)
    xt = rng.normal(size=(3, 40)) * np.array([[1.0], [1e-8], [1e6]])
    xt[0, :5] = 1e-30  # values far below the column's largest
    counts = draw_counts(rng, 40, 25)
    got = ExactSums(xt).weighted(counts)  # [3, 25]
    for c in range(3):
        for b in range(25):
            exact = sum(Fraction(int(counts[b, i])) * Fraction(xt[c, i]) for i in range(40))
            assert abs(Fraction(got[c, b]) - exact) <= Fraction(np.spacing(abs(float(exact))))
    # sums of the same multiset in another order are the same number
    perm = rng.permutation(40)
    np.testing.assert_array_equal(ExactSums(xt[:, perm]).weighted(counts[:, perm]), got)


def _role_like_arrays(seed=0, n=80):
    """Arrays with NaN patterns: shared and different sequences of distinct column sizes."""
    rng = np.random.default_rng(seed)
    out = []
    for r in range(9):
        x = np.round(rng.normal(0.2, 1.0, size=(n, 3, 4)), 1 if r % 2 else 6)
        if r % 3 == 1:
            x[n - 20:] = np.nan                    # the whole role on fewer samples
        if r in (2, 5):
            x[:7, 0, 1] = np.nan                    # one head on fewer samples
        if r == 4:
            x[rng.random(n) < 0.4, 2] = np.nan
        if r == 6:
            x[1:, 1, :] = np.nan                    # n = 1: no interval
        out.append(x)
    out.append(np.full((n, 3, 4), np.nan))
    out.append(rng.normal(size=n))                  # [N]: one column, shape ()
    out.append(rng.normal(size=(50, 5)))            # another N
    return out


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_ci_many_equals_per_array_calls(method):
    arrays = _role_like_arrays()
    many = stats.bootstrap_ci_many(arrays, level=0.9, n_boot=500, seed=11, method=method)
    assert len(many) == len(arrays)
    for x, ci in zip(arrays, many):
        one = stats.bootstrap_ci(x, level=0.9, n_boot=500, seed=11, method=method)
        assert ci.low.shape == x.shape[1:]
        np.testing.assert_array_equal(ci.low, one.low)
        np.testing.assert_array_equal(ci.high, one.high)
    assert np.isnan(many[6].low[1]).all() and np.isnan(many[9].low).all()
    assert stats.bootstrap_ci_many([], n_boot=10) == []


def test_bootstrap_ci_many_draws_once_per_shared_prefix(monkeypatch):
    from headlab.stats import _resample

    calls = []
    real = _resample.draw_counts
    monkeypatch.setattr(_resample, "draw_counts", lambda rng, m, rows: calls.append(m) or real(rng, m, rows))
    x = np.random.default_rng(0).normal(size=(60, 8))
    y = x.copy()
    y[:10, 0] = np.nan  # sizes (50, 60): another first draw, so its n = 60 draws differ too
    stats.bootstrap_ci_many([x] * 25 + [y], n_boot=100)
    assert sorted(calls) == [50, 60, 60]  # 25 arrays with sizes (60,) share one draw


def test_bootstrap_memory_is_bounded_for_long_columns():
    """A [n_boot, N] counts matrix for N = 20,000 would take 320 MB; blocks keep the
    working memory at a few MB over the data."""
    import tracemalloc

    x = np.random.default_rng(0).normal(size=(20_000, 2))
    tracemalloc.start()
    try:
        stats.bootstrap_ci(x, n_boot=2000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16e6, peak


def test_signflip_stream_is_the_same_for_any_block_size(monkeypatch):
    from headlab.stats import signflip

    x = _data(n=30, k=12, seed=6)  # 30 samples: not a multiple of 4
    ref = stats.one_sample(x, test="signflip", n_perm=2500, seed=2, alternative="two-sided").p_value
    monkeypatch.setattr(signflip, "_PERM_BLOCK_CELLS", 30 * 9)  # 8-row blocks
    assert signflip._block_rows(30) == 8
    got = stats.one_sample(x, test="signflip", n_perm=2500, seed=2, alternative="two-sided").p_value
    np.testing.assert_array_equal(got, ref)


# ---------------------------------------------------------------- option checks

_X = np.random.default_rng(0).normal(size=(12, 3))
_BAD = {
    "n_boot": ["2000", 2000.0, True, np.nan, 1, 1_000_001, None],
    "n_perm": ["9999", 9999.0, False, 0, 1_000_001],
    "level": [0, 1, 1.5, -0.1, np.nan, np.inf, "0.95", True],
    "seed": [-1, 1.5, "0", True, 2**64, None],
    "null": [np.nan, np.inf, "0", True, None],
    "ddof": [-1, 1.0, "1", True],
}


def _call_with(option, value):
    if option in ("n_boot", "level"):
        return stats.bootstrap_ci(_X, **{option: value})
    return stats.one_sample(_X, test="signflip", **{option: value})


@pytest.mark.parametrize("option,value", [(o, v) for o, vs in _BAD.items() for v in vs])
def test_bad_options_raise_input_error_saying_what_to_pass(option, value):
    with pytest.raises(InputError, match=rf"{option} must be .*"):
        _call_with(option, value)
    if option in ("seed", "level", "n_boot"):
        with pytest.raises(InputError, match=option):
            stats.bootstrap_ci_many([_X], **{option: value})


def test_option_messages_name_a_valid_value():
    with pytest.raises(InputError, match=r"Pass e\.g\. n_boot=2000"):
        stats.bootstrap_ci(_X, n_boot="2000")
    with pytest.raises(InputError, match=r"Pass e\.g\. seed=0"):
        stats.one_sample(_X, seed=-1)
    with pytest.raises(InputError, match="'percentile', 'bca'"):
        stats.bootstrap_ci(_X, method="BCa")
    with pytest.raises(InputError, match="zero_variance must be one of"):
        stats.paired(_X, _X, zero_variance=None)
    with pytest.raises(InputError, match="alternative"):
        stats.constant_sign_p(3, 1.0, 0.0, "up")
    with pytest.raises(InputError, match="list of arrays"):
        stats.bootstrap_ci_many(_X)
    with pytest.raises(InputError, match="numbers"):
        stats.one_sample([["a", "b"]])


@settings(max_examples=40, deadline=None)
@given(n_boot=st_.integers(2, 60), seed=st_.integers(0, 2**63 - 1),
       level=st_.floats(0.01, 0.99), null=st_.floats(-1e6, 1e6))
def test_valid_options_of_any_integer_kind_are_accepted(n_boot, seed, level, null):
    ci = stats.bootstrap_ci(_X, n_boot=np.int64(n_boot), seed=seed, level=np.float32(level))
    assert np.all(ci.low <= ci.high)
    np.testing.assert_array_equal(stats.bootstrap_ci(_X, n_boot=n_boot, seed=np.uint64(seed), level=level),
                                  stats.bootstrap_ci(_X, n_boot=n_boot, seed=seed, level=level))
    res = stats.one_sample(_X, null=null, test="signflip", n_perm=np.int32(n_boot), seed=seed, ddof=np.int8(0))
    assert res.null == null and np.all((res.p_value > 0) & (res.p_value <= 1))


@settings(max_examples=40, deadline=None)
@given(st_.one_of(st_.floats(allow_nan=True), st_.text(max_size=5), st_.booleans(), st_.none()))
def test_non_integer_n_boot_and_seed_are_refused(value):
    with pytest.raises(InputError):
        stats.bootstrap_ci(_X, n_boot=value)
    with pytest.raises(InputError):
        stats.one_sample(_X, seed=value)


# ---------------------------------------------------------------- the package


def test_package_shows_only_public_names():
    import headlab

    assert dir(headlab.stats) == sorted(stats.__all__)
    assert "bootstrap_ci_many" in stats.__all__
    for name in stats.__all__:
        obj = getattr(stats, name)
        if callable(obj):
            assert obj.__module__ == "headlab.stats", name
    assert stats._check_choice("holm", stats.CORRECTIONS, "correction") == "holm"  # used by report.py
    with pytest.raises(InputError, match="correction must be one of"):
        stats._check_choice("fdr", stats.CORRECTIONS, "correction")


def test_every_public_function_names_its_source():
    for name in stats.__all__:
        obj = getattr(stats, name)
        if callable(obj) and not isinstance(obj, type):
            assert "docs/methods.md" in obj.__doc__, name
            assert "METHODS.md §" not in obj.__doc__, name


def test_identical_values_that_float_sums_blur_still_have_zero_variance():
    """mean([0.1, 0.1, 0.1]) != 0.1 in floating point; the column is still constant: no t test."""
    x = np.full((3, 1), 0.1)
    res = stats.one_sample(x, null=0.0)
    assert res.sd[0] == 0.0 and np.isnan(res.p_value[0])
    assert stats.one_sample(x, null=0.0, zero_variance="sign").p_value[0] == pytest.approx(0.125)
