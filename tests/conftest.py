import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TIERS = ("unit", "integration", "browser", "notebooks")


def pytest_collection_modifyitems(config, items):
    """Mark every test with its tier: the folder under tests/ it lives in."""
    for item in items:
        parts = item.path.parts
        tier = next((t for t in TIERS if t in parts[-3:-1]), None)
        if tier is None:
            raise pytest.UsageError(f"{item.nodeid}: every test lives in one of tests/{{{','.join(TIERS)}}}/")
        item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def minilm():
    """The embedded default model (real weights), loaded once per test session."""
    import headlab as hl

    return hl.load()


@pytest.fixture(scope="session")
def bert_tokenizer():
    """MiniLM's fast BERT tokenizer; tiny random models in the tests share it."""
    from transformers import AutoTokenizer

    from headlab.loading import default_model_path

    return AutoTokenizer.from_pretrained(default_model_path())


@pytest.fixture(scope="session")
def gpt2_tiny(bert_tokenizer):
    """A tiny random-weight GPT-2 (3 layers x 4 heads) driven by MiniLM's tokenizer."""
    import headlab as hl
    from tiny_models import build

    return hl.load(model=build("gpt2"), tokenizer=bert_tokenizer)


@pytest.fixture(scope="session")
def toy():
    """The toy-induction zoo model; skipped while its weights do not ship."""
    import headlab as hl
    from headlab import zoo

    try:
        zoo.zoo_path("toy-induction")
    except hl.ModelLoadError:
        pytest.skip("the toy-induction zoo model has not been trained into headlab/zoo/toy_induction yet")
    return hl.load("toy-induction")
