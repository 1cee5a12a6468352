"""Tiny random-weight models of several families, built from config classes (no downloads)."""

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
