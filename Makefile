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

# Every benchmark with the settings behind the README's table (the browser ones need the test
# set-up: Chromium, Playwright; the peers are the `bench` extra, installed without their deps).
bench: setup-test
	python3 -m pip install -q --no-deps bertviz==1.4.1 circuitsvis==1.43.3 importlib-metadata psutil
	for b in benchmarks/*.py; do echo "== $$b"; python3 $$b || exit 1; done
