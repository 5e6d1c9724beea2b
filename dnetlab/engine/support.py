"""What a host's kernel supports that its engine cannot tell: Docker creates an ipvlan
network even where the kernel lacks ipvlan, and only a container start fails; a macvlan
or ipvlan parent such as eth0.10 is a VLAN sub-interface that Docker itself creates, which
fails where the kernel has no 802.1Q support."""

from __future__ import annotations

from contextlib import suppress

from dnetlab.engine.connect import Connection
from dnetlab.engine.helpers import helper_name, remove_helper


def probe_ipvlan(conn: Connection, parent: str | None, image: str) -> str | None:
    """None when an ipvlan container can start here, else the engine's reason. The
    throwaway network and its container share a name (Docker keeps them apart)."""
    name = helper_name("ipvlan-probe")
    helper = {"dnetlab.kind": "helper"}
    net_id = cid = None
    try:
        net_id = conn.api.create_network(
            name, driver="ipvlan", options={"parent": parent} if parent else None,
            labels=helper)["Id"]
        cid = conn.api.create_container(
            image, command=["true"], name=name, labels=helper,
            host_config=conn.api.create_host_config(network_mode=name))["Id"]
        conn.api.start(cid)
        return None
    except Exception as exc:
        text = str(getattr(exc, "explanation", None) or exc)
        return text.splitlines()[0][:200]
    finally:
        if net_id:  # no network, no container
            remove_helper(conn.api, cid, name)
            with suppress(Exception):
                conn.api.remove_network(net_id)


def probe_vlan_parent(conn: Connection, driver: str, parent: str) -> str | None:
    """None when a `driver` network on `parent` (eth0.10: VLAN 10 on eth0, which Docker
    creates when it is missing) can be created here, else the engine's reason. The
    throwaway network takes the sub-interface away with it."""
    import uuid

    name = f"dnetlab-vlan-probe-{uuid.uuid4().hex[:8]}"
    net_id = None
    try:
        net_id = conn.api.create_network(name, driver=driver, options={"parent": parent},
                                         labels={"dnetlab.kind": "helper"})["Id"]
        return None
    except Exception as exc:
        text = str(getattr(exc, "explanation", None) or exc)
        return text.splitlines()[0][:200]
    finally:
        if net_id:
            with suppress(Exception):
                conn.api.remove_network(net_id)
