"""What a step's action does to the live lab (spec section 10.3): `perform` carries out
one `Action` on the engine of its container's host and says how it went, as an
`ActionResult`; `step_problems` is the preflight of a file's steps.

An action changes the lab away from its declared state on purpose. Nothing here puts it
back: after the steps, the declared state is restored by `up` (the reconcile), which sees
each change an action makes as drift. So a `connect` of an attachment that declares an
impairment does not apply it: the step asked for the interface, not for the
impairment, and `up` sets it again when it restores the lab.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from ipaddress import IPv4Address

from dnetlab import labels
from dnetlab.engine.engine import Engine
from dnetlab.engine.errors import EngineError, EngineUnreachable
from dnetlab.engine.exec import ExecResult
from dnetlab.engine.impair import TOOLS_IMAGE
from dnetlab.lab.impair import ensure_tools
from dnetlab.lab.progress import PlainReporter, Reporter
from dnetlab.lab.session import Session
from dnetlab.labels import Owner
from dnetlab.model import DEFAULT_BRIDGE, Action, Container, Impairment, Network, Scenario
from dnetlab.reconcile.desired import AttachmentSpec, attachment_spec
from dnetlab.verify.outcome import ActionResult, ActionStatus

# SIGTERM to SIGKILL for stop and restart; lab containers run under init, which ends at
# the SIGTERM, so this only bounds a container that ignores it
STOP_TIMEOUT_S = 10
OUTPUT_LINES = 5  # the output's last lines that a failed exec's message quotes
HOST_PREFIX = "host:"  # exec `on: host:KEY`: in the host's network namespace


class _NotDone(Exception):
    """The action cannot be carried out as written (a key with no live container)."""


@dataclass(frozen=True)
class _Lab:
    sc: Scenario
    engines: Mapping[str, Engine]
    ids: Mapping[str, str]
    owner: Owner
    stop: threading.Event | None
    reporter: Reporter

    def container(self, key: str | None) -> tuple[Container, Engine, str]:
        """The container, its host's engine and its live id."""
        c = next((c for c in self.sc.containers if c.key == key), None)
        if c is None:
            raise _NotDone(f"no container {key!r} in lab {self.sc.name}")
        cid = self.ids.get(c.key)
        if cid is None:
            raise _NotDone(f"container {c.key} has no live container in the lab")
        return c, self.engines[c.host], cid

    def network(self, key: str | None) -> Network:
        n = next((n for n in self.sc.networks if n.key == key), None)
        if n is None:
            raise _NotDone(f"no network {key!r} in lab {self.sc.name}")
        return n


Outcome = tuple[ActionStatus, str]


def perform(action: Action, sc: Scenario, engines: Mapping[str, Engine],
            ids: Mapping[str, str], owner: Owner, *, stop: threading.Event | None = None,
            reporter: Reporter | None = None) -> ActionResult:
    """Carry out one action on the live lab. `ids` maps container keys to the live
    containers (an action never recreates one, so they hold for every action); `stop`
    cuts a sleep short; `reporter` hears of the tools image being copied to a host.

    What the engine refuses is a failed result in its words; an engine that stopped
    answering (`EngineUnreachable`) is raised: the environment failed, not the action."""
    lab = _Lab(sc, engines, ids, owner, stop, reporter or PlainReporter(quiet=True))
    started = time.monotonic()
    try:
        status, message = _KINDS[action.kind](lab, action)
    except EngineUnreachable:
        raise
    except EngineError as exc:
        status, message = "failed", exc.message
    except _NotDone as exc:
        status, message = "failed", str(exc)
    return ActionResult(action.kind, action.describe(), status, message,
                        time.monotonic() - started)


# -- networks ------------------------------------------------------------------------------
def _disconnect(lab: _Lab, action: Action) -> Outcome:
    c, engine, cid = lab.container(action.container)
    net = lab.network(action.network)
    engine.disconnect(cid, net.name, c.name)
    return "done", f"{c.name} disconnected from {net.name}"


def connect_attachment(sc: Scenario, c: Container, net: Network,
                       ipv4: IPv4Address | None) -> AttachmentSpec:
    """The attachment a step's connect makes: the container's declared one on that
    network when it has one (its addresses and aliases, as `up` connects it), else a bare
    one; `ipv4` replaces the declared address. The container key is always an alias. The
    declared impairment is left out: connecting does not apply it (see the module)."""
    declared = c.attachment(net.key)
    if declared is not None:
        att = attachment_spec(sc, c, declared)
    else:
        att = AttachmentSpec(net.key, net.name, None, None, (c.key,), None)
    if ipv4 is not None:
        att = replace(att, ipv4=str(ipv4))
    if net.name == DEFAULT_BRIDGE:
        att = replace(att, aliases=())  # Docker's default bridge refuses aliases
    return replace(att, impair=None)


def _connect(lab: _Lab, action: Action) -> Outcome:
    c, engine, cid = lab.container(action.container)
    net = lab.network(action.network)
    att = connect_attachment(lab.sc, c, net, action.ipv4)
    engine.connect(cid, att, c.name)
    addr = f" as {att.ipv4}" if att.ipv4 else ""
    declared = c.attachment(net.key)
    left = (f"; its impairment ({declared.impair.describe()}) is not applied"
            if declared is not None and declared.impair is not None
            and not declared.impair.empty else "")
    return "done", f"{c.name} connected to {net.name}{addr}{left}"


# -- container states ------------------------------------------------------------------------
def _state_change(verb: str, change: Callable[[Engine, str, str], None]) -> Callable[
        [_Lab, Action], Outcome]:
    def run(lab: _Lab, action: Action) -> Outcome:
        c, engine, cid = lab.container(action.container)
        change(engine, cid, c.name)
        return "done", f"{c.name} {verb}"
    return run


