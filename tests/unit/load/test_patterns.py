"""A scenario's regular expressions are compiled when it is loaded, each failure a located
validation error (exit 2), never an internal error: re's OverflowError, a RecursionError,
a pattern that asks for gigabytes or for minutes to compile."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dnetlab.load import patterns
from dnetlab.load.isolate import Overrun

SCENARIO = """version: 1
name: lab
containers:
  a: {{image: busybox}}
probes:
  - {{type: exec, on: a, command: "true", stdout_matches: {exec!r}}}
  - {{type: file, on: a, path: /etc/hosts, matches: {file!r}}}
"""


Cli = Callable[..., tuple[int, str, str]]


def _validate(run_cli: Cli, tmp_path: Path, exec_: str, file: str) -> tuple[int, str]:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(exec=exec_, file=file))
    code, _out, err = run_cli("validate", str(path))
    return code, err


def test_every_kind_of_compile_failure_is_located(run_cli: Cli, tmp_path: Path) -> None:
    started = time.monotonic()
    code, out = _validate(run_cli, tmp_path, "a{99999999999}", "(" * 3000 + ")" * 3000)
    assert code == 2, out
    assert "internal error" not in out
    lines = [ln.split(": ", 1)[1] for ln in out.splitlines() if "s.yaml:" in ln]
    assert lines == [
        "probes[0].stdout_matches: invalid regular expression: repeat count too big at "
        "position 2",
        "probes[1].matches: invalid regular expression: it nests too deeply",
    ]
    assert out.splitlines()[0].startswith(f"{tmp_path}/s.yaml:6:")
    assert time.monotonic() - started < 5


def test_a_pattern_that_asks_for_gigabytes_is_refused_in_a_child(run_cli: Cli,
                                                                 tmp_path: Path) -> None:
    code, out = _validate(run_cli, tmp_path, "x{4294967294}", "ok")
    assert code == 2
    assert ("probes[0].stdout_matches: the regular expression needs more than 128 MB of "
            "memory to compile") in out


def test_a_compile_over_its_deadline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(fn: object, *, timeout_s: float, memory_bytes: int) -> object:
        raise Overrun("time")

    monkeypatch.setattr(patterns, "run_isolated", slow)
    assert patterns.problem("(?:ab){1000000}") == (
        "the regular expression took longer than 2 s to compile and was stopped",
        patterns.COSTLY_HINT)


def test_cheap_patterns_compile_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_child(fn: object, *, timeout_s: float, memory_bytes: int) -> object:
        raise AssertionError("forked for a cheap pattern")

    monkeypatch.setattr(patterns, "run_isolated", no_child)
    assert patterns.problem(r"^10\.0\.0\.\d{1,3}$") is None
    assert patterns.problem("[") == ("invalid regular expression: unterminated character "
                                     "set at position 1", None)


def test_a_costly_pattern_that_fits_the_limits_is_accepted() -> None:
    assert patterns.problem("(?:ab){20000}") is None
