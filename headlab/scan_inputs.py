"""What ``headlab scan`` reads and where it writes, checked before the (slow) model load.

Input files (one text per line; sentence pairs as JSON lines or TAB-separated), role ids and
output paths: every problem is a ``UserError`` whose one line says what to do.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from headlab import safe_io
from headlab.errors import HeadlabError, UnknownRoleError

__all__ = ["UserError", "read_texts", "read_pairs", "check_roles", "check_roles_fit", "check_paths", "check_writable"]


class UserError(HeadlabError):
    """A mistake on the command line that argparse itself cannot see (e.g. a bad file)."""


def _read_lines(path: str, what: str) -> list[str]:
    """Lines of a UTF-8 file (or stdin for '-'), with a one-line error for every failure."""
    fix = f"check the path given to --{what}"
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"cannot read {what} file {path!r}: no such file; {fix}") from None
    except IsADirectoryError:
        raise UserError(f"cannot read {what} file {path!r}: it is a folder; give the file inside it") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"cannot read {what} file {path!r}: not UTF-8 text (byte {exc.start}); "
                        "save it as UTF-8 and try again") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} file {path!r}: {exc.strerror or exc}; {fix} and its permissions") from None
    return text.splitlines()


def read_texts(path: str) -> list[str]:
    """One text per non-empty line."""
    texts = [line.strip() for line in _read_lines(path, "texts")]
    texts = [t for t in texts if t]
    if not texts:
        raise UserError(f"the texts file {path!r} has no non-empty line; write one text per line")
    return texts


_PAIR_SHAPE = 'one pair per line as {"a": "...", "b": "..."} or as two texts separated by one TAB'


def read_pairs(path: str) -> list[tuple[str, str]]:
    """Sentence pairs: JSONL ``{"a": ..., "b": ...}`` or TSV ``a<TAB>b``, one per line.

    JSON lines are read with ``safe_io.loads_json`` (depth-capped: a deeply nested line is one
    clear error, not a RecursionError)."""
    pairs = []
    for number, raw in enumerate(_read_lines(path, "pairs"), start=1):
        line = raw.strip()
        if not line:
            continue
        where = f"{path}:{number}"
        if line.startswith("{"):
            obj = safe_io.loads_json(line, what=f"{path} line {number}")
            a, b = (obj.get("a"), obj.get("b")) if isinstance(obj, dict) else (None, None)
            if not isinstance(a, str) or not isinstance(b, str) or not a.strip() or not b.strip():
                raise UserError(f'{where}: expected {{"a": "...", "b": "..."}} with two non-empty strings; '
                                f"write {_PAIR_SHAPE}")
        else:
            parts = raw.rstrip("\r\n").split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise UserError(f"{where}: expected a JSON object or two texts separated by one TAB; write {_PAIR_SHAPE}")
            a, b = parts
        pairs.append((a.strip(), b.strip()))
    if not pairs:
        raise UserError(f"the pairs file {path!r} has no pair; write one pair per line")
    return pairs


# ----------------------------------------------------------------------------- checks
def check_roles(text_roles: list[str] | None, probe_roles: list[str] | None) -> None:
    """Refuse unknown ids and roles of the wrong kind before the (slow) model load."""
    from headlab import roles as registry

    def known(rid: str, kind: str):
        try:
            return registry.get(rid)
        except UnknownRoleError as exc:
            # The library's hint names a Python call; on the command line list the ids instead.
            hint = str(exc).split(" Known roles:")[0]
            raise UserError(f"{hint} Use one of the known {kind} roles: {', '.join(registry.names(kind))}") from None

    for rid in text_roles or []:
        if known(rid, "text").kind != "text":
            raise UserError(f"{rid!r} is a probe role: run it with --detect {rid}")
    for rid in probe_roles or []:
        if known(rid, "probe").kind != "probe":
            raise UserError(f"{rid!r} is a natural-text role: pass it with --roles {rid}")


def check_roles_fit(text_roles: list[str] | None, m) -> None:
    """Roles named with --roles that the loaded model cannot have, refused with the fix."""
    from headlab import roles as registry

    kind = "a causal (GPT-style) model" if m.is_causal else "an encoder (BERT-style)"
    for rid in text_roles or []:
        needs = registry.get(rid).requires
        if ("causal" in needs and not m.is_causal) or ("encoder" in needs and m.is_causal):
            other = "an encoder" if "encoder" in needs else "a causal model"
            raise UserError(f"--roles {rid}: this role needs {other} and {m.name!r} is {kind}; "
                            f"drop {rid} from --roles or name {other}")


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode when both exist, else the same resolved path
    (``./r.html``, ``sub/../r.html`` and a symlink to it are one file)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.expanduser().resolve() == b.expanduser().resolve()


def check_paths(out: str, json_out: str, texts: str | None, pairs: str | None) -> None:
    """Refuse outputs that would overwrite each other or an input, however the paths are spelt."""
    outputs = [("--out", Path(out)), ("--json", Path(json_out))]
    if _same_file(outputs[0][1], outputs[1][1]):
        raise UserError(f"--out and --json name the same file {out!r}: the table would overwrite the HTML report; "
                        "give them different names, e.g. --out report.html --json report.json")
    for name, path in outputs:
        for flag, given in (("--texts", texts), ("--pairs", pairs)):
            if given and given != "-" and _same_file(path, Path(given)):
                raise UserError(f"{name} names {str(path)!r}, your {flag} file: the scan would overwrite it; "
                                f"choose another file name for {name}")


def check_writable(path: Path) -> None:
    """Refuse an output path that cannot be written *before* minutes of scanning, not after."""
    if path.is_dir():
        raise UserError(f"cannot write {str(path)!r}: it is a folder; give a file name")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent          # the folders that do not exist yet will be created
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise UserError(f"cannot write {str(path)!r}: {str(parent)!r} is not a writable folder; "
                        "choose a path in a folder you can write to")
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"cannot write {str(path)!r}: the file is read-only; make it writable or choose another name")
