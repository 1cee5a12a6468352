"""The ``toy-induction`` zoo model: files, tokenizer, and that it really has the heads it claims.

Uses only the shipped weights (never retrains them) and plain ``transformers`` with eager
attention; only the determinism test runs a few steps of a tiny training.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import headlab  # noqa: E402
from headlab.zoo import ZOO, checkpoints, zoo_path  # noqa: E402

MB = 1024 * 1024
PREV_LAYER = 0  # the previous-token head lives in layer 0 ...
# ... and the induction head in a later layer; both are found by score, not hard-coded


SHIPPED = (ZOO["toy-induction"] / "model.safetensors").is_file()
needs_weights = pytest.mark.skipif(not SHIPPED, reason="toy-induction weights are missing")


@pytest.fixture(scope="module")
def path():
    if not SHIPPED:
        pytest.skip("toy-induction weights are not shipped yet")
    return zoo_path("toy-induction")


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    """The tokenizer as shipped: saved with save_pretrained and reloaded with AutoTokenizer."""
    if SHIPPED:
        return transformers.AutoTokenizer.from_pretrained(zoo_path("toy-induction"))
    from headlab.zoo.train_toy import build_tokenizer

    d = tmp_path_factory.mktemp("toy_tok")
    build_tokenizer().save_pretrained(d)
    return transformers.AutoTokenizer.from_pretrained(d)


@pytest.fixture(scope="module")
def model(path):
    m = transformers.AutoModelForCausalLM.from_pretrained(path, attn_implementation="eager")
    m.eval()
    return m


def word_ids(tok) -> np.ndarray:
    """Ids of ordinary words, leaving out the 50 most common (as in Olsson et al.'s probes)."""
    words = [w for w in tok.get_vocab() if w.isalpha()]
    ids = np.array(sorted(tok.convert_tokens_to_ids(words)))
    return ids[50:]


def repeated(tok, rng, n, T):
    """[BOS] r r with r = T distinct random words."""
    ids = word_ids(tok)
    r = np.stack([rng.choice(ids, T, replace=False) for _ in range(n)])
    bos = np.full((n, 1), tok.bos_token_id)
    return torch.as_tensor(np.concatenate([bos, r, r], 1))


def run(model, x):
    with torch.no_grad():
        out = model(x, output_attentions=True)
    att = torch.stack(out.attentions, 0)  # [L, n, H, S, S]
    return out.logits, att


@pytest.fixture(scope="module")
def probe(tok, model):
    T = 50
    x = repeated(tok, np.random.default_rng(2024), 24, T)
    logits, att = run(model, x)
    q = torch.arange(T + 1, 2 * T + 1)  # queries in the second copy
    prev = att[..., q, q - 1].mean(dim=(1, 3)).numpy()  # [L, H]
    ind = att[..., q, q - T + 1].mean(dim=(1, 3)).numpy()  # token after the earlier copy
    nll = torch.nn.functional.cross_entropy(
        logits[:, :-1].transpose(1, 2), x[:, 1:], reduction="none")  # nll[:, p] predicts p+1
    return dict(T=T, prev=prev, ind=ind, nll=nll.numpy())


def induction_head(probe):
    ind = probe["ind"].copy()
    ind[0] = -1
    layer, head = np.unravel_index(np.argmax(ind), ind.shape)
    return int(layer), int(head)


# --------------------------------------------------------------------------------- registry


def test_zoo_registry_unknown_name():
    assert "toy-induction" in ZOO
    with pytest.raises(headlab.ModelLoadError) as e:
        zoo_path("no-such-model")
    assert "toy-induction" in str(e.value)


@needs_weights
def test_zoo_registry():
    p = zoo_path("toy-induction")
    assert (p / "config.json").is_file()
    for step, cp in checkpoints("toy-induction"):
        assert isinstance(step, int) and (cp / "model.safetensors").is_file()
    steps = [s for s, _ in checkpoints("toy-induction")]
    assert steps == sorted(steps)


def test_files_small_and_safetensors(path):
    files = [p for p in path.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".bin", ".pt", ".pkl", ".pth")]
    weights = [p for p in files if p.name == "model.safetensors"]
    assert (path / "model.safetensors") in weights
    for p in weights:
        assert p.stat().st_size <= 10 * MB, p
    assert sum(p.stat().st_size for p in files) <= 12 * MB
    meta = json.loads((path / "training.json").read_text())
    for key in ("seed", "steps", "wall_time_s", "torch", "transformers"):
        assert key in meta


