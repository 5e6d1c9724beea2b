"""How `change` words what Docker refuses when a network is removed, with a stand-in for
the SDK client (only the calls under test; the SDK's own APIError is what it raises)."""

from __future__ import annotations

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


def _conn(api: Api) -> Connection:
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
