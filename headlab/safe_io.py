"""Files in and out, safely.

Writing: every file headlab writes goes to a temporary file in the same folder, is flushed to
disk, and is then renamed over the target (``os.replace`` is atomic on POSIX and Windows). An
interrupted write - a full disk, a file-size limit, a kill - leaves the previous file as it
was and no half-written file under the target's name.

Reading: JSON written by someone else (a saved report, a catalogue file, a pairs file) is size
capped and depth capped before anything else looks at it, so a hostile file gets a clear
``InputError`` instead of a ``RecursionError``, a memory blow-up or a hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from headlab.errors import InputError

__all__ = ["atomic_path", "write_text", "write_bytes", "write_with", "read_json", "loads_json", "check_depth",
           "MAX_JSON_BYTES", "MAX_DEPTH"]

#: the largest JSON document headlab reads (a 10,000-sample report table is ~60 MB)
MAX_JSON_BYTES = 512 * 1024 * 1024
#: nesting deeper than this is never produced by headlab and is refused
MAX_DEPTH = 64


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` when the block ends.

    If the block raises (or the process is interrupted), the temporary file is removed and
    ``target`` keeps its old content. The folder is created when missing.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part" + target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:  # make the bytes durable before the rename
            os.fsync(fh.fileno())
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp_path, target.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically; returns the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` atomically. The text is encoded first, so an unencodable character fails
    before the target is touched."""
    return write_bytes(target, text.encode(encoding))


def write_with(target: str | os.PathLike, writer: Callable[[Path], Any]) -> Path:
    """Let ``writer(tmp_path)`` write the file (e.g. ``np.savez_compressed``), then rename it.

    The temporary path ends with the target's suffix, so writers that add a missing suffix
    (numpy adds ``.npz``) write where they are told."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def check_depth(obj: Any, limit: int = MAX_DEPTH, what: str = "The document") -> None:
    """Raise ``InputError`` when lists/dicts nest deeper than ``limit`` (iterative, no recursion)."""
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            raise InputError(f"{what} nests lists or objects more than {limit} levels deep; headlab never "
                             "writes such files. Check that it is the file you meant.")
        stack.extend((c, depth + 1) for c in children)


def loads_json(text: str | bytes, what: str = "The document") -> Any:
    """``json.loads`` with a depth cap; NaN/Infinity literals are refused."""
    def no_constants(name):
        raise InputError(f"{what} contains {name}, which is not JSON; write null instead.")

    try:
        obj = json.loads(text, parse_constant=no_constants)
    except RecursionError:
        raise InputError(f"{what} nests lists or objects too deeply to be read; headlab never writes such "
                         "files. Check that it is the file you meant.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{what} is not valid JSON ({err}). Check that it is the file you meant.") from None
    check_depth(obj, what=what)
    return obj


def read_json(path: str | os.PathLike, what: str | None = None, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read and parse a JSON file with the size and depth caps of this module."""
    path = Path(path)
    what = what or str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"No file at {path}. Check the path.") from None
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the path of a JSON file.")
    if size > max_bytes:
        raise InputError(f"{what} is {size / 1e6:.0f} MB, more than the {max_bytes / 1e6:.0f} MB headlab "
                         "reads; check that it is the file you meant.")
    return loads_json(path.read_bytes(), what=what)
