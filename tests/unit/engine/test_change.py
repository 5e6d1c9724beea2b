"""How `change` words what Docker refuses when a network is removed, and which refused
starts it tries again, with a stand-in for the SDK client (only the calls under test; the
SDK's own exceptions are what it raises)."""

from __future__ import annotations

import time
from typing import Any

import docker
import pytest
import requests

from dnetlab.engine import change
from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import EngineError
from dnetlab.model import Host

ACTIVE = "error while removing network: network lan id 42 has active endpoints"


class Api:
    def __init__(self, failures: int, attached: dict[str, Any] | None = None) -> None:
        self.failures = failures  # how many removals fail before one succeeds
        self.attached = attached or {}
        self.removals = 0

    def remove_network(self, name: str) -> None:
        self.removals += 1
        if self.removals <= self.failures:
            raise docker.errors.APIError("403 Client Error", explanation=ACTIVE)

    def inspect_network(self, name: str) -> dict[str, Any]:
        return {"Containers": self.attached}


def _conn(api: Any) -> Connection:
    return Connection(Host("h1", "unix:///nowhere"), api, "unix:///nowhere", api_version="1.41")


def test_an_endpoint_that_lingers_a_moment_is_waited_out() -> None:
    api = Api(failures=2)
    change.remove_network(_conn(api), "lan", settle_s=5)
    assert api.removals == 3


def test_a_dead_endpoint_is_named_with_the_fix() -> None:
    api = Api(failures=10**6)
    with pytest.raises(EngineError) as caught:
        change.remove_network(_conn(api), "lan", settle_s=0.3)
    said = caught.value.message
    assert said.startswith("host h1: removing network lan: " + ACTIVE)
    assert "no container is attached" in said and "restart dockerd" in said
    assert api.removals >= 2


def test_a_network_in_use_is_refused_at_once_in_docker_s_words() -> None:
    api = Api(failures=10**6, attached={"abc": {"Name": "someone-else"}})
    with pytest.raises(EngineError) as caught:
        change.remove_network(_conn(api), "lan", settle_s=5)
    assert caught.value.message == "host h1: removing network lan: " + ACTIVE
    assert api.removals == 1


class Bridge:
    """docker_gwbridge after a swarm leave, with the ingress sandbox's endpoint kept as a
    dead one: listed among the network's endpoints (`listed`) or not, and in the way of
    the network's removal either way until it is deleted by force. `others`: more
    endpoints by container ID; those in `live` belong to a container that exists, the
    rest are dead ones of containers already removed."""

    def __init__(self, listed: bool, others: dict[str, Any] | None = None,
                 live: frozenset[str] = frozenset()) -> None:
        self.listed = listed
        self.dead = True
        self.others = dict(others or {})
        self.live = live
        self.removed = False
        self.forced: list[tuple[str, str]] = []

    def inspect_network(self, name: str) -> dict[str, Any]:
        kept = {"ingress-sbox": {"Name": "gateway_ingress-sbox"}} if (
            self.dead and self.listed) else {}
        return {"Containers": {**kept, **self.others}}

    def inspect_container(self, container: str) -> dict[str, Any]:
        if container not in self.live:
            raise docker.errors.NotFound("404 Client Error", explanation="No such container")
        return {"Id": container}

    def disconnect_container_from_network(self, container: str, net_id: str,
                                          force: bool = False) -> None:
        if not force:
            return
        self.forced.append((container, net_id))
        if container == "gateway_ingress-sbox":
            self.dead = False
        self.others = {k: v for k, v in self.others.items()
                       if k in self.live or v["Name"] != container}

    def remove_network(self, name: str) -> None:
        if self.dead or self.others:
            raise docker.errors.APIError("403 Client Error", explanation=ACTIVE)
        self.removed = True


@pytest.mark.parametrize("listed", [True, False])
def test_a_left_swarm_s_dead_endpoint_is_deleted_and_the_bridge_removed(listed: bool) -> None:
    bridge = Bridge(listed)
    assert change.remove_left_swarm_bridge(_conn(bridge), settle_s=0.2) is None
    assert bridge.forced == [("gateway_ingress-sbox", "docker_gwbridge")]
    assert bridge.removed


class Counted(Bridge):
    """The engine counts an endpoint that no longer exists: nothing listed, nothing to
    delete, every removal refused (seen under load: still so 20 s later)."""

    def remove_network(self, name: str) -> None:
        raise docker.errors.APIError("403 Client Error", explanation=ACTIVE)


