"""The standard-library read path for local engines sees exactly what the SDK sees."""

from __future__ import annotations

import sys
from pathlib import Path

import docker

from dnetlab.engine.connect import Connection
from dnetlab.engine.engine import Engine
from dnetlab.lab.instance import owner_here
from dnetlab.model import Host
from tests.integration.labtools import lab_name, two_net_lab, write


def test_socket_reader_and_sdk_observe_the_same_state(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    assert run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))[0] == 0
    fast = Engine.open(Host("local", None))
    assert fast.conn.reader is not None
    url, version = fast.conn.url, fast.conn.api_version
    slow = Engine(Connection(fast.host, docker.APIClient(base_url=url, version=version), url,
                             version))
    try:
        a, b = fast.observe(["busybox", "nope:1"]), slow.observe(["busybox", "nope:1"])
    finally:
        fast.close()
        slow.close()
    # the engine lists in no fixed order; compare this lab's objects (others may come and go)
    lab = owner_here(name, lab_dir)  # the instance its `up` recorded
    assert lab.instance
    assert set(a.owned_containers(lab)) == set(b.owned_containers(lab))
    assert set(a.owned_networks(lab)) == set(b.owned_networks(lab))
    assert len(a.owned_containers(lab)) == 3 and len(a.owned_networks(lab)) == 2
    assert {n.name for n in a.networks} >= {"bridge", "host", "none"}
    assert a.volumes == b.volumes and a.images == b.images == frozenset({"busybox"})
    assert any(c.name == f"{name}-c2" and len(c.endpoints) == 2 for c in a.containers)


def test_reading_state_does_not_load_the_sdk() -> None:
    import subprocess

    code = ("import sys; from dnetlab.engine.engine import Engine; from dnetlab.model import Host; "
            "e = Engine.open(Host('local', None)); e.observe(['busybox']); "
            "print('docker' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "False"
