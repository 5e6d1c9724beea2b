"""Steps' actions on the real engine (spec section 10.3): each action's effect as the engine
shows it, failures as failed results in the engine's words, and the lab brought back to
its declared state by `up` after each kind of action, keeping the containers.

One lab serves the module: each restore case ends with the lab as declared again (its
last assert), which is what the next case starts from."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import docker
import pytest

from dnetlab.engine.impair import TOOLS_IMAGE
from dnetlab.lab.actions import perform, step_problems
from dnetlab.lab.instance import owner_here
from dnetlab.lab.session import Session
from dnetlab.lab.up import plan_up, up
from dnetlab.labels import Owner
from dnetlab.load.pipeline import Loaded, load
from dnetlab.model import Action, Impairment, Step
from dnetlab.verify.outcome import ActionResult
from tests.integration.labtools import address, ids, lab_name, owned_containers, write

RATE = Impairment(rate="1mbit", rate_bps=1_000_000)


def _scenario(name: str) -> str:
    # x's attachment on a is impaired; y, on both networks, has no impairment
    return f"""
version: 1
name: {name}
networks:
  a: {{subnet: 10.226.0.0/24}}
  b: {{subnet: 10.227.0.0/24}}
containers:
  x:
    image: busybox
    command: sleep infinity
    networks: {{a: {{ipv4: 10.226.0.10, impair: {{rate: 2mbit}}}}}}
  y:
    image: busybox
    command: sleep infinity
    networks:
      a: {{ipv4: 10.226.0.20, aliases: [why]}}
      b: {{ipv4: 10.227.0.20}}
"""


@dataclasses.dataclass
class Lab:
    name: str
    loaded: Loaded
    root: Path
    session: Session
    owner: Owner
    ids: dict[str, str]

    def do(self, action: Action, stop: threading.Event | None = None) -> ActionResult:
        return perform(action, self.loaded.scenario, self.session.engines, self.ids,
                       self.owner, stop=stop)

    def plan(self) -> str:
        plan, problems = plan_up(self.loaded, self.root)
        assert not problems, problems
        return plan.text()


@pytest.fixture(scope="module")
def lab(docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory,
        ) -> Iterator[Lab]:
    try:
        docker_client.images.get(TOOLS_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{TOOLS_IMAGE} is missing: run scripts/nettools-image.sh (make engine)",
                    pytrace=False)
    root = tmp_path_factory.mktemp("actions")
    name = lab_name("act")
    loaded = load(write(root / "s.yaml", _scenario(name)))
    # the load stage does not build steps yet: the step that impairs y is added here, as
    # `verify --steps` will have it (a container a step impairs is read back by `plan`)
    step = Step("degrade y", 0, (Action("impair", container="y", network="b", impair=RATE),))
    loaded = dataclasses.replace(
        loaded, scenario=dataclasses.replace(loaded.scenario, steps=(step,)))
    session = None
    try:
        up(loaded, record_root=root)
        session = Session.open(loaded.scenario.hosts)
        yield Lab(name, loaded, root, session, owner_here(name, root), ids(docker_client, name))
    finally:
        if session is not None:
            session.close()
        flt = {"label": f"dnetlab.scenario={name}"}
        for c in docker_client.containers.list(all=True, filters=flt):
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)
        for n in docker_client.networks.list(filters=flt):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                n.remove()


def _tc(client: docker.DockerClient, cid: str) -> str:
    out = client.containers.run(TOOLS_IMAGE, ["sh", "-c", "tc qdisc show"], remove=True,
                                network_mode=f"container:{cid}", cap_add=["NET_ADMIN"],
                                labels={"dnetlab.test": "1"})
    return out.decode() if isinstance(out, bytes) else str(out)


def _state(client: docker.DockerClient, cid: str) -> dict[str, object]:
    return dict(client.api.inspect_container(cid)["State"])


def _networks(client: docker.DockerClient, cid: str) -> dict[str, dict[str, object]]:
    return dict(client.api.inspect_container(cid)["NetworkSettings"]["Networks"])


def _restored(lab: Lab, client: docker.DockerClient, drift: str) -> None:
    """The action's change is drift that `up` repairs, keeping every container."""
    text = lab.plan()
    assert drift in text, text
    started = time.monotonic()
    up(lab.loaded, record_root=lab.root)
    took = time.monotonic() - started
    assert "is up to date" in lab.plan()
    assert ids(client, lab.name) == lab.ids
    print(f"\n{drift!r}: restored by up in {took:.2f} s")


