"""Sphinx configuration for the headlab documentation.

Build: ``sphinx-build -b html -W --keep-going -n docs docs/_build/html`` (the test suite runs
exactly this, so warnings and broken references fail the build). Works offline: there is no
intersphinx; references to third-party types (numpy, pandas, torch, ...) are ignored below.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

project = "headlab"
author = "the headlab authors"
copyright = "2026, the headlab authors"
try:
    from importlib.metadata import version as _version

    release = _version("headlab")
except Exception:  # noqa: BLE001 - building from a source tree without an install
    release = "0.0.0+src"
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints"]
templates_path: list[str] = []
html_static_path = ["_static"] if (Path(__file__).parent / "_static").is_dir() else []

html_theme = "alabaster"
html_title = f"headlab {release}"
html_theme_options = {"description": "What do the attention heads of a transformer do, and how sure are we?"}

# --------------------------------------------------------------------------- MyST
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# --------------------------------------------------------------------------- autodoc
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # signatures keep their annotations; no cross-refs to third-party types
autodoc_default_options = {"members": True}
autodoc_mock_imports: list[str] = []
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_preprocess_types = False
napoleon_attr_annotations = False
napoleon_use_ivar = True           # "Attributes:" as fields, so dataclass fields are not described twice

# --------------------------------------------------------------------------- nitpicky
# Broken references to headlab's own objects fail the build. There is no intersphinx (the
# build is offline), so references to third-party and builtin types are ignored here.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(np|numpy|pd|pandas|torch|transformers|traitlets|anywidget|ipywidgets|scipy)(\..*)?"),
    (r"py:.*", r"(typing|collections\.abc|pathlib|os|datetime|dataclasses)\..*"),
    (r"py:.*", r"(Path|PathLike|Iterable|Sequence|Callable|Any|NamedTuple|Mapping)"),
    (r"py:class", r"(str|int|float|bool|dict|list|tuple|None|bytes|object)"),
]


# --------------------------------------------------------------------------- docstrings
# headlab's docstrings are written to be read with help() in a notebook: plain text with a few
# reST habits. Three plain-text habits are not valid reST; this hook (run before napoleon)
# makes them so, without changing what they say:
#   * "Attributes (T = number of tokens):" -> the note as a sentence, then "Attributes:";
#   * a "- item" list right after a paragraph line, or a paragraph right after a list, gets the
#     blank line reST needs around lists;
#   * "|word|" (a set size, as in 1/|pieces|) outside ``literals`` is escaped, not read as a
#     substitution reference.
_ATTR_NOTE = re.compile(r"^(\s*)(Attributes|Args|Returns)\s+\((.+)\):\s*$")
_ITEM = re.compile(r"^(\s*)[-*] \S")
_LITERAL = re.compile(r"(``.+?``)")
_PIPES = re.compile(r"(?<![\\\w])\|([^\s|`][^|`]*?)\|(?!\w)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _escape_pipes(line: str) -> str:
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else _PIPES.sub(r"\\|\1\\|", p) for i, p in enumerate(parts))


def _rst_safe(lines: list[str]) -> list[str]:
    out: list[str] = []
    list_indent: int | None = None          # indentation of the "- " of the list we are in

    def gap() -> None:
        if out and out[-1].strip():
            out.append("")

    for line in lines:
        m = _ATTR_NOTE.match(line)
        if m:
            ind, section, note = m.groups()
            gap()
            out += [f"{ind}{note[0].upper()}{note[1:]}.", "", f"{ind}{section}:"]
            list_indent = None
            continue
        item = _ITEM.match(line)
        if item:
            ind = len(item.group(1))
            if list_indent is None:
                gap()
                list_indent = ind
            elif ind < list_indent:
                list_indent = ind
        elif line.strip() and list_indent is not None and _indent(line) <= list_indent:
            gap()
            list_indent = None
        out.append(_escape_pipes(line))
    return out


_NAMES = re.compile(r"^(\s+)(\w+(?:, \w+)+):(\s)")
_PROSE_COLON = re.compile(r"^([A-Z][^:`]* [^:`]*):(\s)")


def _join_attribute_names(lines: list[str]) -> list[str]:
    """In an "Attributes:" section, "n_layers, n_heads: ..." documents several names at once;
    keep them one field name (a word joiner is not whitespace, so Sphinx does not split it)."""
    out, section = [], None
    for line in lines:
        if line.strip() == "Attributes:":
            section = _indent(line)
        elif section is not None and line.strip() and _indent(line) <= section:
            section = None
        elif section is not None:
            line = _NAMES.sub(lambda m: m.group(1) + ",\u2060".join(m.group(2).split(", ")) + ":" + m.group(3), line)
        out.append(line)
    return out


def _process_docstring(app, what, name, obj, options, lines):
    lines[:] = _join_attribute_names(_rst_safe(list(lines)))
    # A property whose docstring starts "The input texts: ..." is prose, not "type: description".
    if what in ("property", "attribute") and lines and _PROSE_COLON.match(lines[0]):
        lines[0] = _PROSE_COLON.sub(r"\1 —\2", lines[0], count=1)


def setup(app):
    app.connect("autodoc-process-docstring", _process_docstring, priority=100)
