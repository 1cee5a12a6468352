"""Reading catalogue files and checking them against the JSON Schema.

Errors point at a file and line (``my_heads.yaml:12``) and at the entry involved, because a user extending
the catalogue needs to know where to look, not just what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from headlab.errors import CatalogError

if TYPE_CHECKING:
    import jsonschema

SECTIONS = ("heads", "papers", "instances", "models", "probes")

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
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


@lru_cache(maxsize=1)
def _validator() -> "jsonschema.Draft202012Validator":
    # Imported on first validation, not with the package: importing jsonschema can take seconds
    # (its optional format checkers build grammars), and `import headlab` should not pay for that.
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def load_builtin() -> list[Source]:
    """Parse and schema-check the catalogue files that ship with headlab."""
    data_dir = resources.files("headlab.catalog").joinpath("data")
    return [parse_text(data_dir.joinpath(name).read_text("utf-8"), name, builtin=True) for name in BUILTIN_FILES]


def load_file(path: str | Path) -> Source:
    """Parse and schema-check a user's catalogue file (YAML or JSON)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise CatalogError(f"Catalogue file not found: {path}. Give the path of a .yaml or .json file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"Cannot read catalogue file {path}: {exc}") from None
    return parse_text(text, str(path), builtin=False, is_json=path.suffix.lower() == ".json")


def parse_text(text: str, name: str, *, builtin: bool = False, is_json: bool = False) -> Source:
    """Parse one file's text, validate it against the schema and split it into records."""
    data, root = _parse(text, name, is_json)
    if data is None:
        data = {}
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(step) for step in e.absolute_path])
    if errors:
        raise CatalogError(_describe_schema_errors(errors, data, root, name))
    source = Source(name=name, builtin=builtin)
    for section in SECTIONS:
        for index, item in enumerate(data.get(section) or []):
            line = _line_of(root, (section, index))
            where = f"{name}:{line}" if line else f"{name} {section}[{index}]"
            source.records.append(Record(section, item, where, "builtin" if builtin else name))
    return source


def _parse(text: str, name: str, is_json: bool) -> tuple[Any, yaml.Node | None]:
    """The file's data and its YAML node tree (kept only to find line numbers for messages)."""
    if is_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}.") from None
        return data, _compose(text)  # JSON is YAML too, nearly always
    loader = _PlainLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        # The problem mark is where the parser gave up; the context mark is where the broken construct
        # (an unclosed bracket, a badly indented list) starts. Both help, so both are shown.
        start, stop = getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)
        mark = stop or start
        where = f"{name}:{mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f" ({context} that starts at line {start.line + 1})" if start and context else ""
        raise CatalogError(f"{where}: not valid YAML: {problem}{detail}.") from None
    finally:
        loader.dispose()
    return data, root


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_PlainLoader)
    except yaml.YAMLError:
        return None


def _line_of(root: yaml.Node | None, path: tuple) -> int | None:
    """1-based line of the deepest node along a JSON path; None when the tree is unavailable."""
    node, line = root, None
    for step in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _describe_schema_errors(errors: list, data: Any, root: yaml.Node | None, name: str) -> str:
    """First line: the first problem, complete on its own (the CLI shows only that); then the others."""
    lines = []
    for err in errors:
        path = tuple(err.absolute_path)
        line = _line_of(root, path)
        where = f"{name}:{line}" if line else name
        lines.append(f"{where}: {_owner(data, path)}{_json_path(path)}: {_short(err)}")
    extra = len(lines) - 1
    first = lines[0] + (f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else "")
    rest = [f"  {text}" for text in lines[1:10]] + (["  ..."] if len(lines) > 10 else [])
    return "\n".join([first + ". Catalogue files follow headlab/catalog/schema/catalog.schema.json.", *rest])


def _owner(data: Any, path: tuple) -> str:
    """'head type 'foo_head' ' when the error sits inside an identifiable record."""
    if len(path) >= 2 and path[0] in SECTIONS and isinstance(path[1], int):
        try:
            item = data[path[0]][path[1]]
        except (KeyError, IndexError, TypeError):
            return ""
        if isinstance(item, dict) and (item.get("id") or item.get("type")):
            return f"'{item.get('id') or item.get('type')}' "
    return ""


def _json_path(path: tuple) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(top level)"


def _short(err: "jsonschema.ValidationError") -> str:
    """A one-line reason; oneOf failures otherwise produce a wall of text."""
    if err.validator == "oneOf":
        return f"{err.instance!r} is not an allowed value here"
    if err.validator == "additionalProperties":
        return err.message.replace("Additional properties are not allowed", "unknown field(s)")
    return err.message
