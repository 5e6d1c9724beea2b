"""Links in the plan: linked containers are created and started in an earlier wave than
the containers that link them, and a container whose linked container is made again is
made again after it (Docker keeps a link to the removed container, which then cannot
start). Uses the fake engine of test_plan."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from dnetlab.lab.apply import ApplyOptions, apply
from dnetlab.lab.progress import reporter_for
from dnetlab.reconcile.plan import Op, Phase
from tests.unit.reconcile.test_plan import (
    change_container,
    deploy,
    empty_engine,
    gone,
    plan_for,
    scenario,
    stopped,
)

LINKS = """
version: 1
name: demo
containers:
  c1:
    image: busybox
    links: ["c2:web"]
    extra_hosts: {db.lab: 10.237.0.5}
  c2:
    image: busybox
    links: [c3]
  c3:
    image: busybox
  c4:
    image: busybox
"""


def _waves(ops: tuple[Op, ...]) -> dict[str, int]:
    return {op.name: op.wave for op in ops if op.phase == Phase.CONTAINERS}


def test_linked_containers_come_first() -> None:
    sc = scenario(LINKS)
    plan = plan_for(sc, empty_engine(sc))
    assert _waves(plan.ops) == {"demo-c1": 2, "demo-c2": 1, "demo-c3": 0, "demo-c4": 0}


def test_up_twice_is_a_no_op() -> None:
    sc = scenario(LINKS)
    assert plan_for(sc, deploy(sc)).empty


def test_a_recreated_target_recreates_its_linkers_in_order() -> None:
    sc = scenario(LINKS)
    edited = scenario(LINKS.replace("  c3:\n    image: busybox", "  c3:\n    image: alpine"))
    plan = plan_for(edited, deploy(sc))
    assert plan.text().splitlines() == [
        "pull image alpine [local]: missing on this host",
        "recreate container demo-c1 [local]: linked container c2 is recreated",
        "recreate container demo-c2 [local]: linked container c3 is recreated",
        "recreate container demo-c3 [local]: config drift: image",
        "4 changes to lab demo",
    ]
    assert _waves(plan.ops) == {"demo-c1": 2, "demo-c2": 1, "demo-c3": 0}


def test_a_missing_target_is_created_and_its_linker_made_again() -> None:
    sc = scenario(LINKS)
    obs = change_container(deploy(sc), "c-c3", gone)
    lines = plan_for(sc, obs).text().splitlines()
    assert "create container demo-c3 [local]: not found" in lines
    assert "recreate container demo-c2 [local]: linked container c3 is created" in lines


def test_a_stopped_target_is_started_before_its_stopped_linker() -> None:
    sc = scenario(LINKS)
    obs = change_container(change_container(deploy(sc), "c-c2", stopped()), "c-c1", stopped())
    plan = plan_for(sc, obs)
    assert [(op.action, op.name, op.wave) for op in plan.ops] == [
        ("start-container", "demo-c2", 1), ("start-container", "demo-c1", 2)]


def test_changed_links_and_extra_hosts_are_drift() -> None:
    sc = scenario(LINKS)
    for old, new, field in (('["c2:web"]', '["c2:www"]', "links"),
                            ("10.237.0.5", "10.237.0.6", "extra_hosts")):
        plan = plan_for(scenario(LINKS.replace(old, new)), deploy(sc))
        assert plan.text().splitlines() == [
            f"recreate container demo-c1 [local]: config drift: {field}",
            "1 change to lab demo"]


def test_apply_runs_a_later_wave_after_the_earlier_one_ends() -> None:
    sc = scenario(LINKS)
    plan = plan_for(sc, empty_engine(sc))
    done: list[str] = []
    lock = threading.Lock()

    def runner(engines: Mapping[str, object], op: Op, options: ApplyOptions) -> None:
        if op.action == "create-container":
            with lock:
                # everything of an earlier wave has finished
                earlier = {o.name for o in plan.ops if o.phase == Phase.CONTAINERS
                           and o.wave < op.wave}
                assert earlier <= set(done), (op.name, done)
                done.append(op.name)

    result = apply(plan, {}, reporter_for(quiet=True), options=ApplyOptions(workers=8),
                   runner=runner)  # type: ignore[arg-type]
    assert result.ok
    assert done.index("demo-c1") > done.index("demo-c2") > done.index("demo-c3")
