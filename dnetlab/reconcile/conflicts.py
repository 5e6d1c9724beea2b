"""Checks run before the first change: anything found here stops `up` with exit 3.

Pure functions over desired and observed state; the checks that need the engine to try
something (pulling an image, the kernel's ipvlan support) are in `lab`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_network

from dnetlab import labels
from dnetlab.model import DEFAULT_BRIDGE
from dnetlab.reconcile.desired import HostDesired
from dnetlab.reconcile.observed import HostObserved, LiveContainer, LiveNetwork, LiveVolume


def _owner(obj: LiveContainer | LiveNetwork) -> str:
    scenario = obj.label(labels.SCENARIO)
    if scenario:
        return f"it belongs to dnetlab scenario {scenario!r}"
    return "it carries no dnetlab labels"


def _other_copy(owner: labels.Owner, obj: LiveContainer | LiveNetwork | LiveVolume) -> str:
    """What to say of an object of this lab's name but another instance (spec 10.5)."""
    theirs = labels.describe_instance(labels.instance_of(dict(obj.labels)))
    return (f"another copy of lab {owner.scenario!r} ({theirs}), brought up from another "
            "working directory or by another user; dnetlab never changes or removes another "
            "instance's objects: take that copy down where it was brought up (`dnetlab down` "
            "there), or give this copy another `name:`")


def _taken(owner: labels.Owner, host: str, kind: str, name: str, key: str,
           live: LiveContainer | LiveNetwork | None, fix: str) -> list[str]:
    """The conflict when the Docker name wanted for `key` belongs to an object that is not
    this copy's: another copy of the lab, or anything else."""
    if live is None or owner.owns(dict(live.labels)):
        return []
    taken = (f"host {host}: {kind} name {name!r} (for {kind} {key!r}) is taken by {kind} "
             f"{live.id[:12]}")
    if owner.other_instance(dict(live.labels)):
        return [f"{taken} of {_other_copy(owner, live)}"]
    return [f"{taken}, and {_owner(live)}; {fix}"]


def conflicts(owner: labels.Owner, desired: Mapping[str, HostDesired],
              observed: Mapping[str, HostObserved]) -> list[str]:
    problems: list[str] = []
    for host, d in desired.items():
        o = observed[host]
        for c in d.containers:
            problems += _taken(owner, host, "container", c.name, c.key, o.container_named(c.name),
                               "dnetlab never adopts, changes or removes it: remove or rename "
                               f"it, or set `name:` on {c.key!r}")
        for n in d.networks:
            problems += _taken(owner, host, "network", n.name, n.key, o.network_named(n.name),
                               f"remove or rename it, or set `name:` on network {n.key!r}")
        for v in d.volumes:
            # a volume of another lab keeps today's meaning (named volumes are shared by
            # name); one of this lab's other copy would mix two copies' data
            live_vol = next((x for x in o.volumes if x.name == v.name), None)
            if live_vol is not None and owner.other_instance(dict(live_vol.labels)):
                problems.append(
                    f"host {host}: volume {v.name!r} is taken by {_other_copy(owner, live_vol)}")
        problems += _overlaps(owner, host, d, o)
        problems += _macs(host, d, o)
    return problems


def _overlaps(owner: labels.Owner, host: str, d: HostDesired, o: HostObserved) -> list[str]:
    problems = []
    foreign = [n for n in o.networks if not owner.owns(dict(n.labels))]
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
                            f"({_foreign(owner, other)}); choose another subnet")
    return problems


def _foreign(owner: labels.Owner, obj: LiveNetwork) -> str:
    if owner.other_instance(dict(obj.labels)):
        theirs = labels.describe_instance(labels.instance_of(dict(obj.labels)))
        return f"it belongs to another copy of this lab, {theirs}"
    return _owner(obj)


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


@dataclass(frozen=True)
class ExternalProblem:
    """An external network that is not as the file says, on a host where a container
    needs it; located by the caller at the network's entry (`key`)."""

    key: str
    host: str
    message: str
    hint: str

    def text(self) -> str:
        return f"{self.message}; {self.hint}"


def external_problems(desired: Mapping[str, HostDesired],
                      observed: Mapping[str, HostObserved]) -> list[ExternalProblem]:
    """Each external network missing where a container of the lab needs it, or without
    the subnet the file declares for it. Nothing is created for it: the lab never owns it."""
    problems = []
    for host, d in desired.items():
        o = observed[host]
        for x in d.externals:
            users = sorted(c.key for c in d.containers
                           if any(a.network_key == x.key for a in c.attachments))
            need = (f"containers {', '.join(users)} of network {x.key!r} need it"
                    if len(users) > 1 else f"container {users[0]} of network {x.key!r} "
                    "needs it")
            live = o.network_named(x.name)
            if live is None:
                hint = (f"create it there first (docker network create {x.name}), or drop "
                        "`external: true` so that the lab creates and owns it")
                if x.name == DEFAULT_BRIDGE:
                    hint = ("the engine runs without its default bridge (dockerd --bridge "
                            "none?): start it with one, or put the containers on a network "
                            "of the lab's")
                problems.append(ExternalProblem(
                    x.key, host, f"host {host}: external network {x.name!r} does not exist "
                    f"({need}); dnetlab never creates an "
                    "external network", hint))
            elif x.subnet is not None and x.subnet not in live.subnets:
                has = ", ".join(live.subnets) or "no subnet"
                problems.append(ExternalProblem(
                    x.key, host, f"host {host}: external network {x.name!r} has {has}, not "
                    f"subnet {x.subnet} as network {x.key!r} declares",
                    f"declare its real subnet as `subnet:` (docker network inspect "
                    f"{x.name}), or drop `subnet` and any static ipv4 on it"))
    return problems
