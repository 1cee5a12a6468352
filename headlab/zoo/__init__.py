"""Small trained models that ship with headlab.

``ZOO`` maps a zoo name to the folder holding a ``transformers`` model and tokenizer saved with
``save_pretrained`` (safetensors weights).  ``hl.load(name)`` loads them offline.
This module does not import torch.
"""

from __future__ import annotations

import pathlib
import re

from headlab.errors import ModelLoadError

_HERE = pathlib.Path(__file__).resolve().parent

#: zoo name -> folder with config.json, model.safetensors and the tokenizer files
ZOO: dict[str, pathlib.Path] = {
    "toy-induction": _HERE / "toy_induction",
}

__all__ = ["ZOO", "checkpoints", "zoo_path"]


def zoo_path(name: str) -> pathlib.Path:
    """The folder of the zoo model ``name``; raises :class:`headlab.ModelLoadError` if unknown."""
    try:
        path = ZOO[name]
    except (KeyError, TypeError):
        raise ModelLoadError(
            f"{name!r} is not a headlab zoo model; available: {', '.join(sorted(ZOO))}. "
            "Pass one of these names, a hub name or a local path."
        ) from None
    if not (path / "config.json").is_file():
        raise ModelLoadError(
            f"the files of zoo model {name!r} are missing from {path}; reinstall headlab or "
            "run `python -m headlab.zoo.train_toy` to train it again."
        )
    return path


def checkpoints(name: str) -> list[tuple[int, pathlib.Path]]:
    """Training checkpoints shipped with a zoo model, as ``(step, folder)`` sorted by step
    (empty if none).  Each folder loads like the final model."""
    root = zoo_path(name) / "checkpoints"
    out = []
    if root.is_dir():
        for p in root.iterdir():
            m = re.fullmatch(r"step_(\d+)", p.name)
            if m and (p / "config.json").is_file():
                out.append((int(m.group(1)), p))
    return sorted(out)
