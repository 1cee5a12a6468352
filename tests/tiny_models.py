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
