"""Checks run before the first change: anything found here stops `up` with exit 3.

Pure functions over desired and observed state; the checks that need the engine to try
something (pulling an image, the kernel's ipvlan support) are in `lab`.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_network

from dnetlab import labels
from dnetlab.reconcile.desired import HostDesired
from dnetlab.reconcile.observed import HostObserved, LiveContainer, LiveNetwork


def _owner(obj: LiveContainer | LiveNetwork) -> str:
    scenario = obj.label(labels.SCENARIO)
    if scenario:
        return f"it belongs to dnetlab scenario {scenario!r}"
    return "it carries no dnetlab labels"


def conflicts(scenario: str, desired: Mapping[str, HostDesired],
              observed: Mapping[str, HostObserved]) -> list[str]:
    problems: list[str] = []
    for host, d in desired.items():
        o = observed[host]
        for c in d.containers:
            live = o.container_named(c.name)
            if live is not None and live.label(labels.SCENARIO) != scenario:
                problems.append(
                    f"host {host}: container name {c.name!r} (for container {c.key!r}) is taken "
                    f"by container {live.id[:12]}, and {_owner(live)}; dnetlab never adopts, "
                    f"changes or removes it: remove or rename it, or set `name:` on {c.key!r}")
        for n in d.networks:
            live_net = o.network_named(n.name)
            if live_net is not None and live_net.label(labels.SCENARIO) != scenario:
                problems.append(
                    f"host {host}: network name {n.name!r} (for network {n.key!r}) is taken by "
                    f"network {live_net.id[:12]}, and {_owner(live_net)}; remove or rename it, or "
                    f"set `name:` on network {n.key!r}")
        problems += _overlaps(scenario, host, d, o)
        problems += _macs(host, d, o)
    return problems


def _overlaps(scenario: str, host: str, d: HostDesired, o: HostObserved) -> list[str]:
    problems = []
    foreign = [n for n in o.networks if n.label(labels.SCENARIO) != scenario]
    for spec in d.networks:
        for subnet, _, _ in spec.ipam:
            mine = ip_network(subnet)
            for other in foreign:
                if other.name == spec.name:
                    continue  # reported as a name conflict
                for theirs in other.subnets:
                    try:
                        clash = mine.overlaps(ip_network(theirs))
                    except (TypeError, ValueError):
                        continue  # an IPv4 and an IPv6 subnet never overlap
                    if clash:
                        problems.append(
                            f"host {host}: subnet {subnet} of network {spec.key!r} overlaps "
                            f"{theirs} of network {other.name!r}, which this lab does not own "
                            f"({_owner(other)}); choose another subnet")
    return problems


def _macs(host: str, d: HostDesired, o: HostObserved) -> list[str]:
    if tuple(int(x) for x in o.api_version.split(".")) >= (1, 44):
        return []
    return [
        f"host {host}: container {c.key!r} asks for a static MAC on several networks; the "
        f"engine speaks API {o.api_version}, which sets a MAC on one network only (1.44+ on "
        "more)"
        for c in d.containers
        if sum(1 for a in c.attachments if a.mac) > 1
    ]


def missing_images(desired: Mapping[str, HostDesired],
                   observed: Mapping[str, HostObserved]) -> dict[str, list[str]]:
    return {
        host: [ref for ref in d.images if ref not in observed[host].images]
        for host, d in desired.items()
        if any(ref not in observed[host].images for ref in d.images)
    }
