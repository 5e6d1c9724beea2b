#!/usr/bin/env bash
# Installs what the tests read dnetlab's output with and dnetlab itself does not need:
# Graphviz (`dot -Tsvg` parses `dnetlab graph --format dot`) and Debian's chromium (loads
# `--format html` headless). Idempotent; apt-get runs only when one is missing.
set -euo pipefail
log() { printf 'test-tools: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_packages graphviz chromium
command -v dot >/dev/null || die "dot is not on PATH after installing graphviz"
command -v chromium >/dev/null || die "chromium is not on PATH after its install"
