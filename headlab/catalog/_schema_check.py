"""Checking a user's catalogue file against the JSON Schema, with messages that point at lines.

Only files given to ``extend`` (and the build's own check, ``scripts/check-catalog.py``) come here:
importing jsonschema and validating costs about a second of CPU, which the built-in catalogue, checked
by the test suite, does not need to pay in every process.

jsonschema writes ``repr(instance)`` into its messages as it finds each problem, so a hostile file
(a 4 MB string where an id belongs, a huge list where a mapping belongs) would make every message as
big as the file. The keywords whose messages quote the instance are replaced here by versions that
quote a short excerpt instead; their meaning is unchanged.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import Any, Callable

import jsonschema
from jsonschema.exceptions import ValidationError

from headlab.catalog._loading import SECTIONS, excerpt, schema
from headlab.errors import CatalogError

#: at most this many problems are collected (and the first ten shown)
MAX_ERRORS = 200
_SHOWN = 10


def check(data: Any, root: Any, name: str, line_of: Callable[[Any, tuple], int | None]) -> None:
    """Raise ``CatalogError`` listing the schema problems of ``data`` (a parsed file), first one first."""
    found = list(itertools.islice(_validator().iter_errors(data), MAX_ERRORS + 1))
    if not found:
        return
    capped = len(found) > MAX_ERRORS
    found = sorted(found[:MAX_ERRORS], key=lambda e: [str(step) for step in e.absolute_path])
    raise CatalogError(_describe(found, capped, data, root, name, line_of))


# ---------------------------------------------------------------- keywords with short messages

def _type(validator, types, instance, schema):
    types = [types] if isinstance(types, str) else list(types)
    if not any(validator.is_type(instance, t) for t in types):
        yield ValidationError(f"{excerpt(instance)} is not of type {', '.join(map(repr, types))}")


def _same(a: Any, b: Any) -> bool:
    # JSON Schema keeps true and 1 apart; Python's == does not.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _enum(validator, enums, instance, schema):
    if not any(_same(instance, e) for e in enums):
        yield ValidationError(f"{excerpt(instance)} is not one of {', '.join(map(repr, enums))}")


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.search(pattern, instance):
        yield ValidationError(f"{excerpt(instance)} does not match {pattern!r}")


def _min_length(validator, limit, instance, schema):
    if validator.is_type(instance, "string") and len(instance) < limit:
        yield ValidationError(f"{excerpt(instance)} is shorter than {limit} characters")


def _max_length(validator, limit, instance, schema):
    if validator.is_type(instance, "string") and len(instance) > limit:
        yield ValidationError(f"{excerpt(instance)} is longer than the {limit:,} characters allowed here")


def _one_of(validator, one_of, instance, schema):
    matching = [i for i, sub in enumerate(one_of) if validator.evolve(schema=sub).is_valid(instance)]
    if not matching:
        yield ValidationError(f"{excerpt(instance)} is not an allowed value here")
    elif len(matching) > 1:
        yield ValidationError(f"{excerpt(instance)} fits more than one of the allowed forms")


def _additional_properties(validator, allowed, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    extras = [key for key in instance if key not in known]
    if allowed is False and extras:
        shown = ", ".join(excerpt(k, 40) for k in extras[:5]) + (f" and {len(extras) - 5} more" if len(extras) > 5 else "")
        yield ValidationError(f"unknown field(s) {shown}")
    elif isinstance(allowed, dict):
        for key in extras:
            yield from validator.descend(instance[key], allowed, path=key)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    short = jsonschema.validators.extend(jsonschema.Draft202012Validator, {
        "type": _type, "enum": _enum, "pattern": _pattern, "minLength": _min_length, "maxLength": _max_length,
        "oneOf": _one_of, "additionalProperties": _additional_properties,
    })
    return short(schema())


# ---------------------------------------------------------------- messages

def _describe(errors: list, capped: bool, data: Any, root: Any, name: str, line_of) -> str:
    """First line: the first problem, complete on its own (the CLI shows only that); then the others."""
    lines = []
    for err in errors:
        path = tuple(err.absolute_path)
        line = line_of(root, path)
        where = f"{name}:{line}" if line else name
        lines.append(f"{where}: {_owner(data, path)}{_json_path(path)}: {err.message}")
    extra = len(lines) - 1
    more = f" (and {'at least ' if capped else ''}{extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    rest = [f"  {text}" for text in lines[1:_SHOWN]] + (["  ..."] if len(lines) > _SHOWN else [])
    return "\n".join([lines[0] + more + ". Catalogue files follow headlab/catalog/schema/catalog.schema.json.", *rest])


def _owner(data: Any, path: tuple) -> str:
    """"'foo_head' " when the error sits inside an identifiable record."""
    if len(path) >= 2 and path[0] in SECTIONS and isinstance(path[1], int):
        items = data.get(path[0]) if isinstance(data, dict) else None
        item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        ident = item.get("id") or item.get("type") if isinstance(item, dict) else None
        if isinstance(ident, str) and ident:
            return f"{excerpt(ident, 40)} "
    return ""


def _json_path(path: tuple) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            text = str(step) if len(str(step)) <= 40 else str(step)[:37] + "..."
            out += f".{text}" if out else text
    return out or "(top level)"
