import pytest

from headlab.errors import InputError
from headlab.head_names import parse_head, parse_heads


def test_head_spellings_agree():
    assert parse_head("L1H2", 3, 4) == parse_head("1.2", 3, 4) == parse_head((1, 2), 3, 4) == (1, 2)
    assert parse_heads(["2.0", (1, 3), "L2H0"], 3, 4) == [(1, 3), (2, 0)]
    assert parse_heads((0, 1), 3, 4) == [(0, 1)]


@pytest.mark.parametrize("bad", ["x.y", (1,), None, "L9H0", (0, 4)])
def test_bad_heads_raise(bad):
    with pytest.raises(InputError):
        parse_head(bad, 3, 4)
