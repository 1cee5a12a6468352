"""``headlab catalog ...``: search, show and cite the catalogue from a terminal.

The top-level ``headlab`` command adds this with ``add_subparser(subparsers)`` and calls ``run(args)``.
User mistakes (unknown id, bad file) print one line to stderr and give exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence, TextIO

from headlab.errors import HeadlabError

EXIT_OK = 0
EXIT_USER_ERROR = 2


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``catalog`` sub-command (with search / show / bibtex / list) to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "catalog",
        help="look up known attention-head types and their papers",
        description="Look up known attention-head types, their published instances and papers.",
    )
    _fill(parser)
    parser.set_defaults(func=run)  # so a top-level CLI may simply call args.func(args)
    return parser


def _fill(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--extend", metavar="FILE", action="append", default=[],
                        help="also load this catalogue file (YAML or JSON); may be repeated")
    actions = parser.add_subparsers(dest="catalog_command", metavar="COMMAND")
    actions.required = True

    search = actions.add_parser("search", help="find head types by name, alias (also Chinese), definition or paper title")
    search.add_argument("text", nargs="+", help="words to look for")
    search.add_argument("-n", "--limit", type=int, default=10, help="show at most this many results (default 10)")
    search.add_argument("--json", action="store_true", help="print JSON instead of text")

    show = actions.add_parser("show", help="show one head type (or a paper, by id or arXiv id)")
    show.add_argument("id", help="head-type id, name or alias; or a paper id / arXiv id")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")

    cite = actions.add_parser("bibtex", help="print BibTeX for papers or for all papers of head types")
    cite.add_argument("ids", nargs="+", metavar="ID", help="paper ids, arXiv ids or head types")

    listing = actions.add_parser("list", help="list head types, optionally of one stage (KR, ICI, LR, EP, unplaced)")
    listing.add_argument("--stage", default=None, help="only this stage")

    head = actions.add_parser("head", help="published roles of one head of a known model, e.g. 'head gpt2 9 9'")
    head.add_argument("model")
    head.add_argument("layer", type=int)
    head.add_argument("head", type=int)

    export = actions.add_parser("export-json", help="write the whole catalogue as one compact JSON file (for the JupyterLab panel)")
    export.add_argument("out", metavar="OUT.json", help="file to write (replaced atomically)")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Carry out a parsed ``catalog`` command; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        from headlab import catalog

        for path in getattr(args, "extend", []) or []:
            catalog.extend(path)
        command = args.catalog_command
        if command == "search":
            return _search(catalog, " ".join(args.text), args.limit, args.json, out)
        if command == "show":
            return _show(catalog, args.id, args.json, out)
        if command == "bibtex":
            out.write(catalog.bibtex(args.ids))
            return EXIT_OK
        if command == "list":
            return _list(catalog, args.stage, out)
        if command == "head":
            return _head(catalog, args.model, args.layer, args.head, out)
        if command == "export-json":
            return _export_json(catalog, args.out, out)
        raise HeadlabError(f"unknown catalog command {command!r}; run 'headlab catalog --help' for the commands")
    except HeadlabError as exc:
        # One line: the first line of every catalogue message is complete on its own.
        first = str(exc).strip().partition("\n")[0]
        err.write(f"headlab catalog: error: {first}\n")
        return EXIT_USER_ERROR


def _search(catalog, text: str, limit: int, as_json: bool, out: TextIO) -> int:
    found = catalog.search(text, limit=limit)
    if as_json:
        out.write(json.dumps([e.to_dict() for e in found], ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    if not found:
        out.write(f"No head type matches {text!r}.\n")
        return EXIT_OK
    width = max(len(e.id) for e in found)
    for entry in found:
        zh = f"  {entry.name_zh}" if entry.name_zh else ""
        out.write(f"{entry.id:<{width}}  {entry.stage or '-':<3}  {entry.name}{zh}\n")
    return EXIT_OK


def _show(catalog, name: str, as_json: bool, out: TextIO) -> int:
    try:
        record = catalog.get(name)
    except HeadlabError as not_a_head:
        try:
            record = catalog.paper(name)
        except HeadlabError:
            raise not_a_head from None
    if as_json:
        out.write(json.dumps(record.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(str(record) + "\n")
    return EXIT_OK


def _list(catalog, stage: str | None, out: TextIO) -> int:
    chosen = catalog.entries() if stage is None else catalog.by_stage(stage)
    for entry in chosen:
        out.write(f"{entry.id:<28} {entry.stage or '-':<3}  {entry.name}\n")
    return EXIT_OK


def _head(catalog, model: str, layer: int, head: int, out: TextIO) -> int:
    catalog.model(model)  # unknown model: a clear error here, rather than an empty answer
    found = catalog.for_head(model, layer, head)
    if not found:
        out.write(f"No published role recorded for {model} L{layer}H{head}.\n")
    for inst in found:
        out.write(str(inst) + "\n")
    return EXIT_OK


def _export_json(catalog, target: str, out: TextIO) -> int:
    from headlab.safe_io import write_text  # noqa: PLC0415 - only this command writes files

    doc = catalog.export_json()
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        write_text(target, text)
    except OSError as exc:
        raise HeadlabError(f"cannot write {target}: {exc.strerror or exc}. Choose a writable path.") from None
    papers = {p["id"] for t in doc["types"] for p in t["papers"]}
    out.write(f"wrote {target}: {len(doc['types'])} head types, {len(papers)} papers "
              f"({len(text.encode('utf-8')) / 1024:.0f} kB)\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python -m headlab.catalog``."""
    parser = argparse.ArgumentParser(prog="python -m headlab.catalog",
                                     description="Look up known attention-head types and their papers.")
    _fill(parser)
    args = parser.parse_args(argv)
    return run(args)