@pytest.mark.parametrize("listed", [True, False])
def test_a_bridge_the_engine_keeps_is_reported_with_what_to_do(listed: bool) -> None:
    bridge = Counted(listed=listed)
    started = time.monotonic()
    said = change.remove_left_swarm_bridge(_conn(bridge), settle_s=0.2)
    assert time.monotonic() - started < 3
    assert not bridge.removed and said is not None
    assert said.startswith("host h1: docker_gwbridge") and "restart dockerd" in said
    assert "docker network rm docker_gwbridge" in said
    # the ingress sandbox's endpoint is deleted once, listed or not
    assert bridge.forced == [("gateway_ingress-sbox", "docker_gwbridge")]


def test_the_dead_endpoint_of_a_removed_container_is_deleted_by_its_name() -> None:
    # the key is the container's ID, the endpoint's name is not derived from it
    bridge = Bridge(listed=True, others={"3d360dd7077a" + "0" * 52: {
        "Name": "gateway_2b14c82472f9"}})
    started = time.monotonic()
    change.remove_left_swarm_bridge(_conn(bridge), settle_s=0.2)
    assert time.monotonic() - started < 2
    assert sorted(bridge.forced) == [("gateway_2b14c82472f9", "docker_gwbridge"),
                                     ("gateway_ingress-sbox", "docker_gwbridge")]
    assert bridge.removed


def test_a_bridge_someone_else_s_container_uses_is_left_alone() -> None:
    bridge = Bridge(listed=True, others={"abc": {"Name": "theirs"}}, live=frozenset({"abc"}))
    assert change.remove_left_swarm_bridge(_conn(bridge), settle_s=0.2) is None
    assert not bridge.forced and not bridge.removed


ATTACH = ("attaching to network failed, make sure your network options are correct and "
          "check manager logs: context deadline exceeded")


class Starter:
    """`start` fails with each of `failures` in turn (an exception to raise), then
    succeeds."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.starts = 0

    def start(self, container_id: str) -> None:
        self.starts += 1
        if self.failures:
            raise self.failures.pop(0)


def _attach_failed() -> BaseException:
    return docker.errors.APIError("500 Server Error", explanation=ATTACH)


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(change.time, "sleep", lambda s: None)


@pytest.mark.usefixtures("no_pause")
def test_a_start_the_swarm_could_not_attach_in_time_is_tried_again() -> None:
    api = Starter(_attach_failed(), _attach_failed())
    change.start_container(_conn(api), "c1", "lab-a")
    assert api.starts == 3


@pytest.mark.usefixtures("no_pause")
def test_a_network_not_found_after_a_refused_attachment_is_tried_again() -> None:
    # Docker was still undoing the refused attachment (seen in CI on a manager just made)
    api = Starter(_attach_failed(), docker.errors.APIError(
        "404 Client Error", explanation="network zedt7ihzaik3zbudq2hcihhr4 not found"))
    change.start_container(_conn(api), "c1", "lab-a")
    assert api.starts == 3


@pytest.mark.usefixtures("no_pause")
@pytest.mark.parametrize("failure", [
    # a worker's words (seen on the bed, its path to the manager cut)
    docker.errors.APIError("500 Server Error", explanation=(
        "Could not attach to network lab-ovl: context deadline exceeded")),
    # queued behind another container's 20 s wait for its attachment (seen in CI)
    requests.exceptions.ReadTimeout("Read timed out. (read timeout=30.0)"),
    _attach_failed(),
])
def test_the_start_is_tried_again_even_after_a_try_that_took_the_whole_wait(
        failure: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    # Docker's own wait is 20 s: the deadline can be past when the first answer comes
    monkeypatch.setattr(change, "ATTACH_WAIT_S", -1.0)
    api = Starter(failure)
    change.start_container(_conn(api), "c1", "lab-a")
    assert api.starts == 2


@pytest.mark.usefixtures("no_pause")
def test_a_start_still_refused_at_the_deadline_says_docker_s_words(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(change, "ATTACH_WAIT_S", -1.0)
    api = Starter(*[_attach_failed() for _ in range(5)])
    with pytest.raises(EngineError) as caught:
        change.start_container(_conn(api), "c1", "lab-a")
    assert api.starts == 2
    assert caught.value.message == f"host h1: starting container lab-a: {ATTACH}"


@pytest.mark.usefixtures("no_pause")
@pytest.mark.parametrize("failure", [
    docker.errors.APIError("500 Server Error", explanation="OCI runtime create failed"),
    docker.errors.APIError("404 Client Error", explanation=(
        "Could not attach to network lab-ovl: network lab-ovl not found")),
    requests.exceptions.ConnectionError("Connection refused"),
    requests.exceptions.ConnectTimeout("Connection timed out"),
])
def test_any_other_failure_of_a_start_is_said_at_once(failure: BaseException) -> None:
    api = Starter(failure)
    with pytest.raises(EngineError):
        change.start_container(_conn(api), "c1", "lab-a")
    assert api.starts == 1
