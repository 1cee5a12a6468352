"""Tiny random-weight models of several families, built from config classes (no downloads)."""

import inspect

import numpy as np
import torch
import transformers as tf

VOCAB = 30522  # MiniLM's BERT vocabulary, so its tokenizer drives every tiny model

COMMON = dict(vocab_size=VOCAB)


def build(family: str, attn_implementation: str = "eager", **overrides):
    torch.manual_seed(0)
    if family == "gpt2":
        cfg = tf.GPT2Config(n_layer=3, n_head=4, n_embd=32, n_positions=128, **COMMON)
        cls = tf.GPT2LMHeadModel
    elif family == "gpt_neox":
        cfg = tf.GPTNeoXConfig(num_hidden_layers=3, num_attention_heads=4, hidden_size=32,
                               intermediate_size=64, max_position_embeddings=128, **COMMON)
        cls = tf.GPTNeoXForCausalLM
    elif family == "llama":
        cfg = tf.LlamaConfig(num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=4,
                             hidden_size=32, intermediate_size=64, max_position_embeddings=128, **COMMON)
        cls = tf.LlamaForCausalLM
    elif family == "qwen2":  # grouped-query attention: 4 query heads share 2 key/value heads
        cfg = tf.Qwen2Config(num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                             hidden_size=32, intermediate_size=64, max_position_embeddings=128, **COMMON)
        cls = tf.Qwen2ForCausalLM
    elif family == "roberta":
        cfg = tf.RobertaConfig(num_hidden_layers=3, num_attention_heads=4, hidden_size=32,
                               intermediate_size=64, max_position_embeddings=130, pad_token_id=0, **COMMON)
        cls = tf.RobertaModel
    elif family == "distilbert":
        cfg = tf.DistilBertConfig(n_layers=3, n_heads=4, dim=32, hidden_dim=64,
                                  max_position_embeddings=128, **COMMON)
        cls = tf.DistilBertModel
    elif family == "bert":
        cfg = tf.BertConfig(num_hidden_layers=3, num_attention_heads=4, hidden_size=32,
                            intermediate_size=64, max_position_embeddings=128, **COMMON)
        cls = tf.BertModel
    else:
        raise ValueError(family)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    cfg._attn_implementation = attn_implementation
    model = cls(cfg)
    model.eval()
    return model


FAMILIES = ["gpt2", "gpt_neox", "llama", "qwen2", "roberta", "distilbert"]


