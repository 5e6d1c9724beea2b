"""`exec` fan-out: one command in many lab containers at once, a result per container.

The containers of a host reached over SSH all go in ONE SSH command (`Engine.exec_many`,
the `hostexec` script that `verify` sends for its probe batches); on other engines each
container gets its own exec, side by side. Hosts run in parallel.

The workers are daemon threads: when the user stops the run (`stop`, Ctrl-C), the call
returns at once with what has come back, the rest marked "interrupted", and the process
may end without waiting for a host that is still answering. Nothing is created for a
fan-out (no helper container); on an SSH host the script's temporary directory is
removed by its own `trap` when the commands end.
"""

from __future__ import annotations

import queue
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnetlab.engine import hostexec
from dnetlab.engine.engine import Engine
from dnetlab.engine.errors import EngineError
from dnetlab.engine.exec import ExecResult
from dnetlab.errors import UsageError
from dnetlab.lab import instance
from dnetlab.lab.session import DEFAULT_WORKERS, Session
from dnetlab.lab.verify import one_instance
from dnetlab.model import Container, Scenario
from dnetlab.reconcile.observed import LiveContainer

INTERRUPTED = "not run: interrupted"


@dataclass(frozen=True)
class ExecOutcome:
    container: str  # the container's key in the scenario
    host: str  # the host's key
    exit_code: int | None  # None: the command could not run (the output says why)
    output: str  # stdout and stderr together

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def as_json(self) -> dict[str, Any]:
        return {"container": self.container, "host": self.host,
                "exit_code": self.exit_code, "output": self.output}


@dataclass(frozen=True)
class FanOut:
    results: tuple[ExecOutcome, ...]  # in the scenario's container order
    interrupted: bool
    seconds: float

    @property
    def failed(self) -> tuple[ExecOutcome, ...]:
        return tuple(r for r in self.results if not r.ok)


def select(sc: Scenario, *, all_: bool = False, network: str | None = None,
           host: str | None = None, container: str | None = None) -> list[Container]:
    """The containers a fan-out targets; a `UsageError` naming what exists when a key is
    unknown. Exactly one of the selectors is expected (the CLI checks)."""
    if network is not None:
        keys = [n.key for n in sc.networks]
        if network not in keys:
            raise UsageError(f"no network {network!r} in lab {sc.name} (networks: "
                             f"{', '.join(keys) or 'none'})")
        chosen = [c for c in sc.containers
                  if any(a.network == network for a in c.attachments)]
        if not chosen:
            raise UsageError(f"no container of lab {sc.name} is attached to network "
                             f"{network!r}")
        return chosen
    if host is not None:
        keys = [h.key for h in sc.hosts]
        if host not in keys:
            raise UsageError(f"no host {host!r} in lab {sc.name} (hosts: {', '.join(keys)})")
        chosen = [c for c in sc.containers if c.host == host]
        if not chosen:
            raise UsageError(f"host {host!r} of lab {sc.name} runs no container")
        return chosen
    if container is not None:
        found = [c for c in sc.containers if container in (c.key, c.name)]
        if not found:
            raise UsageError(f"no container {container!r} in lab {sc.name} (containers: "
                             f"{', '.join(c.key for c in sc.containers)})")
        return found[:1]
    if not sc.containers:
        raise UsageError(f"lab {sc.name} has no container")
    return list(sc.containers)


