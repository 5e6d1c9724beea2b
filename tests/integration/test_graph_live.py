"""`dnetlab graph` with the last verify's results, on the real engine: `verify` records
its report beside the lab's record, and the graph draws the failed probe (JSON: the
probe failed, its source container marked), while `down` forgets the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.labtools import lab_name, pair_lab, write

DNETLAB = [sys.executable, "-m", "dnetlab"]


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DNETLAB, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180, check=False)


def test_the_graph_draws_what_the_last_verify_found(lab_dir: Path,
                                                     lab_names: list[str]) -> None:
    name = lab_name("gr")
    lab_names.append(name)
    path = write(lab_dir / "lab.yaml", pair_lab(name, 8, """\
  - {name: fine, type: ping, from: c1, to: c2}
  - {name: wrong, type: ping, from: c2, to: c1, expect: unreachable}
"""))
    assert _run(lab_dir, "up", path).returncode == 0
    before = json.loads(_run(lab_dir, "graph", "--format", "json").stdout)
    assert not before.get("probes")
    assert _run(lab_dir, "verify").returncode == 1
    graph = json.loads(_run(lab_dir, "graph", "--format", "json").stdout)
    status = {p["name"]: p["status"] for p in graph["probes"]}
    assert status == {"fine": "passed", "wrong": "failed"}, status
    marked = {c["key"]: c["failed"] for c in graph["containers"]}
    assert marked["c2"] and not marked["c1"], marked
    mermaid = _run(lab_dir, "graph").stdout
    assert "wrong" in mermaid
    assert _run(lab_dir, "down").returncode == 0
    # the record and the report go (the instance id stays, by design: records.py)
    left = sorted(p.name for p in (lab_dir / ".dnetlab").glob(f"{name}*"))
    assert left == [f"{name}.instance"], left
