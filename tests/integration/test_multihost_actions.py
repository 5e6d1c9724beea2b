"""Steps' actions on a container of a remote host of the test bed (spec section 10.3): a
worker's container disconnected from the overlay and connected back at its declared
address (it reaches the manager's container again), its overlay attachment impaired
(the tools image brought to the worker on the way), and `up` putting the lab back."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dnetlab import labels
from dnetlab.engine.impair import TOOLS_IMAGE
from dnetlab.lab.actions import perform
from dnetlab.lab.down import down
from dnetlab.lab.instance import owner_here
from dnetlab.lab.session import Session
from dnetlab.lab.up import plan_up, up
from dnetlab.load.pipeline import load
from dnetlab.model import Action, Impairment, Step
from tests.integration.test_multihost import _client, _reset, hosts  # noqa: F401 (fixture)

NAME = "steps-ovl"
RATE = Impairment(rate="1mbit", rate_bps=1_000_000)


def _scenario(h: list[dict[str, str]]) -> str:
    return f"""
version: 1
name: {NAME}
hosts:
  manager: {{engine: "{h[0]['ssh']}", swarm: manager, advertise_addr: {h[0]['address']}}}
  worker1: {{engine: "{h[1]['ssh']}", swarm: worker}}
networks:
  ovl: {{driver: overlay, subnet: 10.228.0.0/24, gateway: 10.228.0.1, attachable: true}}
containers:
  a1:
    host: manager
    image: busybox
    command: sleep infinity
    networks: {{ovl: {{ipv4: 10.228.0.10}}}}
  b1:
    host: worker1
    image: busybox
    command: sleep infinity
    networks: {{ovl: {{ipv4: 10.228.0.11, aliases: [web]}}}}
"""


@pytest.fixture
def bed(hosts: list[dict[str, str]], tmp_path: Path) -> Iterator[Path]:  # noqa: F811
    _reset(hosts, images=False)  # no lab, no swarm; the images stay (no copy to wait for)
    yield tmp_path
    try:
        down(NAME, load(str(tmp_path / "s.yaml")).scenario.hosts, record_root=tmp_path)
    finally:
        _reset(hosts, images=False)


def _inspect(h: dict[str, str], container: str) -> dict[str, object]:
    c = _client(h)
    try:
        return dict(c.inspect_container(container)["NetworkSettings"]["Networks"])
    finally:
        c.close()


def _tc(h: dict[str, str], container: str) -> str:
    c = _client(h)
    try:
        cid = c.create_container(TOOLS_IMAGE, ["tc", "qdisc", "show"],
                                 labels={"dnetlab.test": "1"},
                                 host_config=c.create_host_config(
                                     network_mode=f"container:{container}"))["Id"]
        c.start(cid)
        c.wait(cid, timeout=60)
        out = c.logs(cid).decode()
        c.remove_container(cid, force=True)
        return str(out)
    finally:
        c.close()


def test_disconnect_connect_and_impair_on_a_worker(hosts: list[dict[str, str]],  # noqa: F811
                                                    bed: Path) -> None:
    path = bed / "s.yaml"
    path.write_text(_scenario(hosts))
    loaded = load(str(path))
    step = Step("slow b1", 0, (Action("impair", container="b1", network="ovl", impair=RATE),))
    loaded = dataclasses.replace(
        loaded, scenario=dataclasses.replace(loaded.scenario, steps=(step,)))
    sc = loaded.scenario
    started = time.monotonic()
    up(loaded, record_root=bed)
    print(f"\noverlay lab up in {time.monotonic() - started:.1f} s")
    owner = owner_here(NAME, bed)
    session = Session.open(sc.hosts)
    try:
        observed = session.observe()
        ids = {c.label(labels.KEY) or "": c.id for o in observed.values()
               for c in o.owned_containers(owner)}
        before = dict(ids)
        ovl = sc.network("ovl").name
        w1 = hosts[1]

        def do(action: Action) -> None:
            res = perform(action, sc, session.engines, ids, owner)
            print(f"{res.description}: {res.status}, {res.message} ({res.duration_s:.2f} s)")
            assert res.status == "done", res

        do(Action("disconnect", container="b1", network="ovl"))
        assert ovl not in _inspect(w1, f"{NAME}-b1")
        do(Action("connect", container="b1", network="ovl"))
        ep = _inspect(w1, f"{NAME}-b1")[ovl]
        assert ep["IPAddress"] == "10.228.0.11", ep  # type: ignore[index]
        assert {"b1", "web"} <= set(ep["Aliases"] or ())  # type: ignore[index]
        # across hosts again, by address and by the manager container's key
        do(Action("exec", on="b1", command=("ping", "-c", "1", "-W", "3", "a1")))
        do(Action("impair", container="b1", network="ovl", impair=RATE))
        assert "rate 1Mbit" in _tc(w1, f"{NAME}-b1")
        plan, problems = plan_up(loaded, bed)
        assert not problems
        assert f"heal {NAME}-b1 on {ovl} [worker1]: impairment not in scenario" in plan.text()
        up(loaded, record_root=bed)
        plan, _ = plan_up(loaded, bed)
        assert plan.empty, plan.text()
        assert "d1:" not in _tc(w1, f"{NAME}-b1")
        after = {c.label(labels.KEY) or "": c.id for o in session.observe().values()
                 for c in o.owned_containers(owner)}
        assert after == before
    finally:
        session.close()
    print(f"whole test {time.monotonic() - started:.1f} s")
