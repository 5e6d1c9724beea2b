"""Reconcile: desired state plus observed state to an ordered plan. Pure: no I/O.

Each operation says what it does, to which object on which host, and why. Only objects of
the plan's owner (the lab's name and instance) are ever changed or removed; another
instance's are left to preflight's conflicts. Operations run in phases (removals before
creations, networks before the containers on them); within a phase they are independent
and run in parallel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Literal, TypeVar

from dnetlab import labels
from dnetlab.model import DEFAULT_BRIDGE, Host, Impairment
from dnetlab.reconcile import swarm
from dnetlab.reconcile.desired import (
    AttachmentSpec,
    ContainerSpec,
    HostDesired,
    NetworkSpec,
    VolumeSpec,
)
from dnetlab.reconcile.observed import HostObserved, LiveContainer, LiveNetwork

Action = Literal[
    "pull-image", "create-volume", "remove-container", "disconnect", "remove-network",
    "create-network", "create-container", "connect", "start-container", "unpause-container",
    "remove-volume", "init-swarm", "join-swarm", "leave-swarm", "impair", "heal",
]




class Phase(IntEnum):
    SWARM_INIT = -2  # the leader first: the others need its join token
    SWARM_JOIN = -1
    PREPARE = 0  # images, volumes
    REMOVE_CONTAINERS = 1  # and disconnects
    REMOVE_NETWORKS = 2
    CREATE_NETWORKS = 3
    CONTAINERS = 4  # create, connect, start
    IMPAIR = 5  # in the namespaces of running containers, on their final interfaces
    CLEANUP = 6  # volumes, after the containers that used them are gone
    SWARM_LEAVE = 7  # workers, once the lab's objects are gone
    SWARM_DISSOLVE = 8  # then the managers


PHASE_OF: Mapping[str, Phase] = {
    "pull-image": Phase.PREPARE,
    "create-volume": Phase.PREPARE,
    "remove-container": Phase.REMOVE_CONTAINERS,
    "disconnect": Phase.REMOVE_CONTAINERS,
    "remove-network": Phase.REMOVE_NETWORKS,
    "create-network": Phase.CREATE_NETWORKS,
    "create-container": Phase.CONTAINERS,
    "connect": Phase.CONTAINERS,
    "start-container": Phase.CONTAINERS,
    "unpause-container": Phase.CONTAINERS,
    "remove-volume": Phase.CLEANUP,
    "init-swarm": Phase.SWARM_INIT,
    "join-swarm": Phase.SWARM_JOIN,
    "impair": Phase.IMPAIR,
    "heal": Phase.IMPAIR,
}


@dataclass(frozen=True)
class Op:
    action: Action
    host: str
    name: str  # the Docker name of the object acted on (the container, for connect)
    cause: str
    key: str | None = None  # the object's key in the scenario (init-swarm: the lab's name)
    target_id: str | None = None  # live object to act on (removals, connect, start)
    network: NetworkSpec | None = None
    container: ContainerSpec | None = None
    attachment: AttachmentSpec | None = None
    volume: VolumeSpec | None = None
    network_name: str | None = None  # for disconnect
    display: str | None = None  # a pair of ops shown as one line ("recreate")
    swarm_role: str | None = None  # init/join/leave-swarm: the host's role
    leader: str | None = None  # join-swarm: the host whose token and address to use
    advertise: str | None = None  # init/join-swarm: the address to advertise
    swarm_labels: tuple[tuple[str, str], ...] = ()  # init-swarm: the cluster's labels
    impairment: Impairment | None = None  # impair: what to set (heal: None)
    # within its phase, ops of a later wave wait for the earlier waves on their host: a
    # container that links others (`links:`) is created and started after them
    wave: int = 0
    # remove-container: the networks the live container is on (None: not known), so that a
    # network's removal waits for its own containers only (lab.schedule)
    networks: tuple[str, ...] | None = None

    @property
    def phase(self) -> Phase:
        if self.action == "leave-swarm":
            return Phase.SWARM_DISSOLVE if self.swarm_role == "manager" else Phase.SWARM_LEAVE
        return PHASE_OF[self.action]

    @property
    def kind(self) -> str:
        return self.action.split("-", 1)[-1] if "-" in self.action else "container"

    def describe(self) -> str:
        if self.action in ("init-swarm", "join-swarm", "leave-swarm"):
            verb = self.action.split("-")[0]
            role = f" as {self.swarm_role}" if self.action != "init-swarm" else ""
            return f"{verb} {self.name}{role} [{self.host}]: {self.cause}"
        if self.action == "connect" and self.attachment is not None:
            what = f"connect {self.name} to {self.attachment.network_name}"
        elif self.action == "disconnect":
            what = f"disconnect {self.name} from {self.network_name}"
        elif self.action in ("impair", "heal"):
            what = f"{self.action} {self.name} on {self.network_name}"
        else:
            verb, _, kind = self.action.partition("-")
            what = f"{verb} {kind} {self.name}"
        return f"{what} [{self.host}]: {self.cause}"


@dataclass(frozen=True)
class Plan:
    scenario: str
    ops: tuple[Op, ...]
    up_to_date_hosts: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.ops

    def phases(self) -> list[tuple[Phase, list[Op]]]:
        out: dict[Phase, list[Op]] = {}
        for op in self.ops:
            out.setdefault(op.phase, []).append(op)
        return sorted(out.items())

    def text(self) -> str:
        """Stable text: tests compare it, users read it."""
        if self.empty:
            return f"lab {self.scenario} is up to date: nothing to do\n"
        lines = []
        shown: set[str] = set()
        for op in sorted(self.ops, key=_display_order):
            if op.display:
                if op.display in shown:
                    continue
                shown.add(op.display)
                lines.append(op.display)
            else:
                lines.append(op.describe())
        n = len(lines)
        return "\n".join(lines) + f"\n{n} change{'s' if n != 1 else ''} to lab {self.scenario}\n"


def _display_order(op: Op) -> tuple[str, int, str, str]:
    return (op.host, int(op.phase), op.name, op.action)


def impairment_drift(want: Impairment, have: Impairment) -> list[str]:
    """The fields in which what an interface carries differs from the file: a rate
    within 2 % (tc keeps rates in its own units), the rest within a hundredth."""
    fields = []
    if (want.rate_bps is None) != (have.rate_bps is None) or (
            want.rate_bps and have.rate_bps
            and abs(want.rate_bps - have.rate_bps) > 0.02 * want.rate_bps):
        fields.append("rate")
    for name in ("loss", "delay", "jitter"):
        if abs((getattr(want, name) or 0.0) - (getattr(have, name) or 0.0)) > 0.01:
            fields.append(name)
    return fields


def _live_text(imp: Impairment) -> str:
    parts = [f"rate {imp.rate_bps}bit"] if imp.rate_bps else []
    rest = Impairment(loss=imp.loss, delay=imp.delay, jitter=imp.jitter)
    return ", ".join(parts + ([rest.describe()] if not rest.empty else []))


def _relink_cause(spec: ContainerSpec, renewed: Mapping[str, str]) -> str | None:
    """A container that links one this plan creates or recreates: Docker keeps the link
    to the removed container (it cannot start again) and its /etc/hosts holds the old
    address, so it is made again, after its target."""
    for key in spec.linked:
        if key in renewed:
            return f"linked container {key} is {renewed[key]}"
    return None


_Live = TypeVar("_Live", LiveNetwork, LiveContainer)


def _by_key(objects: Iterable[_Live]) -> dict[str, list[_Live]]:
    """Owned objects grouped by the scenario key on their label."""
    grouped: dict[str, list[_Live]] = {}
    for o in objects:
        grouped.setdefault(o.label(labels.KEY) or "", []).append(o)
    return grouped


def _drift(kind: str, live: str | None, desired: str) -> str:
    fields = labels.changed_fields(live, desired)
    if fields:
        return f"config drift: {', '.join(fields)}"
    return f"config drift: {kind} was made by another dnetlab version"


class _HostReconciler:
    def __init__(self, owner: labels.Owner, desired: HostDesired, observed: HostObserved,
                 swarm_networks: frozenset[str] = frozenset()) -> None:
        self.swarm_networks = swarm_networks  # keys of the lab's overlay networks
        self.owner = owner
        self.d = desired
        self.o = observed
        self.ops: list[Op] = []
        self.h = desired.host
        self.live_net_ids = {n.id for n in observed.networks}
        self.fresh_networks: set[str] = set()  # keys of networks created or recreated

    def run_networks(self) -> None:
        self.images()
        self.volumes()
        self.networks()

    def run_containers(self, fresh_overlays: frozenset[str]) -> list[Op]:
        self.fresh_networks |= fresh_overlays  # an overlay recreated on its manager
        self.containers()
        return self.ops

    def images(self) -> None:
        for ref in self.d.images:
            if ref not in self.o.images:
                self.ops.append(Op("pull-image", self.h, ref, "missing on this host"))

    def volumes(self) -> None:
        have = {v.name for v in self.o.volumes}
        for v in self.d.volumes:
            if v.name not in have:
                self.ops.append(Op("create-volume", self.h, v.name, "not found", volume=v))

    def _keep_named(self, remove: Literal["remove-network", "remove-container"], key: str,
                    name: str, lives: list[_Live]) -> _Live | None:
        """The live object named `name` among those this lab labelled with `key`; the
        others (left by a renamed lab, or a copy made by hand with our labels) are
        removed."""
        live = next((o for o in lives if o.name == name), None)
        for extra in lives:
            if extra is not live:
                self.ops.append(Op(remove, self.h, extra.name,
                                   "duplicate or renamed", key, extra.id))
        return live

    def networks(self) -> None:
        owned = _by_key(self.o.owned_networks(self.owner))
        wanted = {n.key for n in self.d.networks}
        for spec in self.d.networks:
            live = self._keep_named("remove-network", spec.key, spec.name, owned.get(spec.key, []))
            if live is None:
                self.fresh_networks.add(spec.key)
                self.ops.append(Op("create-network", self.h, spec.name, "not found", spec.key,
                                   network=spec))
            elif live.label(labels.CONFIG_HASH) != spec.config_hash:
                self.fresh_networks.add(spec.key)
                cause = _drift("network", live.label(labels.FIELDS), spec.config_fields)
                line = f"recreate network {spec.name} [{self.h}]: {cause}"
                self.ops.append(Op("remove-network", self.h, spec.name, cause, spec.key, live.id,
                                   display=line))
                self.ops.append(Op("create-network", self.h, spec.name, cause, spec.key,
                                   network=spec, display=line))
        external = {x.name for x in self.d.externals}
        for key, lives in owned.items():
            if key not in wanted:
                for live in lives:
                    if live.name in external:
                        continue  # made by the lab once, external now: never removed
                    if live.scope == "swarm" and key in self.swarm_networks:
                        continue  # an overlay shows on a worker once used; it lives on the leader
                    self.ops.append(Op("remove-network", self.h, live.name, "not in scenario",
                                       key, live.id))

    def containers(self) -> None:
        owned = _by_key(self.o.owned_containers(self.owner))
        wanted = {c.key for c in self.d.containers}
        renewed: dict[str, str] = {}  # key -> "created" or "recreated" by this plan
        # the linked containers first, so that a linker knows whether its targets renew
        for spec in sorted(self.d.containers, key=lambda c: c.link_depth):
            before = len(self.ops)
            self._container(spec, owned.get(spec.key, []), renewed)
            if spec.link_depth:
                self.ops[before:] = [replace(op, wave=spec.link_depth)
                                     for op in self.ops[before:]]
        for key, lives in owned.items():
            if key not in wanted:
                for live in lives:
                    self.ops.append(Op("remove-container", self.h, live.name, "not in scenario",
                                       key, live.id, networks=live.network_names))

    def _container(self, spec: ContainerSpec, lives: list[LiveContainer],
                   renewed: dict[str, str]) -> None:
        live = self._keep_named("remove-container", spec.key, spec.name, lives)
        if live is None:
            renewed[spec.key] = "created"
            self.ops.append(Op("create-container", self.h, spec.name, "not found", spec.key,
                               container=spec))
            self._impairments(spec, None, fresh=True)
            return
        cause = self._recreate_cause(spec, live) or _relink_cause(spec, renewed)
        if cause:
            renewed[spec.key] = "recreated"
            line = f"recreate container {spec.name} [{self.h}]: {cause}"
            self.ops.append(Op("remove-container", self.h, spec.name, cause, spec.key,
                               live.id, display=line, networks=live.network_names))
            self.ops.append(Op("create-container", self.h, spec.name, cause, spec.key,
                               container=spec, display=line))
            self._impairments(spec, None, fresh=True)
            return
        before = len(self.ops)
        self._attachments(spec, live)
        if live.state == "paused":
            self.ops.append(Op("unpause-container", self.h, spec.name, "paused", spec.key,
                               live.id))
        elif live.state != "running":
            self.ops.append(Op("start-container", self.h, spec.name,
                               f"not running ({live.state or 'unknown'})", spec.key, live.id))
        self._impairments(spec, live, fresh=live.state not in ("running", "paused"),
                          reconnected={op.attachment.network_name
                                       for op in self.ops[before:]
                                       if op.action == "connect" and op.attachment})

    def _impairments(self, spec: ContainerSpec, live: LiveContainer | None, *, fresh: bool,
                     reconnected: set[str] | None = None) -> None:
        """Impair or heal each attachment whose interface does not carry what the file
        says. A new, restarted or reconnected interface carries nothing yet; an existing
        one is judged on what was read back from the namespace (when it was read)."""
        read = live is not None and spec.name in self.o.impairments_read
        for att in spec.attachments:
            want = att.impair
            new = fresh or att.network_name in (reconnected or set())
            if new or live is None:
                if want is not None:
                    self._impair_op(spec, live, att, want, f"new interface ({want.describe()})")
                continue
            if not read:
                continue
            have = self.o.impairment(spec.name, att.network_name) or Impairment()
            if want is None:
                if not have.empty:
                    self._impair_op(spec, live, att, None,
                                    f"impairment not in scenario ({_live_text(have)})")
            elif have.empty:
                self._impair_op(spec, live, att, want,
                                f"impairment missing ({want.describe()})")
            else:
                fields = impairment_drift(want, have)
                if fields:
                    self._impair_op(spec, live, att, want,
                                    f"impairment drift: {', '.join(fields)}")

    def _impair_op(self, spec: ContainerSpec, live: LiveContainer | None, att: AttachmentSpec,
                   want: Impairment | None, cause: str) -> None:
        self.ops.append(Op("impair" if want is not None else "heal", self.h, spec.name, cause,
                           spec.key, live.id if live is not None else None,
                           network_name=att.network_name, impairment=want))

    def _recreate_cause(self, spec: ContainerSpec, live: LiveContainer) -> str | None:
        if live.label(labels.CONFIG_HASH) != spec.config_hash:
            return _drift("container", live.label(labels.FIELDS), spec.config_fields)
        for att in spec.attachments:
            # an external network's endpoint is never disconnected (spec 10.2): what
            # would be a reconnect elsewhere recreates the container
            ep = live.endpoint(att.network_name) if att.external else None
            if ep is None:
                continue
            if ep.network_id and ep.network_id not in self.live_net_ids:
                return f"external network {att.network_name} was replaced"
            if (ep.requested_ipv4, ep.requested_ipv6) != (att.ipv4, att.ipv6):
                which = "ipv4" if ep.requested_ipv4 != att.ipv4 else "ipv6"
                return (f"config drift: {which} of {spec.key} on {att.network_key} (external: "
                        "left only by removing the container)")
        gone = [e.network_name for e in live.endpoints
                if e.network_id and e.network_id not in self.live_net_ids]
        if gone and live.state != "running":
            # A stopped container still points at a network that was removed: Docker
            # cannot start it, and cannot disconnect it from a network that is gone.
            return f"network {gone[0]} it was on was removed"
        renewed = [a.network_key for a in spec.attachments
                   if a.network_key in self.fresh_networks and live.endpoint(a.network_name)]
        if renewed and live.state != "running":
            # Likewise for a network about to be recreated: reconnecting a container that
            # is not running leaves it pointing at the old network (seen on Docker 20.10).
            return f"network {renewed[0]} is recreated and the container is not running"
        return None

    def _default_bridge(self, spec: ContainerSpec, live: LiveContainer) -> None:
        if spec.attachments or spec.network_mode not in (None, "bridge"):
            return
        if live.endpoint(DEFAULT_BRIDGE) is None:
            att = AttachmentSpec(DEFAULT_BRIDGE, DEFAULT_BRIDGE, None, None, (), None)
            self.ops.append(Op("connect", self.h, spec.name,
                               "not connected to Docker's default bridge", spec.key, live.id,
                               attachment=att))

    def _attachments(self, spec: ContainerSpec, live: LiveContainer) -> None:
        self._default_bridge(spec, live)
        mine = ({n.name for n in self.d.networks}
                | {n.name for n in self.o.owned_networks(self.owner)}) - {
            x.name for x in self.d.externals}
        wanted = {a.network_name for a in spec.attachments}
        here = {n.key for n in self.d.networks}
        for att in spec.attachments:
            ep = live.endpoint(att.network_name)
            if att.external:  # connected when missing; any other drift recreates it
                if ep is None:
                    self.ops.append(Op("connect", self.h, spec.name,
                                       f"not connected to {att.network_key} (external)",
                                       spec.key, live.id, attachment=att))
                continue
            # an overlay lives on its manager: a worker need not list it
            judged_here = att.network_key in here or att.network_key not in self.swarm_networks
            stale = ep is not None and judged_here and ep.network_id not in self.live_net_ids
            if att.network_key in self.fresh_networks or stale:
                if ep is not None:
                    self.ops.append(Op("disconnect", self.h, spec.name,
                                       f"network {att.network_key} is recreated", spec.key,
                                       live.id, network_name=att.network_name))
                self.ops.append(Op("connect", self.h, spec.name,
                                   f"network {att.network_key} is recreated"
                                   if ep is not None else f"not connected to {att.network_key}",
                                   spec.key, live.id, attachment=att))
            elif ep is None:
                self.ops.append(Op("connect", self.h, spec.name,
                                   f"not connected to {att.network_key}", spec.key, live.id,
                                   attachment=att))
            elif (ep.requested_ipv4, ep.requested_ipv6) != (att.ipv4, att.ipv6):
                which = "ipv4" if ep.requested_ipv4 != att.ipv4 else "ipv6"
                cause = f"config drift: {which} of {spec.key} on {att.network_key}"
                self.ops.append(Op("disconnect", self.h, spec.name, cause, spec.key, live.id,
                                   network_name=att.network_name))
                self.ops.append(Op("connect", self.h, spec.name, cause, spec.key, live.id,
                                   attachment=att))
        for ep in live.endpoints:
            if ep.network_name in mine and ep.network_name not in wanted:
                self.ops.append(Op("disconnect", self.h, spec.name,
                                   f"{ep.network_name} is not in its networks", spec.key,
                                   live.id, network_name=ep.network_name))


def reconcile(owner: labels.Owner, desired: Mapping[str, HostDesired],
              observed: Mapping[str, HostObserved], hosts: tuple[Host, ...] = ()) -> Plan:
    ops: list[Op] = swarm_ops(owner, hosts, observed)
    quiet: list[str] = []
    overlays = frozenset(n.key for d in desired.values() for n in d.networks
                         if n.driver == "overlay")
    rec = {host: _HostReconciler(owner, d, observed[host], overlays)
           for host, d in desired.items()}
    for r in rec.values():
        r.run_networks()
    fresh = frozenset(k for r in rec.values() for k in r.fresh_networks if k in overlays)
    for host, r in rec.items():
        host_ops = r.run_containers(fresh)
        ops.extend(host_ops)
        if not host_ops:
            quiet.append(host)
    return Plan(owner.scenario, tuple(ops), tuple(quiet))


def swarm_ops(owner: labels.Owner, hosts: tuple[Host, ...],
              observed: Mapping[str, HostObserved]) -> list[Op]:
    lead = swarm.leader(hosts)
    if lead is None:
        return []
    ops = []
    name = f"swarm of lab {owner.scenario}"
    if not observed[lead.key].swarm.active:
        ops.append(Op("init-swarm", lead.key, name, "not in a swarm", key=owner.scenario,
                      swarm_role="manager", advertise=swarm.advertise_addr(lead),
                      swarm_labels=tuple(swarm.cluster_labels(owner).items())))
    for h in hosts:
        if h is not lead and h.swarm is not None and not observed[h.key].swarm.active:
            ops.append(Op("join-swarm", h.key, name, f"not in the lab's swarm (as {h.swarm})",
                          swarm_role=h.swarm, leader=lead.key,
                          advertise=swarm.advertise_addr(h)))
    return ops


def _down_cause(owner: labels.Owner, obj_labels: tuple[tuple[str, str], ...],
                base: str = "down") -> str:
    """"down"; when any instance is taken down (no record here), also whose each is, for
    the user who is asked to confirm."""
    if not owner.any_instance:
        return base
    return f"{base}, {labels.describe_instance(labels.instance_of(dict(obj_labels)))}"


def teardown(owner: labels.Owner, observed: Iterable[HostObserved], *, volumes: bool = False,
             hosts: tuple[Host, ...] = ()) -> Plan:
    """Everything of this owner's (the lab's name and instance), on every host: what `down`
    removes; then the swarm, when this instance of the lab made it."""
    ops: list[Op] = []
    seen = list(observed)
    overlays: set[str] = set()  # IDs of swarm networks already removed (on one manager)
    for o in seen:
        for c in o.owned_containers(owner):
            ops.append(Op("remove-container", o.host, c.name, _down_cause(owner, c.labels),
                          c.label(labels.KEY), c.id, networks=c.network_names))
        for n in o.owned_networks(owner):
            if n.scope == "swarm" and (not o.swarm.is_manager or n.id in overlays):
                # removed on one manager, for the whole swarm: every manager lists it,
                # and a second removal would fail with "not found"
                continue
            if n.scope == "swarm":
                overlays.add(n.id)
            ops.append(Op("remove-network", o.host, n.name, _down_cause(owner, n.labels),
                          n.label(labels.KEY), n.id))
        if volumes:
            for v in o.owned_volumes(owner):
                ops.append(Op("remove-volume", o.host, v.name,
                              _down_cause(owner, v.labels, "down (--volumes)")))
    ops += _dissolve(owner, hosts, {o.host: o for o in seen})
    return Plan(owner.scenario, tuple(ops))


def _dissolve(owner: labels.Owner, hosts: tuple[Host, ...],
              observed: Mapping[str, HostObserved]) -> list[Op]:
    lead = swarm.leader(hosts)
    if lead is None or lead.key not in observed:
        return []
    lo = observed[lead.key]
    if not swarm.is_ours(lead, lo, owner):
        return []  # a swarm that was there before dnetlab, or another copy's: never touched
    name = f"swarm of lab {owner.scenario}"
    ops = []
    for h in hosts:
        o = observed.get(h.key)
        if o is None or h.swarm is None or not swarm.member_of_leaders_swarm(lead, lo, o):
            continue
        ops.append(Op("leave-swarm", h.key, name, "down: the lab made this swarm",
                      swarm_role="manager" if o.swarm.is_manager else "worker"))
    return ops
