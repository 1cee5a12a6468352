#!/usr/bin/env bash
# Idempotent set-up for a fresh machine.  Usage: scripts/setup.sh [core|test]
#   core: torch (CPU, pinned), Python dependencies, JS build, editable headlab, and the
#         JupyterLab extension (built into headlab/labextension, linked into the environment)
#   test: core + test extras, spaCy and Ray extras, Debian chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
level="${1:-core}"
PY="${PYTHON:-python3}"
quiet() { "$@" > >(grep -vE '^(Requirement already satisfied|Looking in)' || true); }

# torch first and pinned: an unpinned torch resolves to a multi-GB CUDA build.
if ! "$PY" -c 'import torch,sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  "$PY" -m pip install -q "torch==2.13.0"
fi

# Front-end bundle (esbuild + TypeScript) into headlab/static/.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build >/dev/null

# Where JupyterLab and Notebook 7 look for prebuilt extensions of this Python environment.
labext="$("$PY" -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/headlab"
# pip would uninstall and reinstall the old copy through the link below: drop the link first.
[ -L "$labext" ] && rm "$labext"

extras="syntax"
[ "$level" = "test" ] && extras="syntax,test,ray"
"$PY" -m pip install -q -e ".[${extras}]"

# The JupyterLab / Notebook 7 extension (js/lab -> headlab/labextension), rebuilt when any of
# its sources is newer than the build; it needs headlab importable for the catalogue JSON.
if [ ! -f headlab/labextension/package.json ] || [ -n "$(find js/src js/lab headlab/catalog/data package-lock.json \
     -newer headlab/labextension/package.json -print -quit)" ]; then
  PYTHON="$PY" npm run --silent build:lab >/dev/null
fi
# An editable install copies the extension once; a link (what `jupyter labextension develop`
# makes) keeps JupyterLab on the current build.
rm -rf "$labext"
mkdir -p "$(dirname "$labext")"
ln -s "$PWD/headlab/labextension" "$labext"

if [ "$level" = "test" ] && [ ! -x "${HEADLAB_CHROMIUM:-/usr/bin/chromium}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
