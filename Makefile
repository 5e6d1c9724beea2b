# dnetlab: everything runs from here, on a fresh Debian 12 machine as root.
#   make test       venv + Docker engine + images + test bed + the tools tests read output
#                   with (graphviz, chromium), lint, then pytest (CI runs it)
#   make demo       the wheel installed in a fresh venv + engine, then its CLI on the seeds
#   make engine     start (or reuse) the local engine, clear leftovers, build images
#   make clean-lab  remove containers/networks left by earlier runs (labelled ones only)
#   make docs       regenerate docs/format.md from the JSON Schema and docs/format.md.in
# Every target is idempotent; `make test` twice in a row is fine.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

VENV ?= .venv
PY := $(VENV)/bin/python
# What a user gets: the wheel built from this tree, installed (not editable) in a fresh venv.
USER_VENV ?= .venv-user
DNETLAB := $(USER_VENV)/bin/dnetlab
PYTEST_ARGS ?=
STAMP := $(VENV)/.stamp

.PHONY: venv engine lint test demo clean-lab bench wheel docs

venv: $(STAMP)

# Re-install only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "pip install -e '.[dev]' into $(VENV)"
	@# (the filter drops pip's noise about find-links folders this machine lacks)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 \
		| { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	@touch $@

# Rebuilt every time: it is cheap, and a stale wheel would test yesterday's code.
wheel: venv
	@bash scripts/wheel-venv.sh $(PY) $(USER_VENV)

engine:
	@bash scripts/engine-up.sh
	@bash scripts/busybox-image.sh
	@bash scripts/nettools-image.sh

lint: venv
	$(VENV)/bin/ruff check dnetlab tests bench
	$(VENV)/bin/mypy

# The multi-host tests use the test bed: it is (re)built first, from scratch when an
# earlier run left it broken.
test: venv engine wheel
	@bash scripts/test-tools.sh
	@bash scripts/testbed.sh up $(HOSTS)
	@$(MAKE) --no-print-directory lint
	DNETLAB_USER_VENV=$(USER_VENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

# Validate every seed, then bring one up, prove it, show it, and take it down again.
# A lab left by an interrupted demo is taken down first.
DEMO ?= scenarios/static-ip.yaml
demo: wheel engine
	$(DNETLAB) validate scenarios/*.yaml
	@$(DNETLAB) down --yes $(DEMO) >/dev/null 2>&1 </dev/null || true
	$(DNETLAB) up $(DEMO)
	$(DNETLAB) verify
	$(DNETLAB) status
	$(DNETLAB) exec c1 -- ip -4 -o addr show
	$(DNETLAB) down

clean-lab:
	@bash scripts/engine-up.sh --clean-only

bench: venv engine wheel
	@bash scripts/bench-tools.sh
	DNETLAB_USER_VENV=$(USER_VENV) $(PY) bench/run.py

# The format reference: tables from the schema's descriptions, intro and example from
# docs/format.md.in. tests/unit/load/test_format_doc.py fails when it is stale.
docs: venv
	$(PY) scripts/format-doc.py

# The multi-host test bed: HOSTS Docker hosts, each a network namespace with its own
# dockerd and sshd, odd hosts on 10.99.0.0/24 and even hosts on 10.99.1.0/24 joined by a
# router namespace (ssh://root@10.99.0.1, 10.99.1.2, 10.99.0.3 ...); see scripts/testbed.sh.
# A healthy bed of that size is kept as it is; anything else is cleared and rebuilt.
# `make test` uses 6 (the six-host lab of tests/integration/test_multihost_six.py; the
# other multi-host tests take the first hosts of it).
HOSTS ?= 6
.PHONY: testbed testbed-down
testbed:
	@bash scripts/testbed.sh up $(HOSTS)

testbed-down:
	@bash scripts/testbed.sh down
