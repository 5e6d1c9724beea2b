"""The lab's Docker Swarm: who leads it, whether a host is in it, what to do. Pure.

dnetlab creates the swarm itself, marked with the cluster labels `dnetlab.swarm=<lab>` and
`dnetlab.instance=<instance>`, so `down` dissolves only a swarm this copy of the lab made;
a host already in another swarm is a conflict found before any change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


def _in_swarm(hosts: tuple[Host, ...], observed: Mapping[str, HostObserved],
              ) -> list[tuple[str, HostObserved]]:
    """The lab's swarm hosts that are in a swarm now, with what was read of them."""
    out = []
    for h in hosts:
        o = observed.get(h.key)
        if h.swarm is not None and o is not None and o.swarm.active:
            out.append((h.key, o))
    return out


def _running_on(owner: labels.Owner, o: HostObserved) -> dict[str, list[str]]:
    """The lab's running containers on one host by the network (ID) they are attached to,
    in the order the host lists them."""
    on: dict[str, list[str]] = {}
    for c in o.owned_containers(owner):
        if c.state == "running":
            for e in c.endpoints:
                on.setdefault(e.network_id, []).append(c.name)
    return on


def gossip_problems(owner: labels.Owner, hosts: tuple[Host, ...],
                    observed: Mapping[str, HostObserved]) -> list[str]:
    """Hosts of the lab's swarm whose engine runs no swarm gossip.

    Docker 20.10 can keep the gossip (NetworkDB, port 7946) of a swarm the host left
    running when the leave timed out ("Could not close DB: timeout waiting for leave
    broadcast" in dockerd's log). When the host joins a swarm again its new gossip cannot
    bind the port ("error in agentInit ... 7946: bind: address already in use"): the
    join succeeds, containers attach to overlays without an error, but nothing of theirs
    is announced to the other hosts, nor theirs to it, so traffic and names across hosts
    fail. The one mark the engine shows is an overlay with a container attached whose
    peers, as that engine lists them, are empty: a working host lists itself at least.
    Only a restart of that dockerd frees the port."""
    problems = []
    for key, o in _in_swarm(hosts, observed):
        attached = _running_on(owner, o)
        for n in o.owned_networks(owner):
            if n.peers is None or n.peers or n.id not in attached:
                continue
            problems.append(
                f"host {key}: its engine runs no swarm gossip: overlay network {n.name} "
                f"lists no peers there although {attached[n.id][-1]} is attached to it, so "
                "nothing on it reaches or resolves the other hosts. Docker 20.10 leaves "
                "this when a swarm the host was in before was left and its gossip did not "
                "stop (the host's dockerd log says 'Could not close DB: timeout waiting for "
                "leave broadcast', then 'error in agentInit ... 7946: bind: address already "
                "in use'); restart dockerd on that host, then run `dnetlab up` again")
            break  # one line per host: the fix is the same
    return problems


@dataclass(frozen=True)
class PeerGap:
    """A host of the lab whose engine does not yet list, on a lab overlay, every host that
    has a container on it as a peer, or every container on it (its gossip has not brought
    their addresses yet: traffic to them fails)."""

    host: str  # host key
    network_id: str
    network: str  # its name
    missing: tuple[str, ...]  # the peers' addresses it lacks
    unknown: tuple[str, ...] = ()  # the containers on it the gossip has not announced there


def peer_gaps(owner: labels.Owner, hosts: tuple[Host, ...],
              observed: Mapping[str, HostObserved]) -> list[PeerGap]:
    """Where the swarm's gossip has not reached every host of the lab yet.

    Membership in Docker's gossip (memberlist) is eventually consistent: when the lab's
    engines join the swarm at nearly the same moment, one of them can miss another's
    announcement and learn of it only at a later full state exchange (every 30 s or so).
    Until then that overlay carries nothing between the two hosts, although every step
    succeeded and both hosts list peers (seen on the test bed: h5 listed five of six
    peers, without h3, and every ping between h3's and h5's containers failed). A host
    that runs overlays for the lab lists itself among the peers, so the union of what
    the lab's hosts list is what each of them must list. Hosts that list no peers at all
    are `gossip_problems`: their gossip never started, waiting does not help."""
    attached: dict[str, set[str]] = {}  # overlay id -> hosts with a running container on it
    members: dict[str, set[str]] = {}  # overlay id -> the running containers on it
    listed: dict[tuple[str, str], tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
    for key, o in _in_swarm(hosts, observed):
        on = _running_on(owner, o)
        for n in o.owned_networks(owner):
            if n.peers and n.id in on:  # None: not read; (): gossip_problems' case
                attached.setdefault(n.id, set()).add(key)
                members.setdefault(n.id, set()).update(on[n.id])
                listed[(key, n.id)] = (n.name, n.peers, n.announced)
    gaps = []
    for nid, keys in attached.items():
        union = {p for k in keys for p in listed[(k, nid)][1]}
        for k in sorted(keys):
            name, peers, announced = listed[(k, nid)]
            missing = tuple(sorted(union - set(peers)))
            unknown = tuple(sorted(members[nid] - set(announced)))
            if missing or unknown:
                gaps.append(PeerGap(k, nid, name, missing, unknown))
    return gaps
