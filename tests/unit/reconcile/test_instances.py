"""Ownership per instance (spec section 10.5), on the pure plan: two copies of a lab on one
engine carry the same name label but not the same instance, and neither's plan ever
changes or removes the other's objects; a lab recorded before instances ("") owns the
objects without the label."""

from __future__ import annotations

import dataclasses

from dnetlab import labels
from dnetlab.reconcile.desired import desired_state
from dnetlab.reconcile.observed import HostObserved, LiveContainer
from dnetlab.reconcile.plan import reconcile, teardown
from tests.unit.reconcile.test_plan import (
    BASE,
    INSTANCE,
    assert_same,
    deploy,
    deploy_host,
    empty_engine,
    rows,
    scenario,
    shape,
    simulate,
)

MINE = labels.Owner("demo", INSTANCE)
THEIRS = labels.Owner("demo", "0123456789ab")  # the same lab name, another working directory

# Another file that also names its lab `demo` (a teammate's, say): other keys, other subnets.
OTHER_FILE = """
version: 1
name: demo
networks:
  back: {subnet: 10.30.0.0/24}
containers:
  cache: {image: busybox, command: sleep infinity, networks: {back: {ipv4: 10.30.0.5}}}
"""


def _together() -> dict[str, HostObserved]:
    """Both copies up on one engine: this one (BASE, beside the usual foreign objects) and
    the other file's."""
    mine = deploy(scenario())["local"]
    theirs = deploy_host(desired_state(scenario(OTHER_FILE), THEIRS.instance or "")["local"],
                         with_foreign=False)
    have = {n.id for n in mine.networks}  # both list the engine's default networks
    return {"local": dataclasses.replace(
        mine, containers=mine.containers + theirs.containers,
        networks=mine.networks + tuple(n for n in theirs.networks if n.id not in have),
        volumes=mine.volumes + theirs.volumes)}


def test_owner_matches_its_instance_only() -> None:
    obj = {labels.SCENARIO: "demo", labels.INSTANCE: INSTANCE}
    old = {labels.SCENARIO: "demo"}
    assert MINE.owns(obj) and not MINE.owns(old) and not THEIRS.owns(obj)
    assert THEIRS.other_instance(obj) and MINE.other_instance(old)
    assert not MINE.other_instance({labels.SCENARIO: "other", labels.INSTANCE: "ab"})
    legacy = labels.Owner("demo", "")
    assert legacy.owns(old) and not legacy.owns(obj) and legacy.other_instance(obj)
    anyone = labels.Owner("demo", None)
    assert anyone.owns(obj) and anyone.owns(old) and not anyone.owns({labels.SCENARIO: "x"})
    assert MINE.labels() == {labels.SCENARIO: "demo", labels.INSTANCE: INSTANCE}
    assert legacy.labels() == {labels.SCENARIO: "demo"}  # as the older dnetlab labelled


def test_every_object_carries_the_instance_and_it_is_no_drift() -> None:
    mine = desired_state(scenario(), INSTANCE)["local"]
    other = desired_state(scenario(), "0123456789ab")["local"]
    for spec in (*mine.networks, *mine.containers, *mine.volumes):
        assert dict(spec.labels)[labels.INSTANCE] == INSTANCE, spec.name
    # the hash says what an object should be, not whose it is
    assert [c.config_hash for c in mine.containers] == [c.config_hash for c in other.containers]
    assert [n.config_hash for n in mine.networks] == [n.config_hash for n in other.networks]
    old = desired_state(scenario(), "")["local"]
    assert all(labels.INSTANCE not in dict(s.labels)
               for s in (*old.networks, *old.containers, *old.volumes))


def test_two_copies_on_one_engine_plan_nothing_for_each_other() -> None:
    both = _together()
    assert reconcile(MINE, desired_state(scenario(), INSTANCE), both).empty
    theirs_sc = scenario(OTHER_FILE)
    assert reconcile(THEIRS, desired_state(theirs_sc, THEIRS.instance or ""), both).empty