def test_config_limits(model):
    c = model.config
    assert c.model_type == "gpt2"
    assert c.n_layer <= 4 and c.n_head <= 8
    assert c.n_positions >= 256
    assert c.vocab_size == len(transformers.AutoTokenizer.from_pretrained(zoo_path("toy-induction")))


# -------------------------------------------------------------------------------- tokenizer


def test_vocabulary_file():
    from headlab.zoo.train_toy import PUNCT, SPECIALS, build_vocab, load_words

    words = load_words()
    assert 500 <= len(words) <= 1500
    assert all(w.isalpha() and w == w.lower() for w in words)
    vocab = build_vocab()
    assert [vocab[t] for t in SPECIALS] == [0, 1, 2]
    assert all(p in vocab for p in PUNCT)


def test_tokenizer_roundtrip_and_offsets(tok):
    text = "The cat sat on the mat, and the dog ran to the big red house!"
    enc = tok(text, return_offsets_mapping=True)
    toks = tok.convert_ids_to_tokens(enc["input_ids"])
    assert toks[0] == "[BOS]" and enc["input_ids"][0] == tok.bos_token_id
    assert toks[1:] == ["the", "cat", "sat", "on", "the", "mat", ",", "and", "the", "dog", "ran",
                        "to", "the", "big", "red", "house", "!"]
    assert tok.unk_token_id not in enc["input_ids"]
    offs = enc["offset_mapping"]
    assert tuple(offs[0]) == (0, 0)
    for t, (s, e) in zip(toks[1:], offs[1:]):
        assert text[s:e].lower() == t
    assert tok.decode(enc["input_ids"], skip_special_tokens=True) == text.lower()
    assert tok.bos_token == "[BOS]" and tok.pad_token == "[PAD]" and tok.unk_token == "[UNK]"


def test_tokenizer_unknown_words_and_batching(tok):
    enc = tok("Quixotic zebras? The moon.", return_offsets_mapping=True)
    toks = tok.convert_ids_to_tokens(enc["input_ids"])
    assert toks == ["[BOS]", "[UNK]", "[UNK]", "?", "the", "moon", "."]
    assert [tuple(o) for o in enc["offset_mapping"]][1:3] == [(0, 8), (9, 15)]
    batch = tok(["hello there", "the cat sat on the mat"], padding=True)
    assert batch["input_ids"][0][-1] == tok.pad_token_id
    assert all(ids[0] == tok.bos_token_id for ids in batch["input_ids"])


# ------------------------------------------------------------------------------------ model


def test_repeated_half_loss_far_lower(probe):
    T, nll = probe["T"], probe["nll"]
    first = nll[:, 1:T].mean()  # predicting tokens 2..T of the first copy
    second = nll[:, T + 1:2 * T].mean()  # predicting tokens 2..T of the second copy
    assert first > 4.0
    assert second < 0.5 and second < first / 10, (first, second)


def test_long_repeat_fits_and_is_copied(tok, model):
    T = 100  # 1 + 2*100 tokens: the probe size the views use
    x = repeated(tok, np.random.default_rng(7), 4, T)
    assert x.shape[1] <= model.config.n_positions
    logits, _ = run(model, x)
    pred = logits[:, T + 1:2 * T].argmax(-1)  # predictions for the tokens 2..T of the copy
    acc = (pred == x[:, T + 2:2 * T + 1]).float().mean().item()
    assert acc > 0.9, acc


