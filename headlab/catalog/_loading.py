"""Reading catalogue files: the built-in ones, trusted and fast, and users' files, checked and capped.

Errors point at a file and line (``my_heads.yaml:12``) and at the entry involved, because a user extending
the catalogue needs to know where to look, not just what is wrong.

Two paths:

* The built-in files ship with headlab and are checked against the JSON Schema by the test suite and by
  ``scripts/check-catalog.py`` (``check_builtin``), so loading them neither imports jsonschema nor
  validates: that saves about a second of CPU in every process that touches the catalogue.
* A user's file (``load_file``) may be anything. It must be a regular file of at most
  ``MAX_FILE_BYTES``; YAML is composed by ``_yaml_safe`` (nesting and alias limits), JSON is depth
  checked; then the data is validated against the schema with short, line-numbered messages.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from headlab.catalog import _yaml_safe
from headlab.errors import CatalogError, InputError
from headlab.safe_io import check_depth

SECTIONS = ("heads", "papers", "instances", "models", "probes")

#: the largest catalogue file ``extend`` reads (the whole built-in catalogue is about 0.15 MB)
MAX_FILE_BYTES = 5 * 1024 * 1024

# Built-in files, loaded in this order. Papers first so that messages about heads can name them.
BUILTIN_FILES = (
    "papers.yaml",
    "models.yaml",
    "probes.yaml",
    "heads_kr.yaml",
    "heads_ici.yaml",
    "heads_lr.yaml",
    "heads_ep.yaml",
    "heads_other.yaml",
    "instances.yaml",
)


# libyaml is many times faster than the pure-Python parser; fall back when PyYAML was built without it.
_BaseLoader = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader


class _PlainLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that keeps dates as strings: '2024-01-16' is a paper date to us, not a datetime.date."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Record:
    """One item of one section of one file, with where it came from."""

    section: str
    data: dict[str, Any]
    where: str  # "file:line", for messages
    origin: str = "builtin"  # "builtin" or the path of the user's file

    @property
    def label(self) -> str:
        """How messages name the record: 'heads entry 'foo_head' (file:12)'."""
        ident = self.data.get("id") or self.data.get("type")
        what = {"heads": "head type", "papers": "paper", "instances": "instance", "models": "model", "probes": "probe"}
        name = f" '{ident}'" if ident else ""
        return f"{what[self.section]}{name} ({self.where})"


@dataclass
class Source:
    """The parsed content of one catalogue file."""

    name: str  # shown in messages: a file name for built-ins, the path given for extensions
    builtin: bool
    records: list[Record] = field(default_factory=list)


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The catalogue JSON Schema (draft 2020-12), shipped in headlab/catalog/schema/."""
    text = resources.files("headlab.catalog").joinpath("schema").joinpath("catalog.schema.json").read_text("utf-8")
    return json.loads(text)


# ---------------------------------------------------------------- built-in files

def load_builtin() -> list[Source]:
    """Parse the catalogue files that ship with headlab (trusted: no schema check, see the module doc)."""
    return [parse_text(_builtin_text(name), name, builtin=True) for name in BUILTIN_FILES]


def check_builtin() -> list[Source]:
    """Parse the shipped files as if a user had given them: limits, schema and all. For tests and the build."""
    return [parse_text(_builtin_text(name), name, builtin=True, validate=True) for name in BUILTIN_FILES]


def _builtin_text(name: str) -> str:
    return resources.files("headlab.catalog").joinpath("data").joinpath(name).read_text("utf-8")


# ---------------------------------------------------------------- users' files

def load_file(path: str | os.PathLike) -> Source:
    """Read, parse and schema-check a user's catalogue file (YAML, or JSON when it ends in .json)."""
    path = as_path(path)
    text = _read_capped(path)
    return parse_text(text, str(path), builtin=False, is_json=path.suffix.lower() == ".json")


def as_path(value: Any) -> Path:
    """``value`` as a Path when it is a str or os.PathLike naming something; ``CatalogError`` otherwise."""
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if isinstance(text, str) and text.strip():
            return Path(text).expanduser()
    from headlab.validate import describe  # noqa: PLC0415 - light, but only needed for this message

    raise CatalogError(
        f"extend() takes the path of a YAML or JSON catalogue file, as a str or pathlib.Path; got {describe(value)}. "
        "Pass e.g. hl.catalog.extend('my_heads.yaml')."
    )


