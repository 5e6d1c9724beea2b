"""`dnetlab verify` at its limits, against real containers: a catastrophic pattern on what
a container printed ends as an error within its time bound."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.labtools import lab_name, write

REDOS = """
version: 1
name: {name}
networks:
  lan: {{subnet: 10.249.0.0/24}}
containers:
  a: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.249.0.10}}}}}}
probes:
  # catastrophic with Python's re (2**40 ways to split the a's); regex sees through it
  - {{name: nested-plus, type: exec, on: a, command: [echo, "{aaa}"], stdout_matches: "^(a+)+$"}}
  # catastrophic with regex too: stopped after 1 s
  - {{name: alternation, type: exec, on: a, command: [echo, "{aaa}"], stdout_matches: "^(a|a)+$"}}
  - {{name: plain, type: exec, on: a, command: [echo, "{aaa}"], stdout_matches: "^a{{40}}!$"}}
"""

def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dnetlab", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _up(cwd: Path, text: str, lab_names: list[str], **values: str) -> str:
    name = lab_name()
    lab_names.append(name)
    path = write(cwd / "lab.yaml", text.format(name=name, **values))
    up = _run(["up", path], cwd)
    assert up.returncode == 0, up.stderr
    return path


def test_a_catastrophic_pattern_is_an_error_within_its_bound(lab_dir: Path,
                                                              lab_names: list[str]) -> None:
    _up(lab_dir, REDOS, lab_names, aaa="a" * 40 + "!")
    started = time.monotonic()
    done = _run(["verify", "--format", "json"], lab_dir, timeout=120)
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    by = {p["name"]: p for p in json.loads(done.stdout)["probes"]}
    assert by["plain"]["status"] == "passed", by["plain"]
    assert by["nested-plus"]["status"] == "failed", by["nested-plus"]
    assert by["nested-plus"]["actual"] == "no match for /^(a+)+$/"
    alt = by["alternation"]
    assert alt["status"] == "error", alt
    assert alt["expected"] == "output matches /^(a|a)+$/"
    assert alt["actual"] == "the pattern took longer than 1 s on 41 bytes of output; simplify it"
    assert alt["attempts"] == 1
    # Python's re spent hours here; the bound is 1 s of processor time per match
    assert elapsed < 30, elapsed
    _run(["down"], lab_dir)