def fan_out(sc: Scenario, containers: Sequence[Container], argv: Sequence[str], *,
            workers: int = DEFAULT_WORKERS, stop: threading.Event | None = None,
            on_start: Callable[[int], None] | None = None,
            on_result: Callable[[ExecOutcome], None] | None = None,
            record_root: Path | None = None) -> FanOut:
    """Run `argv` in every one of `containers` (of the live copy of `sc` recorded here),
    in parallel; a result per container, in the order given."""
    started = time.monotonic()
    stop = stop or threading.Event()
    report = on_result or (lambda r: None)
    host_keys = list(dict.fromkeys(c.host for c in containers))
    session = Session.open(sc.host(k) for k in host_keys)
    try:
        observed = session.observe()
        owner = one_instance(instance.owner_here(sc.name, record_root), observed)
        done: dict[str, ExecOutcome] = {}
        tasks: list[Callable[[], list[ExecOutcome]]] = []
        for key in host_keys:
            mine = [c for c in containers if c.host == key]
            live: dict[str, LiveContainer] = {}
            by_key = observed[key].owned_by_key(owner)
            for c in mine:
                found = _live(by_key, c)
                if isinstance(found, ExecOutcome):
                    done[c.key] = found
                else:
                    live[c.key] = found
            if not live:
                continue
            engine = session.engines[key]
            if engine.runs_execs_over_ssh:
                tasks.append(_one_ssh_command(engine, key, live, argv, workers))
            else:
                tasks += [_one_exec(engine, key, k, lc, argv) for k, lc in live.items()]
        if on_start is not None:
            on_start(len(containers))
        for r in done.values():
            report(r)
        interrupted = _run_tasks(tasks, workers, stop, done, report)
    finally:
        if not stop.is_set():  # an interrupted run does not wait for a host still busy
            session.close()
    results = tuple(done.get(c.key) or ExecOutcome(c.key, c.host, None, INTERRUPTED)
                    for c in containers)
    return FanOut(results, interrupted, time.monotonic() - started)


def _live(by_key: dict[str, LiveContainer], c: Container) -> LiveContainer | ExecOutcome:
    live = by_key.get(c.key)
    if live is None:
        return ExecOutcome(c.key, c.host, None, f"not run: container {c.key} does not exist "
                           f"on host {c.host}; run `dnetlab up` first")
    if live.state != "running":
        return ExecOutcome(c.key, c.host, None, f"not run: container {c.key} is {live.state}")
    return live


def _one_ssh_command(engine: Engine, host: str, live: dict[str, LiveContainer],
                     argv: Sequence[str], workers: int) -> Callable[[], list[ExecOutcome]]:
    """Every container of one SSH host in one SSH command, as verify runs its batches."""
    def task() -> list[ExecOutcome]:
        script = shlex.join(argv)
        jobs = [hostexec.Job(lc.id, script) for lc in live.values()]
        outcomes = engine.exec_many(jobs, workers)
        return [_outcome(key, host, got) for key, got in zip(live, outcomes, strict=True)]
    return task


def _one_exec(engine: Engine, host: str, key: str, lc: LiveContainer,
              argv: Sequence[str]) -> Callable[[], list[ExecOutcome]]:
    def task() -> list[ExecOutcome]:
        try:
            got: ExecResult | EngineError = engine.exec(lc.id, list(argv))
        except EngineError as exc:
            got = exc
        return [_outcome(key, host, got)]
    return task


def _outcome(key: str, host: str, got: ExecResult | EngineError) -> ExecOutcome:
    if isinstance(got, EngineError):
        return ExecOutcome(key, host, None, f"could not run: {got.message}")
    return ExecOutcome(key, host, got.exit_code, got.output)


def _run_tasks(tasks: Sequence[Callable[[], list[ExecOutcome]]], workers: int,
               stop: threading.Event, done: dict[str, ExecOutcome],
               report: Callable[[ExecOutcome], None]) -> bool:
    """Run the tasks on daemon threads; True when `stop` ended the wait early."""
    todo: queue.Queue[Callable[[], list[ExecOutcome]]] = queue.Queue()
    for t in tasks:
        todo.put(t)
    back: queue.Queue[list[ExecOutcome] | BaseException] = queue.Queue()

    def worker() -> None:
        while not stop.is_set():
            try:
                task = todo.get_nowait()
            except queue.Empty:
                return
            try:
                back.put(task())
            except BaseException as exc:  # handed to the caller's thread
                back.put(exc)

    for n in range(min(max(1, workers), len(tasks))):
        threading.Thread(target=worker, name=f"dnetlab-fanout-{n}", daemon=True).start()
    pending = len(tasks)
    while pending:
        if stop.is_set():
            return True
        try:
            got = back.get(timeout=0.1)
        except queue.Empty:
            continue
        pending -= 1
        if isinstance(got, BaseException):
            raise got
        for r in got:
            done[r.container] = r
            report(r)
    return False