def test_previous_token_head_in_layer_0(probe):
    prev = probe["prev"]
    best = int(np.argmax(prev[PREV_LAYER]))
    assert prev[PREV_LAYER, best] > 0.5, prev
    assert probe["ind"][PREV_LAYER].max() < 0.1  # layer 0 cannot do induction


def test_induction_head_in_later_layer(probe):
    layer, head = induction_head(probe)
    ind = probe["ind"]
    assert layer >= 1
    assert ind[layer, head] > 0.5, ind
    # it is an induction head, not a previous-token head
    assert probe["prev"][layer, head] < 0.1


@pytest.mark.parametrize("layout", [(10, 80), (60, 170)])
def test_induction_target_moves_with_content(tok, model, probe, layout):
    """The same span at different offsets: the induction head follows the content, not a
    fixed positional offset."""
    layer, head = induction_head(probe)
    rng = np.random.default_rng(99)
    ids = word_ids(tok)
    span_len = 20
    span = rng.choice(ids, span_len, replace=False)
    filler = rng.choice(np.setdiff1d(ids, span), 200)
    a, b = layout  # positions (after BOS) of the first and second copy
    body = filler.copy()
    body[a:a + span_len] = span
    body[b:b + span_len] = span
    x = torch.as_tensor(np.concatenate([[tok.bos_token_id], body])[None])
    _, att = run(model, x)
    A = att[layer, 0, head]
    first, second = 1 + a, 1 + b  # sequence positions of the two copies
    # Queries from the second token of the copy on: at the first one this model's induction head
    # mostly still attends to itself (it locks on once the previous token matched too), and the
    # last span token is followed by different filler in the two copies.
    ks = range(1, span_len - 1)
    hits = sum(int(A[second + k].argmax()) == first + k + 1 for k in ks)
    assert hits >= 0.9 * len(ks), (layout, hits)


# --------------------------------------------------------------------------------- training


def test_shipped_training_log_shows_the_phase_change(path):
    """What the docstring of train_toy and notebook 02 claim about the shipped run."""
    meta = json.loads((path / "training.json").read_text())
    assert meta["wall_time_s"] <= 600 and meta["threads"] == 1      # the 10-minute CPU budget
    ev = {e["step"]: e for e in meta["evals"]}
    best_ind = {s: max(max(row) for row in e["induction"][1:]) for s, e in ev.items()}
    assert ev[800]["loss_second"] > 5 and best_ind[800] < 0.3      # before: no induction yet
    assert ev[1000]["loss_second"] < 3 and best_ind[1000] > 0.6    # after: the jump
    assert [c["step"] for c in meta["checkpoints"]] == [400, 800, 1000, 2000]


def test_training_is_deterministic(tmp_path):
    from headlab.zoo.train_toy import train

    tiny = dict(steps=4, progress=False, eval_every=2, n_layer=1, n_head=2, n_embd=32, n_inner=64,
                n_positions=64, seq_len=64, batch_size=4, warmup=2)
    a = train(seed=3, checkpoint_steps=(0, 2), **tiny)
    b = train(tmp_path / "out", seed=3, checkpoint_steps=(0, 2), **tiny)
    c = train(seed=4, **tiny)
    assert len(a.losses) == 4
    assert a.losses == b.losses
    assert a.losses != c.losses
    assert [s for s, _ in a.checkpoints] == [0, 2]
    for (_, sa), (_, sb) in zip(a.checkpoints, b.checkpoints):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    # the saved folder loads with plain transformers, checkpoints too
    out = tmp_path / "out"
    m = transformers.AutoModelForCausalLM.from_pretrained(out, attn_implementation="eager")
    t = transformers.AutoTokenizer.from_pretrained(out)
    assert t("the cat")["input_ids"][0] == t.bos_token_id
    assert (out / "checkpoints" / "step_2" / "model.safetensors").is_file()
    assert json.loads((out / "training.json").read_text())["steps"] == 4
    x = torch.as_tensor([t("the cat sat")["input_ids"]])
    with torch.no_grad():
        assert torch.allclose(m(x).logits, b.model(x).logits, atol=1e-5)