def _read_capped(path: Path) -> str:
    try:
        info = path.stat()  # before opening: opening a FIFO would wait for a writer
    except FileNotFoundError:
        raise CatalogError(f"Catalogue file not found: {path}. Give the path of a .yaml or .json file.") from None
    except OSError as exc:
        raise CatalogError(f"Cannot read catalogue file {path}: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise CatalogError(f"{path} is a folder; give the path of a .yaml or .json catalogue file.")
    if not stat.S_ISREG(info.st_mode):
        raise CatalogError(f"{path} is not a regular file (a device, pipe or socket); give a .yaml or .json file.")
    _check_size(path, info.st_size)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise CatalogError(f"Cannot read catalogue file {path}: {exc.strerror or exc}.") from None
    _check_size(path, len(raw))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogError(f"{path}:{line}: not UTF-8 text (byte {exc.start}). Save the file as UTF-8.") from None


def _check_size(path: Path, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise CatalogError(
            f"{path} is {size / 2**20:.1f} MB; catalogue files may be at most {MAX_FILE_BYTES / 2**20:.0f} MB "
            "(the whole built-in catalogue is 0.15 MB). Check that it is the file you meant, or split it."
        )


# ---------------------------------------------------------------- parsing

def parse_text(text: str, name: str, *, builtin: bool = False, is_json: bool = False,
               validate: bool | None = None) -> Source:
    """Parse one file's text, check it against the schema and split it into records.

    ``validate`` defaults to True for users' files and False for built-in ones. Untrusted text (every
    user file, and built-in files when validating) goes through the nesting and alias limits.
    """
    validate = (not builtin) if validate is None else validate
    data, root = _parse(text, name, is_json, trusted=builtin and not validate)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogError(
            f"{name}: a catalogue file is a mapping with any of the lists {', '.join(SECTIONS)}; "
            f"this one holds {excerpt(data)}. See headlab/catalog/schema/catalog.schema.json."
        )
    if validate:
        from headlab.catalog import _schema_check  # noqa: PLC0415 - imports jsonschema, needed only here

        _schema_check.check(data, root, name, line_of)
    source = Source(name=name, builtin=builtin)
    for section in SECTIONS:
        items = data.get(section) or []
        for index, item in enumerate(items if isinstance(items, list) else []):
            line = line_of(root, (section, index))
            where = f"{name}:{line}" if line else f"{name} {section}[{index}]"
            source.records.append(Record(section, item, where, "builtin" if builtin else name))
    return source


def _parse(text: str, name: str, is_json: bool, trusted: bool) -> tuple[Any, yaml.Node | None]:
    """The file's data and its YAML node tree (kept only to find line numbers for messages)."""
    if is_json:
        return _parse_json(text, name), _compose_quietly(text, name)
    loader = _PlainLoader(text)
    try:
        # Trusted files use libyaml's composer (fast, but recursive in C and blind to aliases).
        root = loader.get_single_node() if trusted else _yaml_safe.compose(loader, name)
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise CatalogError(_yaml_message(exc, name)) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise CatalogError(f"{name}: a value cannot be read ({_clip(str(exc))}).") from None
    finally:
        loader.dispose()
    return data, root


def _parse_json(text: str, name: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}. Fix the file there (or write it as YAML).") from None
    except RecursionError:  # the C decoder guards its recursion; we turn that into a message
        raise CatalogError(f"{name}: lists and objects nest far too deeply to be read; check that this is "
                           "the file you meant.") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise CatalogError(f"{name}: a value cannot be read ({_clip(str(exc))}).") from None
    try:
        check_depth(data, limit=_yaml_safe.MAX_DEPTH, what=name)
    except InputError as exc:
        raise CatalogError(str(exc)) from None
    return data


def _compose_quietly(text: str, name: str) -> yaml.Node | None:
    """The node tree of JSON text read as YAML, for line numbers; None when YAML reads it differently."""
    loader = _PlainLoader(text)
    try:
        return _yaml_safe.compose(loader, name)
    except (yaml.YAMLError, CatalogError):
        return None
    finally:
        loader.dispose()


def _yaml_message(exc: yaml.YAMLError, name: str) -> str:
    # The problem mark is where the parser gave up; the context mark is where the broken construct
    # (an unclosed bracket, a badly indented list) starts. Both help, so both are shown.
    start = exc.context_mark if isinstance(exc, yaml.MarkedYAMLError) else None
    stop = exc.problem_mark if isinstance(exc, yaml.MarkedYAMLError) else None
    mark = stop or start
    where = f"{name}:{mark.line + 1}" if mark else name
    problem = (exc.problem if isinstance(exc, yaml.MarkedYAMLError) else None) or str(exc)
    if "maximum nesting depth" in problem:
        # newer libyaml scanners (PyYAML >= 6.0.4 wheels) refuse deep nesting before the
        # composer's own limit is reached: say the same thing either way
        return _yaml_safe.too_deep(where)
    context = exc.context if isinstance(exc, yaml.MarkedYAMLError) else None
    detail = f" ({context} that starts at line {start.line + 1})" if start and context else ""
    return f"{where}: not valid YAML: {_clip(problem)}{detail}."


def line_of(root: yaml.Node | None, path: tuple) -> int | None:
    """1-based line of the deepest node along a JSON path; None when the tree is unavailable."""
    node, line = root, None
    for step in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def excerpt(value: Any, limit: int = 60) -> str:
    """A short description of a value for a message, built without a full repr of big values."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[: limit - 3]) + f"... ({len(value):,} characters)"
    if isinstance(value, dict):
        return f"a mapping with {len(value):,} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value):,} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a number of about {value.bit_length() * 0.30103:,.0f} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