# -- impairments -------------------------------------------------------------------------------
def _set_impairment(lab: _Lab, action: Action, imp: Impairment | None) -> Outcome:
    c, engine, cid = lab.container(action.container)
    net = lab.network(action.network)
    why = ensure_tools(lab.engines, c.host, lab.reporter)
    if why:
        return "failed", (f"host {c.host}: dnetlab's tools image {TOOLS_IMAGE} is missing "
                          f"({why}); build it with scripts/nettools-image.sh (make engine)")
    engine.set_impairment(cid, net.name, c.name, imp)
    if imp is None:
        return "done", f"{c.name} on {net.name}: no impairment"
    return "done", f"{c.name} on {net.name}: {imp.describe()}"


def _impair(lab: _Lab, action: Action) -> Outcome:
    imp = action.impair if action.impair is not None and not action.impair.empty else None
    return _set_impairment(lab, action, imp)


def _heal(lab: _Lab, action: Action) -> Outcome:
    return _set_impairment(lab, action, None)


# -- commands and time ---------------------------------------------------------------------
def _exec(lab: _Lab, action: Action) -> Outcome:
    on = action.on or ""
    if on.startswith(HOST_PREFIX):
        host = on.removeprefix(HOST_PREFIX)
        if host not in lab.engines:
            raise _NotDone(f"no host {host!r} in lab {lab.sc.name}")
        # as verify's host probes: a helper in the host's network namespace
        res = lab.engines[host].run_helper(
            lab.sc.probe_image, list(action.command), "host",
            {**lab.owner.labels(), labels.KIND: "helper"})
    else:
        _c, engine, cid = lab.container(on)
        res = engine.exec(cid, list(action.command))
    return exec_outcome(res)


def exec_outcome(res: ExecResult) -> Outcome:
    """Done with exit 0 (and the output's first line); failed otherwise, quoting the
    output's last lines, where a command says why it failed."""
    lines = [line for line in res.output.strip().splitlines() if line.strip()]
    if res.exit_code == 0:
        return "done", f"exit 0{': ' + lines[0] if lines else ''}"
    tail = "\n".join(lines[-OUTPUT_LINES:])
    return "failed", f"exit {res.exit_code}{': ' + tail if tail else ' (no output)'}"


def _sleep(lab: _Lab, action: Action) -> Outcome:
    if lab.stop is None:
        time.sleep(action.seconds)
        return "done", f"slept {action.seconds:g} s"
    started = time.monotonic()
    if lab.stop.wait(action.seconds):
        return "failed", f"interrupted after {time.monotonic() - started:.1f} s"
    return "done", f"slept {action.seconds:g} s"


_KINDS: Mapping[str, Callable[[_Lab, Action], Outcome]] = {
    "disconnect": _disconnect,
    "connect": _connect,
    "pause": _state_change("paused", lambda e, cid, n: e.pause(cid, n)),
    "unpause": _state_change("unpaused", lambda e, cid, n: e.unpause(cid, n)),
    "stop": _state_change("stopped", lambda e, cid, n: e.stop(cid, n, STOP_TIMEOUT_S)),
    "start": _state_change("started", lambda e, cid, n: e.start(cid, n)),
    "restart": _state_change("restarted", lambda e, cid, n: e.restart(cid, n, STOP_TIMEOUT_S)),
    "kill": _state_change("killed (SIGKILL)", lambda e, cid, n: e.kill(cid, n, "SIGKILL")),
    "impair": _impair,
    "heal": _heal,
    "exec": _exec,
    "sleep": _sleep,
}


# -- preflight -------------------------------------------------------------------------------
def step_problems(sc: Scenario, session: Session,
                  reporter: Reporter | None = None) -> list[str]:
    """What would stop the file's steps on these hosts, before any step runs: the tools
    image where a step impairs or heals (brought there as `up`'s preflight brings it, so
    also no copy in the middle of a step), and sch_netem where a step's impairment has a
    delay or jitter, naming the host, what it lacks and which actions ask for it."""
    reporter = reporter or PlainReporter(quiet=True)
    helpers: set[str] = set()
    netem: dict[str, list[str]] = {}
    for step in sc.steps:
        for a in step.actions:
            if a.kind not in ("impair", "heal") or a.container is None:
                continue
            c = next((c for c in sc.containers if c.key == a.container), None)
            if c is None:
                continue  # the load stage names an unknown container
            helpers.add(c.host)
            if a.kind == "impair" and a.impair is not None and a.impair.needs_netem:
                netem.setdefault(c.host, []).append(
                    f"{a.container} on {a.network} (step {step.name!r})")
    problems: list[str] = []
    for host in sorted(helpers):
        try:
            why = ensure_tools(session.engines, host, reporter)
            if why:
                problems.append(
                    f"host {host}: dnetlab's tools image {TOOLS_IMAGE} is missing ({why}); "
                    "build it with scripts/nettools-image.sh (make engine) on the machine "
                    "that runs dnetlab")
                continue
            missing = session.engines[host].netem_missing() if host in netem else None
        except EngineError as exc:
            problems.append(f"host {host}: cannot check what steps need ({exc.message})")
            continue
        if missing:
            problems.append(
                f"host {host}: delay and jitter need the kernel's sch_netem, which this host "
                f"lacks (tc: {missing}); used by the steps' impair of "
                f"{', '.join(netem[host])}. Load it there (modprobe sch_netem) or drop delay "
                "and jitter from those actions")
    return problems
