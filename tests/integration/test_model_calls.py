"""The 100-host model's fake engine (bench/simengine.py) is only as good as its likeness to
the real one: the same lab, brought up, verified and taken down by dnetlab's code against
the real local engine (every request recorded) and against the fake, makes the same
multiset of engine calls in each phase. (Over SSH, `make bench` compares the real 3- and
6-host runs with the model the same way: `model_call_mismatch_*`.)"""

from __future__ import annotations

import sys
from pathlib import Path

import docker

from tests.integration.labtools import lab_name, nothing_left, write

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import model_bench as mb  # noqa: E402
import simengine as se  # noqa: E402

FREE = se.Costs({}, {}, 0.0, 0.0, 0.0, parallel=8.0)


def lab(name: str) -> str:
    """Four containers on two bridges (one on both: a connect before its start), pings."""
    return f"""
version: 1
name: {name}
networks:
  front: {{subnet: 10.231.0.0/24}}
  back: {{subnet: 10.232.0.0/24}}
containers:
  a: {{image: busybox, command: sleep infinity, networks: {{front: {{ipv4: 10.231.0.10}}}}}}
  b: {{image: busybox, command: sleep infinity,
      networks: {{front: {{ipv4: 10.231.0.11}}, back: {{ipv4: 10.232.0.11}}}}}}
  c: {{image: busybox, command: sleep infinity, networks: {{back: {{ipv4: 10.232.0.12}}}}}}
  d: {{image: busybox, command: sleep infinity, networks: {{back: {{}}}}}}
probes:
  - {{type: ping, from: a, to: b, count: 1}}
  - {{type: ping, from: b, to: c, count: 1}}
  - {{type: ping, from: c, to: b, count: 1}}
  - {{type: ping, from: d, to: c, count: 1}}
"""


def test_the_fake_engine_gets_the_calls_the_real_one_gets(
        lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name("model")
    lab_names.append(name)
    real_dir, fake_dir = lab_dir / "real", lab_dir / "fake"
    real_dir.mkdir()
    fake_dir.mkdir()
    path = Path(write(real_dir / "lab.yaml", lab(name)))
    log = se.CallLog()
    with mb.opener(se.recording_opener(log)):
        real = mb.run_phases(path, real_dir, 8, lambda: 0, log, probes=("ping a -> b",))
    assert nothing_left(docker_client, name)

    sim = se.Sim(FREE, scale=1.0)
    fake_path = Path(write(fake_dir / "lab.yaml", lab(name)))
    with mb.opener(sim.opener()):
        fake = mb.run_phases(fake_path, fake_dir, 8, lambda: 0, sim.log,
                             probes=("ping a -> b",))

    for phase in ("up", "verify", "verify_one", "down"):
        want, got = se.kinds(real[phase][2]), se.kinds(fake[phase][2])
        assert got == want, f"{phase}: real {sorted(want.items())}, fake {sorted(got.items())}"
    # what is compared is not trivially empty: the container phase and the execs are in it
    assert se.kinds(real["up"][2])["create_container"] == 4
    assert se.kinds(real["up"][2])["connect_container_to_network"] == 1
    assert se.kinds(real["verify"][2])["exec_create"] == 4
    assert all(c.transport == se.LOCAL for p in real.values() for c in p[2])
