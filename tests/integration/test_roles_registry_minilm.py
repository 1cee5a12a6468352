"""The role registry used on the real default model: unknown ids get suggestions, user roles score."""

import numpy as np
import pytest

from headlab import roles as R
from headlab.errors import InputError, UnknownRoleError
from headlab.views.scoring import quick_scores


def test_registry_unknown_role_suggests_and_user_roles(minilm):
    with pytest.raises(UnknownRoleError, match="'local'"):
        R.get("locl")
    with pytest.raises(InputError):
        R.register("", lambda s: None)

    def first_word(s):
        sv = np.zeros((len(s), len(s)), bool)
        sv[:, 1] = True
        return sv

    R.register("first_word", first_word, description="the first word", replace=True)
    try:
        assert "first_word" in R.names()
        assert "first_word" not in [r.id for r in R.resolve(None, "text")]   # not a default
        att = minilm.attention("Hello there, friend.")
        scores = quick_scores(att, ["first_word"])
        assert scores["first_word"].shape == (6, 12)
        with pytest.raises(InputError, match="already registered"):
            R.register("first_word", first_word)
    finally:
        R.unregister("first_word")
