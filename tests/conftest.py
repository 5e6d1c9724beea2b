from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dnetlab.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _user_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user's dnetlab directory (record key, trust approvals) is a fresh one for the
    test session, never the real user's; subprocesses inherit it."""
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    # the project's own seeds are approved, as their user would with `dnetlab trust`
    from dnetlab.lab import trust
    from dnetlab.load.pipeline import load

    for seed in sorted((ROOT / "scenarios").glob("*.yaml")):
        trust.approve(str(seed), load(str(seed)).asks)
    yield
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run the real CLI entry point in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:  # pragma: no cover - main always exits
            code = 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
