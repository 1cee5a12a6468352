# The two Quickstart commands.  Both set everything up first (idempotent).
.PHONY: scan test setup setup-test bench

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

scan: setup
	headlab scan

test: setup-test
	scripts/run-tests.sh

setup:
	scripts/setup.sh core

setup-test:
	scripts/setup.sh test

bench: setup
	for b in benchmarks/*.py; do python3 $$b || exit 1; done
