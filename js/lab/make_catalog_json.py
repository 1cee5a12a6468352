"""Write the catalogue JSON that ships inside the JupyterLab extension.

    python3 js/lab/make_catalog_json.py [OUT]      # default: js/lab/data/catalog.json

The document is ``headlab.catalog.export_json()``, the same as ``python -m headlab.catalog
export-json OUT``; js/lab/src/catalog-data.ts reads it. js/lab/build.mjs runs this script when
the file is missing or older than the catalogue data.

Why not the CLI: ``python -m headlab.catalog`` imports the whole ``headlab`` package (numpy,
scipy, pandas), which an isolated wheel build does not have. The catalogue itself needs only
PyYAML and jsonschema (the build hook's dependencies), so when the normal import fails the
catalogue subpackage is loaded without the package's ``__init__``.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / "data" / "catalog.json"


def _catalog_module():
    sys.path.insert(0, str(ROOT))
    try:
        return importlib.import_module("headlab.catalog")
    except ImportError:
        for name in [m for m in sys.modules if m == "headlab" or m.startswith("headlab.")]:
            del sys.modules[name]
        pkg = types.ModuleType("headlab")
        pkg.__path__ = [str(ROOT / "headlab")]
        sys.modules["headlab"] = pkg
        return importlib.import_module("headlab.catalog")


def main(argv: list[str]) -> int:
    out = pathlib.Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    doc = _catalog_module().export_json()
    from headlab.safe_io import write_text     # importable in both modes of _catalog_module

    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    print(f"catalogue: {len(doc['types'])} head types -> {out} ({out.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
