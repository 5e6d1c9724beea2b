"""Carry out a plan: each step once the steps it waits for have ended (lab.schedule),
in parallel.

The executor decides nothing. It stops starting new steps when asked to (Ctrl-C,
SIGTERM) and lets running ones finish, so the engine is never left mid-call; the next
`up` converges from whatever was reached. A host whose step failed starts no other step,
and a step that needs a failed one does not start; other hosts go on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from dnetlab.engine.engine import Engine
from dnetlab.errors import DnetlabError, ExitCode
from dnetlab.lab.progress import Reporter
from dnetlab.lab.schedule import Schedule, schedule
from dnetlab.reconcile.plan import Op, Plan

# how long a left swarm's endpoint on docker_gwbridge (`ingress-sbox`) may go by itself
# before it is deleted: mostly gone at once; when Docker 20.10 keeps it as a dead
# endpoint, waiting longer does not help (3 s and 10 s were tried)
GWBRIDGE_SETTLE_S = 1.0


@dataclass(frozen=True)
class StepResult:
    ops: tuple[Op, ...]
    ok: bool
    error: str | None
    seconds: float
    # the failure was the environment's (the engine stopped answering), not the step's
    environment: bool = False


@dataclass(frozen=True)
class ApplyResult:
    steps: tuple[StepResult, ...]
    interrupted: bool
    not_run: int  # operations never started (interrupted, or their host failed)

    @property
    def failed(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if not s.ok)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


@dataclass(frozen=True)
class ApplyOptions:
    workers: int = 8
    graceful: bool = False  # wait out stop timeouts instead of killing
    volumes: bool = False  # remove anonymous volumes with containers


def run_op(engines: Mapping[str, Engine], op: Op, options: ApplyOptions) -> None:
    engine = engines[op.host]
    a = op.action
    if a in ("init-swarm", "join-swarm", "leave-swarm"):
        _swarm_op(engines, op)
    elif a == "pull-image":
        engine.pull(op.name)
    elif a == "create-volume" and op.volume is not None:
        engine.create_volume(op.volume)
    elif a == "remove-volume":
        engine.remove_volume(op.name)
    elif a == "remove-container":
        engine.remove_container(op.target_id or op.name, op.name, graceful=options.graceful,
                                volumes=options.volumes)
    elif a == "disconnect":
        engine.disconnect(op.target_id or op.name, op.network_name or "", op.name)
    elif a == "remove-network":
        engine.remove_network(op.target_id or op.name)
    elif a == "create-network" and op.network is not None:
        engine.create_network(op.network)
    elif a == "create-container" and op.container is not None:
        engine.create_container(op.container)
    elif a == "connect" and op.attachment is not None:
        engine.connect(op.target_id or op.name, op.attachment, op.name)
    elif a == "start-container":
        engine.start(op.target_id or op.name, op.name)
    elif a == "unpause-container":
        engine.unpause(op.target_id or op.name, op.name)
    elif a in ("impair", "heal"):
        # by name: a container created in this run has no id in the plan
        engine.set_impairment(op.target_id or op.name, op.network_name or "", op.name,
                              op.impairment)
    else:  # pragma: no cover - the plan builds complete ops
        raise DnetlabError(f"cannot carry out {op.describe()}")


def _swarm_op(engines: Mapping[str, Engine], op: Op) -> None:
    engine = engines[op.host]
    if op.action == "init-swarm":
        engine.swarm_init(op.advertise, dict(op.swarm_labels))
    elif op.action == "join-swarm" and op.leader is not None:
        lead = engines[op.leader]
        info = lead.swarm_info()
        token = lead.swarm_join_token(op.swarm_role or "worker")
        engine.swarm_join([f"{info.node_addr}:2377"], token, op.advertise)
    elif op.action == "leave-swarm":
        engine.swarm_leave(force=op.swarm_role == "manager")
        # joining made docker_gwbridge on this host; leave the host as it was
        engine.remove_left_swarm_bridge(settle_s=GWBRIDGE_SETTLE_S)


def _run_step(engines: Mapping[str, Engine], step: tuple[Op, ...], options: ApplyOptions,
              runner: Callable[[Mapping[str, Engine], Op, ApplyOptions], None]) -> StepResult:
    started = time.monotonic()
    try:
        for op in step:
            runner(engines, op, options)
    except DnetlabError as exc:
        return StepResult(step, False, exc.message, time.monotonic() - started,
                          exc.exit_code == ExitCode.ENVIRONMENT)
    except Exception as exc:  # an engine connection dropped mid-call, say
        return StepResult(step, False, f"{type(exc).__name__}: {exc}",
                          time.monotonic() - started)
    return StepResult(step, True, None, time.monotonic() - started)


def _label(step: tuple[Op, ...]) -> str:
    return step[0].display or "; ".join(op.describe() for op in step)


def apply(plan: Plan, engines: Mapping[str, Engine], reporter: Reporter, *,
          options: ApplyOptions | None = None, stop: threading.Event | None = None,
          runner: Callable[[Mapping[str, Engine], Op, ApplyOptions], None] = run_op,
          title: str = "applying") -> ApplyResult:
    options = options or ApplyOptions()
    stop = stop or threading.Event()
    run = _Run(schedule(plan))
    reporter.start(len(run.steps), title)
    try:
        with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
            # finished steps come through a queue: `wait()` on the set of pending
            # futures walks the whole set at every return, quadratic in the steps
            # (0.35 s of the main thread's CPU for 500 containers)
            finished: queue.SimpleQueue[Future[StepResult | None]] = queue.SimpleQueue()
            pending: dict[Future[StepResult | None], int] = {}

            def step(ops: tuple[Op, ...]) -> StepResult | None:
                if stop.is_set() or ops[0].host in run.failed_hosts:
                    return None
                res = _run_step(engines, ops, options, runner)
                if not res.ok:
                    run.failed_hosts.add(ops[0].host)
                return res

            def submit(i: int) -> None:
                fut = pool.submit(step, run.steps[i].ops)
                pending[fut] = i
                fut.add_done_callback(finished.put)

            for i in run.ready(stop.is_set()):
                submit(i)
            while pending:
                got: Future[StepResult | None] | None
                try:
                    got = finished.get(timeout=0.2)
                except queue.Empty:
                    got = None
                if got is not None and got in pending:
                    i = pending.pop(got)
                    res = None if got.cancelled() else got.result()
                    if res is None:
                        run.not_started(i)
                    else:
                        run.results.append(res)
                        reporter.step_done(_label(res.ops) + (
                            f": {res.error}" if res.error else ""), res.ok)
                        run.ended(i, res.ok)
                if stop.is_set():
                    for f in [f for f in pending if f.cancel()]:
                        run.not_started(pending.pop(f))
                for i in run.ready(stop.is_set()):
                    submit(i)
            run.not_run += run.left()  # never reached: each step waits for earlier ones
    finally:
        reporter.finish()
    return ApplyResult(tuple(run.results), stop.is_set(), run.not_run)


class _Run:
    """What has ended, and so which waiting steps may start (lab.schedule). A failed step
    stops the steps of its host not started yet, and the steps that need it."""

    def __init__(self, sched: Schedule) -> None:
        self.steps = sched.steps
        self.barriers = sched.barriers
        self.results: list[StepResult] = []
        self.not_run = 0
        self._open = Counter(s.group for s in self.steps)  # steps not ended, per group
        self._unmet = [len(s.needs) for s in self.steps]
        self._needed_by: dict[int, list[int]] = {}
        for j, s in enumerate(self.steps):
            for i in s.needs:
                self._needed_by.setdefault(i, []).append(j)
        self._waiting = list(range(len(self.steps)))  # in the schedule's order
        # written by the workers the moment a step fails, so that a step of that host
        # already handed to a worker does not start either
        self.failed_hosts: set[str] = set()
        self._lost: set[int] = set()  # steps that needed a failed one
        self._check_all = True  # a group ended, or nothing was looked at yet
        self._candidates: set[int] = set()  # steps whose last need just ended

    def ended(self, i: int, ok: bool) -> None:
        if not ok:
            self.failed_hosts.add(self.steps[i].host)
            self._check_all = True
        for j in self._needed_by.get(i, ()):
            self._unmet[j] -= 1
            if not ok:
                self._lost.add(j)
            if self._unmet[j] == 0:
                self._candidates.add(j)
        g = self.steps[i].group
        self._open[g] -= 1
        if not self._open[g]:
            self._check_all = True

    def not_started(self, i: int) -> None:
        """Step i will not run: it ends for the groups after it, and what needs it is
        lost too."""
        self.not_run += 1
        self._lost.update(self._needed_by.get(i, ()))
        self.ended(i, True)

    def ready(self, stopping: bool) -> list[int]:
        """The waiting steps that may start now, in order; those that never will (their
        host failed, a step they need failed, or a stop) end as not run."""
        out: list[int] = []
        while self._check_all or self._candidates:
            look = self._waiting if self._check_all else sorted(self._candidates)
            self._check_all, self._candidates = False, set()
            keep: set[int] = set()
            for i in look:
                s = self.steps[i]
                if stopping or s.host in self.failed_hosts or i in self._lost:
                    self.not_started(i)
                elif not self._unmet[i] and all(not self._open[g]
                                                for g in self.barriers[s.group]):
                    out.append(i)
                else:
                    keep.add(i)
            gone = set(look) - keep
            self._waiting = [i for i in self._waiting if i not in gone]
        return out

    def left(self) -> int:
        return len(self._waiting)
