"""Placement: dtype, accelerate's device_map with CPU and disk offload, and bad device options."""

import numpy as np
import pytest

import headlab as hl
from headlab.errors import InputError
from tiny_models import build

TEXT = "The cat sat on the mat, and then it slept for a very long time."


@pytest.fixture(scope="module")
def saved(tmp_path_factory, bert_tokenizer):
    """A tiny Llama (SDPA) saved as safetensors with its tokenizer."""
    folder = tmp_path_factory.mktemp("tiny-llama")
    build("llama", attn_implementation="sdpa").save_pretrained(folder, safe_serialization=True)
    bert_tokenizer.save_pretrained(folder)
    return folder


def test_device_map_with_cpu_and_disk_offload_captures_the_same_attention(saved, tmp_path):
    pytest.importorskip("accelerate")
    plain = hl.load(saved)
    device_map = {"model.embed_tokens": "cpu", "model.layers.0": "cpu", "model.layers.1": "disk",
                  "model.layers.2": "disk", "model.norm": "cpu", "model.rotary_emb": "cpu", "lm_head": "cpu"}
    sharded = hl.load(saved, device_map=device_map, offload_folder=tmp_path / "offload")
    assert sharded.model.hf_device_map["model.layers.1"] == "disk"
    np.testing.assert_allclose(sharded.attention(TEXT).weights, plain.attention(TEXT).weights, atol=1e-6)
    a = plain.roles([TEXT, "Another sentence here, short."], roles=["previous", "bos"], n_boot=20)
    b = sharded.roles([TEXT, "Another sentence here, short."], roles=["previous", "bos"], n_boot=20)
    np.testing.assert_allclose(a.table.score, b.table.score, atol=1e-6)
    assert sharded.attn_implementation == "sdpa"


@pytest.mark.parametrize("dtype,tol", [("bfloat16", 3e-2), ("float16", 3e-3)])
def test_half_precision_models_give_close_attention(saved, dtype, tol):
    full = hl.load(saved).attention(TEXT).weights
    half = hl.load(saved, dtype=dtype)
    assert str(next(half.model.parameters()).dtype).endswith(dtype)
    w = half.attention(TEXT).weights
    assert w.dtype == np.float32                       # the weights come back as float32 arrays
    np.testing.assert_allclose(w, full, atol=tol)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)


def test_bad_placement_options_say_what_to_do(saved):
    with pytest.raises(InputError, match="not both"):
        hl.load(saved, device="cpu", device_map="auto")
    with pytest.raises(InputError, match="device_map"):
        hl.load(saved, max_memory={"cpu": "1GB"})
    with pytest.raises(InputError, match="dtype"):
        hl.load(saved, dtype="float8")
    with pytest.raises(InputError, match="device"):
        hl.load(saved, device=42)
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA"):
            hl.load(saved, device="cuda")
