#!/usr/bin/env bash
# Idempotent set-up for a fresh machine.  Usage: scripts/setup.sh [core|test]
#   core: torch (CPU, pinned), Python dependencies, JS build, editable headlab
#   test: core + test extras, spaCy extra, Debian chromium for the browser tests
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

extras="syntax"
[ "$level" = "test" ] && extras="syntax,test"
"$PY" -m pip install -q -e ".[${extras}]"

if [ "$level" = "test" ] && [ ! -x "${HEADLAB_CHROMIUM:-/usr/bin/chromium}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
