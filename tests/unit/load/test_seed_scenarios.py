"""The seed's scenarios validate clean and say what the seed shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnetlab.load.pipeline import load
from dnetlab.load.rendered import Variables
from dnetlab.probes.interfaces import InterfacesProbe
from dnetlab.probes.ping import PingProbe
from dnetlab.probes.routes import RoutesProbe

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema=../schemas/scenario.schema.json"


def test_every_seed_experiment_has_a_scenario() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {"none", "host", "bridge", "static-ip", "isolation", "overlay"} <= names


# What each seed asks of the machine (spec 10.4): shown, never a surprise.
SEED_ASKS = {
    "host": ["host-network: container c1 uses the host's network namespace"],
    # the test bed's hosts: odd ones on 10.99.0.0/24, even ones on 10.99.1.0/24
    "overlay": [f"remote-engine: host {h} is the Docker engine at ssh://root@{a}: "
                "dnetlab connects to it and changes it"
                for h, a in (("manager", "10.99.0.1"), ("worker1", "10.99.1.2"),
                             ("worker2", "10.99.0.3"))]
               + [f"image-copy: image busybox may be copied from the local engine to host {h} "
                  "(docker save here, docker load there) when that host lacks it"
                  for h in ("manager", "worker1", "worker2")]
               + ["host-exec: probe \"the manager's own path to worker1 has two hops (the "
                  "router, then worker1)\" runs a command in the network namespace of host "
                  "manager (in a helper container of image busybox)"],
}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_validates_clean(path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate", str(path))
    assert code == 0, err
    # no warning but the asks, each located
    asks = SEED_ASKS.get(path.stem, [])
    assert len(err.splitlines()) == len(asks), err
    assert all(": warning: asks: " in line for line in err.splitlines())
    assert [a.key() for a in load(str(path)).asks] == asks
    assert out.startswith(f"{path}: ok:")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_starts_with_schema_modeline(path: Path) -> None:
    assert path.read_text().splitlines()[0] == MODELINE


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_has_probes(path: Path) -> None:
    assert load(str(path)).scenario.probes


def test_none_has_only_loopback() -> None:
    sc = load(str(ROOT / "scenarios/none.yaml")).scenario
    assert sc.containers[0].network_mode == "none"
    only = [p for p in sc.probes if isinstance(p, InterfacesProbe) and p.only is not None]
    assert only and only[0].only == ("lo",)


def test_bridge_checks_default_bridge_addressing() -> None:
    sc = load(str(ROOT / "scenarios/bridge.yaml")).scenario
    assert all(not c.attachments and c.network_mode is None for c in sc.containers)
    subnets = [dict(p.subnets) for p in sc.probes if isinstance(p, InterfacesProbe)]
    assert any("172.17.0.0/16" in s.get("eth0", ()) for s in subnets)
    assert any(isinstance(p, RoutesProbe) and p.default_via == "172.17.0.1" for p in sc.probes)
    assert any(p.type == "dns" and p.expect == "unresolved" for p in sc.probes)


def test_isolation_expects_unreachable_across_bridges() -> None:
    sc = load(str(ROOT / "scenarios/isolation.yaml")).scenario
    assert any(isinstance(p, PingProbe) and p.expect == "unreachable" for p in sc.probes)
    assert len([n for n in sc.networks if n.driver == "bridge"]) == 2


def test_overlay_hosts_come_from_variables() -> None:
    varied = load(str(ROOT / "scenarios/overlay.yaml"),
                  Variables(cli={"manager_addr": "10.99.0.11", "worker1_addr": "10.99.0.12",
                                    "worker2_addr": "10.99.0.13"}))
    engines = [h.engine for h in varied.scenario.hosts]
    assert engines == ["ssh://root@10.99.0.11", "ssh://root@10.99.0.12", "ssh://root@10.99.0.13"]
    roles = [h.swarm for h in varied.scenario.hosts]
    assert roles.count("manager") == 1 and roles.count("worker") >= 1
    assert any(n.driver == "overlay" for n in varied.scenario.networks)
