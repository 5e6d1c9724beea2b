"""Golden plans: reconcile a scenario against a hand-built engine state and pin the text.

The engine is a fake. `deploy()` turns the desired specs into the live objects an engine
reports once `up` has run (the specs' labels, ids "c-KEY" / "n-KEY", endpoints at the
requested addresses), so a test starts from "fully up" and mutates it. Plan texts are
compared to tests/golden/plan-<case>.txt; `DNETLAB_REGEN_GOLDEN=1` rewrites them (see
tests/golden/README.md).

`simulate()` carries a plan out on the fake engine with the rules the real one enforces
(no network removed under a running container, no connect to a missing network, images
pulled before use, ...). Every case must converge: after its plan the lab is exactly what
a fresh deploy gives, a second plan is empty, and nothing foreign has changed.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
from collections.abc import Callable, Mapping
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest

from dnetlab import labels
from dnetlab.load.pipeline import load, load_source
from dnetlab.load.source import Source
from dnetlab.model import Scenario
from dnetlab.reconcile.desired import HostDesired, desired_state
from dnetlab.reconcile.observed import (
    HostObserved,
    LiveContainer,
    LiveEndpoint,
    LiveNetwork,
    LiveVolume,
)
from dnetlab.reconcile.plan import Op, Phase, Plan, reconcile, teardown

INSTANCE = "d3adb33fcafe"  # the copy of each lab that the tests bring up and plan for
OTHER_COPY = "0f0f0f0f0f0f"  # another copy of demo: another working directory's
DEMO = labels.Owner("demo", INSTANCE)

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden"
REGEN = os.environ.get("DNETLAB_REGEN_GOLDEN") == "1"

BASE = """
version: 1
name: demo
networks:
  lan: {subnet: 10.10.0.0/24}
  dmz: {subnet: 10.20.0.0/24}
containers:
  web:
    image: busybox
    command: sleep infinity
    networks: {lan: {ipv4: 10.10.0.10}, dmz: {ipv4: 10.20.0.10}}
  db:
    image: alpine
    command: sleep infinity
    volumes: ["dbdata:/var/lib/db"]
    networks: {lan: {ipv4: 10.10.0.20}}
  client:
    image: busybox
    networks: [dmz]
"""

Obs = dict[str, HostObserved]
Row = tuple[str, str, str | None, str | None]


# --- scenarios ---------------------------------------------------------------------------

@functools.cache
def scenario(text: str = BASE) -> Scenario:
    return load_source(Source("demo.yaml", text)).scenario


def owner(sc: Scenario) -> labels.Owner:
    return labels.Owner(sc.name, INSTANCE)


def edited(old: str, new: str, text: str = BASE) -> str:
    """`text` with one exact edit; fails loudly if the edit no longer applies."""
    assert text.count(old) == 1, f"edit {old!r} does not match the scenario exactly once"
    return text.replace(old, new)


# --- the fake engine ---------------------------------------------------------------------

BUILTIN = {"bridge": "n-bridge", "host": "n-host", "none": "n-none"}


def default_networks() -> tuple[LiveNetwork, ...]:
    """What every engine has; none of it is dnetlab's."""
    return (
        LiveNetwork("n-bridge", "bridge", "bridge", "local", (), ("172.17.0.0/16",)),
        LiveNetwork("n-host", "host", "host", "local", (), ()),
        LiveNetwork("n-none", "none", "null", "local", (), ()),
    )


def foreign() -> tuple[tuple[LiveContainer, ...], tuple[LiveNetwork, ...], tuple[LiveVolume, ...]]:
    """Objects a plan for `demo` must never touch: unlabelled ones, another lab's, and
    those of another copy of demo (its name label, another instance or none, spec 10.5)."""
    other = ((labels.SCENARIO, "other"), (labels.KEY, "web"), (labels.KIND, "container"),
             (labels.CONFIG_HASH, "0123456789abcdef"), (labels.FIELDS, "image=00000000"))
    other_net = ((labels.SCENARIO, "other"), (labels.KEY, "lan"), (labels.KIND, "network"),
                 (labels.CONFIG_HASH, "fedcba9876543210"), (labels.FIELDS, "driver=00000000"))
    copy = ((labels.SCENARIO, "demo"), (labels.INSTANCE, OTHER_COPY), (labels.KEY, "spare"),
            (labels.KIND, "container"), (labels.CONFIG_HASH, "0123456789abcdef"),
            (labels.FIELDS, "image=00000000"))
    copy_net = ((labels.SCENARIO, "demo"), (labels.INSTANCE, OTHER_COPY),
                (labels.KEY, "sparenet"), (labels.KIND, "network"),
                (labels.CONFIG_HASH, "fedcba9876543210"), (labels.FIELDS, "driver=00000000"))
    spoof = ((labels.SCENARIO, "demo"), (labels.KEY, "spoof"))  # no instance label
    containers = (
        LiveContainer("c-demo-spare", "demo-spare", "busybox", "running", copy,
                      "demo-sparenet", (LiveEndpoint("n-demo-sparenet", "demo-sparenet",
                                                     "10.98.0.2", None, None, None, None,
                                                     ("spare",)),)),
        LiveContainer("c-demo-spoof", "demo-spoof", "busybox", "exited", spoof, "bridge",
                      (LiveEndpoint("n-bridge", "bridge", None, None, None, None, None, ()),)),
        LiveContainer("c-portainer", "portainer", "portainer/portainer-ce", "running", (),
                      "bridge", (LiveEndpoint("n-bridge", "bridge", "172.17.0.2", None, None,
                                              None, "02:42:ac:11:00:02", ()),)),
        LiveContainer("c-other-web", "other-web", "busybox", "running", other, "other-lan",
                      (LiveEndpoint("n-other-lan", "other-lan", "10.99.0.2", None, None, None,
                                    None, ("web",)),)),
    )
    networks = (LiveNetwork("n-other-lan", "other-lan", "bridge", "local", other_net,
                            ("10.99.0.0/24",)),
                LiveNetwork("n-demo-sparenet", "demo-sparenet", "bridge", "local", copy_net,
                            ("10.98.0.0/24",)))
    volumes = (LiveVolume("otherdata", ((labels.SCENARIO, "other"), (labels.KEY, "otherdata"))),
               LiveVolume("sparedata", ((labels.SCENARIO, "demo"),
                                        (labels.INSTANCE, OTHER_COPY), (labels.KEY, "sparedata"))),
               LiveVolume("spoofdata", ((labels.SCENARIO, "demo"), (labels.KEY, "spoofdata"))))
    return containers, networks, volumes


