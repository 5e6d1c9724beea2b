"""Carry out a plan: phase by phase, the operations of a phase in parallel.

The executor decides nothing. It stops starting new steps when asked to (Ctrl-C,
SIGTERM) and lets running ones finish, so the engine is never left mid-call; the next
`up` converges from whatever was reached. A host whose step failed runs no later phase;
other hosts go on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from dnetlab.engine.engine import Engine
from dnetlab.errors import DnetlabError, ExitCode
from dnetlab.lab.progress import Reporter
from dnetlab.reconcile.plan import Op, Phase, Plan


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


def _tasks(ops: list[Op], phase: Phase) -> list[tuple[Op, ...]]:
    """The steps of one phase. In the container phase, everything that touches one
    container is one step, in order: connects before the start."""
    if phase not in (Phase.CONTAINERS, Phase.IMPAIR):
        return [(op,) for op in ops]
    grouped: dict[tuple[str, str], list[Op]] = {}
    for op in ops:
        grouped.setdefault((op.host, op.name), []).append(op)
    order = {"create-container": 0, "connect": 1, "start-container": 2, "unpause-container": 2,
             "impair": 3, "heal": 3}
    return [tuple(sorted(g, key=lambda o: order[o.action])) for g in grouped.values()]


def _waves(phases: list[tuple[Phase, list[Op]]]) -> list[tuple[Phase, list[Op]]]:
    """Each phase split into its waves, in order: a container that links others starts
    once the containers it links run (a failed step stops its host's later waves, as it
    stops the later phases)."""
    out: list[tuple[Phase, list[Op]]] = []
    for phase, ops in phases:
        waves: dict[int, list[Op]] = {}
        for op in ops:
            waves.setdefault(op.wave, []).append(op)
        out += [(phase, waves[w]) for w in sorted(waves)]
    return out


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
        engine.remove_network_if_unused("docker_gwbridge", settle_s=3.0)


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
    results: list[StepResult] = []
    failed_hosts: set[str] = set()
    phases = plan.phases()
    reporter.start(sum(len(_tasks(ops, ph)) for ph, ops in phases), title)
    not_run = 0
    try:
        with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
            for phase, ops in _waves(phases):
                steps = [s for s in _tasks(ops, phase) if s[0].host not in failed_hosts]
                not_run += len(_tasks(ops, phase)) - len(steps)
                if stop.is_set():
                    not_run += len(steps)
                    continue
                # finished steps come through a queue: `wait()` on the set of pending
                # futures walks the whole set at every return, quadratic in the steps
                # of a wave (0.35 s of the main thread's CPU for 500 containers)
                finished: queue.SimpleQueue[Future[StepResult]] = queue.SimpleQueue()
                pending: set[Future[StepResult]] = set()
                for s in steps:
                    fut = pool.submit(_run_step, engines, s, options, runner)
                    pending.add(fut)
                    fut.add_done_callback(finished.put)
                while pending:
                    got: Future[StepResult] | None
                    try:
                        got = finished.get(timeout=0.2)
                    except queue.Empty:
                        got = None
                    if got is not None and got in pending:
                        pending.discard(got)
                        if not got.cancelled():
                            res = got.result()
                            results.append(res)
                            reporter.step_done(_label(res.ops) + (
                                f": {res.error}" if res.error else ""), res.ok)
                            if not res.ok:
                                failed_hosts.add(res.ops[0].host)
                    if stop.is_set():
                        cancelled = {f for f in pending if f.cancel()}
                        not_run += len(cancelled)
                        pending -= cancelled
    finally:
        reporter.finish()
    return ApplyResult(tuple(results), stop.is_set(), not_run)