def test_a_new_copy_of_another_file_with_the_lab_name_only_creates() -> None:
    """`up`/`plan` of the other file in another directory (a new instance) while this copy
    runs: before instances, it planned `remove container demo-web: not in scenario`."""
    plan = reconcile(THEIRS, desired_state(scenario(OTHER_FILE), THEIRS.instance or ""),
                     deploy(scenario()))
    assert {op.action for op in plan.ops} == {"create-network", "create-container"}
    assert plan.text().splitlines() == [
        "create network demo-back [local]: not found",
        "create container demo-cache [local]: not found",
        "2 changes to lab demo",
    ]


def test_a_spoofed_container_under_a_wanted_key_is_not_ours() -> None:
    """A container labelled `dnetlab.scenario=demo`, `dnetlab.key=web` by hand (no instance)
    under another name: once a "duplicate or renamed" removal, now nothing."""
    live = deploy(scenario())
    o = live["local"]
    spoof = LiveContainer("c-spoof", "demo-web-old", "busybox", "running",
                          ((labels.SCENARIO, "demo"), (labels.KEY, "web")), "bridge", ())
    live["local"] = dataclasses.replace(o, containers=(*o.containers, spoof))
    assert reconcile(MINE, desired_state(scenario(), INSTANCE), live).empty
    assert all(op.target_id != "c-spoof" for op in teardown(MINE, live.values()).ops)


def test_teardown_of_one_copy_leaves_the_other_whole() -> None:
    both = _together()
    after = simulate(teardown(MINE, both.values(), volumes=True), both)
    assert_same(shape(after, MINE, owned=True), set())
    assert_same(shape(after, THEIRS, owned=True), shape(both, THEIRS, owned=True))
    assert_same(shape(after, MINE, owned=False), shape(both, MINE, owned=False))


def test_teardown_of_any_instance_names_each_objects_instance() -> None:
    """`down FILE` with no record here: every object of the lab's name, each shown with
    whose it is, for the user to confirm."""
    both = _together()
    plan = teardown(labels.Owner("demo", None), both.values(), volumes=True)
    lines = plan.text().splitlines()
    assert "remove container demo-cache [local]: down, instance 0123456789ab" in lines
    assert f"remove container demo-web [local]: down, instance {INSTANCE}" in lines
    assert f"remove volume dbdata [local]: down (--volumes), instance {INSTANCE}" in lines
    # the foreign set holds a container labelled demo without an instance
    assert ("remove container demo-spoof [local]: down, no instance label (made by a dnetlab "
            "older than instances, or by hand)") in lines
    assert not [r for r in rows(plan) if r[1] in ("portainer", "other-web", "other-lan")]


def test_a_lab_recorded_before_instances_still_converges_and_goes_down() -> None:
    legacy = labels.Owner("demo", "")
    old_lab = desired_state(scenario(), "")
    live = {h: deploy_host(d) for h, d in old_lab.items()}
    # The foreign set's spoof (labelled demo, no instance) looks exactly like an object of
    # a lab an older dnetlab brought up: that lab cannot tell them apart, as before
    # instances. A copy that carries an instance is never the old lab's.
    assert rows(reconcile(legacy, old_lab, live)) == [
        ("remove-container", "demo-spoof", "c-demo-spoof", None)]
    after = simulate(teardown(legacy, live.values(), volumes=True), live)
    assert_same(shape(after, legacy, owned=True), set())
    names = {c.name for c in after["local"].containers}
    assert "demo-spare" in names and "demo-web" not in names
    assert [v.name for v in after["local"].volumes] == ["otherdata", "sparedata"]


def test_empty_engine_plan_is_the_same_for_any_instance() -> None:
    sc = scenario(BASE)
    a = reconcile(MINE, desired_state(sc, INSTANCE), empty_engine(sc)).text()
    b = reconcile(THEIRS, desired_state(sc, THEIRS.instance or ""), empty_engine(sc)).text()
    assert a == b
