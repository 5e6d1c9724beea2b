"""How `change` words what Docker refuses when a network is removed, with a stand-in for
the SDK client (only the calls under test; the SDK's own APIError is what it raises)."""

from __future__ import annotations

import time
from typing import Any

import docker
import pytest

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


def test_a_bridge_the_engine_keeps_is_reported_with_what_to_do() -> None:
    bridge = Counted(listed=False)
    started = time.monotonic()
    said = change.remove_left_swarm_bridge(_conn(bridge), settle_s=0.2)
    assert time.monotonic() - started < 3
    assert not bridge.removed and said is not None
    assert said.startswith("host h1: docker_gwbridge") and "restart dockerd" in said
    assert "docker network rm docker_gwbridge" in said


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
