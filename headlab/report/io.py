"""Saving and loading reports: ``<stem>.json`` (table, provenance) + ``<stem>.npz`` (per-sample arrays).

No pickle: the arrays are read with ``allow_pickle=False``, the JSON is size- and depth-capped
(``headlab.safe_io``), and both files are written atomically (temporary file + rename), so an
interrupted save never destroys the previous report.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

from headlab import safe_io
from headlab import validate as V
from headlab.errors import InputError
from headlab.report.table import FORMAT, FORMAT_VERSION, _json_safe, _table_from_columns

__all__ = ["to_json_dict", "save", "read"]

#: no axis of a saved report is this long (a guard against absurd shapes in hand-edited files)
MAX_SIZE = 10_000_000


def _stem(path) -> pathlib.Path:
    """``run1``, ``run1.json`` or ``run1.npz`` -> ``run1`` (the pair of files shares a stem)."""
    p = V.path("path", path)
    return p.with_suffix("") if p.suffix in (".json", ".npz") else p


def to_json_dict(rep) -> dict:
    """JSON-safe dict (no NaN: None) with format, version, provenance, shape, roles and the
    table as a list of records -- what ``headlab scan`` writes and the HTML report embeds."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "provenance": _json_safe(rep.provenance),
        "roles": list(rep.roles),
        "n_layers": rep.n_layers,
        "n_heads": rep.n_heads,
        "n_samples": rep.n_samples,
        "alpha": rep.alpha,
        "model_name": rep.model_name,
        "method": rep.method,
        "catalog_by_role": _json_safe(rep.catalog_by_role),
        "table": _json_safe(rep.table.to_dict(orient="records")),
    }


def save(rep, path) -> pathlib.Path:
    """Write ``<path>.json`` (table, provenance) and ``<path>.npz`` (per-sample arrays), each
    atomically. ``path`` may be given with or without the ``.json`` suffix. Returns the JSON path.

    The arrays are written first: a crash between the two files leaves the old JSON pointing at
    either the old or the new arrays, which have the same shape only if nothing changed, and
    :func:`read` checks shapes against the table.
    """
    stem = _stem(path)
    json_path = stem.with_name(stem.name + ".json")
    npz_path = stem.with_name(stem.name + ".npz")
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "samples_file": npz_path.name,
        "roles": list(rep.roles),
        "shape": [rep.n_samples, rep.n_layers, rep.n_heads],
        "sample_ids": rep.sample_ids,
        "provenance": _json_safe(rep.provenance),
        "catalog_by_role": rep.catalog_by_role,
        "columns": list(rep.table.columns),
        "table": {c: _json_safe(rep.table[c].tolist()) for c in rep.table.columns},
    }
    text = json.dumps(doc, allow_nan=False)
    arrays = {f"s{i}": rep._samples[r] for i, r in enumerate(rep.roles)}
    safe_io.write_with(npz_path, lambda tmp: np.savez_compressed(tmp, **arrays))
    safe_io.write_text(json_path, text)
    return json_path


def read(path) -> tuple:
    """Read a report written by :func:`save` (the stem or the ``.json`` path) and check it.

    Returns ``(table, samples, provenance, sample_ids, catalog_by_role)``, the arguments of
    ``Report(...)``. Everything is validated here, on load, so a damaged or hand-edited file
    (a layer outside the shape, a role missing from the arrays, ...) fails now with a clear
    ``InputError`` instead of later, inside some analysis.
    """
    stem = _stem(path)
    json_path = stem.with_name(stem.name + ".json")
    if not json_path.is_file():
        raise InputError(f"No report at {json_path}; give the path used with rep.save(path).")
    doc = safe_io.read_json(json_path, what=str(json_path))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f"{json_path} is not a headlab report (missing \"format\": \"{FORMAT}\"); "
                         "give the .json written by rep.save().")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"{json_path} has an invalid report version {V.describe(version)}; the file is damaged. "
                         "Save the report again from its source.")
    if version > FORMAT_VERSION:
        raise InputError(
            f"{json_path} was written in report format version {version}, newer than this headlab "
            f"reads (version {FORMAT_VERSION}); upgrade headlab (pip install -U headlab)."
        )
    try:
        npz_name = str(doc.get("samples_file") or stem.name + ".npz")
        if pathlib.PurePath(npz_name).name != npz_name or npz_name in (".", ".."):
            raise InputError(f"{json_path} names its arrays file {npz_name!r}; it must be a file next to the JSON. "
                             "Save the report again with rep.save(path).")
        return _from_doc(doc, json_path.with_name(npz_name), json_path)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        raise InputError(f"{json_path} is a damaged headlab report ({type(err).__name__}: "
                         f"{V.describe(err.args[0] if err.args else '')}). Save the report again from its source.") from None


