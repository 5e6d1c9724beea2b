"""`verify --capture-failed DIR` on the real engine: a failed probe's source container is
captured while the probe is tried once more; the pcap holds the retry's packets and the
JSON and JUnit reports name it. Passing probes get no capture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from junitparser import JUnitXml

from tests.integration.labtools import lab_name, pair_lab, write
from tests.integration.test_capture import echo_requests

DNETLAB = [sys.executable, "-m", "dnetlab"]


def test_a_failed_probe_is_captured_while_it_is_tried_again(
        lab_dir: Path, lab_names: list[str]) -> None:
    name = lab_name("cf")
    lab_names.append(name)
    path = write(lab_dir / "lab.yaml", pair_lab(name, 7, """\
  - {name: reaches c2, type: ping, from: c1, to: c2}
  - {name: c2 is unreachable (it is not), type: ping, from: c1, to: c2, expect: unreachable}
"""))
    up = subprocess.run([*DNETLAB, "up", path], cwd=lab_dir, capture_output=True, text=True,
                        timeout=120, check=False)
    assert up.returncode == 0, up.stderr
    pcaps = lab_dir / "pcaps"
    run = subprocess.run([*DNETLAB, "verify", "--format", "json", "--capture-failed",
                          str(pcaps)], cwd=lab_dir, capture_output=True, text=True,
                         timeout=180, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    probes = {p["name"]: p for p in json.loads(run.stdout)["probes"]}
    assert "capture" not in probes["reaches c2"]
    failed = probes["c2 is unreachable (it is not)"]
    assert failed["status"] == "failed"
    pcap = Path(failed["capture"])
    assert pcap.parent == pcaps and pcap.suffix == ".pcap"
    # the retry pinged c2 three times: its echo requests are in the file
    assert echo_requests(pcap.read_bytes()) >= 3
    assert sorted(p.name for p in pcaps.iterdir()) == [pcap.name]
    junit = lab_dir / "r.xml"
    again = subprocess.run([*DNETLAB, "verify", "--format", "junit", "--output", str(junit),
                            "--capture-failed", str(lab_dir / "pcaps2")], cwd=lab_dir,
                           capture_output=True, text=True, timeout=180, check=False)
    assert again.returncode == 1, again.stderr
    [suite] = list(JUnitXml.fromfile(str(junit)))
    case = next(c for c in suite if c.name == "c2 is unreachable (it is not)")
    assert f"capture of a retry: {lab_dir / 'pcaps2'}/" in case.result[0].text
    left = subprocess.run(["docker", "ps", "-aq", "--filter", "label=dnetlab.kind=helper"],
                          capture_output=True, text=True, check=True)
    assert left.stdout.strip() == ""
