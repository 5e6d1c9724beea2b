"""Every bad scenario in tests/bad/ gives exactly the expected, located messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parents[2] / "bad"
CASES = sorted(p.stem for p in BAD.glob("*.yaml"))
LOCATED = re.compile(r"^[\w.-]+\.yaml:\d+:\d+: [^ ]+: .+$")


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    for name in CASES:
        assert (BAD / f"{name}.expected").is_file(), f"{name}.yaml has no expected file"


@pytest.mark.parametrize("name", CASES)
def test_bad_scenario_reports_expected_errors(name: str, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(BAD)
    expected = (BAD / f"{name}.expected").read_text().splitlines()
    code_line, messages = expected[0], expected[1:]
    code, _out, err = run_cli("validate", f"{name}.yaml")
    assert code_line == f"# exit {code}"
    assert err.splitlines() == messages
    for line in err.splitlines():
        assert LOCATED.match(line), f"not FILE:LINE:COL: path: message: {line}"
        assert "Traceback" not in line


def test_all_bad_files_at_once_report_every_file(run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(BAD)
    code, _out, err = run_cli("validate", *[f"{n}.yaml" for n in CASES])
    assert code == 2
    reported = {line.split(":", 1)[0] for line in err.splitlines()}
    failing = {f"{n}.yaml" for n in CASES
               if (BAD / f"{n}.expected").read_text().startswith("# exit 2")}
    assert failing <= reported


def test_file_over_size_limit_is_refused_quickly(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\nname: lab\n" + "# padding\n" * 120_000)
    code, _out, err = run_cli("validate", str(big))
    assert code == 2
    assert "over the limit of 1048576 bytes" in err
    assert err.startswith(f"{big}:1:1: (file): file is")


def test_missing_file_is_a_located_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert err.strip() == f"{tmp_path / 'nope.yaml'}:1:1: (file): no such file"
