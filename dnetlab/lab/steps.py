"""`verify --steps`: the static probes, then each step (its actions, then its probes), then
the lab brought back to its declared state by the same reconcile as `up`.

A step's probes are resolved against the lab as it is after the step's actions, with
each container's earlier addresses kept for what the step took away (a stopped or
disconnected container must be probed, and found unreachable). Probes with `within` are
watched (`verify.runner`), which gives `recovered_after_s`.

An action that fails ends the run of steps: the later ones were written for a lab that
the failed action would have made. The restore runs whatever happened: after the last
step, after a failed action, after Ctrl-C, after an engine stopped answering (then it
may fail too, and the next `up` converges).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dnetlab.errors import DnetlabError, EnvironmentFailure
from dnetlab.lab import instance
from dnetlab.lab.session import DEFAULT_WORKERS, Session
from dnetlab.lab.verify import VerifyRun, one_instance, remove_stale_helpers, selected
from dnetlab.labels import Owner
from dnetlab.load.pipeline import Loaded
from dnetlab.model import Step
from dnetlab.verify.outcome import ActionResult, ProbeResult, Report, StepResult
from dnetlab.verify.runner import LiveLab, Verifier, live_lab, resolve_all


@dataclass(frozen=True)
class StepCallbacks:
    """What a caller may watch: probes as they end, and each step as it starts."""

    on_result: Callable[[ProbeResult], None] | None = None
    on_start: Callable[[int], None] | None = None  # the number of probes, steps' included
    on_step: Callable[[int, str], None] | None = None  # 1-based index, step name
    on_note: Callable[[str], None] | None = None  # what the restore did, or why it failed


def verify_steps(loaded: Loaded, *, workers: int = DEFAULT_WORKERS,
                 stop: threading.Event | None = None, auto: bool = False,
                 only: tuple[str, ...] = (), keep_state: bool = False,
                 then_down: bool = False, callbacks: StepCallbacks | None = None,
                 owner: Owner | None = None, record_root: Path | None = None) -> VerifyRun:
    """Run the static probes and then the steps; restore the declared state unless
    `keep_state`, or `then_down` (`dnetlab test` removes the lab next: restoring it
    first would be wasted). The report's `restored` says how the restore went."""
    sc = loaded.scenario
    cb = callbacks or StepCallbacks()
    stop = stop or threading.Event()
    started = time.monotonic()
    changed = False  # has an action run: only then is there anything to restore
    probes = selected(sc, auto, only)
    session = Session.open(sc.hosts)
    execs = 0
    try:
        from dnetlab.lab.actions import perform, step_problems

        observed = session.observe()
        owner = one_instance(owner or instance.owner_here(sc.name, record_root), observed)
        remove_stale_helpers(owner, session, observed)
        lab = live_lab(sc, observed, owner)
        problems = step_problems(sc, session)
        if problems:  # before any change: nothing to restore
            raise EnvironmentFailure("the steps cannot run here:\n  " + "\n  ".join(problems))
        ids = {key: live.id for key, live in lab.containers.items()}
        if cb.on_start is not None:
            cb.on_start(len(probes) + sum(len(s.probes) for s in sc.steps))
        verifier = _verifier(loaded, session, lab, workers, stop, cb, owner)
        static = verifier.run(resolve_all(sc, lab, probes))
        execs += verifier.execs
        lost = dict(verifier.lost)
        results: list[StepResult] = []
        broken: str | None = None  # why the steps stopped early
        for step in sc.steps:
            if broken is None and stop.is_set():
                broken = "interrupted"
            if broken is not None:
                results.append(_not_run(step, broken))
                continue
            if cb.on_step is not None:
                cb.on_step(step.index + 1, step.name)
            begun = time.monotonic()
            done: list[ActionResult] = []
            for action in step.actions:
                if broken is not None or stop.is_set():
                    broken = broken or "interrupted"
                    done.append(ActionResult(action.kind, action.describe(), "not run",
                                             broken, 0.0))
                    continue
                changed = True
                res = perform(action, sc, session.engines, ids, owner, stop=stop)
                done.append(res)
                if res.status == "failed":
                    broken = f"an action of step {step.name!r} failed"
            if broken is not None:
                probe_results = [_probe_not_run(p.name, p.type, broken) for p in step.probes]
            else:
                since = time.monotonic()
                now = live_lab(sc, session.observe(), owner, before=lab)
                verifier = _verifier(loaded, session, now, workers, stop, cb, owner)
                probe_results = verifier.run(resolve_all(sc, now, step.probes), since=since)
                execs += verifier.execs
                lost.update(verifier.lost)
            results.append(StepResult(step.name, tuple(done), tuple(probe_results),
                                      time.monotonic() - begun))
    except BaseException:
        if changed and not keep_state and not then_down:
            _restore_quietly(loaded, record_root, cb)
        session.close()
        raise
    session.close()
    restored = None
    if changed and then_down:
        restored = "not restored: `dnetlab test` takes the lab down next"
    elif changed and not keep_state:
        restored = _restore(loaded, record_root)
        if cb.on_note is not None:
            cb.on_note(restored)
    elif changed:
        restored = "kept as the steps left it (--keep-state); `dnetlab up` restores it"
    report = Report(sc.name, tuple(static), time.monotonic() - started,
                    tuple(lost[h] for h in sorted(lost)), tuple(results), restored)
    return VerifyRun(report, execs)


