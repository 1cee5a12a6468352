"""The report table: its columns and dtypes, JSON-safe values, and checks of per-sample arrays."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np
import pandas as pd

from headlab.errors import InputError
from headlab.version import __version__

FORMAT = "headlab.report"
FORMAT_VERSION = 1

# Table columns, in order, with the dtype each is restored to on load.
_COLUMNS: dict[str, str] = {
    "role": "str",
    "layer": "int",
    "head": "int",
    "score": "float",
    "ci_low": "float",
    "ci_high": "float",
    "p_value": "float",
    "q_value": "float",
    "significant": "bool",
    "n": "int",
    "effect_size": "float",
    "sd": "float",
    "statistic": "float",
    "null": "float",
    "method": "str",
    "test": "str",
    "catalog": "list",
    "published": "list",
}


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _version() -> str:
    return __version__


def _json_safe(value: Any) -> Any:
    """Plain-JSON version of ``value``: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or isinstance(value, (str, int)):
        return value
    return str(value)


def _check_samples(samples) -> tuple[list[str], dict[str, np.ndarray], tuple[int, int, int]]:
    """Validate ``{role: [N, L, H]}``; return roles, float arrays and (N, L, H)."""
    if not isinstance(samples, dict) or not samples:
        raise InputError("samples must be a non-empty dict {role id: float array [N, n_layers, n_heads]}; pass e.g. "
                         "{'local': scores} with scores of shape [N, n_layers, n_heads].")
    roles, arrays, shape = [], {}, None
    for role, x in samples.items():
        if not isinstance(role, str) or not role:
            raise InputError(f"Role ids must be non-empty strings; got {role!r}. Name each role, e.g. 'local'.")
        arr = np.array(x, copy=True)  # the report owns its data; later edits of x do not leak in
        if arr.dtype.kind not in "fiub":
            raise InputError(f"samples[{role!r}] must be numeric; got dtype {arr.dtype}. Pass float scores (NaN = not applicable).")
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float64)
        if arr.ndim != 3:
            raise InputError(
                f"samples[{role!r}] must have shape [N, n_layers, n_heads]; got {arr.shape}. "
                "Add a samples axis first (one score per sample, layer and head)."
            )
        if shape is None:
            shape = arr.shape
        elif arr.shape != shape:
            raise InputError(
                f"All roles must share one shape [N, n_layers, n_heads]; {roles[0]!r} has {shape} "
                f"but {role!r} has {arr.shape}. Score every role on the same samples (NaN = not applicable)."
            )
        if np.isinf(arr).any():
            raise InputError(f"samples[{role!r}] contains infinite values; use NaN for 'not applicable'.")
        if arr.shape[0] == 0:
            raise InputError("There are no samples (N = 0); pass at least one row of scores per role.")
        roles.append(role)
        arrays[role] = arr
    return roles, arrays, shape


def _null_for(null, role: str) -> float:
    if isinstance(null, dict):
        if role not in null:
            raise InputError(f"null is a dict but has no value for role {role!r}; give one for every role.")
        return float(null[role])
    return float(null)


def _normalise_table(table: pd.DataFrame) -> pd.DataFrame:
    """Fix dtypes so that a freshly built and a loaded table are identical."""
    for c, kind in _COLUMNS.items():
        if c not in table.columns:
            continue
        if kind == "float":
            table[c] = table[c].astype(np.float64)
        elif kind == "int":
            table[c] = table[c].astype(np.int64)
        elif kind == "bool":
            table[c] = table[c].astype(bool)
        elif kind == "str":
            table[c] = table[c].astype(object).map(str)
        elif kind == "list":
            table[c] = pd.Series([list(v) for v in table[c]], index=table.index, dtype=object)
    return table


def _table_from_columns(columns: list[str], data: dict) -> pd.DataFrame:
    cols = {}
    for c in columns:
        values = data[c]
        kind = _COLUMNS.get(c, "float" if all(v is None or isinstance(v, (int, float)) for v in values) else "object")
        if kind == "float":
            cols[c] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        else:
            cols[c] = values
    table = pd.DataFrame(cols, columns=columns)
    return _normalise_table(table)