def deploy_host(d: HostDesired, *, with_foreign: bool = True) -> HostObserved:
    """The engine state `up` leaves on one host: every spec live and running."""
    networks = tuple(
        LiveNetwork(f"n-{n.key}", n.name, n.driver, "swarm" if n.driver == "overlay" else "local",
                    n.labels, tuple(subnet for subnet, _, _ in n.ipam))
        for n in d.networks)
    containers = []
    for c in d.containers:
        if c.attachments:
            endpoints = tuple(
                LiveEndpoint(f"n-{a.network_key}", a.network_name,
                             a.ipv4 or f"192.0.2.{i + 2}",  # a dynamic address: never compared
                             a.ipv6, a.ipv4, a.ipv6, a.mac, a.aliases)
                for i, a in enumerate(c.attachments))
            mode = c.network_mode or c.attachments[0].network_name
        else:  # network_mode, or neither it nor networks: Docker's default bridge
            mode = c.network_mode or "bridge"
            endpoints = (LiveEndpoint(BUILTIN[mode], mode, None, None, None, None, None, ()),)
        containers.append(LiveContainer(f"c-{c.key}", c.name, c.image, "running", c.labels,
                                        mode, endpoints))
    volumes = tuple(LiveVolume(v.name, v.labels) for v in d.volumes)
    nets = default_networks()
    if with_foreign:
        fc, fn, fv = foreign()
        containers.extend(fc)
        nets += fn
        volumes += fv
    return HostObserved(d.host, "1.45", "27.3.1", tuple(containers), nets + networks,
                        volumes, frozenset(d.images))


def deploy(sc: Scenario, *, with_foreign: bool = True) -> Obs:
    return {h: deploy_host(d, with_foreign=with_foreign)
            for h, d in desired_state(sc, INSTANCE).items()}


def empty_engine(sc: Scenario) -> Obs:
    """A fresh engine: its default networks, no containers, no images."""
    return {h.key: HostObserved(h.key, "1.45", "27.3.1", (), default_networks())
            for h in sc.hosts}


# --- mutations of a live state -----------------------------------------------------------

def change_container(obs: Mapping[str, HostObserved], cid: str,
                     fn: Callable[[LiveContainer], LiveContainer | None],
                     host: str = "local") -> Obs:
    """Apply `fn` to one live container (None removes it)."""
    o = obs[host]
    assert any(c.id == cid for c in o.containers), cid
    out: list[LiveContainer] = []
    for c in o.containers:
        new = fn(c) if c.id == cid else c
        if new is not None:
            out.append(new)
    return {**obs, host: dataclasses.replace(o, containers=tuple(out))}


def remove_network(obs: Mapping[str, HostObserved], nid: str, host: str = "local") -> Obs:
    """`docker network rm`: refused while a running container is on the network."""
    o = obs[host]
    assert any(n.id == nid for n in o.networks), nid
    assert not [c.name for c in o.containers if c.state == "running"
                and any(e.network_id == nid for e in c.endpoints)], "engine would refuse"
    return {**obs, host: dataclasses.replace(
        o, networks=tuple(n for n in o.networks if n.id != nid))}


def drop_endpoint(network_name: str) -> Callable[[LiveContainer], LiveContainer]:
    def fn(c: LiveContainer) -> LiveContainer:
        assert c.endpoint(network_name) is not None, (c.name, network_name)
        return dataclasses.replace(
            c, endpoints=tuple(e for e in c.endpoints if e.network_name != network_name))
    return fn


def change_endpoint(network_name: str, **changes: Any) -> Callable[[LiveContainer], LiveContainer]:
    def fn(c: LiveContainer) -> LiveContainer:
        assert c.endpoint(network_name) is not None, (c.name, network_name)
        return dataclasses.replace(c, endpoints=tuple(
            dataclasses.replace(e, **changes) if e.network_name == network_name else e
            for e in c.endpoints))
    return fn


def stopped(state: str = "exited") -> Callable[[LiveContainer], LiveContainer]:
    return lambda c: dataclasses.replace(c, state=state)


def gone(_: LiveContainer) -> None:
    return None


# --- carrying a plan out on the fake engine ----------------------------------------------

