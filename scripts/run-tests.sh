#!/usr/bin/env bash
# Every test: front-end unit tests (vitest), then Python unit, integration and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
npm test --silent
python3 -m pytest -q "$@"
