"""The ``headlab`` command line: ``headlab scan`` and ``headlab catalog``.

``headlab scan`` is the main job: load a model (the embedded default when none is named),
score the natural-text roles on the built-in corpus or on the user's texts, optionally run
the probe roles (``--detect``, causal models), then write a self-contained offline HTML
report and a JSON table and print a short summary.

User mistakes (unknown role, unreadable file, unknown model, bad alpha, a probe run on an
encoder, an output path that would overwrite an input or the other output) print one line to
stderr that says what to do, and give exit code 2, never a traceback. The two output files are
replaced together and atomically (``headlab.safe_io``): an interrupted scan leaves the previous
report as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Sequence, TextIO

from headlab import safe_io
from headlab.errors import HeadlabError, NoApplicableRoleError, TooLongError, UnsupportedModelError
from headlab.scan_inputs import (  # noqa: F401  (read_texts, check_paths, ... are part of headlab.cli's API)
    UserError, check_paths, check_roles, check_roles_fit, check_writable, read_pairs, read_texts,
)

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

DEFAULT_HTML = "headlab-report.html"
DEFAULT_JSON = "headlab-report.json"

# Models loaded in this process, by name: calling main() again (tests, notebooks) does not
# pay the load time twice.  A CLI process loads one model and exits, so this costs nothing.
_MODELS: dict[str | None, object] = {}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and raises instead of exiting.

    argparse's own ``error`` prints the whole usage block and calls ``sys.exit(2)``; a user
    who mistyped one option needs one line saying what is wrong and where to look.
    """

    def error(self, message: str):  # noqa: D401 - argparse's name
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


class _UsageError(Exception):
    pass


# ----------------------------------------------------------------------------- argument types
def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"alpha must be a number between 0 and 1, got {text!r}; "
                                         "give e.g. 0.05") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"alpha must lie strictly between 0 and 1, got {text!r}; give e.g. 0.05")
    return value


