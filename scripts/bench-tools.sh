#!/usr/bin/env bash
# Installs what `make bench` compares dnetlab against and is not needed otherwise:
# Debian's docker-compose (1.29), the reference of the lab benchmark. Idempotent.
set -euo pipefail
log() { printf 'bench-tools: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_packages docker-compose
command -v docker-compose >/dev/null || die "docker-compose is not on PATH after its install"
