"""`dnetlab verify` at its limits, against real containers: a catastrophic pattern on what
a container printed ends as an error within its time bound, and a batch script far over
the kernel's argument limit (E2BIG past 128 KiB) runs in its container and in a helper."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dnetlab.load.pipeline import load
from dnetlab.probes.base import Command, Resolved
from dnetlab.probes.registry import command_for, runs_on
from dnetlab.verify import batch
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

PAD = "x" * 1200  # long commands and URLs make a batch big with few probes
COUNT = 230

BIG = """
version: 1
name: {name}
networks:
  lan: {{subnet: 10.248.0.0/24}}
containers:
  src: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.248.0.10}}}}}}
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo big-batch > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks: {{lan: {{ipv4: 10.248.0.20}}}}
  bare: {{image: dnetlab/bare, command: sleep infinity, networks: {{lan: {{ipv4: 10.248.0.30}}}}}}
probes:
{probes}
"""


def _big_probes() -> str:
    lines = []
    for i in range(COUNT):
        # in src itself: one exec whose script goes on stdin
        lines.append(f'  - {{type: exec, on: src, command: [echo, "{PAD}-{i}."], '
                     f'stdout_contains: "{PAD}-{i}."}}')
    for i in range(COUNT):
        # bare has no wget: these move to a helper, whose script goes in as a file
        lines.append(f'  - {{type: http, from: bare, url: "http://10.248.0.20/?{PAD}-{i}", '
                     f"status: 200, contains: big-batch, within: 5}}")
    return "\n".join(lines)


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


def test_a_batch_far_over_the_argument_limit_verifies(lab_dir: Path,
                                                      lab_names: list[str]) -> None:
    path = _up(lab_dir, BIG, lab_names, probes=_big_probes())
    by_source: dict[str, list[Command]] = {}
    for p in load(path).scenario.probes:
        by_source.setdefault(runs_on(p), []).append(command_for(Resolved(p, runs_on(p), "")))
    for source in ("src", "bare"):  # the batch of each, and bare's again in its helper
        size = len(batch.script(by_source[source], batch.new_token()).encode())
        assert size > 256 * 1024, (source, size)
    done = _run(["verify", "--format", "json"], lab_dir)
    assert done.stdout.strip(), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    wrong = [(p["name"][:60], p["status"], p["actual"][:200]) for p in report["probes"]
             if p["status"] != "passed"]
    assert not wrong, wrong
    assert report["summary"]["passed"] == 2 * COUNT
    assert done.returncode == 0
    _run(["down"], lab_dir)
