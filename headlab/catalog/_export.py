"""The whole catalogue as one plain-JSON document, for readers without a Python kernel.

The JupyterLab extension's sidebar shows the catalogue before any kernel runs, so it ships this
document (``python -m headlab.catalog export-json OUT.json``) and searches it in the browser
(js/lab/src/catalog-data.ts reads it).

Shape (format "headlab.catalog", version 1)::

    {"format": "headlab.catalog", "version": 1,
     "stages": {"KR": {"name": "Knowledge Recalling", "name_zh": "知识召回"}, ...},
     "models": {model_id: {"id", "hf_id", "names", "n_layers", "n_heads"}, ...},
     "types": [<links.summary of every type, catalogue order>, ...]}

Each type is what ``hl.catalog.summary`` gives (names, Chinese names, aliases, stage, definition,
detector roles, known instances with model / layer / head / source), and each of its papers also
carries ``venue`` and its ``bibtex`` string, so a card can cite without another lookup. Instances
name models by catalogue id; ``models`` lists their hub ids and other spellings.
"""

from __future__ import annotations

from typing import Any

from headlab.catalog._records import STAGE_NAMES, STAGE_NAMES_ZH

FORMAT = "headlab.catalog"
VERSION = 1


def export_json() -> dict[str, Any]:
    """The catalogue in use (built-in files plus extensions) as plain JSON data (see the module doc)."""
    from headlab.catalog import current, links  # noqa: PLC0415 - the package imports this module

    cat = current()
    types = links.summaries()
    for entry in types:
        for paper in entry["papers"]:
            record = cat.papers[paper["id"]]
            paper["venue"] = record.venue
            paper["bibtex"] = record.bibtex()
    return {
        "format": FORMAT,
        "version": VERSION,
        "stages": {code: {"name": name, "name_zh": STAGE_NAMES_ZH[code]} for code, name in STAGE_NAMES.items()},
        "models": {
            m.id: {"id": m.id, "hf_id": m.hf_id, "names": list(m.names), "n_layers": m.n_layers, "n_heads": m.n_heads}
            for m in cat.models.values()
        },
        "types": types,
    }
