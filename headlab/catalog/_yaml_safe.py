"""Composing YAML from files we do not trust, with limits on nesting and on aliases.

PyYAML's own composer has two weak spots for hostile input:

* it recurses once per nesting level (the libyaml one in C, without Python's recursion guard: a
  200 kB file of 100,000 ``[`` crashes the interpreter), and
* it follows aliases without counting them, so a "billion laughs" file of a few hundred bytes
  (nine anchors, each a list of nine aliases of the previous one) stands for 10^9 nodes. PyYAML
  shares the objects, but anything that walks the data afterwards (the schema check, an error
  message's repr) visits every one of them.

So this module composes the node tree itself, iteratively, from the parser's event stream. It
stops as soon as the document nests deeper than ``MAX_DEPTH``, uses more than ``MAX_ALIASES``
aliases, refers by alias to a collection that itself contains an alias (the amplification step of
every alias bomb), or makes its aliases stand for more than ``MAX_ALIASED_NODES`` nodes in all.
Each of these raises ``CatalogError`` naming the file and line. Real catalogue files use a handful
of aliases at most (to repeat a paper list, say), which all pass.

The tree it returns is made of ordinary ``yaml.Node`` objects, so the usual constructor turns it
into Python data and line numbers stay available for messages.
"""

from __future__ import annotations

from typing import Any

from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from headlab.errors import CatalogError

#: nesting deeper than this is refused (a catalogue file needs about 6 levels)
MAX_DEPTH = 64
#: at most this many aliases (``*name``) per document
MAX_ALIASES = 100
#: the nodes all aliases stand for together, counted with their children
MAX_ALIASED_NODES = 10_000


def too_deep(where: str) -> str:
    """The message for a document nested deeper than ``MAX_DEPTH`` at ``where`` (file:line)."""
    return (f"{where}: lists and mappings nest more than {MAX_DEPTH} levels deep here. A catalogue "
            "file needs about six levels; check that this is the file you meant.")


class _Open:
    """A collection being composed: its node, the items read so far, its size and whether it holds an alias."""

    __slots__ = ("node", "items", "size", "has_alias", "anchor")

    def __init__(self, node: Node, anchor: str | None):
        self.node = node
        self.items: list[Node] = []
        self.size = 1
        self.has_alias = False
        self.anchor = anchor


class _Anchored:
    """What an anchor names: the node, how many nodes it spans, and whether it is still being read."""

    __slots__ = ("node", "size", "has_alias", "open")

    def __init__(self, node: Node):
        self.node = node
        self.size = 1
        self.has_alias = False
        self.open = True


def compose(loader: Any, name: str) -> Node | None:
    """The single document of ``loader``'s stream as a node tree (None for an empty stream).

    ``loader`` is a PyYAML loader built on the text (``CSafeLoader(text)`` or ``SafeLoader(text)``);
    only its event API and its resolver are used. ``name`` is the file name used in messages.
    """
    loader.get_event()  # StreamStartEvent
    if loader.check_event(StreamEndEvent):
        loader.get_event()
        return None
    loader.get_event()  # DocumentStartEvent
    root = _Composer(loader, name).run()
    loader.get_event()  # DocumentEndEvent
    if not loader.check_event(StreamEndEvent):
        event = loader.get_event()
        raise CatalogError(f"{_where(name, event.start_mark)}: a catalogue file holds one YAML document; "
                           "this one starts another here. Remove the second '---' or split the file.")
    loader.get_event()
    return root


class _Composer:
    def __init__(self, loader: Any, name: str):
        self.loader = loader
        self.name = name
        self.anchors: dict[str, _Anchored] = {}
        self.stack: list[_Open] = []
        self.aliases = 0
        self.aliased_nodes = 0
        self.root: Node | None = None

    def run(self) -> Node:
        loader = self.loader
        while self.root is None:
            event = loader.get_event()
            if isinstance(event, ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(ScalarNode, event.value, event.implicit)
                node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                self._define(event, node).open = False  # a scalar is complete at once
                self._attach(node, size=1, has_alias=False)
            elif isinstance(event, (SequenceStartEvent, MappingStartEvent)):
                self._open(event)
            elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
                self._close(event)
            elif isinstance(event, AliasEvent):
                self._alias(event)
            else:  # the parser guarantees balanced events; anything else is a bug worth seeing
                raise CatalogError(f"{_where(self.name, event.start_mark)}: unexpected YAML event {type(event).__name__}; "
                                   "write plain mappings, lists and scalars.")
        return self.root

    # -------------------------------------------------------------- collections

    def _open(self, event: Any) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise CatalogError(too_deep(_where(self.name, event.start_mark)))
        is_seq = isinstance(event, SequenceStartEvent)
        kind = SequenceNode if is_seq else MappingNode
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, None, event.implicit)
        node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        self._define(event, node)
        self.stack.append(_Open(node, event.anchor))

    def _close(self, event: Any) -> None:
        frame = self.stack.pop()
        node = frame.node
        node.end_mark = event.end_mark
        if isinstance(node, MappingNode):
            node.value = list(zip(frame.items[0::2], frame.items[1::2]))
        else:
            node.value = frame.items
        if frame.anchor is not None:
            anchored = self.anchors[frame.anchor]
            if anchored.node is node:  # not redefined meanwhile
                anchored.size, anchored.has_alias, anchored.open = frame.size, frame.has_alias, False
        self._attach(node, size=frame.size, has_alias=frame.has_alias)

    def _attach(self, node: Node, *, size: int, has_alias: bool) -> None:
        if not self.stack:
            self.root = node
            return
        parent = self.stack[-1]
        parent.items.append(node)
        parent.size += size
        parent.has_alias = parent.has_alias or has_alias

    # -------------------------------------------------------------- anchors and aliases

    def _define(self, event: Any, node: Node) -> _Anchored:
        anchored = _Anchored(node)
        if event.anchor is not None:
            self.anchors[event.anchor] = anchored  # YAML 1.2: a later anchor of the same name wins
        return anchored

    def _alias(self, event: Any) -> None:
        where = _where(self.name, event.start_mark)
        target = self.anchors.get(event.anchor)
        if target is None:
            raise CatalogError(f"{where}: alias *{_clip(event.anchor)} refers to no anchor defined before it. "
                               "Define '&name' first or write the value out.")
        if target.open:
            raise CatalogError(f"{where}: alias *{_clip(event.anchor)} refers to a collection that contains it; "
                               "catalogue data cannot be recursive; write the data out instead of the alias.")
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise CatalogError(f"{where}: more than {MAX_ALIASES} YAML aliases (*name) in one file. Catalogue files "
                               "need few or none; write the values out.")
        if target.has_alias:
            raise CatalogError(
                f"{where}: alias *{_clip(event.anchor)} refers to a collection that itself contains aliases. "
                "Aliases of aliases multiply the data (the 'billion laughs' pattern) and are refused; "
                "write the values out."
            )
        self.aliased_nodes += target.size
        if self.aliased_nodes > MAX_ALIASED_NODES:
            raise CatalogError(f"{where}: the YAML aliases of this file stand for more than {MAX_ALIASED_NODES:,} "
                               "values together; write the values out instead of repeating them by alias.")
        self._attach(target.node, size=target.size, has_alias=True)


def _where(name: str, mark: Any) -> str:
    return f"{name}:{mark.line + 1}" if mark is not None else name


def _clip(text: str, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."

