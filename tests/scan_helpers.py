"""What the scan-engine tests share: a tiny model folder every worker can load, and the check
that two reports are the same report."""

import numpy as np
import pytest

#: the report's statistics compared between a merged scan and a single-process run
COLUMNS = ["score", "ci_low", "ci_high", "p_value", "q_value", "effect_size", "sd", "statistic"]


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory, bert_tokenizer):
    """A tiny random GPT-2 saved as a model folder: what every worker loads."""
    from tiny_models import build

    folder = tmp_path_factory.mktemp("models") / "tiny-gpt2"
    build("gpt2").save_pretrained(folder)
    bert_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny(tiny_folder):
    import headlab as hl

    return hl.load(str(tiny_folder))


def assert_same_report(got, ref, tol=1e-6):
    """Equal reports: roles, sample ids, per-sample scores, every statistic to ``tol`` and the
    same significance decisions."""
    assert got.roles == ref.roles and got.sample_ids == ref.sample_ids
    for r in ref.roles:
        np.testing.assert_allclose(got.samples(r), ref.samples(r), rtol=0, atol=tol, equal_nan=True)
    for c in COLUMNS:
        np.testing.assert_allclose(got.table[c], ref.table[c], rtol=tol, atol=tol, equal_nan=True, err_msg=c)
    assert (got.table["significant"] == ref.table["significant"]).all()
    assert (got.table["n"] == ref.table["n"]).all()
