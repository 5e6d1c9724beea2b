"""docs/tutorial.md cannot rot: every command it shows runs, in order, on the real engine
and the test bed, and every output line it shows comes back, in order.

The tutorial's `console` blocks hold `$ COMMAND` lines, each followed by the output it
shows. A shown line matches an actual line when they are equal after collapsing runs of
spaces (tables are padded to the terminal), with `...` in a shown line standing for any
text (durations, dynamic addresses, container IDs). Lines shown must appear in the
actual output in the same order; the output may have more lines (the tutorial trims).
A command that must fail says so in a comment after it: `$ dnetlab verify  # exit 1`.
`dnetlab` is the console script that the wheel installed (what users run).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.installed.conftest import user_env

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
LABS = ("none", "host", "bridge", "links", "static-ip", "isolation", "overlay")


@dataclass
class Shown:
    command: str
    exit_code: int
    lines: list[str] = field(default_factory=list)


def commands(text: str) -> list[Shown]:
    out: list[Shown] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                cmd, _, comment = line[2:].partition("  # ")
                m = re.search(r"exit (\d+)", comment)
                out.append(Shown(cmd.strip(), int(m[1]) if m else 0))
            elif out and line.strip():
                out[-1].lines.append(line)
    return out


def _norm(line: str) -> str:
    return " ".join(line.split())


def _matches(shown: str, actual: str) -> bool:
    parts = [re.escape(p) for p in _norm(shown).split("...")]
    return re.fullmatch(".*?".join(parts), _norm(actual)) is not None


def missing_lines(shown: list[str], actual: str) -> list[str]:
    """The shown lines that do not come back in order (empty: all of them do)."""
    lines = actual.splitlines()
    at = 0
    for n, want in enumerate(shown):
        while at < len(lines) and not _matches(want, lines[at]):
            at += 1
        if at == len(lines):
            return shown[n:]
        at += 1
    return []


def test_the_tutorial_parses() -> None:
    shown = commands(TUTORIAL.read_text())
    assert len(shown) >= 30
    assert all(s.command.startswith(("dnetlab ", "cat ", "make ")) for s in shown), [
        s.command for s in shown if not s.command.startswith(("dnetlab ", "cat ", "make "))]
    ups = [Path(s.command.split()[-1]).stem for s in shown
           if s.command.startswith("dnetlab up")]
    assert list(dict.fromkeys(ups)) == list(LABS)


def test_missing_lines_is_strict() -> None:
    actual = "lab none is up: 1 change(s) in 0.31 s\nPASS  ping c1 -> 127.0.0.1\n"
    assert missing_lines(["lab none is up: ... change(s) in ... s"], actual) == []
    assert missing_lines(["PASS ping c1 -> 127.0.0.1", "lab none is up: ..."], actual) == [
        "lab none is up: ..."]
    assert missing_lines(["FAIL ping c1 -> 127.0.0.1"], actual) == [
        "FAIL ping c1 -> 127.0.0.1"]


def test_every_command_of_the_tutorial(user_venv: Path, tmp_path: Path,
                                       lab_names: list[str]) -> None:
    lab_names.extend(LABS)  # whatever happens, nothing of them is left
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    dnetlab = str(user_venv / "bin" / "dnetlab")
    # a newcomer's machine: nothing approved yet (the suite's own config approves seeds)
    env = {**user_env(), "COLUMNS": "160", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    try:
        _run_all(dnetlab, tmp_path, env)
    finally:  # a lab the tutorial left up (a failed step): the multi-host one too
        subprocess.run([dnetlab, "down", "--yes"], cwd=tmp_path, env=env,
                       capture_output=True, timeout=300, check=False)


def _run_all(dnetlab: str, cwd: Path, env: dict[str, str]) -> None:
    for s in commands(TUTORIAL.read_text()):
        if s.command.startswith("make "):
            continue  # the set-up the test suite has already done
        argv = shlex.split(s.command)
        if argv[0] == "dnetlab":
            argv[0] = dnetlab
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=600, check=False)
        actual = done.stdout + done.stderr
        assert done.returncode == s.exit_code, f"$ {s.command}\n{actual}"
        missing = missing_lines(s.lines, actual)
        assert not missing, f"$ {s.command}\nnot in the output: {missing}\n---\n{actual}"

