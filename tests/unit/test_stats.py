"""headlab.stats against scipy / statsmodels, plus validity checks of the resampling tests."""

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


def test_bootstrap_vectorised_columns_equal_single_column_runs():
    x = np.random.default_rng(2).normal(size=(50, 144))
    full = stats.bootstrap_ci(x, n_boot=500, seed=9)
    for k in (0, 77, 143):
        one = stats.bootstrap_ci(x[:, [k]], n_boot=500, seed=9)
        assert full.low[k] == pytest.approx(one.low[0], rel=1e-12)
        assert full.high[k] == pytest.approx(one.high[0], rel=1e-12)


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
    with pytest.raises(InputError, match="correction"):
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
