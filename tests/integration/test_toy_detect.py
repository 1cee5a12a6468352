"""m.detect on the toy-induction zoo model: its previous-token and induction heads."""


import pytest


@pytest.fixture(scope="module")
def toy_report(toy):
    return toy.detect()


# ----------------------------------------------------------------------------- toy-induction
def test_toy_previous_token_head_in_layer_0(toy_report):
    sig = toy_report.significant("previous_token")
    assert any(layer == 0 for layer, _ in sig), toy_report.table.query("role == 'previous_token'")
    layer, head = max(((0, h) for h in range(toy_report.n_heads)),
                      key=lambda lh: toy_report.matrix("previous_token")[lh])
    assert toy_report.matrix("previous_token")[layer, head] > 0.5
    assert toy_report.matrix("previous_token", "q_value")[layer, head] < 1e-6


def test_toy_induction_head_in_a_later_layer(toy_report):
    sig = toy_report.significant("induction")
    later = [(layer, head) for layer, head in sig if layer > 0]
    assert later, toy_report.table.query("role == 'induction'")
    best = max(later, key=lambda lh: toy_report.matrix("induction")[lh])
    assert toy_report.matrix("induction")[best] > 0.4
    assert toy_report.matrix("induction", "q_value")[best] < 1e-6
    # An induction head copies what it attends to.  Among the ~25 tokens of a probe, an output
    # unrelated to the attended token scores about 2/25 − 1 = −0.92; this 32-dimensional head's
    # copy is noisy enough that it stays below Olsson et al.'s 0 (half the raised mass), but far
    # above that floor.
    assert toy_report.matrix("copying")[best] > -0.6
