"""The lab's swarm: leader, addresses, and what counts as a conflict (pure)."""

from __future__ import annotations

from dataclasses import replace

from dnetlab import labels
from dnetlab.model import Host
from dnetlab.reconcile.observed import (
    HostObserved,
    LiveContainer,
    LiveEndpoint,
    LiveNetwork,
    SwarmInfo,
)
from dnetlab.reconcile.plan import Phase, swarm_ops, teardown
from dnetlab.reconcile.swarm import advertise_addr, conflicts, gossip_problems, leader

LAB = labels.Owner("lab", "5eed5eed5eed")  # this copy of the lab
OTHER_COPY = labels.Owner("lab", "0f0f0f0f0f0f")  # another working directory's copy

HOSTS = (
    Host("m", "ssh://root@10.99.0.1", "manager"),
    Host("w1", "ssh://root@10.99.0.2", "worker"),
    Host("w2", "tcp://10.99.0.3:2375", "worker", advertise_addr="10.99.0.33"),
    Host("solo", "ssh://root@lab-host", None),
)


def obs(host: str, **swarm: object) -> HostObserved:
    return HostObserved(host, "1.41", "20.10", (), (), swarm=SwarmInfo(**swarm))  # type: ignore[arg-type]


def fresh() -> dict[str, HostObserved]:
    drivers = ("bridge", "overlay", "macvlan")
    return {h.key: obs(h.key, network_drivers=drivers) for h in HOSTS}


def ours_up(cluster_labels: tuple[tuple[str, str], ...] = (
        (labels.SWARM, "lab"), (labels.INSTANCE, LAB.instance or ""))) -> dict[str, HostObserved]:
    o = fresh()
    o["m"] = obs("m", state="active", is_manager=True, cluster_id="C1", node_addr="10.99.0.1",
                 labels=cluster_labels, network_drivers=("overlay",))
    for w in ("w1", "w2"):
        o[w] = obs(w, state="active", manager_addrs=("10.99.0.1:2377",))
    return o


def test_leader_and_addresses() -> None:
    assert leader(HOSTS) is HOSTS[0]
    assert advertise_addr(HOSTS[0]) == "10.99.0.1"  # from the ssh URL
    assert advertise_addr(HOSTS[2]) == "10.99.0.33"  # declared wins
    assert advertise_addr(HOSTS[3]) is None  # a name, not an address
    assert leader(HOSTS[3:]) is None


def test_fresh_hosts_get_init_then_joins() -> None:
    assert conflicts(LAB, HOSTS, fresh()) == []
    ops = swarm_ops(LAB, HOSTS, fresh())
    assert [(o.action, o.host, o.swarm_role, o.advertise) for o in ops] == [
        ("init-swarm", "m", "manager", "10.99.0.1"),
        ("join-swarm", "w1", "worker", "10.99.0.2"),
        ("join-swarm", "w2", "worker", "10.99.0.33"),
    ]
    assert [int(o.phase) for o in ops] == [-2, -1, -1]
    assert ops[0].key == "lab"  # the swarm is labelled with the lab's name, and instance
    assert dict(ops[0].swarm_labels) == {labels.SWARM: "lab", labels.INSTANCE: "5eed5eed5eed"}


def test_the_labs_own_swarm_is_left_alone() -> None:
    assert conflicts(LAB, HOSTS, ours_up()) == []
    assert swarm_ops(LAB, HOSTS, ours_up()) == []


def test_a_swarm_that_was_there_before_is_a_conflict_and_never_dissolved() -> None:
    o = ours_up()
    o["m"] = obs("m", state="active", is_manager=True, cluster_id="C0", node_addr="10.99.0.1")
    problems = conflicts(LAB, HOSTS, o)
    assert problems and "host m is already in a swarm (cluster C0) that lab lab did not " \
                        "create" in problems[0]
    assert [op for op in teardown(LAB, o.values(), hosts=HOSTS).ops
            if op.action == "leave-swarm"] == []


def test_a_worker_in_another_swarm_is_a_conflict() -> None:
    o = ours_up()
    o["w2"] = obs("w2", state="active", manager_addrs=("10.50.0.9:2377",))
    assert conflicts(LAB, HOSTS, o) == [
        "host w2 is already in a swarm that is not lab lab's; dnetlab never changes a swarm "
        "that was there before: leave it (docker swarm leave) first"]


def test_down_dissolves_workers_first_then_the_manager() -> None:
    plan = teardown(LAB, ours_up().values(), hosts=HOSTS)
    leaves = [(int(o.phase), o.host, o.swarm_role) for o in plan.ops if o.action == "leave-swarm"]
    leave, dissolve = int(Phase.SWARM_LEAVE), int(Phase.SWARM_DISSOLVE)
    assert sorted(leaves) == [(leave, "w1", "worker"), (leave, "w2", "worker"),
                              (dissolve, "m", "manager")]