def _damaged(json_path, what: str) -> InputError:
    return InputError(f"{json_path} is a damaged headlab report: {what}. Save the report again from its source.")


def _from_doc(doc: dict, npz_path: pathlib.Path, json_path: pathlib.Path) -> tuple:
    roles = doc["roles"]
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) and r for r in roles):
        raise _damaged(json_path, "'roles' must be a non-empty list of role ids")
    if len(set(roles)) != len(roles):
        raise _damaged(json_path, "a role is listed twice")
    shape = doc["shape"]
    if (not isinstance(shape, list) or len(shape) != 3
            or not all(isinstance(s, int) and not isinstance(s, bool) and 0 < s <= MAX_SIZE for s in shape)):
        raise _damaged(json_path, f"'shape' must be three positive whole numbers [N, layers, heads], got {V.describe(shape)}")
    shape = tuple(shape)
    N, L, H = shape
    try:
        with np.load(npz_path, allow_pickle=False) as z:
            missing = [f"s{i}" for i in range(len(roles)) if f"s{i}" not in z.files]
            if missing:
                raise InputError(f"{npz_path} lacks the arrays {missing[:3]} for this report's roles; keep the .npz "
                                 "that was saved together with the .json.")
            samples = {r: z[f"s{i}"] for i, r in enumerate(roles)}
    except FileNotFoundError:
        raise InputError(f"The per-sample arrays {npz_path} are missing; keep the .npz next to the .json.") from None
    except (ValueError, KeyError, OSError, EOFError) as err:
        raise InputError(f"Could not read the per-sample arrays {npz_path} ({type(err).__name__}); "
                         "keep the .npz that was saved together with the .json.") from None
    for r, arr in samples.items():
        if arr.shape != shape or arr.dtype.kind != "f":
            raise _damaged(json_path, f"the array of role {r!r} has shape {arr.shape} / dtype {arr.dtype}, "
                                      f"expected float {shape}")
    columns = doc["columns"]
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise _damaged(json_path, "'columns' must be a list of column names")
    data = doc["table"]
    if not isinstance(data, dict) or any(not isinstance(data.get(c), list) for c in columns):
        raise _damaged(json_path, "'table' must map every column to a list")
    table = _table_from_columns(columns, data)
    if len(table) != len(roles) * L * H:
        raise _damaged(json_path, f"the table has {len(table)} rows, expected {len(roles) * L * H} (roles x layers x heads)")
    for c in ("role", "layer", "head"):
        if c not in table.columns:
            raise _damaged(json_path, f"the table has no {c!r} column")
    if not set(table["role"]).issubset(roles):
        raise _damaged(json_path, "the table names roles that the report does not list")
    for c, size in (("layer", L), ("head", H)):
        bad = (table[c] < 0) | (table[c] >= size)
        if bad.any():
            raise _damaged(json_path, f"the table names {c} {int(table.loc[bad, c].iloc[0])}, outside 0-{size - 1}")
    sample_ids = doc.get("sample_ids")
    if sample_ids is not None and (not isinstance(sample_ids, list) or len(sample_ids) != N):
        raise _damaged(json_path, f"'sample_ids' must list one id per sample ({N})")
    prov = doc["provenance"]
    if not isinstance(prov, dict) or not isinstance(prov.get("alpha"), (int, float)) or isinstance(prov.get("alpha"), bool):
        raise _damaged(json_path, "'provenance' must be an object with a numeric alpha")
    prov = dict(prov)
    if isinstance(prov.get("null"), dict):
        prov["null"] = {k: float("nan") if v is None else v for k, v in prov["null"].items()}
    by_role = doc.get("catalog_by_role")
    if by_role is not None and not isinstance(by_role, dict):
        raise _damaged(json_path, "'catalog_by_role' must be an object")
    return table, samples, prov, sample_ids, by_role