def _done(res: ActionResult) -> None:
    assert res.status == "done", res
    print(f"\n{res.description}: {res.message} ({res.duration_s:.2f} s)")


def test_disconnect(lab: Lab, docker_client: docker.DockerClient) -> None:
    _done(lab.do(Action("disconnect", container="y", network="b")))
    assert f"{lab.name}-b" not in _networks(docker_client, lab.ids["y"])
    _restored(lab, docker_client, f"connect {lab.name}-y to {lab.name}-b [local]: "
                                  "not connected to b")
    y = owned_containers(docker_client, lab.name)["y"]
    assert address(y, f"{lab.name}-b") == "10.227.0.20"


def test_connect_back_as_declared_is_no_drift(lab: Lab,
                                              docker_client: docker.DockerClient) -> None:
    _done(lab.do(Action("disconnect", container="y", network="a")))
    res = lab.do(Action("connect", container="y", network="a"))
    _done(res)
    ep = _networks(docker_client, lab.ids["y"])[f"{lab.name}-a"]
    assert ep["IPAddress"] == "10.226.0.20"
    assert {"y", "why"} <= set(ep["Aliases"] or ()), ep["Aliases"]  # type: ignore[arg-type]
    assert "is up to date" in lab.plan()


def test_connect_to_an_extra_network(lab: Lab, docker_client: docker.DockerClient) -> None:
    res = lab.do(Action("connect", container="x", network="b"))
    _done(res)
    ep = _networks(docker_client, lab.ids["x"])[f"{lab.name}-b"]
    assert str(ep["IPAddress"]).startswith("10.227.0."), ep
    assert "y" not in (ep["Aliases"] or ()) and "x" in (ep["Aliases"] or ())  # type: ignore[operator]
    _restored(lab, docker_client, f"disconnect {lab.name}-x from {lab.name}-b [local]: "
                                  f"{lab.name}-b is not in its networks")
    assert f"{lab.name}-b" not in _networks(docker_client, lab.ids["x"])


def test_connect_with_another_address(lab: Lab, docker_client: docker.DockerClient) -> None:
    _done(lab.do(Action("disconnect", container="y", network="b")))
    _done(lab.do(Action("connect", container="y", network="b",
                        ipv4=IPv4Address("10.227.0.99"))))
    assert _networks(docker_client, lab.ids["y"])[f"{lab.name}-b"]["IPAddress"] == "10.227.0.99"
    _restored(lab, docker_client, "config drift: ipv4 of y on b")
    assert _networks(docker_client, lab.ids["y"])[f"{lab.name}-b"]["IPAddress"] == "10.227.0.20"


def test_connect_of_an_impaired_attachment_leaves_the_impairment_to_up(
        lab: Lab, docker_client: docker.DockerClient) -> None:
    _done(lab.do(Action("disconnect", container="x", network="a")))
    res = lab.do(Action("connect", container="x", network="a"))
    _done(res)
    assert "its impairment (rate 2mbit) is not applied" in res.message
    assert "d1:" not in _tc(docker_client, lab.ids["x"])
    _restored(lab, docker_client, "impairment missing (rate 2mbit)")
    assert "rate 2Mbit" in _tc(docker_client, lab.ids["x"])


def test_pause(lab: Lab, docker_client: docker.DockerClient) -> None:
    _done(lab.do(Action("pause", container="y")))
    assert _state(docker_client, lab.ids["y"])["Status"] == "paused"
    _restored(lab, docker_client, f"unpause container {lab.name}-y [local]: paused")


def test_stop(lab: Lab, docker_client: docker.DockerClient) -> None:
    res = lab.do(Action("stop", container="y"))
    _done(res)
    assert res.duration_s < 5  # under init, a stop does not wait out its timeout
    assert _state(docker_client, lab.ids["y"])["Status"] == "exited"
    _restored(lab, docker_client, f"start container {lab.name}-y [local]: not running (exited)")


def test_kill(lab: Lab, docker_client: docker.DockerClient) -> None:
    _done(lab.do(Action("kill", container="x")))
    state = _state(docker_client, lab.ids["x"])
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)
    _restored(lab, docker_client, f"start container {lab.name}-x [local]: not running (exited)")
    assert "rate 2Mbit" in _tc(docker_client, lab.ids["x"])  # a new namespace, impaired again


