#!/usr/bin/env bash
# Builds dnetlab's wheel from the work tree and installs it, not editable, into a fresh
# venv: what `pip install .` gives a user. `make demo` runs that venv's console script and
# the tests in tests/installed/ run it, so a file left out of the wheel fails there.
#   scripts/wheel-venv.sh BUILD_PYTHON VENV
# BUILD_PYTHON: a python with setuptools (the dev venv's); VENV: the venv to (re)make.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_py=${1:?usage: wheel-venv.sh BUILD_PYTHON VENV}
venv=$(realpath -m "${2:?usage: wheel-venv.sh BUILD_PYTHON VENV}")
log() { echo "wheel-venv: $*"; }
SECONDS=0

# setuptools keeps what an earlier build copied to build/lib, deleted modules too, and
# puts it in the next wheel: build from nothing.
rm -rf build dist ./*.egg-info
# (the filter drops pip's noise about find-links folders this machine lacks)
"$build_py" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
    -w dist . 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
wheels=(dist/dnetlab-*.whl)
[[ ${#wheels[@]} -eq 1 && -f ${wheels[0]} ]] || { echo "wheel-venv: no single wheel in dist/" >&2; exit 1; }
rm -rf build ./*.egg-info

"$build_py" -m venv --clear "$venv"  # the base interpreter of the dev venv
"$venv/bin/python" -m pip install -q --disable-pip-version-check "${wheels[0]}" 2>&1 \
    | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
# The console script must come from the venv's site-packages, never from this tree.
where=$(cd / && "$venv/bin/python" -c 'import dnetlab; print(dnetlab.__file__)')
case $where in
    "$venv"/*) ;;
    *) echo "wheel-venv: dnetlab imports from $where, not from $venv" >&2; exit 1 ;;
esac
log "installed ${wheels[0]} into $venv in ${SECONDS}s"
