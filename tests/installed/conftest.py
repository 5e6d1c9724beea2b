"""Fixtures for the tests of what a user installs: the wheel in a venv of its own.

`make test` builds the wheel and installs it (scripts/wheel-venv.sh) into the venv named
by DNETLAB_USER_VENV; run alone, these tests build one of their own the same way. They
need the real engine, like tests/integration/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import docker_client, lab_names

# the engine fixtures of tests/integration, shared
__all__ = ["docker_client", "lab_names", "user_env", "user_venv"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding dnetlab installed from its wheel, not from this work tree."""
    given = os.environ.get("DNETLAB_USER_VENV")
    if given:
        venv = Path(given).resolve()
        assert (venv / "bin" / "dnetlab").is_file(), (
            f"DNETLAB_USER_VENV={given} has no bin/dnetlab; run `make wheel`")
        return venv
    venv = tmp_path_factory.mktemp("user") / "venv"
    subprocess.run(["bash", str(ROOT / "scripts" / "wheel-venv.sh"), sys.executable, str(venv)],
                   cwd=ROOT, check=True, timeout=600)
    return venv


def user_env() -> dict[str, str]:
    """The environment a user's shell would give the console script: nothing that points
    Python at this work tree."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
