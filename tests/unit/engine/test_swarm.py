"""A host's swarm state as `GET /info` reports it."""

from __future__ import annotations

from typing import Any

from dnetlab.engine.connect import Connection, SocketReader
from dnetlab.engine.swarm import swarm_info
from dnetlab.model import Host
from dnetlab.reconcile.observed import SwarmInfo


class _Reader(SocketReader):
    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__("/nowhere", 1.0)
        self.info = info

    def get(self, url: str) -> Any:
        assert url == "/info"
        return self.info


def _info(info: dict[str, Any]) -> SwarmInfo:
    return swarm_info(Connection(Host("h1", None), None, "unix:///nowhere", "1.41",
                                 _Reader(info)))


def test_a_manager_reports_its_cluster_labels_and_managers() -> None:
    info = _info({
        "Plugins": {"Network": ["bridge", "host", "overlay"]},
        "Swarm": {"LocalNodeState": "active", "NodeID": "node1", "NodeAddr": "10.99.0.1",
                  "ControlAvailable": True,
                  "Cluster": {"ID": "cl1", "Spec": {"Labels": {"dnetlab.swarm": "lab"}}},
                  "RemoteManagers": [{"NodeID": "node1", "Addr": "10.99.0.1:2377"}]},
    })
    assert info == SwarmInfo(state="active", node_id="node1", node_addr="10.99.0.1",
                             is_manager=True, cluster_id="cl1",
                             labels=(("dnetlab.swarm", "lab"),),
                             manager_addrs=("10.99.0.1:2377",),
                             network_drivers=("bridge", "host", "overlay"))


def test_a_host_outside_any_swarm_is_inactive() -> None:
    info = _info({"Swarm": {"LocalNodeState": "", "NodeID": "", "RemoteManagers": None},
                  "Plugins": {"Network": None}})
    assert info == SwarmInfo(state="inactive")
