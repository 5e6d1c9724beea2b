"""The order of a plan's steps (dnetlab.lab.schedule) as the executor carries it out: a
container waits for its own networks only, a network's removal for its own containers
only; what is not known waits for the whole phase; a failure stops what needs it. Uses the
fake engine of test_plan and a runner that records, so no engine is touched."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from dnetlab.lab.apply import ApplyOptions, ApplyResult, apply
from dnetlab.lab.progress import reporter_for
from dnetlab.lab.schedule import schedule
from dnetlab.reconcile.plan import Op, Plan, teardown
from tests.unit.reconcile.test_plan import DEMO, deploy, empty_engine, plan_for, scenario

TWO_NETS = """
version: 1
name: demo
networks:
  a: {subnet: 10.231.1.0/24}
  b: {subnet: 10.231.2.0/24}
containers:
  a1: {image: busybox, networks: {a: {}}}
  a2: {image: busybox, networks: {a: {}}}
  b1: {image: busybox, networks: {b: {}}}
  b2: {image: busybox, networks: {b: {}}}
  ab: {image: busybox, networks: {a: {}, b: {}}}
"""

Runner = Callable[[Mapping[str, object], Op, ApplyOptions], None]


def _run(plan: Plan, runner: Runner, workers: int = 8) -> ApplyResult:
    return apply(plan, {}, reporter_for(quiet=True), options=ApplyOptions(workers=workers),
                 runner=runner)  # type: ignore[arg-type]


class Log:
    """What ran, in the order each op began and ended."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[str] = []

    def add(self, what: str) -> None:
        with self.lock:
            self.events.append(what)

    def index(self, what: str) -> int:
        return self.events.index(what)


def test_a_container_starts_once_its_own_networks_are_made_not_every_network() -> None:
    sc = scenario(TWO_NETS)
    plan = plan_for(sc, empty_engine(sc))
    log = Log()
    a_container_ran = threading.Event()

    def runner(engines: Mapping[str, object], op: Op, options: ApplyOptions) -> None:
        log.add(f"begin {op.action} {op.name}")
        if op.action == "create-network" and op.name == "demo-b":
            # network b is made only once a container of network a has run: the old
            # phase-wide wait would deadlock here (hence the timeout and the assert)
            assert a_container_ran.wait(10), "containers of a waited for network b"
        if op.action == "create-container" and op.name in ("demo-a1", "demo-a2"):
            a_container_ran.set()
        log.add(f"end {op.action} {op.name}")

    result = _run(plan, runner)
    assert result.ok and result.not_run == 0
    for c, nets in {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "ab": "ab"}.items():
        for n in nets:
            assert log.index(f"end create-network demo-{n}") < log.index(
                f"begin create-container demo-{c}"), (c, log.events)
    assert log.index("begin create-container demo-a1") < log.index(
        "end create-network demo-b")


def test_a_network_is_removed_once_its_own_containers_are_gone() -> None:
    sc = scenario(TWO_NETS)
    plan = teardown(DEMO, deploy(sc).values())
    log = Log()
    a_removed = threading.Event()

    def runner(engines: Mapping[str, object], op: Op, options: ApplyOptions) -> None:
        log.add(f"begin {op.action} {op.name}")
        if op.name in ("demo-b1", "demo-b2"):
            assert a_removed.wait(10), "network a waited for the containers of b"
        if op.action == "remove-network" and op.name == "demo-a":
            a_removed.set()
        log.add(f"end {op.action} {op.name}")

    result = _run(plan, runner)
    assert result.ok and result.not_run == 0
    for n, on in {"a": ("a1", "a2", "ab"), "b": ("b1", "b2", "ab")}.items():
        for c in on:
            assert log.index(f"end remove-container demo-{c}") < log.index(
                f"begin remove-network demo-{n}"), (n, c, log.events)


def test_removals_go_network_by_network() -> None:
    """The containers of one network are handed out together, so that it can go early."""
    sc = scenario(TWO_NETS)
    steps = schedule(teardown(DEMO, deploy(sc).values())).steps
    order = [s.ops[0].name for s in steps if s.ops[0].action == "remove-container"]
    assert order.index("demo-a1") < order.index("demo-b1")
    assert order.index("demo-a2") < order.index("demo-b1")
    assert order.index("demo-ab") < order.index("demo-b1")  # on a and b: with a


def test_unknown_networks_wait_for_the_whole_phase() -> None:
    """A removed container whose networks were not read may be on any network."""
    sc = scenario(TWO_NETS)
    plan = teardown(DEMO, deploy(sc).values())
    blind = Plan(plan.scenario, tuple(
        Op(o.action, o.host, o.name, o.cause, o.key, o.target_id, networks=None)
        if o.name == "demo-b1" else o for o in plan.ops))
    sched = schedule(blind)
    b1 = next(i for i, s in enumerate(sched.steps) if s.ops[0].name == "demo-b1")
    for s in sched.steps:
        if s.ops[0].action == "remove-network":
            assert b1 in s.needs, s.ops[0].name
    # a container only started (its networks not in the plan) waits for every network
    up = plan_for(scenario(TWO_NETS), empty_engine(scenario(TWO_NETS)))
    starts_only = Plan(up.scenario, tuple(
        Op("start-container", o.host, o.name, "stopped", o.key, "c-a1")
        if o.name == "demo-a1" else o for o in up.ops))
    sched = schedule(starts_only)
    made = [i for i, s in enumerate(sched.steps) if s.ops[0].action == "create-network"]
    a1 = next(s for s in sched.steps if s.ops[0].name == "demo-a1")
    assert sorted(a1.needs) == sorted(made)


def test_a_failed_network_stops_what_needs_it_and_its_host() -> None:
    sc = scenario(TWO_NETS)
    plan = plan_for(sc, empty_engine(sc))
    ran: list[str] = []
    lock = threading.Lock()

    def runner(engines: Mapping[str, object], op: Op, options: ApplyOptions) -> None:
        if op.action == "create-network" and op.name == "demo-b":
            raise RuntimeError("pool overlaps")
        with lock:
            ran.append(f"{op.action} {op.name}")

    result = _run(plan, runner, workers=1)  # one worker: b fails before a's containers
    assert not result.ok
    assert [s.error for s in result.failed] == ["RuntimeError: pool overlaps"]
    assert ran == ["pull-image busybox", "create-network demo-a"]  # nothing after b failed
    assert result.not_run == 5  # the five containers


def test_a_stop_ends_every_waiting_step_as_not_run() -> None:
    sc = scenario(TWO_NETS)
    plan = plan_for(sc, empty_engine(sc))
    stop = threading.Event()

    def runner(engines: Mapping[str, object], op: Op, options: ApplyOptions) -> None:
        stop.set()  # Ctrl-C during the first network's creation

    result = apply(plan, {}, reporter_for(quiet=True), options=ApplyOptions(workers=1),
                   stop=stop, runner=runner)  # type: ignore[arg-type]
    assert result.interrupted
    assert len(result.steps) + result.not_run == len(schedule(plan).steps)
    assert len(result.steps) <= 2  # what had started ends; nothing new starts
