"""Each seed's lesson is proven, not assumed: the seed broken on purpose in the way its
lesson is about makes exactly the probes of that lesson fail (and the unbroken seed
passes: tests/integration/test_verify.py::test_seed_scenario_proves_the_seed).

A mutation is a textual edit of the seed file; the probes expected to fail are named by
their place in the file's `probes` list (as written, before lists expand)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dnetlab.load.pipeline import load
from tests.integration.labtools import lab_name

ROOT = Path(__file__).resolve().parents[2]
DNETLAB = [sys.executable, "-m", "dnetlab"]

# seed -> (what the mutation does, [(old, new)], indexes of probes that must fail,
# indexes that must still pass)
MUTATIONS: dict[str, tuple[str, list[tuple[str, str]], set[int], set[int]]] = {
    "none": ("the container gets Docker's default bridge instead of no network",
             [("    network_mode: none\n", "")], {0, 1, 3}, {2}),
    "host": ("the container gets its own namespace on the default bridge",
             [("    network_mode: host\n", "    network_mode: bridge\n")], {0, 2, 4, 5, 6},
             {1, 3, 7, 8}),
    "static-ip": ("c2 gets another static address",
                  [("lan: {ipv4: 10.201.0.11}", "lan: {ipv4: 10.201.0.21}")], {3},
                  {0, 1, 2, 4, 5}),
    "bridge": ("c1 and c2 are put on a user-defined network instead",
               [("containers:\n  c1:\n",
                 "networks:\n  lan: {subnet: 10.218.0.0/24}\ncontainers:\n  c1:\n"
                 "    networks: [lan]\n"),
                ("  c2:\n    image: busybox\n",
                 "  c2:\n    networks: [lan]\n    image: busybox\n")],
               {7, 8}, {3, 4, 5}),
    "links": ("c1's link to c2 is dropped", [('    links: ["c2:web"]\n', "")], {0, 1},
              {2, 3, 6, 7}),
    "isolation": ("c1 is also put on net2",
                  [("      net1: {ipv4: 10.202.1.10}\n",
                    "      net1: {ipv4: 10.202.1.10}\n      net2: {ipv4: 10.202.2.30}\n")],
                  {11}, {0, 1, 12}),
}


def _mutated(seed: str, edits: list[tuple[str, str]], name: str, where: Path) -> Path:
    text = (ROOT / "scenarios" / f"{seed}.yaml").read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"{seed}: the mutation's anchor {old!r} moved"
        text = text.replace(old, new)
    text, n = re.subn(r"(?m)^name: .*$", f"name: {name}", text)
    assert n == 1
    text = text.split("\nsteps:")[0] + "\n"  # the static lesson; steps are tested apart
    path = where / f"{seed}.yaml"
    path.write_text(text)
    return path


def _names_by_index(path: Path) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for p in load(str(path)).scenario.probes:
        out.setdefault(p.index, set()).add(p.name)
    return out


@pytest.mark.parametrize("seed", sorted(MUTATIONS))
def test_breaking_the_lesson_fails_its_probes(seed: str, tmp_path: Path,
                                              lab_names: list[str]) -> None:
    what, edits, must_fail, must_pass = MUTATIONS[seed]
    name = lab_name("mut")
    lab_names.append(name)
    path = _mutated(seed, edits, name, tmp_path)
    up = subprocess.run([*DNETLAB, "up", "--trust", str(path)], cwd=tmp_path,
                        capture_output=True, text=True, timeout=180, check=False)
    assert up.returncode == 0, up.stderr
    run = subprocess.run([*DNETLAB, "verify", "--format", "json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(run.stdout)
    status = {p["name"]: p["status"] for p in report["probes"]}
    names = _names_by_index(path)
    failed = {i for i, ns in names.items() if any(status[n] != "passed" for n in ns)}
    assert run.returncode == 1, f"{seed} ({what}): every probe passed"
    assert must_fail <= failed, (f"{seed} ({what}): expected probes {sorted(must_fail)} to "
                                 f"fail, failed: {sorted(failed)}\n{json.dumps(status)}")
    assert not (must_pass & failed), f"{seed} ({what}): unrelated probes failed: {failed}"
