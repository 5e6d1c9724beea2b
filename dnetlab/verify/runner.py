"""Run probes against a live lab: one exec per source container and round, in parallel
across sources (the sources on a host reached over SSH share one SSH command, see
`hostexec`); a helper container (sharing the target's network namespace, or the
host's) where the tools are missing or the probe is on a host.

A probe with `same_as` (`ProbeKind.same_as`: "host:KEY") has a shadow: the same command,
run in the same round where `same_as` says (with that host's other probes, in its helper);
the probe is judged once both outputs are in, the shadow's as `Resolved.same_as_output`.
A shadow that cannot run makes the probe an error.

Rounds: every probe runs once; a failed probe with `within` left runs again in the next
round, until it passes or its time is up.

Watching (the probes of a step, `run(..., since=T)`): a probe with `within` is tried on its
own every `WATCH_INTERVAL_S`, each try in its own exec, a new try starting whether or not
the last one has ended (a ping to a gone container takes seconds to fail). The start of
the earliest try that passed, less T (when the step's actions ended), is the probe's
`recovered_after_s`: late by at most one interval and one exec's start-up, where rounds
would be late by a whole failing try.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Literal, overload

from dnetlab import labels
from dnetlab.engine import hostexec
from dnetlab.engine.engine import Engine
from dnetlab.engine.errors import EngineError, EngineUnreachable
from dnetlab.engine.exec import ExecResult
from dnetlab.errors import EnvironmentFailure
from dnetlab.model import DEFAULT_BRIDGE, Scenario
from dnetlab.probes.base import Command, Resolved
from dnetlab.probes.registry import Probe, check, command_for, same_as_of
from dnetlab.reconcile.observed import HostObserved, LiveContainer
from dnetlab.verify import batch
from dnetlab.verify.outcome import ProbeResult, Status
from dnetlab.verify.targets import LiveAddresses, Unresolvable, host_of, resolve

ROUND_PAUSE_S = 0.5
WATCH_INTERVAL_S = 0.2
# tries of one watched probe running at once: a try that hangs (nc -w 2, ping's
# timeouts) must not delay the next ones, but a dead target must not pile up execs either
WATCH_IN_FLIGHT = 12


@dataclass(frozen=True)
class LiveLab:
    containers: Mapping[str, LiveContainer]  # container key -> live container
    addresses: LiveAddresses


def live_lab(sc: Scenario, observed: Mapping[str, HostObserved],
             owner: labels.Owner, before: LiveLab | None = None) -> LiveLab:
    """The running containers of `owner`'s copy of the lab; exit 3 naming the missing ones
    when it is not up.

    `before`: the lab as it was before a step changed it. Then a container that is no
    longer running, or has left a network, keeps its earlier entry and address: a probe
    to it must run and fail (that is what the step shows), not stop at "not running".
    """
    found: dict[str, LiveContainer] = {}
    # each host's containers by key, listed once (one lookup per key in the whole list
    # was quadratic: 0.5 s for 500 containers)
    by_key = {host: o.owned_by_key(owner) for host, o in observed.items()}
    for c in sc.containers:
        live = by_key.get(c.host, {}).get(c.key)
        if live is not None and (live.state == "running" or before is not None):
            found[c.key] = live
        elif before is not None and c.key in before.containers:
            found[c.key] = before.containers[c.key]
    missing = [c.key for c in sc.containers if c.key not in found]
    if missing:
        raise EnvironmentFailure(
            f"lab {sc.name} is not up: container(s) {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not running; run `dnetlab up` first")
    by_name = {sc.network(n.key).name: n.key for n in sc.networks}
    # the default bridge: by its external network's key when the file names it as one
    by_name.setdefault(DEFAULT_BRIDGE, DEFAULT_BRIDGE)
    addrs = {
        key: {by_name[e.network_name]: e.ipv4 for e in live.endpoints
              if e.network_name in by_name and e.ipv4}
        for key, live in found.items()
    }
    if before is not None:
        for key, earlier in before.addresses.by_container.items():
            addrs[key] = {**earlier, **addrs.get(key, {})}
    return LiveLab(found, LiveAddresses(addrs))


@dataclass
class _Pending:
    resolved: Resolved[Probe]
    command: Command
    attempts: int = 0
    started: float = 0.0
    # `same_as`: the same command where the probe compares with (module docstring)
    shadow: _Pending | None = None


Output = tuple[int | None, str]  # a command's exit code (None: it could not run), output
Runner = Callable[[Engine, str, str, str], tuple[int, str]]


class Verifier:
    def __init__(self, sc: Scenario, engines: Mapping[str, Engine], lab: LiveLab, *,
                 workers: int = 8, stop: threading.Event | None = None,
                 on_result: Callable[[ProbeResult], None] | None = None,
                 owner: labels.Owner | None = None) -> None:
        self.sc = sc
        # whose helpers these are: a copy's `down` removes only its own
        self.owner = owner or labels.Owner(sc.name, None)
        self.engines = engines
        self.lab = lab
        self.workers = workers
        self.stop = stop or threading.Event()
        self.on_result = on_result or (lambda r: None)
        self.execs = 0  # exec calls and helpers made: the cost that batching saves
        # host -> why its engine stopped answering: its probes are errors from then on,
        # the other hosts' go on (and the run ends with exit 3, not a verdict on the lab)
        self.lost: dict[str, str] = {}
        self._lock = threading.Lock()

    def _lose(self, host: str, exc: EngineUnreachable) -> None:
        detail = exc.message.removeprefix(f"host {host}: ")
        url = self.engines[host].conn.url
        with self._lock:
            self.lost.setdefault(host, f"host {host!r} ({url}) stopped answering: {detail}")

    def _not_run(self, host: str, items: Sequence[_Pending]) -> list[
            tuple[_Pending, int | None, str]] | None:
        """Errors for the items of a host already lost, None while it answers."""
        why = self.lost.get(host)
        return None if why is None else [(i, None, f"not run: {why}") for i in items]

    # -- the two ways of running a batch ------------------------------------------------
    def _exec(self, host: str, container: str, script: str) -> ExecResult:
        with self._lock:
            self.execs += 1
        return self.engines[host].exec(container, ["sh", "-c", script])

    def _helper(self, host: str, network_mode: str, script: str) -> tuple[int, str]:
        with self._lock:
            self.execs += 1
        res = self.engines[host].run_helper(
            self.sc.probe_image, ["sh", "-c", script], network_mode,
            {**self.owner.labels(), labels.KIND: "helper"})
        return res.exit_code, res.output

    # -- one source, one round -------------------------------------------------------------
    def _run_source(self, runs_on: str, items: Sequence[_Pending]) -> list[
            tuple[_Pending, int | None, str]]:
        host = items[0].resolved.host
        lost = self._not_run(host, items)
        if lost is not None:
            return lost
        token = batch.new_token()
        if runs_on.startswith("host:"):
            return self._in_helper(host, "host", items, token)
        live = self.lab.containers[runs_on]
        outcome: ExecResult | EngineError
        try:
            outcome = self._exec(host, live.id, batch.script([i.command for i in items], token))
        except EngineError as exc:
            outcome = exc
        return self._after_exec(host, runs_on, items, token, outcome)

    def _run_host(self, host: str, sources: Sequence[tuple[str, Sequence[_Pending]]]) -> list[
            tuple[_Pending, int | None, str]]:
        """Every source container of one SSH host in one command (see `hostexec`)."""
        lost = self._not_run(host, [i for _, items in sources for i in items])
        if lost is not None:
            return lost
        tokens = [batch.new_token() for _ in sources]
        jobs = [hostexec.Job(self.lab.containers[src].id,
                             batch.script([i.command for i in items], token))
                for (src, items), token in zip(sources, tokens, strict=True)]
        with self._lock:
            self.execs += len(jobs)
        outcomes = self.engines[host].exec_many(jobs, self.workers)
        out: list[tuple[_Pending, int | None, str]] = []
        for (src, items), token, outcome in zip(sources, tokens, outcomes, strict=True):
            out += self._after_exec(host, src, items, token, outcome)
        return out

    def _after_exec(self, host: str, runs_on: str, items: Sequence[_Pending], token: str,
                    outcome: ExecResult | EngineError) -> list[
                        tuple[_Pending, int | None, str]]:
        live = self.lab.containers[runs_on]
        out: list[tuple[_Pending, int | None, str]] = []
        if isinstance(outcome, EngineUnreachable):
            # the host is gone, not the container's shell: no helper can run there either
            self._lose(host, outcome)
            return [(i, None, outcome.message) for i in items]
        if isinstance(outcome, EngineError):
            # no shell in the image, say: network probes go to a helper, others cannot run
            movable = [i for i in items if not i.command.needs_target]
            out += [(i, None, f"cannot run in {runs_on}: {outcome.message}") for i in items
                    if i.command.needs_target]
            return out + (self._in_helper(host, f"container:{live.id}", movable, token)
                          if movable else [])
        text = outcome.output
        parsed = batch.parse(text, token)
        to_helper = []
        for n, item in enumerate(items):
            if n in parsed.results:
                r = parsed.results[n]
                out.append((item, r.exit_code, r.output))
            elif n in parsed.skipped and not item.command.needs_target:
                to_helper.append(item)
            elif n in parsed.skipped:
                out.append((item, None, f"{runs_on} has no {', '.join(parsed.skipped[n])}"))
            else:
                out.append((item, None, f"no output from the batch in {runs_on}:\n{text}"))
        if to_helper:
            out += self._in_helper(host, f"container:{live.id}", to_helper, token)
        return out

    def _in_helper(self, host: str, mode: str, items: Sequence[_Pending], token: str) -> list[
            tuple[_Pending, int | None, str]]:
        lost = self._not_run(host, items)
        if lost is not None:
            return lost
        try:
            _, text = self._helper(host, mode, batch.script([i.command for i in items], token))
        except EngineUnreachable as exc:
            self._lose(host, exc)
            return [(i, None, exc.message) for i in items]
        except EngineError as exc:
            return [(i, None, f"helper container failed: {exc.message}") for i in items]
        parsed = batch.parse(text, token)
        out: list[tuple[_Pending, int | None, str]] = []
        for n, item in enumerate(items):
            if n in parsed.results:
                out.append((item, parsed.results[n].exit_code, parsed.results[n].output))
            else:
                lacks = ", ".join(parsed.skipped.get(n, ()))
                out.append((item, None, f"the probe image {self.sc.probe_image} has no "
                            f"{lacks}" if lacks else f"no output from the helper:\n{text}"))
        return out

    # -- all rounds --------------------------------------------------------------------------
    def _pending(self, r: Resolved[Probe]) -> _Pending:
        item = _Pending(r, command_for(r))
        where = same_as_of(r.probe)
        if where is not None:
            item.shadow = _Pending(replace(r, runs_on=where, host=host_of(self.sc, where)),
                                   item.command)
        return item

    def run(self, resolved: Sequence[Resolved[Probe] | ProbeResult],
            since: float | None = None) -> list[ProbeResult]:
        """Every probe's result, in order. `since` (a `time.monotonic()`): the probes of a
        step whose actions ended then: those with `within` are watched (module docstring)
        and report `recovered_after_s`."""
        results: dict[int, ProbeResult] = {}
        pending: dict[int, _Pending] = {}
        watched: dict[int, _Pending] = {}
        for i, r in enumerate(resolved):
            if isinstance(r, ProbeResult):
                results[i] = r
                self.on_result(r)
            elif since is not None and r.probe.within > 0:
                watched[i] = self._pending(r)
            else:
                pending[i] = self._pending(r)
        start = time.monotonic() if since is None else since
        with ThreadPoolExecutor(max_workers=max(1, len(watched))) as watchers:
            watching = {i: watchers.submit(self._watch, p, start) for i, p in watched.items()}
            results.update(self._rounds(pending, start))
            for i, fut in watching.items():
                results[i] = fut.result()
                self.on_result(results[i])
        return [results[i] for i in sorted(results)]

    def _rounds(self, pending: dict[int, _Pending], start: float) -> dict[int, ProbeResult]:
        results: dict[int, ProbeResult] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            while pending and not self.stop.is_set():
                groups: dict[str, list[_Pending]] = {}
                shadow_of: dict[int, int] = {}  # id(shadow) -> its probe's index
                for i, p in pending.items():
                    groups.setdefault(p.resolved.runs_on, []).append(p)
                    if p.shadow is not None:
                        groups.setdefault(p.shadow.resolved.runs_on, []).append(p.shadow)
                        shadow_of[id(p.shadow)] = i
                round_start = time.monotonic()
                for p in pending.values():
                    p.started = p.started or round_start
                futures = self._submit_round(pool, groups)
                index_of = {id(p): i for i, p in pending.items()}
                halves: dict[int, dict[bool, Output]] = {}  # a same_as probe's two outputs
                for fut in futures:
                    for item, code, output in fut.result():
                        is_shadow = id(item) in shadow_of
                        i = shadow_of[id(item)] if is_shadow else index_of[id(item)]
                        item = pending[i]
                        got = halves.setdefault(i, {})
                        got[is_shadow] = (code, output)
                        if item.shadow is not None and len(got) < 2:
                            continue  # the other half is still to come
                        code, output = got[False]
                        item.attempts += 1
                        res = self._judge(item, code, output, start, reference=got.get(True))
                        if res is not None:
                            results[i] = res
                            self.on_result(res)
                            del pending[i]
                if pending:
                    time.sleep(ROUND_PAUSE_S)
        for i, p in pending.items():  # interrupted
            results[i] = _interrupted(p)
        return results

    def _try(self, item: _Pending) -> tuple[int | None, str, Output | None]:
        """One try of one probe, in an exec (or helper) of its own; and of its shadow, in
        another, when it has one."""
        code, output = self._try_one(item)
        return code, output, None if item.shadow is None else self._try_one(item.shadow)

    def _try_one(self, item: _Pending) -> Output:
        one = _Pending(item.resolved, item.command)
        if self._batched_per_host(item.resolved.runs_on, item.resolved.host):
            done = self._run_host(item.resolved.host, [(item.resolved.runs_on, [one])])
        else:
            done = self._run_source(item.resolved.runs_on, [one])
        _, code, output = done[0]
        return code, output

    def _watch(self, item: _Pending, since: float) -> ProbeResult:
        """Try the probe every WATCH_INTERVAL_S until a try passes or `within` is up; the
        verdict of the earliest try that passed, else of the last one that ended."""
        r = item.resolved
        deadline = since + r.probe.within
        tries: list[tuple[float, Future[tuple[int | None, str, Output | None]]]] = []
        judged: dict[int, tuple[int | None, str, Output | None, ProbeResult | None]] = {}
        passed_at: float | None = None
        with ThreadPoolExecutor(max_workers=WATCH_IN_FLIGHT) as pool:
            next_try = since
            while not self.stop.is_set():
                now = time.monotonic()
                for n, (_, fut) in enumerate(tries):
                    if n not in judged and fut.done():
                        code, output, ref = fut.result()
                        verdict = self._verdict(item, code, output, ref)
                        judged[n] = (code, output, ref, verdict)
                        if verdict is not None and verdict.status == "passed":
                            passed_at = min(passed_at or tries[n][0], tries[n][0])
                if passed_at is not None and all(
                        n in judged for n, (t, _) in enumerate(tries) if t < passed_at):
                    break  # no earlier try can pass any more
                if passed_at is None and now >= deadline and len(judged) == len(tries) \
                        and tries:
                    break
                running = len(tries) - len(judged)
                if passed_at is None and now < deadline and now >= next_try \
                        and running < WATCH_IN_FLIGHT:
                    tries.append((now, pool.submit(self._try, item)))
                    next_try = now + WATCH_INTERVAL_S
                time.sleep(0.02)
            if self.stop.is_set():
                for _, fut in tries:
                    fut.cancel()
        item.attempts = len(judged)
        item.started = since
        if not judged:
            return _interrupted(item)
        if passed_at is not None:
            n = next(n for n, (t, _) in enumerate(tries) if t == passed_at)
            code, output, ref, _ = judged[n]
            res = self._judge(item, code, output, since, final=True, reference=ref)
            first = n == 0
            return replace(res, attempts=n + 1, duration_s=passed_at - since,
                           recovered_after_s=None if first else round(passed_at - since, 3))
        last = max(judged)  # the latest try that ended
        code, output, ref, _ = judged[last]
        return replace(self._judge(item, code, output, since, final=True, reference=ref),
                       duration_s=time.monotonic() - since)

    def _verdict(self, item: _Pending, code: int | None, output: str,
                 reference: Output | None) -> ProbeResult | None:
        """A try's result when it passed or cannot run; None when it failed (another try
        may pass)."""
        res = self._judge(item, code, output, 0.0, final=True, reference=reference)
        return None if res.status == "failed" else res

    def _batched_per_host(self, src: str, host: str) -> bool:
        """Whether probes from `src` run in their host's one SSH command (`_run_host`):
        a container's on an engine reached over SSH; host probes and the containers of
        local and tcp:// engines run one exec per source (`_run_source`)."""
        return not src.startswith("host:") and self.engines[host].runs_execs_over_ssh

    def _submit_round(self, pool: ThreadPoolExecutor,
                      groups: Mapping[str, Sequence[_Pending]]) -> list[Future[list[
                          tuple[_Pending, int | None, str]]]]:
        """One task per source container, except that the containers of a host reached
        over SSH go together in one task (one SSH command)."""
        futures = []
        by_host: dict[str, list[tuple[str, Sequence[_Pending]]]] = {}
        for src, items in groups.items():
            host = items[0].resolved.host
            if self._batched_per_host(src, host):
                by_host.setdefault(host, []).append((src, items))
            else:
                futures.append(pool.submit(self._run_source, src, items))
        futures += [pool.submit(self._run_host, host, sources)
                    for host, sources in by_host.items()]
        return futures

    @overload
    def _judge(self, item: _Pending, code: int | None, output: str, start: float, *,
               final: Literal[True], reference: Output | None = None) -> ProbeResult: ...

    @overload
    def _judge(self, item: _Pending, code: int | None, output: str,
               start: float, *, reference: Output | None = None) -> ProbeResult | None: ...

    def _judge(self, item: _Pending, code: int | None, output: str,
               start: float, *, final: bool = False,
               reference: Output | None = None) -> ProbeResult | None:
        r = item.resolved
        elapsed = time.monotonic() - item.started  # from its first try to its verdict
        if code is None:
            return ProbeResult(r.name, r.probe.type, "error", "-", output.splitlines()[0]
                               if output else "could not run", output, elapsed, r.runs_on,
                               item.attempts)
        if item.shadow is not None:
            where = item.shadow.resolved.runs_on
            ref_code, ref_output = reference or (None, "")
            if ref_code is None:
                said = ref_output.splitlines()[0] if ref_output else "could not run"
                return ProbeResult(r.name, r.probe.type, "error", "-",
                                   f"could not read {where}: {said}", ref_output, elapsed,
                                   r.runs_on, item.attempts)
            r = replace(r, same_as_output=ref_output)
        verdict = check(r, code, output)
        if item.shadow is not None:  # the report shows both outputs
            output = f"{output}\n--- the same on {item.shadow.resolved.runs_on} ---\n" \
                f"{r.same_as_output}"
        status: Status
        if verdict.error:
            status = "error"  # its output could not be judged: another try would not help
        elif verdict.passed:
            status = "passed"
        elif not final and time.monotonic() - start < r.probe.within:
            return None  # try again next round
        else:
            status = "failed"
        return ProbeResult(r.name, r.probe.type, status, verdict.expected, verdict.actual,
                           output, elapsed, r.runs_on, item.attempts)


def _interrupted(p: _Pending) -> ProbeResult:
    return ProbeResult(p.resolved.name, p.resolved.probe.type, "error", "-",
                       "not run: interrupted", "", 0.0, p.resolved.runs_on, p.attempts)


def resolve_all(sc: Scenario, lab: LiveLab, probes: Sequence[object]) -> list[
        Resolved[Probe] | ProbeResult]:
    out: list[Resolved[Probe] | ProbeResult] = []
    for p in probes:
        try:
            out.append(resolve(sc, lab.addresses, p))  # type: ignore[arg-type]
        except Unresolvable as exc:
            name, kind = getattr(p, "name", "?"), getattr(p, "type", "?")
            out.append(ProbeResult(name, kind, "error", "-", str(exc), "", 0.0, "-"))
    return out
