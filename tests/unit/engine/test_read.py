"""Observing a host: what the engine's list calls return becomes the observed types; a
stand-in socket reader answers the GETs."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from dnetlab.engine.connect import Connection, SocketReader
from dnetlab.engine.images import normalise_ref
from dnetlab.engine.read import live_container, live_network, observe
from dnetlab.model import Host
from dnetlab.reconcile.observed import LiveEndpoint, SwarmInfo

# as Docker 20.10 lists them (GET /containers/json, /networks), trimmed to what is read
CONTAINER: dict[str, Any] = {
    "Id": "c0ffee", "Names": ["/lab-c1"], "Image": "busybox", "State": "running",
    "Labels": {"dnetlab.scenario": "lab"}, "HostConfig": {"NetworkMode": "lab-lan"},
    "NetworkSettings": {"Networks": {
        "lab-lan": {"IPAMConfig": {"IPv4Address": "10.201.0.10"}, "Aliases": None,
                    "NetworkID": "n1", "IPAddress": "10.201.0.10", "GlobalIPv6Address": "",
                    "MacAddress": "02:42:0A:C9:00:0A"},
        "bridge": {"IPAMConfig": None, "NetworkID": "n0", "IPAddress": "172.17.0.2",
                   "GlobalIPv6Address": "", "MacAddress": ""},
    }},
}
NETWORK: dict[str, Any] = {
    "Name": "lab-lan", "Id": "n1", "Scope": "local", "Driver": "bridge",
    "IPAM": {"Driver": "default", "Options": None,
             "Config": [{"Subnet": "10.201.0.0/24", "Gateway": "10.201.0.1"}, {}]},
    "Labels": {"dnetlab.scenario": "lab"},
}


def test_a_container_s_endpoints_keep_what_was_asked_apart_from_what_was_given() -> None:
    c = live_container(CONTAINER)
    assert (c.id, c.name, c.image, c.state, c.network_mode) == (
        "c0ffee", "lab-c1", "busybox", "running", "lab-lan")
    assert c.labels == (("dnetlab.scenario", "lab"),)
    assert c.endpoints == (
        LiveEndpoint(network_id="n1", network_name="lab-lan", ipv4="10.201.0.10", ipv6=None,
                     requested_ipv4="10.201.0.10", requested_ipv6=None,
                     mac="02:42:0a:c9:00:0a", aliases=()),
        LiveEndpoint(network_id="n0", network_name="bridge", ipv4="172.17.0.2", ipv6=None,
                     requested_ipv4=None, requested_ipv6=None, mac=None, aliases=()),
    )


def test_a_network_s_subnets_are_those_its_ipam_config_names() -> None:
    n = live_network(NETWORK)
    assert (n.id, n.name, n.driver, n.scope, n.subnets) == (
        "n1", "lab-lan", "bridge", "local", ("10.201.0.0/24",))


@pytest.mark.parametrize(("ref", "listed"), [
    ("busybox", "busybox:latest"),
    ("busybox:1.36", "busybox:1.36"),
    ("registry:5000/team/img", "registry:5000/team/img:latest"),
    ("img@sha256:ab", "img@sha256:ab"),
])
def test_an_image_is_looked_for_under_the_tag_the_engine_lists(ref: str, listed: str) -> None:
    assert normalise_ref(ref) == listed


class _Reader(SocketReader):
    def __init__(self, answers: dict[str, Any]) -> None:
        super().__init__("/nowhere", 1.0)
        self.answers = answers
        self.asked: list[str] = []

    def get(self, url: str) -> Any:
        self.asked.append(url)
        return self.answers[url]


VOLUMES = "/volumes?filters=" + urllib.parse.quote(json.dumps({"label": ["dnetlab.scenario"]}))


def test_observe_reads_each_kind_in_one_list_call_and_images_only_when_asked() -> None:
    reader = _Reader({
        "/containers/json?all=1": [CONTAINER], "/networks": [NETWORK],
        VOLUMES: {"Volumes": [{"Name": "lab-data", "Labels": {"dnetlab.scenario": "lab"}}]},
        "/images/json": [{"RepoTags": ["busybox:latest"]}, {"RepoTags": None}],
    })
    conn = Connection(Host("h1", None), None, "unix:///nowhere", "1.41", reader)
    seen = observe(conn, ["busybox", "alpine:3"], swarm=False)
    assert reader.asked == ["/containers/json?all=1", "/networks", VOLUMES, "/images/json"]
    assert (seen.host, seen.api_version) == ("h1", "1.41")
    assert [c.name for c in seen.containers] == ["lab-c1"]
    assert [v.name for v in seen.volumes] == ["lab-data"]
    assert seen.images == frozenset({"busybox"})
    assert seen.swarm == SwarmInfo()
    reader.asked.clear()
    observe(conn, [], swarm=False)
    assert "/images/json" not in reader.asked


def test_a_linked_container_is_read_under_its_own_name() -> None:
    # Docker lists each link to a container among its names, in any order
    raw = {**CONTAINER, "Names": ["/lab-c1/web", "/lab-c2", "/lab-c3/c2"]}
    assert live_container(raw).name == "lab-c2"
