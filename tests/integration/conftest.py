"""Fixtures for tests against the real Docker engine that `make engine` starts.

Every test in this folder is marked ``engine``. The engine is a hard
requirement: when it does not answer, the tests fail (they never skip), with a
hint to run ``make engine``.

Whatever a test creates carries the label ``dnetlab.test=1`` (see
``test_labels``), so that ``scripts/engine-up.sh`` can clear what a crashed
run left behind.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item of the session: mark only ours.
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A Docker SDK client for the local engine, checked with ``ping()``."""
    problem = None
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # any failure here means: no usable engine
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        # Outside the except block, so the report is one line, not a chain.
        pytest.fail(f"no Docker engine answers ({problem}); run `make engine`", pytrace=False)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(autouse=True)
def no_helper_carried_over(docker_client: docker.DockerClient) -> Iterator[None]:
    """After each test, the dnetlab helpers it left on the local engine are removed: the
    tests that check that none is left have judged by then, and a later test's check
    must judge its own run, not an earlier one's (a capture hung under load once left
    one, and ten tests after it failed for it)."""
    yield
    for c in docker_client.containers.list(all=True,
                                           filters={"label": "dnetlab.kind=helper"}):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            c.remove(force=True)


@pytest.fixture
def unique_name() -> str:
    """A fresh name for a container or network: ``dnetlab-t-<random hex>``."""
    return f"dnetlab-t-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def test_labels() -> dict[str, str]:
    """Labels for everything a test creates; engine-up.sh clears them all."""
    return {"dnetlab.test": "1"}


@pytest.fixture
def lab_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of its own, so each test has its own .dnetlab/ records."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def lab_names(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Scenario names a test uses; whatever carries them is removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        flt = {"label": f"dnetlab.scenario={name}"}
        for c in docker_client.containers.list(all=True, filters=flt):
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)
        for n in docker_client.networks.list(filters=flt):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                n.remove()
        for v in docker_client.volumes.list(filters=flt):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                v.remove(force=True)