def test_restart(lab: Lab, docker_client: docker.DockerClient) -> None:
    before = _state(docker_client, lab.ids["x"])["StartedAt"]
    _done(lab.do(Action("restart", container="x")))
    state = _state(docker_client, lab.ids["x"])
    assert state["Status"] == "running" and state["StartedAt"] != before
    # a restart makes a new network namespace: the declared impairment is gone
    _restored(lab, docker_client, f"impair {lab.name}-x on {lab.name}-a [local]: "
                                  "impairment missing (rate 2mbit)")


def test_impair_an_unimpaired_attachment(lab: Lab, docker_client: docker.DockerClient) -> None:
    res = lab.do(Action("impair", container="y", network="b", impair=RATE))
    _done(res)
    assert res.message.endswith("rate 1mbit")
    assert "qdisc tbf d1: dev" in _tc(docker_client, lab.ids["y"])
    assert "rate 1Mbit" in _tc(docker_client, lab.ids["y"])
    _restored(lab, docker_client, f"heal {lab.name}-y on {lab.name}-b [local]: "
                                  "impairment not in scenario (rate 1000000bit)")
    assert "d1:" not in _tc(docker_client, lab.ids["y"])


def test_impair_replaces_and_heal_removes_a_declared_impairment(
        lab: Lab, docker_client: docker.DockerClient) -> None:
    _done(lab.do(Action("impair", container="x", network="a",
                        impair=Impairment(loss=10.0))))
    shown = _tc(docker_client, lab.ids["x"])
    assert "htb" in shown and "tbf" not in shown, shown
    _done(lab.do(Action("heal", container="x", network="a")))
    assert "d1:" not in _tc(docker_client, lab.ids["x"])
    _restored(lab, docker_client, f"impair {lab.name}-x on {lab.name}-a [local]: "
                                  "impairment missing (rate 2mbit)")


def test_exec_and_sleep(lab: Lab) -> None:
    res = lab.do(Action("exec", on="y", command=("sh", "-c", "echo hello; echo more")))
    assert (res.status, res.message) == ("done", "exit 0: hello")
    res = lab.do(Action("exec", on="y", command=("sh", "-c", "echo one; echo why >&2; exit 3")))
    # stdout and stderr come in two streams: their order is not kept
    assert res.status == "failed" and res.message.startswith("exit 3: "), res
    assert sorted(res.message.removeprefix("exit 3: ").splitlines()) == ["one", "why"], res
    res = lab.do(Action("exec", on="host:local", command=("sh", "-c", "ip -o link | head -1")))
    assert res.status == "done" and ": lo:" in res.message, res  # the host's own interfaces
    res = lab.do(Action("sleep", seconds=0.2))
    assert res.status == "done" and 0.2 <= res.duration_s < 1, res
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    res = lab.do(Action("sleep", seconds=30), stop=stop)
    assert res.status == "failed" and res.message.startswith("interrupted after"), res
    assert res.duration_s < 2, res


def test_failures_are_results_in_the_engines_words(lab: Lab) -> None:
    res = lab.do(Action("unpause", container="y"))
    assert res.status == "failed" and res.kind == "unpause"
    assert f"host local: unpausing container {lab.name}-y: " in res.message
    assert "is not paused" in res.message, res.message
    res = lab.do(Action("connect", container="y", network="a"))
    assert res.status == "failed" and "connecting" in res.message, res.message
    res = lab.do(Action("heal", container="x", network="b"))
    assert res.status == "failed" and "has no interface on network" in res.message, res
    res = lab.do(Action("stop", container="nope"))
    assert (res.status, res.message) == ("failed", f"no container 'nope' in lab {lab.name}")
    assert "is up to date" in lab.plan()


def test_step_problems_name_the_host_without_netem(lab: Lab) -> None:
    sc = lab.loaded.scenario
    delay = Impairment(delay=20.0, jitter=5.0)
    step = Step("slow", 1, (Action("impair", container="y", network="b", impair=delay),))
    with_delay = dataclasses.replace(sc, steps=(*sc.steps, step))
    assert step_problems(sc, lab.session) == []
    problems = step_problems(with_delay, lab.session)
    if lab.session.engines["local"].netem_missing() is None:
        assert problems == []  # a kernel with sch_netem
        return
    assert len(problems) == 1
    assert problems[0].startswith("host local: delay and jitter need the kernel's sch_netem")
    assert "y on b (step 'slow')" in problems[0]