def induction_circuit(noise: float = 0.003, seed: int = 0):
    """A hand-wired 2-layer, 2-head GPT-2 (MLPs off) with a known circuit, plus seeded noise:

    * L0H0 — previous-token head: query = own position, key = position + 1; its value reads the
      token and writes it into a "previous token" block of the residual stream;
    * L1H0 — induction head: query = current token, key = the previous-token block (K-composition
      with L0H0); its value copies the attended token into the token block, which the tied
      unembedding reads (so it also *copies*, and continues a needle after its cue);
    * L0H1, L1H1 — no role (only the noise).
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from headlab.zoo.train_toy import build_tokenizer

    tok = build_tokenizer(words=[f"w{i}" for i in range(50)], model_max_length=128)
    V, P, d, nh = len(tok), 128, 256, 2
    cfg = GPT2Config(vocab_size=V, n_positions=P, n_embd=d, n_layer=2, n_head=nh, n_inner=8,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True,
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.bos_token_id, pad_token_id=tok.pad_token_id)
    cfg._attn_implementation = "eager"
    model = GPT2LMHeadModel(cfg)
    PREV = V + P                                            # residual blocks: token | position | previous token
    a, b, c = 1.0, 1.2, 5.0
    s0, s1 = np.sqrt(d / 2), np.sqrt(d / 3)                 # LayerNorm scales with 2 and 3 unit entries
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.zero_()
            if "ln" in name and name.endswith("weight"):
                p.fill_(1.0)
        tr = model.transformer
        tr.wte.weight[torch.arange(V), torch.arange(V)] = 1.0
        tr.wpe.weight[torch.arange(P), V + torch.arange(P)] = 1.0
        W0, O0 = tr.h[0].attn.c_attn.weight, tr.h[0].attn.c_proj.weight
        W0[V + torch.arange(P), torch.arange(P)] = a                        # L0H0 query: position i
        W0[V + torch.arange(P - 1), d + 1 + torch.arange(P - 1)] = a        # L0H0 key: position j + 1
        W0[torch.arange(V), 2 * d + torch.arange(V)] = 1.0                  # value: the token
        O0[torch.arange(V), PREV + torch.arange(V)] = 1.0 / s0              # -> previous-token block
        W1, O1 = tr.h[1].attn.c_attn.weight, tr.h[1].attn.c_proj.weight
        W1[torch.arange(V), torch.arange(V)] = b                            # L1H0 query: current token
        W1[PREV + torch.arange(V), d + torch.arange(V)] = b                 # L1H0 key: previous token
        W1[torch.arange(V), 2 * d + torch.arange(V)] = 1.0                  # value: the token
        O1[torch.arange(V), torch.arange(V)] = c / s1                       # -> token block (logits)
        for blk in tr.h:
            for w in (blk.attn.c_attn.weight, blk.attn.c_proj.weight):
                w += noise * torch.randn(w.shape, generator=gen)
    model.eval()
    import headlab as hl

    return hl.load(model=model, tokenizer=tok, name="induction-circuit")


def reference(model, tokenizer, text):
    """Eager output_attentions for one unpadded input, [L, H, T, T], from an eager twin of ``model``
    (same weights), so that models running SDPA are checked against real eager weights too."""
    if model.config._attn_implementation != "eager":
        twin = type(model)(model.config.__class__.from_dict({**model.config.to_dict(), "_attn_implementation": "eager"}))
        twin.load_state_dict(model.state_dict())
        twin.config._attn_implementation = "eager"
        model = twin.eval()
    args = (text,) if isinstance(text, str) else text
    enc = tokenizer(*args, return_tensors="pt")
    accepted = inspect.signature(model.base_model.forward).parameters
    enc = {k: v for k, v in enc.items() if k in accepted and k in tokenizer.model_input_names}
    with torch.no_grad():
        out = model.base_model(**enc, output_attentions=True)
    return np.stack([a[0].numpy() for a in out.attentions])


def assert_matches_reference(m, texts):
    single = [m.attention(t) for t in texts]
    batched = m.attention(texts, batch_size=len(texts))  # padded to the longest
    for t, s, b in zip(texts, single, batched):
        ref = reference(m.model, m.tokenizer, t)
        assert s.weights.dtype == np.float32
        assert s.weights.shape == ref.shape == (m.n_layers, m.n_heads, len(s.tokens), len(s.tokens))
        np.testing.assert_allclose(s.weights, ref, atol=1e-5, rtol=0)
        np.testing.assert_allclose(b.weights, ref, atol=1e-5, rtol=0)


def long_induction_circuit(positions: int = 8200, frequencies: int = 48, seed: int = 0):
    """The induction circuit above for long inputs: positions as sinusoidal codes, not one-hots.

    Position ``i`` is written as ``[cos(w_f i), sin(w_f i), -cos(w_f i), -sin(w_f i)]`` over
    ``frequencies`` frequencies (periods from 2.1 to 8x the positions; the negated copy keeps
    the code's mean at 0, so LayerNorm scales every position alike). L0H0's query rotates the
    code by one step back, so ``q_i . k_j`` is proportional to ``sum_f cos(w_f (i - 1 - j))``,
    which peaks at ``j = i - 1`` over every position up to ``positions``; the LayerNorm bias on
    the position block cancels LayerNorm's mean shift there. Layer 1 is unchanged: its head
    matches the current token against the previous-token block and copies, so the model
    retrieves a needle from a haystack of thousands of tokens. L0H1 is an attention sink: a
    constant query meets a key that only the BOS token has.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from headlab.zoo.train_toy import build_tokenizer

    tok = build_tokenizer(words=[f"w{i}" for i in range(50)], model_max_length=positions)
    V, F, nh = len(tok), frequencies, 2
    POS, PREV = V, V + 4 * F                                # residual blocks: token | position code | previous token
    d = PREV + V + (-(PREV + V)) % (2 * nh)
    cfg = GPT2Config(vocab_size=V, n_positions=positions, n_embd=d, n_layer=2, n_head=nh, n_inner=8,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True,
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.bos_token_id, pad_token_id=tok.pad_token_id)
    model = GPT2LMHeadModel(cfg)                             # SDPA, transformers' default
    hd = d // nh
    w = 2 * np.pi / np.geomspace(2.1, 8 * positions, F)
    pos = np.arange(positions)[:, None] * w[None, :]
    code = np.concatenate([np.cos(pos), np.sin(pos), -np.cos(pos), -np.sin(pos)], axis=1) / np.sqrt(2 * F)
    s0, s1 = np.sqrt(d / 2), np.sqrt(d / 3)                  # LayerNorm scales: two, then three unit-norm parts
    a = float(np.sqrt(5.0 * F * np.sqrt(hd) / s0 ** 2))      # > 2 logits per unit of the cosine sum
    b, c = 1.2, 5.0
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.zero_()
            if "ln" in name and name.endswith("weight"):
                p.fill_(1.0)
        tr = model.transformer
        tr.wte.weight[torch.arange(V), torch.arange(V)] = 1.0
        tr.wpe.weight[:, POS:POS + 4 * F] = torch.as_tensor(code, dtype=torch.float32)
        tr.h[0].ln_1.bias[POS:POS + 4 * F] = s0 / d          # undo LayerNorm's mean shift on the code
        W0, O0 = tr.h[0].attn.c_attn.weight, tr.h[0].attn.c_proj.weight
        cos, sin = torch.as_tensor(np.cos(w), dtype=torch.float32), torch.as_tensor(np.sin(w), dtype=torch.float32)
        f = torch.arange(F)
        # L0H0 query: the (cos, sin) pairs rotated by -w_f (position i -> code of i - 1); key: the code itself
        W0[POS + f, f] = a * cos
        W0[POS + F + f, f] = a * sin
        W0[POS + f, F + f] = -a * sin
        W0[POS + F + f, F + f] = a * cos
        W0[POS + f, d + f] = a
        W0[POS + F + f, d + F + f] = a
        W0[torch.arange(V), 2 * d + torch.arange(V)] = 1.0                  # value: the token
        O0[torch.arange(V), PREV + torch.arange(V)] = 1.0 / s0              # -> previous-token block
        W0[torch.arange(V), hd] = 2.0                                       # L0H1 query: the same for every token
        W0[tok.bos_token_id, d + hd] = 2.0                                  # L0H1 key: only BOS has it (a sink)
        W1, O1 = tr.h[1].attn.c_attn.weight, tr.h[1].attn.c_proj.weight
        W1[torch.arange(V), torch.arange(V)] = b                            # L1H0 query: current token
        W1[PREV + torch.arange(V), d + torch.arange(V)] = b                 # L1H0 key: previous token
        W1[torch.arange(V), 2 * d + torch.arange(V)] = 1.0                  # value: the token
        O1[torch.arange(V), torch.arange(V)] = c / s1                       # -> token block (logits)
    model.eval()
    import headlab as hl

    return hl.load(model=model, tokenizer=tok, name="long-induction-circuit")
