"""Binary packing of numpy arrays for the front end: float32, float16, or uint8 scaled per row.

Arrays travel as ``{shape, dtype, buf[, scale]}`` with ``memoryview`` buffers, which ipywidgets
sends as binary comm buffers (no base64, no JSON numbers) and the front end reads as
``DataView`` (``js/src/codec.ts`` is the other half).
"""

from __future__ import annotations

import numpy as np

from headlab.errors import InputError

__all__ = ["pack_array", "unpack_array"]


def pack_array(arr: np.ndarray, dtype: str = "float32") -> dict:
    """numpy array -> ``{shape, dtype, buf[, scale]}`` with memoryviews (sent as comm buffers).

    ``dtype``: ``float32``, ``float16`` or ``uint8``. ``uint8`` stores each row scaled to its
    own maximum (``scale`` holds the float32 row maxima), which keeps the strongest weights of
    every query exact to 1/255 of that row's maximum.
    """
    a = np.asarray(arr, dtype=np.float32)
    if dtype == "float32":
        return {"shape": list(a.shape), "dtype": "float32", "buf": memoryview(np.ascontiguousarray(a, "<f4"))}
    if dtype == "float16":
        return {"shape": list(a.shape), "dtype": "float16", "buf": memoryview(np.ascontiguousarray(a, "<f2"))}
    if dtype == "uint8":
        rows = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
        mx = np.nanmax(np.abs(rows), axis=1) if rows.size else np.zeros(0, np.float32)
        mx = np.where(np.isfinite(mx) & (mx > 0), mx, 1.0).astype("<f4")
        q = np.clip(np.rint(np.nan_to_num(rows / mx[:, None]) * 255), 0, 255).astype(np.uint8)
        return {"shape": list(a.shape), "dtype": "uint8", "buf": memoryview(np.ascontiguousarray(q)),
                "scale": memoryview(np.ascontiguousarray(mx))}
    raise InputError(f"encoding must be 'float32', 'float16' or 'uint8', not {dtype!r}; pass one of these")


def unpack_array(p: dict) -> np.ndarray:
    """Inverse of :func:`pack_array` (used by tests and by Python-side consumers)."""
    shape = tuple(p["shape"])
    if p["dtype"] == "float32":
        return np.frombuffer(bytes(p["buf"]), "<f4").reshape(shape)
    if p["dtype"] == "float16":
        return np.frombuffer(bytes(p["buf"]), "<f2").astype(np.float32).reshape(shape)
    if p["dtype"] == "uint8":
        q = np.frombuffer(bytes(p["buf"]), np.uint8).astype(np.float32).reshape(-1, shape[-1])
        mx = np.frombuffer(bytes(p["scale"]), "<f4")
        return (q / 255.0 * mx[:, None]).reshape(shape)
    raise InputError(f"unknown dtype {p['dtype']!r}; pass only what pack_array wrote (float32, float16, uint8)")