def _whole(lo: int, hi: int, example: int):
    """An argparse type: a whole number in ``[lo, hi]``, with the library's own limits."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}; give e.g. {example}") from None
        if not lo <= value <= hi:
            span = f"from {lo} to {hi}" if hi < 2**31 else f"of {lo} or more"
            raise argparse.ArgumentTypeError(f"expected a whole number {span}, got {text!r}; give e.g. {example}")
        return value
    return parse


def _role_list(text: str) -> list[str]:
    roles = [r.strip() for r in text.split(",") if r.strip()]
    if not roles:
        raise argparse.ArgumentTypeError("give role ids separated by commas, e.g. local,cls,previous")
    return roles


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with the ``scan`` and ``catalog`` sub-commands."""
    from headlab import __version__
    from headlab.catalog import cli as catalog_cli

    parser = _Parser(
        prog="headlab",
        description="Find out what the attention heads of a transformer do.",
    )
    parser.add_argument("--version", action="version", version=f"headlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    _add_scan(commands)
    catalog_cli.add_subparser(commands)
    return parser


def _add_scan(commands) -> argparse.ArgumentParser:
    scan = commands.add_parser(
        "scan",
        help="score every head for roles, test them, write an offline HTML report",
        description=(
            "Score every attention head for natural-text roles (and, with --detect, probe roles), "
            "test them across samples, and write a self-contained HTML report and a JSON table. "
            "With no arguments: the embedded all-MiniLM-L6-v2 on headlab's built-in corpus."
        ),
    )
    scan.add_argument("model", nargs="?", default=None,
                      help="zoo name, local model folder or hub name (default: embedded all-MiniLM-L6-v2)")
    scan.add_argument("--texts", metavar="FILE",
                      help="UTF-8 text file, one text per line ('-' reads stdin); default: built-in corpus")
    scan.add_argument("--pairs", metavar="FILE",
                      help='sentence pairs: JSONL of {"a": ..., "b": ...} or TSV lines a<TAB>b')
    scan.add_argument("--roles", metavar="R,...", type=_role_list,
                      help="natural-text role ids, comma-separated (default: every built-in role that applies)")
    scan.add_argument("--detect", metavar="R,...", nargs="?", const="", default=None,
                      help="also run probe roles (causal models); no value = all probe roles")
    scan.add_argument("--method", choices=("lift", "pande"), default="lift",
                      help="per-sample score and test (default lift; pande = Pande et al. 2021 exactly)")
    scan.add_argument("--alpha", type=_alpha, default=0.05, help="significance level (default 0.05)")
    scan.add_argument("--out", metavar="FILE", default=DEFAULT_HTML,
                      help=f"HTML report to write (default {DEFAULT_HTML})")
    scan.add_argument("--json", metavar="FILE", default=DEFAULT_JSON,
                      help=f"JSON table to write (default {DEFAULT_JSON})")
    scan.add_argument("--seed", type=_whole(0, 2**63 - 1, 0), default=0,
                      help="seed of bootstrap CIs and probes, 0 or more (default 0)")
    scan.add_argument("--n-boot", type=_whole(2, 1_000_000, 2000), default=2000, dest="n_boot",
                      help="bootstrap resamples per CI (default 2000)")
    scan.add_argument("--probes", type=_whole(2, 100_000, 100), default=None, metavar="N",
                      help="probes per probe kind for --detect (default 100)")
    scan.add_argument("--truncate", action="store_true",
                      help="cut texts longer than the model's positions instead of refusing them")
    scan.add_argument("--engine", choices=("ray", "local"), default=None,
                      help="score the texts on a pool of workers that each load the model: ray (a Ray cluster; "
                           "pip install 'headlab[ray]') or local (this process, the same shards); the report "
                           "equals the one without --engine (default: in this process)")
    scan.add_argument("--workers", type=_whole(1, 100_000, 2), default=None, metavar="N",
                      help="Ray workers for --engine ray (default: one per CPU of the cluster)")
    scan.add_argument("--ray-address", metavar="ADDR", default=None, dest="ray_address",
                      help="Ray cluster to join for --engine ray, e.g. auto or ray://head:10001 "
                           "(default: a new local cluster)")
    scan.add_argument("--quiet", "-q", action="store_true", help="print nothing (errors still go to stderr)")
    scan.set_defaults(func=run_scan)
    return scan


# ----------------------------------------------------------------------------- input files
def _load(name: str | None):
    import headlab as hl

    if name not in _MODELS:
        _MODELS[name] = hl.load(name)
    return _MODELS[name]


# ----------------------------------------------------------------------------- skipped roles
def _spacy_ready() -> bool:
    from headlab.errors import MissingExtraError
    from headlab.roles.syntax import nlp

    try:
        nlp()
    except MissingExtraError:
        return False
    return True


def skipped_roles(wanted: list, report, *, model_name: str, is_causal: bool, spacy_ready) -> list[dict]:
    """Why each wanted role is missing from ``report`` or untested: ``[{"role", "reason"}]``.

    ``wanted`` are the registry's ``Role`` objects the scan asked for; ``spacy_ready`` is called
    only when a syntactic role is missing. Reasons say what to do to get the role scored.
    """
    scored = set(report.roles)
    n_max = report.table.groupby("role", sort=False)["n"].max()
    out = []
    for role in wanted:
        needs = role.requires
        fix = ("give --pairs, or texts with several sentences" if role.id == "block" else
               "add texts with this dependency relation" if "spacy" in needs else "add texts it applies to")
        if role.id in scored:
            n = int(n_max.get(role.id, 0))
            if n < 2:
                out.append({"role": role.id, "reason": f"applies to {n} of the texts, too few to test (its rows "
                            f"show n/a); {fix}"})
            continue
        if "causal" in needs and not is_causal:
            reason = f"for causal (GPT-style) models only, and {model_name} is an encoder"
        elif "encoder" in needs and is_causal:
            reason = f"for encoders (BERT-style) only, and {model_name} is causal"
        elif "spacy" in needs and not spacy_ready():
            reason = "needs spaCy and its English model: pip install 'headlab[syntax]'"
        elif role.id == "block":
            reason = f"no text has two blocks (a sentence pair, or several sentences in one line); {fix}"
        else:
            reason = f"applies to none of the texts; {fix}"
        out.append({"role": role.id, "reason": reason})
    return out


def _probe_skips(section) -> list[dict]:
    skipped = (section.provenance.get("parameters") or {}).get("skipped") or []
    return [{"role": r, "reason": "needs the model's LM head (next-token output), which this model lacks"}
            for r in skipped]


def _grouped(skipped: list[dict]) -> list[tuple[str, str]]:
    """Skips with the same reason on one line: the 16 syntactic roles become ``syn:* (16 roles)``."""
    by_reason: dict[str, list[str]] = {}
    for s in skipped:
        by_reason.setdefault(s["reason"], []).append(s["role"])
    out = []
    for reason, ids in by_reason.items():
        if len(ids) > 2 and all(i.startswith("syn:") for i in ids):
            name = f"syn:* ({len(ids)} roles)"
        else:
            name = ", ".join(ids)
        out.append((name, reason))
    return out


# ----------------------------------------------------------------------------- scan
#: the example text is the user's first text when it has at most this many tokens
EXAMPLE_MAX_TOKENS = 64


def example_attention(m, texts, truncate: bool = False):
    """The attention of one short example for the report's drawings: the user's first text when it
    has at most ``EXAMPLE_MAX_TOKENS`` tokens, else the first built-in sentence (cut to fit if needed)."""
    from headlab import corpus

    candidates = ([texts[0]] if texts else []) + [corpus.sentences(1)[0]]
    for i, text in enumerate(candidates):
        last = i == len(candidates) - 1
        try:
            att = m.attention(text, truncate=last)
        except TooLongError:
            continue
        if last or len(att.tokens) <= EXAMPLE_MAX_TOKENS:
            return att
    return None


class _Say:
    """Progress lines on stderr, silent with --quiet."""

    def __init__(self, quiet: bool, stream: TextIO):
        self.quiet = quiet
        self.stream = stream

    def __call__(self, message: str) -> None:
        if not self.quiet:
            self.stream.write(message + "\n")
            self.stream.flush()


def write_outputs(html_path: Path, html_text: str, json_path: Path, json_text: str) -> None:
    """Replace both files together, each through a temporary file and a rename (``safe_io``).

    Both are written in full before either is renamed, so a failure (a full disk, a file-size
    limit, Ctrl-C) leaves both previous files as they were."""
    data = html_text.encode("utf-8"), json_text.encode("utf-8")
    try:
        with contextlib.ExitStack() as stack:
            tmp_html = stack.enter_context(safe_io.atomic_path(html_path))
            tmp_json = stack.enter_context(safe_io.atomic_path(json_path))
            tmp_html.write_bytes(data[0])
            tmp_json.write_bytes(data[1])
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise UserError(f"cannot write the report: {exc.strerror or exc}{where}; the previous files are unchanged. "
                        "Free some space or choose another folder with --out and --json") from None


def run_scan(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Carry out a parsed ``scan`` command; returns the exit code (raises HeadlabError on user error)."""
    from headlab import roles as registry

    out = out or sys.stdout
    err = err or sys.stderr
    say = _Say(args.quiet, err)
    started = time.perf_counter()

    probe_roles = None
    if args.detect is not None:
        probe_roles = _role_list(args.detect) if args.detect.strip() else None
    check_roles(args.roles, probe_roles)
    check_paths(args.out, args.json, args.texts, args.pairs)
    texts = None
    if args.texts or args.pairs:
        texts = []
        if args.texts:
            texts += read_texts(args.texts)
        if args.pairs:
            texts += read_pairs(args.pairs)
    html_path, json_path = Path(args.out), Path(args.json)
    for path in (html_path, json_path):
        check_writable(path)

    if args.engine is None and (args.workers is not None or args.ray_address is not None):
        raise UserError("--workers and --ray-address go with --engine ray; add --engine ray")
    if args.engine is not None and args.detect is not None:
        raise UserError("--detect runs in this process; drop --engine, or run --detect in a second scan")
    if args.engine is not None:
        m, report, sections = None, _engine_roles(args, texts, say), []
    else:
        m, report, sections = _local_roles(args, texts, probe_roles, say)
    engine = report.provenance["parameters"].get("engine") or {}
    skipped = skipped_roles(registry.resolve(args.roles, "text"), report, model_name=report.model_name,
                            is_causal=m.is_causal if m is not None else engine["is_causal"], spacy_ready=_spacy_ready)
    skipped += [s for sec in sections for s in _probe_skips(sec)]
    # with --engine this process never loads the model, so the page has no example attention
    attention = example_attention(m, texts, args.truncate) if m is not None else None
    elapsed = time.perf_counter() - started

    from headlab.report.html import render_html

    run_info = {"command": "headlab " + " ".join(args.argv), "seconds": round(elapsed, 1), "skipped": skipped,
                "example": None if attention is None else attention.text}
    page = render_html(report, extra=sections, run=run_info, attention=attention)
    write_outputs(html_path, page, json_path, json.dumps(scan_json(report, sections, run_info), allow_nan=False))

    if not args.quiet:
        for line in summary_lines(report, sections, skipped):
            out.write(line + "\n")
        size = html_path.stat().st_size / 1024
        out.write(f"report: {html_path} ({size:.0f} KB)  table: {json_path}  ({elapsed:.0f} s)\n")
    return EXIT_OK


def _local_roles(args, texts, probe_roles, say):
    """Load the model here and run the roles (and --detect): ``(model, report, detect sections)``."""
    say(f"headlab scan: loading {args.model or 'the embedded all-MiniLM-L6-v2'} ...")
    m = _load(args.model)
    if args.detect is not None and not m.is_causal:
        raise UnsupportedModelError(
            f"--detect runs probe roles on causal (GPT-style) models, and {m.name!r} is an encoder; "
            "drop --detect (natural-text roles run anyway) or name a causal model, e.g. toy-induction"
        )
    check_roles_fit(args.roles, m)
    n = "the built-in corpus" if texts is None else f"{len(texts)} samples"
    say(f"headlab scan: scoring {m.name} ({m.n_layers} layers x {m.n_heads} heads) on {n}; "
        "after the forward pass, tests and bootstrap CIs take a little longer ...")
    try:
        report = m.roles(texts, roles=args.roles, method=args.method, alpha=args.alpha, seed=args.seed,
                         n_boot=args.n_boot, truncate=args.truncate, progress=not args.quiet)
    except NoApplicableRoleError:
        raise UserError(f"none of the roles applies to any of the texts ({', '.join(args.roles or [])}); choose "
                        "other roles with --roles, or add texts they apply to (block: --pairs)") from None
    sections = []
    if args.detect is not None:
        say("headlab scan: running probe roles (--detect) ...")
        sections.append(m.detect(roles=probe_roles, n=args.probes, seed=args.seed, alpha=args.alpha,
                                 n_boot=args.n_boot, progress=not args.quiet))
    return m, report, sections


def _engine_roles(args, texts, say):
    """The roles report of ``--engine ray|local``: workers load the model and score the texts;
    the same report as ``m.roles`` (docs/scale.md)."""
    from headlab.engines import scan as engine_scan

    n = "the built-in corpus" if texts is None else f"{len(texts)} samples"
    where = f"{args.workers or 'all the'} Ray workers" if args.engine == "ray" else "one local worker"
    say(f"headlab scan: scoring {args.model or 'the embedded all-MiniLM-L6-v2'} on {n} with {where} ...")
    return engine_scan(args.model, texts, roles=args.roles, engine=args.engine, workers=args.workers,
                       ray_address=args.ray_address, method=args.method, alpha=args.alpha, seed=args.seed,
                       n_boot=args.n_boot, truncate=args.truncate, progress=not args.quiet)


def scan_json(report, sections, run_info: dict) -> dict:
    """The JSON file: the natural-text report's ``to_json_dict()`` (its ``table`` has one record
    per role, layer and head), plus ``scan`` (command, wall time, skipped roles with reasons,
    the example text) and ``detect`` (the probe report, same layout) when run."""
    doc = report.to_json_dict()
    doc["scan"] = run_info
    if sections:
        doc["detect"] = sections[0].to_json_dict()
    return doc


def summary_lines(report, sections=(), skipped=()) -> list[str]:
    """A few lines: per role, significant heads / all and the strongest head with its CI; then the
    roles that were skipped or could not be tested, and why."""
    p = report.provenance
    total = report.n_layers * report.n_heads
    lines = [
        f"{report.model_name}: {report.n_layers} x {report.n_heads} heads, N = {report.n_samples} samples, "
        f"method {report.method}, {p.get('correction')} alpha = {report.alpha:g}"
    ]
    for rep in (report, *sections):
        if rep is not report:
            lines.append(f"probe roles (N = {rep.n_samples} probes):")
        width = max(len(r) for r in rep.roles)
        table = rep.table
        for role in rep.roles:
            sub = table[table["role"] == role]
            n_sig = int(sub["significant"].sum())
            best = sub.dropna(subset=["score"])
            if len(best):
                row = best.loc[best["score"].idxmax()]
                ci = (f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]" if math.isfinite(row["ci_low"])
                      else f"[n/a (n = {int(row['n'])})]")
                strongest = f"strongest L{int(row['layer'])}H{int(row['head'])} {row['score']:.3f} {ci}"
            else:
                strongest = "no score"
            lines.append(f"  {role:<{width}}  {n_sig:>3}/{total} significant  {strongest}")
    grouped = _grouped(list(skipped))
    if grouped:
        lines.append("skipped or untested roles:")
        width = max(len(name) for name, _ in grouped)
        lines += [f"  {name:<{width}}  {reason}" for name, reason in grouped]
    return lines


# ----------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``headlab`` and ``python -m headlab``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except _UsageError as exc:
            sys.stderr.write(f"{exc}\n")
            return EXIT_USER_ERROR
        except SystemExit as exc:  # --help and --version print and "exit" 0
            return int(exc.code or 0)
        args.argv = argv
        if args.command == "catalog":
            return args.func(args)
        with _terminal_warnings(getattr(args, "quiet", False)):
            return args.func(args)
    except HeadlabError as exc:
        first = str(exc).strip().partition("\n")[0]
        if isinstance(exc, TooLongError):   # the library names the Python argument
            first = first.replace("pass truncate=True", "pass --truncate")
        sys.stderr.write(f"headlab: error: {first}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("headlab: interrupted\n")
        return EXIT_INTERRUPTED


@contextlib.contextmanager
def _terminal_warnings(quiet: bool):
    """Warnings as one line each ("headlab: warning: ..."), not Python's two-line form with a
    source line; with --quiet, none at all (library warnings and transformers' log lines)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
            hf_logging.set_verbosity_error()
        else:
            warnings.showwarning = _show_warning
        try:
            yield
        finally:
            hf_logging.set_verbosity(level)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    first = str(message).strip().partition("\n")[0]
    (file or sys.stderr).write(f"headlab: warning: {first}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