def _verifier(loaded: Loaded, session: Session, lab: LiveLab, workers: int,
              stop: threading.Event, cb: StepCallbacks, owner: Owner) -> Verifier:
    return Verifier(loaded.scenario, session.engines, lab, workers=workers, stop=stop,
                    on_result=cb.on_result, owner=owner)


def _probe_not_run(name: str, kind: str, why: str) -> ProbeResult:
    return ProbeResult(name, kind, "error", "-", f"not run: {why}", "", 0.0, "-", 0)


def _not_run(step: Step, why: str) -> StepResult:
    return StepResult(
        step.name,
        tuple(ActionResult(a.kind, a.describe(), "not run", why, 0.0) for a in step.actions),
        tuple(_probe_not_run(p.name, p.type, why) for p in step.probes), 0.0)


RESTORE_FAILED = "failed"  # how `Report.restored` starts when the restore failed


def _restore(loaded: Loaded, record_root: Path | None) -> str:
    """The lab back to its declared state, as `up` would make it (its record untouched):
    what was done, or why it failed (then `dnetlab up` finishes it)."""
    from dnetlab.lab.up import up

    try:
        # a fresh stop event: the run's own may be set by the Ctrl-C that ended the steps
        result = up(loaded, workers=DEFAULT_WORKERS, stop=threading.Event(),
                    record_root=record_root, record=False)
    except DnetlabError as exc:
        return f"{RESTORE_FAILED}: {exc.message}; run `dnetlab up` to finish it"
    if result.applied is None:
        return "already in its declared state"
    if not result.applied.ok:
        why = "; ".join(str(s.error) for s in result.applied.failed) or "interrupted"
        return f"{RESTORE_FAILED}: {why}; run `dnetlab up` to finish it"
    return (f"restored to its declared state: {len(result.plan.ops)} change(s) in "
            f"{result.seconds:.2f} s")


def _restore_quietly(loaded: Loaded, record_root: Path | None, cb: StepCallbacks) -> None:
    """The restore on the way out of an interrupted or failed run: its outcome is a note,
    the run's own error stays the one raised."""
    try:
        note = _restore(loaded, record_root)
    except Exception as exc:  # the run's own error matters more
        note = f"{RESTORE_FAILED}: {exc}; run `dnetlab up` to finish it"
    if cb.on_note is not None:
        cb.on_note(note)
