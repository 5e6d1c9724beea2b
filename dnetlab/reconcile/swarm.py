"""The lab's Docker Swarm: who leads it, whether a host is in it, what to do. Pure.

dnetlab creates the swarm itself, marked with the cluster labels `dnetlab.swarm=<lab>` and
`dnetlab.instance=<instance>`, so `down` dissolves only a swarm this copy of the lab made;
a host already in another swarm is a conflict found before any change.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_address
from urllib.parse import urlsplit

from dnetlab import labels
from dnetlab.model import Host
from dnetlab.reconcile.observed import HostObserved


def leader(hosts: tuple[Host, ...] | list[Host]) -> Host | None:
    """The first manager in the file's order: it initialises the swarm."""
    return next((h for h in hosts if h.swarm == "manager"), None)


def advertise_addr(h: Host) -> str | None:
    """The declared address, else the engine URL's host part when it is an IP address."""
    if h.advertise_addr:
        return h.advertise_addr
    if h.engine and h.engine.startswith(("ssh://", "tcp://")):
        name = urlsplit(h.engine).hostname or ""
        try:
            ip_address(name)
            return name
        except ValueError:
            return None
    return None


def cluster_labels(owner: labels.Owner) -> dict[str, str]:
    """The labels the lab's swarm is created with (an old lab's "" adds no instance)."""
    own = {labels.SWARM: owner.scenario}
    if owner.instance:
        own[labels.INSTANCE] = owner.instance
    return own


def is_ours(lead: Host, o: HostObserved, owner: labels.Owner) -> bool:
    s = o.swarm
    if not (s.active and s.is_manager) or s.label(labels.SWARM) != owner.scenario:
        return False
    return owner.instance is None or (s.label(labels.INSTANCE) or "") == owner.instance


def member_of_leaders_swarm(lead: Host, lead_obs: HostObserved, o: HostObserved) -> bool:
    """A host in the swarm the leader is in: it lists the leader among its managers."""
    if not o.swarm.active:
        return False
    if o.swarm.is_manager and lead_obs.swarm.cluster_id:
        return o.swarm.cluster_id == lead_obs.swarm.cluster_id
    addr = lead_obs.swarm.node_addr or advertise_addr(lead) or ""
    return any(m.rsplit(":", 1)[0] == addr for m in o.swarm.manager_addrs)


def conflicts(owner: labels.Owner, hosts: tuple[Host, ...],
              observed: Mapping[str, HostObserved]) -> list[str]:
    lead = leader(hosts)
    if lead is None:
        return []
    lab = owner.scenario
    problems = []
    lo = observed[lead.key]
    ours = is_ours(lead, lo, owner)
    if lo.swarm.state not in ("inactive", "active"):
        problems.append(f"host {lead.key}: its swarm state is {lo.swarm.state!r}; fix it by "
                        "hand (docker swarm leave --force) before `up`")
    elif lo.swarm.active and not ours and lo.swarm.label(labels.SWARM) == lab:
        theirs = labels.describe_instance(lo.swarm.label(labels.INSTANCE) or "")
        problems.append(
            f"host {lead.key} is already in a swarm (cluster "
            f"{lo.swarm.cluster_id[:12] or 'unknown'}) that another copy of lab {lab} made "
            f"({theirs}), brought up from another working directory or by another user; "
            "dnetlab never changes another instance's swarm: take that copy down where it "
            "was brought up")
    elif lo.swarm.active and not ours:
        problems.append(
            f"host {lead.key} is already in a swarm (cluster "
            f"{lo.swarm.cluster_id[:12] or 'unknown'}) that lab {lab} did not create; dnetlab "
            "never changes a swarm that was there before: leave it (docker swarm leave) or "
            "take `swarm:` off the hosts")
    for h in hosts:
        if h is lead or h.swarm is None:
            continue
        o = observed[h.key]
        if o.swarm.state not in ("inactive", "active"):
            problems.append(f"host {h.key}: its swarm state is {o.swarm.state!r}; fix it by "
                            "hand (docker swarm leave --force) before `up`")
        elif o.swarm.active and not (ours and member_of_leaders_swarm(lead, lo, o)):
            problems.append(
                f"host {h.key} is already in a swarm that is not lab {lab}'s; dnetlab never "
                "changes a swarm that was there before: leave it (docker swarm leave) first")
    for h in hosts:
        drivers = observed[h.key].swarm.network_drivers
        if h.swarm is not None and drivers and "overlay" not in drivers:
            problems.append(f"host {h.key}: its engine offers no overlay driver (it has "
                            f"{', '.join(drivers)}); overlays need VXLAN in the host's kernel")
    return problems