class _FakeHost:
    def __init__(self, o: HostObserved) -> None:
        self.o = o
        self.containers = {c.id: c for c in o.containers}
        self.networks = {n.id: n for n in o.networks}
        self.volumes = {v.name: v for v in o.volumes}
        self.images = set(o.images)
        self.serial = 0

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-new{self.serial}"

    def net_named(self, name: str) -> LiveNetwork:
        found = [n for n in self.networks.values() if n.name == name]
        # an overlay is the swarm's: a worker attaches to the manager's by name
        found += [n for peer in getattr(self, "peers", {}).values() if peer is not self
                  for n in peer.networks.values() if n.name == name and n.scope == "swarm"]
        assert found, f"no network {name!r}"
        return found[0]

    def endpoint(self, att: Any) -> LiveEndpoint:
        net = self.net_named(att.network_name)
        return LiveEndpoint(net.id, net.name, att.ipv4 or "192.0.2.200", att.ipv6, att.ipv4,
                            att.ipv6, att.mac, att.aliases)

    def run(self, op: Op) -> None:  # one branch per action, as apply.run_op
        a = op.action
        if a == "pull-image":
            self.images.add(op.name)
        elif a == "create-volume":
            assert op.volume is not None
            self.volumes.setdefault(op.name, LiveVolume(op.name, op.volume.labels))
        elif a == "remove-volume":
            assert op.name in self.volumes, op
            del self.volumes[op.name]
        elif a == "remove-container":
            assert op.target_id in self.containers, op
            del self.containers[op.target_id]
        elif a == "disconnect":
            c = self.containers[op.target_id or ""]
            if c.state == "running":
                self.net_named(op.network_name or "")
            assert c.endpoint(op.network_name or "") is not None, op
            self.containers[c.id] = drop_endpoint(op.network_name or "")(c)
        elif a == "remove-network":
            assert op.target_id in self.networks, op
            users = [c.name for c in self.containers.values() if c.state == "running"
                     and any(e.network_id == op.target_id for e in c.endpoints)]
            assert not users, f"{op.describe()}: network has active endpoints {users}"
            del self.networks[op.target_id]
        elif a == "create-network":
            net = op.network
            assert net is not None
            assert all(n.name != net.name for n in self.networks.values()), op
            subnets = tuple(s for s, _, _ in net.ipam)
            for n in self.networks.values():
                for theirs in n.subnets:
                    for mine in subnets:
                        assert not ip_network(mine).overlaps(ip_network(theirs)), (
                            f"{op.describe()}: pool overlaps with {n.name}")
            nid = self.new_id(f"n-{net.key}")
            scope = "swarm" if net.driver == "overlay" else "local"
            self.networks[nid] = LiveNetwork(nid, net.name, net.driver, scope, net.labels,
                                             subnets)
        elif a == "create-container":
            spec = op.container
            assert spec is not None
            assert all(c.name != spec.name for c in self.containers.values()), op
            assert spec.image in self.images, f"{op.describe()}: image {spec.image} not pulled"
            for bind in spec.binds:
                source = bind.split(":", 1)[0]
                if ":" in bind and not source.startswith(("/", ".", "~")):
                    assert source in self.volumes, f"{op.describe()}: volume {source} missing"
            if spec.attachments:
                mode = spec.network_mode or spec.attachments[0].network_name
                endpoints = tuple(self.endpoint(att) for att in spec.attachments)
            else:
                mode = spec.network_mode or "bridge"
                builtin = self.net_named(mode)
                endpoints = (LiveEndpoint(builtin.id, mode, None, None, None, None, None, ()),)
            cid = self.new_id(f"c-{spec.key}")
            self.containers[cid] = LiveContainer(cid, spec.name, spec.image, "running",
                                                 spec.labels, mode, endpoints)
        elif a == "connect":
            assert op.attachment is not None
            c = self.containers[op.target_id or ""]
            assert c.endpoint(op.attachment.network_name) is None, f"{op.describe()}: connected"
            self.containers[c.id] = dataclasses.replace(
                c, endpoints=(*c.endpoints, self.endpoint(op.attachment)))
        elif a == "start-container":
            c = self.containers[op.target_id or ""]
            stale = [e.network_name for e in c.endpoints if e.network_id not in self.networks]
            assert not stale, f"{op.describe()}: network {stale} not found"
            self.containers[c.id] = dataclasses.replace(c, state="running")
        else:  # pragma: no cover
            raise AssertionError(f"unknown action {a}")

    def observed(self) -> HostObserved:
        return dataclasses.replace(
            self.o, containers=tuple(self.containers.values()),
            networks=tuple(self.networks.values()), volumes=tuple(self.volumes.values()),
            images=frozenset(self.images))


_IN_STEP = {"create-container": 0, "connect": 1, "start-container": 2}


def simulate(plan: Plan, obs: Mapping[str, HostObserved]) -> Obs:
    """Run the plan phase by phase as apply does (in the container phase, one container's
    create, connects and start in that order)."""
    hosts = {h: _FakeHost(o) for h, o in obs.items()}
    for fake in hosts.values():
        fake.peers = hosts  # type: ignore[attr-defined]
    for phase, ops in plan.phases():
        if phase == Phase.CONTAINERS:
            ops = sorted(ops, key=lambda op: _IN_STEP.get(op.action, -1))
        for op in ops:
            hosts[op.host].run(op)
    return {h: f.observed() for h, f in hosts.items()}


def shape(obs: Mapping[str, HostObserved], owner: labels.Owner, *, owned: bool) -> set[str]:
    """What a lab looks like (owned=True) or what is around it (False), one line per fact,
    without the ids and dynamic addresses an engine chooses."""
    out: set[str] = set()
    for host, o in obs.items():
        ids = {n.id: n.name for n in o.networks}

        def mine(lbl: tuple[tuple[str, str], ...]) -> bool:
            return owner.owns(dict(lbl)) == owned

        for c in o.containers:
            if mine(c.labels):
                what = f"{host} container {c.name}"
                out.add(f"{what}: image {c.image}, {c.state}")
                out |= {f"{what}: label {k}={v}" for k, v in c.labels}
                out |= {f"{what}: endpoint on {e.network_name} (network "
                        f"{ids.get(e.network_id, '<removed>')}), requested {e.requested_ipv4} "
                        f"{e.requested_ipv6}, aliases {list(e.aliases)}" for e in c.endpoints}
        for n in o.networks:
            if mine(n.labels):
                out.add(f"{host} network {n.name}: {n.driver} {list(n.subnets)}")
                out |= {f"{host} network {n.name}: label {k}={v}" for k, v in n.labels}
    return out


def assert_same(got: set[str], want: set[str]) -> None:
    lines = [f"- {x}" for x in sorted(want - got)] + [f"+ {x}" for x in sorted(got - want)]
    assert not lines, "live state differs (- expected, + actual):\n" + "\n".join(lines)