def test_an_engine_without_the_overlay_driver_is_refused() -> None:
    o = fresh()
    o["w1"] = obs("w1", network_drivers=("bridge", "host", "null"))
    assert conflicts(LAB, HOSTS, o) == [
        "host w1: its engine offers no overlay driver (it has bridge, host, null); overlays "
        "need VXLAN in the host's kernel"]



def _on_overlay(o: HostObserved, peers: tuple[str, ...] | None, state: str = "running",
                ) -> HostObserved:
    lab = tuple(LAB.labels().items())
    net = LiveNetwork("ovl-id", "lab-ovl", "overlay", "swarm", lab, ("10.203.0.0/24",), peers)
    ep = LiveEndpoint("ovl-id", "lab-ovl", "10.203.0.11", None, "10.203.0.11", None, None, ())
    ct = LiveContainer("c-id", "lab-b1", "busybox", state, lab, "lab-ovl", (ep,))
    return replace(o, containers=(ct,), networks=(net,))


def test_a_host_whose_swarm_gossip_never_started_is_named() -> None:
    """Docker 20.10: the overlay shows and the container is attached, but the engine lists
    no gossip peers for it, not even itself (an old swarm's gossip holds port 7946)."""
    o = ours_up()
    o["w1"] = _on_overlay(o["w1"], ())
    o["w2"] = _on_overlay(o["w2"], ("10.99.0.3", "10.99.0.1"))
    problems = gossip_problems(LAB, HOSTS, o)
    assert len(problems) == 1
    assert problems[0].startswith("host w1: its engine runs no swarm gossip: overlay network "
                                  "lab-ovl lists no peers there although lab-b1 is attached")
    assert "restart dockerd on that host" in problems[0]


def test_no_gossip_problem_without_a_running_container_or_peers_read() -> None:
    o = ours_up()
    o["w1"] = _on_overlay(o["w1"], (), state="exited")  # nothing attached that runs
    o["w2"] = _on_overlay(o["w2"], None)  # not read (a host in no swarm, say)
    assert gossip_problems(LAB, HOSTS, o) == []
    other_lab = labels.Owner("other-lab", "5eed5eed5eed")
    assert gossip_problems(other_lab, HOSTS, {**o, "w1": _on_overlay(o["w1"], ())}) == []


def test_another_copys_swarm_is_a_conflict_naming_it_and_never_dissolved() -> None:
    """The same lab's name on the swarm, another instance: another working directory's
    copy made it; neither its `up` nor `down` may touch it from here."""
    theirs = ours_up(((labels.SWARM, "lab"), (labels.INSTANCE, OTHER_COPY.instance or "")))
    problems = conflicts(LAB, HOSTS, theirs)
    assert problems[0] == (
        "host m is already in a swarm (cluster C1) that another copy of lab lab made (instance "
        "0f0f0f0f0f0f), brought up from another working directory or by another user; dnetlab "
        "never changes another instance's swarm: take that copy down where it was brought up")
    assert [op for op in teardown(LAB, theirs.values(), hosts=HOSTS).ops
            if op.action == "leave-swarm"] == []
    assert conflicts(OTHER_COPY, HOSTS, theirs) == []  # and the copy that made it owns it
    assert len([op for op in teardown(OTHER_COPY, theirs.values(), hosts=HOSTS).ops
                if op.action == "leave-swarm"]) == 3


def test_a_swarm_made_before_instances_belongs_to_the_lab_recorded_without_one() -> None:
    old = ours_up(((labels.SWARM, "lab"),))
    legacy = labels.Owner("lab", "")
    assert conflicts(legacy, HOSTS, old) == []
    assert len([op for op in teardown(legacy, old.values(), hosts=HOSTS).ops
                if op.action == "leave-swarm"]) == 3
    assert "no instance label" in conflicts(LAB, HOSTS, old)[0]
    assert swarm_ops(legacy, HOSTS, fresh())[0].swarm_labels == ((labels.SWARM, "lab"),)


def test_down_removes_an_overlay_once_though_several_managers_list_it() -> None:
    """Every manager lists the swarm's overlays; removed on one, it is gone on all (a
    second removal would fail with "not found"): the first manager removes it."""
    lab = tuple(LAB.labels().items())
    net = LiveNetwork("ovl-id", "lab-ovl", "overlay", "swarm", lab, ("10.203.0.0/24",))
    o = ours_up()
    o["m"] = replace(o["m"], networks=(net,))
    o["w1"] = replace(o["w1"], networks=(net,),
                      swarm=replace(o["w1"].swarm, is_manager=True, cluster_id="C1"))
    o["w2"] = replace(o["w2"], networks=(net,))  # a worker that used it shows it too
    plan = teardown(LAB, o.values(), hosts=HOSTS)
    assert [(op.host, op.name) for op in plan.ops if op.action == "remove-network"] == [
        ("m", "lab-ovl")]
