#!/usr/bin/env python3
"""Check headlab's catalogue data: the build runs this, so loading it at run time need not.

    python scripts/check-catalog.py [EXTRA.yaml ...]

1. Every built-in file is read the way a user's file would be (nesting and alias limits) and checked
   against headlab/catalog/schema/catalog.schema.json, with file:line messages.
2. The files together must make a catalogue: unique ids and names, references to existing papers, types,
   models and probes, instance indices inside their model.
3. Every detector id must be a registered headlab role (skipped, with a note, when headlab.roles cannot
   be imported here).
4. Each EXTRA file is checked as ``hl.catalog.extend`` would take it.

Exit status 0 when everything holds; 1 with the problems on stderr otherwise.
"""

from __future__ import annotations

import sys

from headlab.errors import HeadlabError


def main(argv: list[str]) -> int:
    from headlab import catalog
    from headlab.catalog import _loading
    from headlab.catalog._store import Catalog

    problems: list[str] = []
    try:
        sources = _loading.check_builtin()
        built = Catalog(sources)
    except HeadlabError as exc:
        problems.append(str(exc))
        built = None
    if built is not None:
        try:
            from headlab import roles
        except ImportError as exc:
            print(f"note: detector ids not checked, headlab.roles does not import here ({exc})")
        else:
            registered = set(roles.names())
            for entry in built.entries.values():
                problems += [f"{entry.id}: detector '{role}' is not a registered headlab role"
                             for role in entry.detector if role not in registered]
        print(f"built-in catalogue: {len(built.entries)} head types, {len(built.papers)} papers, "
              f"{sum(len(e.instances) for e in built.entries.values())} known instances, "
              f"{len(_loading.BUILTIN_FILES)} files")
    for path in argv:
        try:
            added = catalog.extend(path)
        except HeadlabError as exc:
            problems.append(str(exc))
        else:
            print(f"{path}: adds {len(added)} head type{'s' if len(added) != 1 else ''}")
        finally:
            catalog.reset()
    for problem in problems:
        print(f"check-catalog: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
