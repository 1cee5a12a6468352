import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def minilm():
    """The embedded default model (real weights), loaded once per test session."""
    import headlab as hl

    return hl.load()


@pytest.fixture(scope="session")
def bert_tokenizer():
    """MiniLM's fast BERT tokenizer; tiny random models in the tests share it."""
    from transformers import AutoTokenizer

    from headlab.model import default_model_path

    return AutoTokenizer.from_pretrained(default_model_path())