def assert_converges(sc: Scenario, before: Mapping[str, HostObserved]) -> Obs:
    plan = plan_for(sc, before)
    after = simulate(plan, before)
    again = plan_for(sc, after)
    assert again.empty, f"a second plan is not empty:\n{again.text()}"
    assert_same(shape(after, owner(sc), owned=True), shape(deploy(sc), owner(sc), owned=True))
    assert_same(shape(after, owner(sc), owned=False), shape(before, owner(sc), owned=False))
    for host, d in desired_state(sc, INSTANCE).items():
        assert set(d.images) <= after[host].images
        assert {v.name for v in d.volumes} <= {v.name for v in after[host].volumes}
    return after


# --- checking ----------------------------------------------------------------------------

def plan_for(sc: Scenario, obs: Mapping[str, HostObserved]) -> Plan:
    return reconcile(owner(sc), desired_state(sc, INSTANCE), obs)


def assert_golden(case: str, plan: Plan) -> None:
    path = GOLDEN / f"plan-{case}.txt"
    text = plan.text()
    if REGEN:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{path} is missing: run with DNETLAB_REGEN_GOLDEN=1, then read it"
    assert text == path.read_text()


def rows(plan: Plan) -> list[Row]:
    """Every op in plan order, with what the text leaves out: the live object acted on, and
    the network (and requested address) of a connect or disconnect."""
    out: list[Row] = []
    for op in plan.ops:
        net = None
        if op.attachment is not None:
            net = f"{op.attachment.network_name}@{op.attachment.ipv4 or 'dynamic'}"
        elif op.network_name is not None:
            net = op.network_name
        out.append((op.action, op.name, op.target_id, net))
    return out


FOREIGN_NAMES = {"portainer", "other-web", "other-lan", "bridge", "host", "none", "otherdata",
                 "demo-spare", "demo-spoof", "demo-sparenet", "sparedata", "spoofdata"}
FOREIGN_IDS = {"c-portainer", "c-other-web", "n-other-lan", "n-bridge", "n-host", "n-none",
               "c-demo-spare", "c-demo-spoof", "n-demo-sparenet"}


def never_touches_foreign(plan: Plan) -> None:
    for op in plan.ops:
        assert op.name not in FOREIGN_NAMES, op
        assert op.target_id not in FOREIGN_IDS, op
        assert op.network_name not in FOREIGN_NAMES, op


# --- the cases ---------------------------------------------------------------------------
# Each returns the scenario as now written and the engine state to reconcile it with.

