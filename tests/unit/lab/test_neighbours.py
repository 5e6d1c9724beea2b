"""The warning about the kernel's neighbour table (dnetlab/lab/neighbours.py)."""

from __future__ import annotations

from pathlib import Path

from dnetlab.lab import neighbours
from dnetlab.load.pipeline import load
from dnetlab.model import Scenario
from tests.hostile.generate import lab_2000


def _scenario(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "lab.yaml"
    path.write_text(text)
    return load(str(path)).scenario


SMALL = """version: 1
name: small
networks: {lan: {subnet: 10.9.0.0/24}}
containers:
  a: {image: busybox, networks: {lan: {ipv4: 10.9.0.10}}}
  b: {image: busybox, networks: {lan: {ipv4: 10.9.0.11}}}
probes:
  - {type: ping, from: a, to: b}
"""


def test_a_large_local_lab_over_the_limit_is_warned_about_with_the_fix(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, lab_2000().data.decode())
    text = neighbours.warning(sc, 1024)
    assert text is not None
    # 2,000 containers, 4,000 probes from them: 2,000 + 2 x 4,000
    assert "2000 containers" in text and "4000 probes" in text and "10000" in text
    assert "at most 1024" in text
    assert "sysctl -w net.ipv4.neigh.default.gc_thresh3=32768" in text
    assert neighbours.warning(sc, 16384) is None
    assert neighbours.warning(sc, None) is None


def test_a_small_lab_fits(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, SMALL)
    assert neighbours.needed_entries(2, 1) == 4
    assert neighbours.warning(sc, 4) is None
    assert neighbours.warning(sc, 3) is not None


def test_containers_on_remote_hosts_do_not_count(tmp_path: Path) -> None:
    remote = SMALL.replace("networks: {lan", "hosts: {far: {engine: 'ssh://root@10.99.0.1'}}\n"
                                             "networks: {lan", 1)
    sc = _scenario(tmp_path, remote)
    assert {c.host for c in sc.containers} == {"far"}
    assert neighbours.warning(sc, 1) is None


def test_the_limit_is_read_from_the_kernel_file(tmp_path: Path) -> None:
    f = tmp_path / "gc_thresh3"
    f.write_text("2048\n")
    assert neighbours.kernel_limit(f) == 2048
    f.write_text("lots\n")
    assert neighbours.kernel_limit(f) is None
    assert neighbours.kernel_limit(tmp_path / "missing") is None
    assert isinstance(neighbours.kernel_limit(), int)  # this machine's own
