"""``ModelSpec``: which model to load, as plain data a worker on another machine can act on.

A loaded ``HeadModel`` cannot travel to a worker (gigabytes of weights, open devices); its
spec can: the name given to ``hl.load`` (a zoo name, a folder, a hub name, or None for the
embedded default) and the loading options.  Every worker loads the model once from the spec.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from headlab import validate as V
from headlab.errors import InputError

__all__ = ["ModelSpec"]


def _absolute_if_folder(name: str) -> str:
    """A folder here becomes an absolute path (workers do not share the driver's working
    folder); zoo and hub names stay as they are, as ``hl.load`` reads them."""
    from headlab import zoo

    if name in zoo.ZOO:
        return name
    path = Path(name).expanduser()
    return str(path.resolve()) if path.is_dir() else name


@dataclass(frozen=True)
class ModelSpec:
    """How to load a model: ``hl.load(name, **options)`` on every worker.

    Attributes:
        name: zoo name, model folder (a path every worker can read: a shared file system, or
            the same path on every node) or hub name; None for the embedded default model.
        device: where each worker puts the model (``"cpu"``, ``"cuda"``; a worker gets its
            own GPU from Ray, so ``"cuda"`` is that GPU).
        options: further keyword arguments of ``hl.load`` as plain data (e.g.
            ``{"trust_remote_code": True}``, and ``dtype`` / ``device_map`` where this
            headlab's ``hl.load`` takes them).
    """

    name: str | None = None
    device: str = "cpu"
    options: dict = field(default_factory=dict)

    @classmethod
    def of(cls, model: Any = None, **options) -> "ModelSpec":
        """A spec from what a user passes: None, a name or folder, a ``ModelSpec``, a dict
        ``{"name": ..., "device": ..., "options": {...}}``, or a ``HeadModel`` that remembers
        how it was loaded (its ``load_spec`` attribute)."""
        if isinstance(model, ModelSpec):
            spec = model
        elif model is None or isinstance(model, (str, os.PathLike)):
            spec = cls(None if model is None else _absolute_if_folder(os.fspath(model)))
        elif isinstance(model, dict):
            unknown = set(model) - {"name", "device", "options"}
            if unknown:
                raise InputError(f"A model spec dict takes the keys name, device and options; got {sorted(unknown)}.")
            spec = cls(model.get("name"), model.get("device", "cpu"), dict(model.get("options") or {}))
        elif getattr(model, "load_spec", None) is not None:
            spec = cls.of(model.load_spec)
        else:
            raise InputError(
                f"Workers load the model themselves, so they need its name, not a loaded model "
                f"({V.describe(model)}). Pass the name or folder you gave hl.load (or nothing for the "
                "default model), e.g. hl.scan('toy-induction', texts, engine='ray').")
        if options:
            device = options.pop("device", spec.device)
            spec = cls(spec.name, device, {**spec.options, **options})
        spec.check()
        return spec

    def check(self) -> None:
        """Refuse options this headlab's ``hl.load`` does not take, before any worker starts."""
        if self.name is not None and not isinstance(self.name, str):
            raise InputError(f"The model name must be a string or None; got {V.describe(self.name)}.")
        if not isinstance(self.device, str) or not self.device:
            raise InputError(f"device must be a string; got {V.describe(self.device)}. Pass e.g. device='cpu' or 'cuda'.")
        from headlab.model import load

        accepted = set(inspect.signature(load).parameters) - {"name", "model", "tokenizer", "device"}
        unknown = sorted(set(self.options) - accepted)
        if unknown:
            raise InputError(f"hl.load does not take {unknown}; it takes {sorted(accepted)}. "
                             "Drop those options from the model spec.")

    @property
    def uses_gpu(self) -> bool:
        """Whether each worker needs a GPU (Ray then gives it one)."""
        return self.device.startswith("cuda") or self.options.get("device_map") not in (None, "cpu")

    def load(self):
        """``hl.load`` with this spec; the worker's model."""
        from headlab.model import load

        return load(self.name, device=self.device, **self.options)

    def as_dict(self) -> dict:
        """Plain JSON for the report's provenance."""
        return {k: v for k, v in asdict(self).items()}