Case = Callable[[], tuple[Scenario, Obs]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = fn
        return fn
    return register


def _from_base(text: str) -> tuple[Scenario, Obs]:
    """A file edit: the base lab is up, and the file now says `text`."""
    return scenario(text), deploy(scenario())


@case("empty-engine")
def _empty() -> tuple[Scenario, Obs]:
    sc = scenario()
    return sc, empty_engine(sc)


@case("up-to-date")
def _up() -> tuple[Scenario, Obs]:
    sc = scenario()
    return sc, deploy(sc)


@case("container-removed")
def _container_removed() -> tuple[Scenario, Obs]:
    sc = scenario()
    return sc, change_container(deploy(sc), "c-db", gone)


@case("container-stopped")
def _container_stopped() -> tuple[Scenario, Obs]:
    sc = scenario()
    return sc, change_container(deploy(sc), "c-web", stopped())


@case("container-disconnected")
def _container_disconnected() -> tuple[Scenario, Obs]:
    sc = scenario()
    return sc, change_container(deploy(sc), "c-web", drop_endpoint("demo-dmz"))


@case("address-changed")
def _address_changed() -> tuple[Scenario, Obs]:
    sc = scenario()
    return sc, change_container(deploy(sc), "c-web", change_endpoint(
        "demo-lan", ipv4="10.10.0.99", requested_ipv4="10.10.0.99"))


@case("network-removed")
def _network_removed() -> tuple[Scenario, Obs]:
    sc = scenario()
    obs = change_container(deploy(sc), "c-web", drop_endpoint("demo-lan"))
    obs = change_container(obs, "c-db", drop_endpoint("demo-lan"))
    return sc, remove_network(obs, "n-lan")


@case("network-removed-stopped-container")
def _network_removed_stopped() -> tuple[Scenario, Obs]:
    """Docker removes a network with a stopped container on it; the container keeps an
    endpoint on a network that no longer exists and cannot start: the plan replaces it."""
    sc = scenario()
    obs = change_container(deploy(sc), "c-web", drop_endpoint("demo-lan"))
    obs = change_container(obs, "c-db", stopped())  # keeps its demo-lan endpoint
    return sc, remove_network(obs, "n-lan")


@case("edit-command")
def _edit_command() -> tuple[Scenario, Obs]:
    return _from_base(edited("    command: sleep infinity\n    volumes",
                             "    command: sleep 3600\n    volumes"))


@case("edit-several-fields")
def _edit_fields() -> tuple[Scenario, Obs]:
    return _from_base(edited("    image: alpine\n    command: sleep infinity\n",
                             "    image: alpine:3.20\n    command: sleep 3600\n"
                             "    env: {MODE: test}\n"))


@case("edit-add-container")
def _edit_add() -> tuple[Scenario, Obs]:
    return _from_base(BASE + "  cache:\n    image: busybox\n"
                             "    networks: {lan: {ipv4: 10.10.0.30}}\n")


@case("edit-remove-container")
def _edit_remove() -> tuple[Scenario, Obs]:
    return _from_base(edited("  client:\n    image: busybox\n    networks: [dmz]\n", ""))


@case("edit-subnet")
def _edit_subnet() -> tuple[Scenario, Obs]:
    text = edited("lan: {subnet: 10.10.0.0/24}", "lan: {subnet: 10.30.0.0/24}")
    text = edited("lan: {ipv4: 10.10.0.10}", "lan: {ipv4: 10.30.0.10}", text)
    return _from_base(edited("lan: {ipv4: 10.10.0.20}", "lan: {ipv4: 10.30.0.20}", text))


@case("edit-remove-network")
def _edit_remove_network() -> tuple[Scenario, Obs]:
    text = edited("  dmz: {subnet: 10.20.0.0/24}\n", "")
    text = edited(", dmz: {ipv4: 10.20.0.10}", "", text)
    return _from_base(edited("networks: [dmz]", "networks: [lan]", text))


@case("edit-rename-network")
def _edit_rename_network() -> tuple[Scenario, Obs]:
    """Same key, new Docker name, same subnet: the old one must go before the new one."""
    return _from_base(edited("lan: {subnet: 10.10.0.0/24}",
                             "lan: {subnet: 10.10.0.0/24, name: office}"))


@case("edit-rename-container")
def _edit_rename_container() -> tuple[Scenario, Obs]:
    return _from_base(edited("  client:\n    image: busybox\n",
                             "  client:\n    image: busybox\n    name: cli\n"))


@case("edit-static-address")
def _edit_static() -> tuple[Scenario, Obs]:
    return _from_base(edited("networks: [dmz]", "networks: {dmz: {ipv4: 10.20.0.50}}"))


@case("edit-dynamic-address")
def _edit_dynamic() -> tuple[Scenario, Obs]:
    return _from_base(edited("dmz: {ipv4: 10.20.0.10}", "dmz: {}"))


@case("edit-second-network")
def _edit_second_network() -> tuple[Scenario, Obs]:
    return _from_base(edited("networks: [dmz]", "networks: [dmz, lan]"))


@case("phases")
def _phases() -> tuple[Scenario, Obs]:
    """Removals and creations at once: client and dmz go, mon and mgmt come, db is not
    running, mon's image is new."""
    text = edited("  dmz: {subnet: 10.20.0.0/24}\n", "  mgmt: {subnet: 10.40.0.0/24}\n")
    text = edited(", dmz: {ipv4: 10.20.0.10}", ", mgmt: {ipv4: 10.40.0.10}", text)
    text = edited("  client:\n    image: busybox\n    networks: [dmz]\n",
                  "  mon:\n    image: alpine:3.20\n    networks: [mgmt]\n", text)
    return scenario(text), change_container(deploy(scenario()), "c-db", stopped("created"))


# The default bridge: a container declaring neither `networks` nor `network_mode` is on
# Docker's default bridge "as docker run does" (schema: containers.*.networks).
SOLO = BASE + "  solo:\n    image: busybox\n"
SOLO_ON_LAN = BASE + "  solo:\n    image: busybox\n    networks: [lan]\n"


@case("edit-default-bridge-to-network")
def _bridge_to_lan() -> tuple[Scenario, Obs]:
    return scenario(SOLO_ON_LAN), deploy(scenario(SOLO))


@case("edit-network-to-default-bridge")
def _lan_to_bridge() -> tuple[Scenario, Obs]:
    return scenario(SOLO), deploy(scenario(SOLO_ON_LAN))


@case("default-bridge-disconnected")
def _bridge_disconnected() -> tuple[Scenario, Obs]:
    """`docker network disconnect bridge demo-solo`, out of band."""
    return scenario(SOLO), change_container(deploy(scenario(SOLO)), "c-solo",
                                            drop_endpoint("bridge"))


# --- 1. empty engine ---------------------------------------------------------------------

def test_empty_engine_creates_everything_and_pulls_missing_images() -> None:
    sc, obs = _empty()
    plan = plan_for(sc, obs)
    assert_golden("empty-engine", plan)
    assert rows(plan) == [
        ("pull-image", "alpine", None, None),
        ("pull-image", "busybox", None, None),
        ("create-volume", "dbdata", None, None),
        ("create-network", "demo-lan", None, None),
        ("create-network", "demo-dmz", None, None),
        ("create-container", "demo-web", None, None),
        ("create-container", "demo-db", None, None),
        ("create-container", "demo-client", None, None),
    ]
    assert plan.up_to_date_hosts == ()
    specs = {c.name: c for c in desired_state(sc, INSTANCE)["local"].containers}
    assert all(op.container == specs[op.name]
               for op in plan.ops if op.action == "create-container")


def test_images_present_are_not_pulled() -> None:
    sc, obs = _empty()
    obs["local"] = dataclasses.replace(obs["local"], images=frozenset({"busybox"}))
    plan = plan_for(sc, obs)
    assert [op.name for op in plan.ops if op.action == "pull-image"] == ["alpine"]


# --- 2. fully up -------------------------------------------------------------------------

def test_fully_up_is_an_empty_plan() -> None:
    sc, obs = _up()
    plan = plan_for(sc, obs)
    assert plan.ops == ()
    assert plan.empty and plan.up_to_date_hosts == ("local",)
    assert plan.text() == "lab demo is up to date: nothing to do\n"
    assert_golden("up-to-date", plan)


def test_dynamic_address_differing_from_request_is_not_drift() -> None:
    """client has no static address: its live address is the engine's choice."""
    sc, obs = _up()
    obs = change_container(obs, "c-client", change_endpoint("demo-dmz", ipv4="10.20.0.77"))
    assert plan_for(sc, obs).empty


def test_foreign_connection_to_a_builtin_network_is_left_alone() -> None:
    """Someone ran `docker network connect bridge demo-web`: not the lab's business."""
    sc, obs = _up()
    obs = change_container(obs, "c-web", lambda c: dataclasses.replace(c, endpoints=(
        *c.endpoints, LiveEndpoint("n-bridge", "bridge", "172.17.0.9", None, None, None, None,
                                   ()))))
    assert plan_for(sc, obs).empty


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_seed_scenario_deployed_is_up_to_date(path: Path) -> None:
    sc = load(str(path)).scenario
    plan = plan_for(sc, deploy(sc))
    assert plan.empty, plan.text()
    assert plan.up_to_date_hosts == tuple(h.key for h in sc.hosts)


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_seed_scenario_converges_from_an_empty_engine(path: Path) -> None:
    sc = load(str(path)).scenario
    assert_converges(sc, empty_engine(sc))


# --- 3. a container removed out of band --------------------------------------------------

def test_removed_container_is_created_alone() -> None:
    plan = plan_for(*_container_removed())
    assert_golden("container-removed", plan)
    assert rows(plan) == [("create-container", "demo-db", None, None)]
    never_touches_foreign(plan)


# --- 4. a container stopped --------------------------------------------------------------

def test_stopped_container_is_started() -> None:
    plan = plan_for(*_container_stopped())
    assert_golden("container-stopped", plan)
    assert rows(plan) == [("start-container", "demo-web", "c-web", None)]
    assert plan.ops[0].cause == "not running (exited)"


# --- 5. a container disconnected ---------------------------------------------------------

def test_disconnected_container_is_connected_only() -> None:
    plan = plan_for(*_container_disconnected())
    assert_golden("container-disconnected", plan)
    assert rows(plan) == [("connect", "demo-web", "c-web", "demo-dmz@10.20.0.10")]
    assert plan.ops[0].cause == "not connected to dmz"


# --- 6. a changed address ----------------------------------------------------------------

def test_changed_address_reconnects_with_drift_cause() -> None:
    plan = plan_for(*_address_changed())
    assert_golden("address-changed", plan)
    assert rows(plan) == [
        ("disconnect", "demo-web", "c-web", "demo-lan"),
        ("connect", "demo-web", "c-web", "demo-lan@10.10.0.10"),
    ]
    assert {op.cause for op in plan.ops} == {"config drift: ipv4 of web on lan"}


# --- 7. a network removed out of band ----------------------------------------------------

def test_removed_network_is_created_and_its_containers_connected() -> None:
    plan = plan_for(*_network_removed())
    assert_golden("network-removed", plan)
    assert rows(plan) == [
        ("create-network", "demo-lan", None, None),
        ("connect", "demo-web", "c-web", "demo-lan@10.10.0.10"),
        ("connect", "demo-db", "c-db", "demo-lan@10.10.0.20"),
    ]


def test_stopped_container_on_removed_network_is_recreated() -> None:
    plan = plan_for(*_network_removed_stopped())
    assert_golden("network-removed-stopped-container", plan)
    assert rows(plan) == [
        ("create-network", "demo-lan", None, None),
        ("connect", "demo-web", "c-web", "demo-lan@10.10.0.10"),
        ("remove-container", "demo-db", "c-db", None),
        ("create-container", "demo-db", None, None),
    ]
    recreate = [op for op in plan.ops if op.name == "demo-db"]
    assert {op.cause for op in recreate} == {"network demo-lan it was on was removed"}
    assert {op.display for op in recreate} == {
        "recreate container demo-db [local]: network demo-lan it was on was removed"}


# --- 8. file edits -----------------------------------------------------------------------

def test_edit_command_recreates_that_container_only() -> None:
    plan = plan_for(*_edit_command())
    assert_golden("edit-command", plan)
    assert rows(plan) == [
        ("remove-container", "demo-db", "c-db", None),
        ("create-container", "demo-db", None, None),
    ]
    assert plan.text().count("demo-db") == 1  # the pair is one "recreate" line


def test_edit_several_fields_names_them_all() -> None:
    plan = plan_for(*_edit_fields())
    assert_golden("edit-several-fields", plan)
    assert {op.cause for op in plan.ops if op.name == "demo-db"} == {
        "config drift: command, env, image"}
    assert [op.name for op in plan.ops if op.action == "pull-image"] == ["alpine:3.20"]


def test_edit_add_container_creates_it() -> None:
    plan = plan_for(*_edit_add())
    assert_golden("edit-add-container", plan)
    assert rows(plan) == [("create-container", "demo-cache", None, None)]


def test_edit_remove_container_removes_it() -> None:
    plan = plan_for(*_edit_remove())
    assert_golden("edit-remove-container", plan)
    assert rows(plan) == [("remove-container", "demo-client", "c-client", None)]
    assert plan.ops[0].cause == "not in scenario"
    never_touches_foreign(plan)


def test_edit_subnet_recreates_network_and_reconnects_its_containers() -> None:
    plan = plan_for(*_edit_subnet())
    assert_golden("edit-subnet", plan)
    assert rows(plan) == [
        ("remove-network", "demo-lan", "n-lan", None),
        ("create-network", "demo-lan", None, None),
        ("disconnect", "demo-web", "c-web", "demo-lan"),
        ("connect", "demo-web", "c-web", "demo-lan@10.30.0.10"),
        ("disconnect", "demo-db", "c-db", "demo-lan"),
        ("connect", "demo-db", "c-db", "demo-lan@10.30.0.20"),
    ]
    net_ops = [op for op in plan.ops if op.action.endswith("-network")]
    assert {op.display for op in net_ops} == {
        "recreate network demo-lan [local]: config drift: subnet"}


def test_edit_remove_network_disconnects_and_removes_it() -> None:
    plan = plan_for(*_edit_remove_network())
    assert_golden("edit-remove-network", plan)
    assert rows(plan) == [
        ("remove-network", "demo-dmz", "n-dmz", None),
        ("disconnect", "demo-web", "c-web", "demo-dmz"),
        ("connect", "demo-client", "c-client", "demo-lan@dynamic"),
        ("disconnect", "demo-client", "c-client", "demo-dmz"),
    ]


def test_edit_rename_network_replaces_it() -> None:
    plan = plan_for(*_edit_rename_network())
    assert_golden("edit-rename-network", plan)
    assert rows(plan) == [
        ("remove-network", "demo-lan", "n-lan", None),
        ("create-network", "office", None, None),
        ("connect", "demo-web", "c-web", "office@10.10.0.10"),
        ("disconnect", "demo-web", "c-web", "demo-lan"),
        ("connect", "demo-db", "c-db", "office@10.10.0.20"),
        ("disconnect", "demo-db", "c-db", "demo-lan"),
    ]


def test_edit_rename_container_replaces_it() -> None:
    plan = plan_for(*_edit_rename_container())
    assert_golden("edit-rename-container", plan)
    assert rows(plan) == [
        ("remove-container", "demo-client", "c-client", None),
        ("create-container", "cli", None, None),
    ]


@pytest.mark.parametrize(("name", "net"), [("edit-static-address", "demo-dmz@10.20.0.50"),
                                           ("edit-dynamic-address", "demo-dmz@dynamic")])
def test_edit_address_reconnects(name: str, net: str) -> None:
    plan = plan_for(*CASES[name]())
    assert_golden(name, plan)
    who = "demo-client" if "static" in name else "demo-web"
    assert rows(plan) == [("disconnect", who, f"c-{who[5:]}", "demo-dmz"),
                          ("connect", who, f"c-{who[5:]}", net)]


# --- 9. a container added to a second network --------------------------------------------

def test_edit_second_network_connects_without_recreate() -> None:
    plan = plan_for(*_edit_second_network())
    assert_golden("edit-second-network", plan)
    assert rows(plan) == [("connect", "demo-client", "c-client", "demo-lan@dynamic")]
    assert plan.ops[0].cause == "not connected to lan"


# --- the default bridge ------------------------------------------------------------------

def _endpoints_after(name: str, container: str) -> list[str]:
    sc, before = CASES[name]()
    after = simulate(plan_for(sc, before), before)["local"]
    live = after.container_named(container)
    assert live is not None
    return sorted(e.network_name for e in live.endpoints)


def test_edit_default_bridge_container_to_a_network_leaves_the_default_bridge() -> None:
    """`networks: [lan]` added to a container that had none: a fresh `up` creates it on
    demo-lan only; the edited lab must end up the same, not on demo-lan and docker0."""
    assert _endpoints_after("edit-default-bridge-to-network", "demo-solo") == ["demo-lan"]


def test_edit_networks_removed_puts_container_on_the_default_bridge() -> None:
    """`networks:` removed: the container belongs on the default bridge, as a fresh `up`
    creates it, not on no network at all."""
    assert _endpoints_after("edit-network-to-default-bridge", "demo-solo") == ["bridge"]


def test_default_bridge_container_disconnected_out_of_band_is_reconnected() -> None:
    """As case 5 for a scenario network: the default bridge is where the file puts it."""
    assert _endpoints_after("default-bridge-disconnected", "demo-solo") == ["bridge"]


# --- every case converges ----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CASES))
def test_case_converges(name: str) -> None:
    sc, before = CASES[name]()
    plan = plan_for(sc, before)
    never_touches_foreign(plan)
    assert_converges(sc, before)


# Out-of-band changes an engine allows, each a no-op where it no longer applies.
def _drifts() -> dict[str, Callable[[Obs], Obs]]:
    def on(cid: str, fn: Callable[[LiveContainer], LiveContainer | None]) -> Callable[[Obs], Obs]:
        def drift(obs: Obs) -> Obs:
            live = next((c for c in obs["local"].containers if c.id == cid), None)
            if live is None or (fn is not gone and fn(live) == live):
                return obs
            return change_container(obs, cid, fn)
        return drift

    def without(network_name: str) -> Callable[[LiveContainer], LiveContainer]:
        def fn(c: LiveContainer) -> LiveContainer:
            return dataclasses.replace(c, endpoints=tuple(
                e for e in c.endpoints if e.network_name != network_name))
        return fn

    def rm_net(nid: str) -> Callable[[Obs], Obs]:
        def drift(obs: Obs) -> Obs:
            net = next((n for n in obs["local"].networks if n.id == nid), None)
            if net is None:
                return obs
            for c in obs["local"].containers:  # the engine wants running ones off it first
                if c.state == "running" and c.endpoint(net.name) is not None:
                    obs = change_container(obs, c.id, without(net.name))
            return remove_network(obs, nid)
        return drift

    def readdress(c: LiveContainer) -> LiveContainer:
        return dataclasses.replace(c, endpoints=tuple(
            dataclasses.replace(e, requested_ipv4="10.10.0.99") if e.network_name == "demo-lan"
            else e for e in c.endpoints))

    drifts: dict[str, Callable[[Obs], Obs]] = {}
    for key in ("web", "db", "client"):
        drifts[f"remove {key}"] = on(f"c-{key}", gone)
        drifts[f"stop {key}"] = on(f"c-{key}", stopped())
    for key, net in (("web", "lan"), ("web", "dmz"), ("db", "lan"), ("client", "dmz")):
        drifts[f"disconnect {key} from {net}"] = on(f"c-{key}", without(f"demo-{net}"))
    drifts["readdress web on lan"] = on("c-web", readdress)
    drifts["remove network lan"] = rm_net("n-lan")
    drifts["remove network dmz"] = rm_net("n-dmz")
    return drifts


@pytest.mark.parametrize("start", ["up-to-date", "edit-subnet", "edit-remove-network",
                                   "edit-rename-network", "edit-second-network", "phases"])
def test_every_pair_of_out_of_band_changes_converges(start: str) -> None:
    drifts = _drifts()
    failures = []
    for pair in itertools.combinations_with_replacement(sorted(drifts), 2):
        for order in {pair, pair[::-1]}:
            sc, obs = CASES[start]()
            for name in order:
                obs = drifts[name](obs)
            try:
                assert_converges(sc, obs)
            except AssertionError as exc:
                failures.append(f"{' then '.join(order)}: {exc}")
    assert not failures, "\n\n".join(failures[:5]) + f"\n({len(failures)} failing)"


# --- 10. teardown ------------------------------------------------------------------------

def _teardown_state() -> list[HostObserved]:
    """demo on two hosts, beside another lab's objects and unlabelled ones."""
    local = deploy(scenario())["local"]
    edge_labels = ((labels.SCENARIO, "demo"), (labels.INSTANCE, INSTANCE), (labels.KEY, "probe"),
                   (labels.KIND, "helper"))
    edge = HostObserved(
        "edge", "1.45", "27.3.1",
        (LiveContainer("c-probe", "demo-probe", "busybox", "exited", edge_labels, "bridge", ()),
         LiveContainer("c-stray", "demo-stray", "busybox", "running", (), "bridge", ())),
        default_networks(),
        (LiveVolume("dbdata", ()),))  # demo's volume name on local, but not labelled here
    return [local, edge]


def test_teardown_removes_only_this_scenarios_objects() -> None:
    plan = teardown(DEMO, _teardown_state())
    assert_golden("teardown", plan)
    assert rows(plan) == [
        ("remove-container", "demo-web", "c-web", None),
        ("remove-container", "demo-db", "c-db", None),
        ("remove-container", "demo-client", "c-client", None),
        ("remove-network", "demo-lan", "n-lan", None),
        ("remove-network", "demo-dmz", "n-dmz", None),
        ("remove-container", "demo-probe", "c-probe", None),
    ]
    assert [op.host for op in plan.ops] == ["local"] * 5 + ["edge"]
    never_touches_foreign(plan)


def test_teardown_with_volumes_removes_labelled_volumes() -> None:
    plan = teardown(DEMO, _teardown_state(), volumes=True)
    assert_golden("teardown-volumes", plan)
    assert [(op.action, op.host, op.name) for op in plan.ops if op.action == "remove-volume"] == [
        ("remove-volume", "local", "dbdata")]
    assert len(plan.ops) == 7
    assert plan.phases()[-1][0] == Phase.CLEANUP


def test_teardown_leaves_nothing_of_the_lab_and_everything_else() -> None:
    before = {o.host: o for o in _teardown_state()}
    after = simulate(teardown(DEMO, before.values(), volumes=True), before)
    assert_same(shape(after, DEMO, owned=True), set())
    for host in before:
        assert [v.name for v in after[host].volumes
                if DEMO.owns(dict(v.labels))] == []
    assert_same(shape(after, DEMO, owned=False), shape(before, DEMO, owned=False))
    # another lab's volume, and those of another copy of demo or with no instance label
    assert [v.name for v in after["local"].volumes] == ["otherdata", "sparedata", "spoofdata"]
    assert [v.name for v in after["edge"].volumes] == ["dbdata"]


def test_teardown_of_absent_lab_is_empty() -> None:
    plan = teardown(labels.Owner("nosuchlab", INSTANCE), _teardown_state(), volumes=True)
    assert plan.ops == ()
    assert plan.text() == "lab nosuchlab is up to date: nothing to do\n"


# --- 11. phases --------------------------------------------------------------------------

def test_phases_order_removals_before_creations() -> None:
    plan = plan_for(*_phases())
    assert_golden("phases", plan)
    got = [(phase, [(op.action, op.name) for op in ops]) for phase, ops in plan.phases()]
    assert got == [
        (Phase.PREPARE, [("pull-image", "alpine:3.20")]),
        (Phase.REMOVE_CONTAINERS, [("disconnect", "demo-web"),
                                   ("remove-container", "demo-client")]),
        (Phase.REMOVE_NETWORKS, [("remove-network", "demo-dmz")]),
        (Phase.CREATE_NETWORKS, [("create-network", "demo-mgmt")]),
        (Phase.CONTAINERS, [("connect", "demo-web"), ("start-container", "demo-db"),
                            ("create-container", "demo-mon")]),
    ]
    order = [op.action for _, ops in plan.phases() for op in ops]
    assert (order.index("remove-container") < order.index("remove-network")
            < order.index("create-network") < order.index("create-container"))


def test_plan_text_does_not_depend_on_op_order() -> None:
    sc, obs = _edit_second_network()
    plan = plan_for(sc, change_container(obs, "c-web", stopped()))
    assert len(plan.ops) == 2
    assert dataclasses.replace(plan, ops=tuple(reversed(plan.ops))).text() == plan.text()


def test_op_describe_forms() -> None:
    a = desired_state(scenario(), INSTANCE)["local"].containers[0].attachments[0]
    assert Op("connect", "h", "demo-web", "why", attachment=a).describe() == (
        "connect demo-web to demo-lan [h]: why")
    assert Op("disconnect", "h", "demo-web", "why", network_name="demo-lan").describe() == (
        "disconnect demo-web from demo-lan [h]: why")
    assert Op("remove-volume", "h", "dbdata", "why").describe() == "remove volume dbdata [h]: why"


def test_a_stopped_container_on_a_recreated_network_is_recreated() -> None:
    import dataclasses

    from dnetlab.load.pipeline import load_source
    from dnetlab.load.source import Source
    from dnetlab.reconcile.desired import desired_state
    from dnetlab.reconcile.plan import reconcile

    text = ("version: 1\nname: lab\nnetworks:\n  lan: {subnet: 10.12.0.0/24}\n"
            "containers:\n  a: {image: busybox, networks: [lan]}\n"
            "  b: {image: busybox, networks: [lan]}\n")
    live = deploy(load_source(Source("s.yaml", text)).scenario)
    edited = load_source(Source("s.yaml", text.replace("10.12.0.0/24", "10.13.0.0/24"))).scenario
    o = live["local"]
    stopped = tuple(dataclasses.replace(c, state="created") if c.name == "lab-a" else c
                    for c in o.containers)
    live["local"] = dataclasses.replace(o, containers=stopped)
    lines = reconcile(labels.Owner("lab", INSTANCE), desired_state(edited, INSTANCE),
                      live).text().splitlines()
    assert ("recreate container lab-a [local]: network lan is recreated and the container is "
            "not running") in lines
    assert "connect lab-b to lab-lan [local]: network lan is recreated" in lines
