"""The lab's state through its steps, action by action (spec 10.3): what each action
finds when it runs, so that an action that cannot work there is a located error at
validation, not a failure in the middle of `verify --steps`.

Nothing is restored between steps: the state at the start of a step is the state at the
end of the one before. At the start every container runs, on the networks the file
declares. The walk stops where the state is no longer known: before a step that failed
the schema, or at an action that could not be built (its own error was reported).
Actions naming an unknown container or network are skipped (the reference check said
so). Each action costs a few dict lookups, so the walk is linear in the actions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any, Literal

from dnetlab.load.build import Broken
from dnetlab.load.findings import Findings, dotted
from dnetlab.load.steps import CONTAINER_ACTIONS
from dnetlab.load.yamlload import Path
from dnetlab.model import Action, Container, Network, Scenario, Step

Status = Literal["running", "paused", "stopped"]
# (address, subnet, gateway, path, subnet key): semantic's check of a static address
StaticCheck = Callable[[IPv4Address, IPv4Network | None, IPv4Address | None, Path, str], None]

_DONE = {"disconnect": "disconnected", "connect": "connected", "pause": "paused",
         "unpause": "unpaused", "stop": "stopped", "start": "started",
         "restart": "restarted", "kill": "killed"}
_AFTER: dict[str, Status] = {"pause": "paused", "unpause": "running", "stop": "stopped",
                             "start": "running", "restart": "running", "kill": "stopped"}
_AT_START = "every container runs when the steps begin"


@dataclass
class _Attached:
    ipv4: IPv4Address | None
    by: Path | None  # the action that connected it; None: the file declares it


class _Walk:
    def __init__(self, sc: Scenario, data: dict[str, Any], out: Findings,
                 static: StaticCheck) -> None:
        self.data = data
        self.out = out
        self.static = static
        self.containers: dict[str, Container] = {c.key: c for c in sc.containers}
        self.networks: dict[str, Network] = {n.key: n for n in sc.networks}
        self.swarm_hosts = frozenset(h.key for h in sc.hosts if h.swarm is not None)
        # container -> (status, the action that set it; None: as `up` leaves it)
        self.status: dict[str, tuple[Status, Path | None]] = {
            c.key: ("running", None) for c in sc.containers}
        self.on: dict[str, dict[str, _Attached]] = {
            c.key: {a.network: _Attached(a.ipv4, None) for a in c.attachments}
            for c in sc.containers}
        self.left: dict[tuple[str, str], Path] = {}  # (container, network) -> disconnect
        # (network, segment, address) -> container: static addresses in use
        self.taken: dict[tuple[str, str, IPv4Address], str] = {}
        for c in sc.containers:
            for a in c.attachments:
                if a.ipv4 is not None and a.network in self.networks:
                    self.taken.setdefault(self._slot(c, a.network, a.ipv4), c.key)

    def _slot(self, c: Container, network: str, addr: IPv4Address) -> (
            tuple[str, str, IPv4Address]):
        # each bridge instance is its own segment; an overlay is one across hosts
        n = self.networks[network]
        return network, "*" if n.driver == "overlay" else c.host, addr

    # -- where ---------------------------------------------------------------------------
    def _container_path(self, at: Path, a: Action) -> Path:
        body = self.data["steps"][at[1]]["do"][a.index][a.kind]
        return (*at, a.kind) if isinstance(body, str) else (*at, a.kind, "container")

    def _why_status(self, key: str) -> str:
        _, by = self.status[key]
        if by is None:
            return _AT_START
        kind = self.data_kind(by)
        return f"{dotted(by)} {_DONE.get(kind, kind)} it"

    def data_kind(self, at: Path) -> str:
        """The kind of the action at ("steps", i, "do", j)."""
        (kind,) = self.data["steps"][at[1]]["do"][at[3]]
        return str(kind)

    def _not_on(self, path: Path, c: Container, network: str) -> None:
        by = self.left.get((c.key, network))
        if by is not None:
            self.out.error(path, f"{c.key} is not on {network} at this point: {dotted(by)} "
                           "disconnected it", "connect it again first")
            return
        nets = sorted(self.on[c.key])
        if nets:
            hint = f"at this point it is on {', '.join(nets)}"
        elif c.network_mode is not None:
            hint = f"it has network_mode {c.network_mode}"
        else:
            hint = "at this point it is on no network of the scenario"
        self.out.error(path, f"{c.key} is not on {network} at this point", hint)

    # -- the walk ------------------------------------------------------------------------
    def run(self, sc: Scenario, broken: Broken,
            after: Callable[[Step, Mapping[str, frozenset[str]]], None]) -> None:
        """Walk the actions; after each step's, `after(step, networks of each container
        now)`. Once the walk has stopped, the later steps get the last state known."""
        first_broken = min(broken.steps, default=None)
        walking = True
        view = _Networks(self.on)
        for s in sc.steps:
            if first_broken is not None and s.index > first_broken:
                walking = False
            for n, a in enumerate(s.actions):
                if not walking or a.index != n:  # an action before it could not be built
                    walking = False
                    break
                self.action(("steps", s.index, "do", a.index), a)
            if len(s.actions) != len(self.data["steps"][s.index]["do"]):
                walking = False
            after(s, view)

    def action(self, at: Path, a: Action) -> None:
        if a.kind == "sleep":
            return
        if a.kind == "exec":
            on = a.on or ""
            if not on.startswith("host:") and on in self.containers:
                self._needs_running(on, (*at, "exec", "on"), "run a command in it")
            return
        c = self.containers.get(a.container or "")
        if c is None:
            return
        if a.kind in CONTAINER_ACTIONS:
            self.container_action(at, a, c)
            return
        network = a.network or ""
        if network not in self.networks:
            return
        npath: Path = (*at, a.kind, "network")
        cpath: Path = (*at, a.kind, "container")
        if a.kind in ("connect", "disconnect") and c.network_mode in ("none", "host"):
            self.out.error(cpath, f"{c.key} has network_mode {c.network_mode}: it cannot "
                           f"{a.kind}", f"{a.kind} needs a container on the scenario's "
                           "networks or Docker's default bridge")
            return
        if a.kind == "disconnect":
            if network not in self.on[c.key]:
                self._not_on(npath, c, network)
                return
            att = self.on[c.key].pop(network)
            if att.ipv4 is not None:
                self.taken.pop(self._slot(c, network, att.ipv4), None)
            self.left[(c.key, network)] = at
        elif a.kind == "connect":
            self.connect(at, a, c, network)
        else:  # impair, heal
            if network not in self.on[c.key]:
                self._not_on(npath, c, network)
                return
            self._needs_running(c.key, cpath, f"{a.kind} its interface")

    def connect(self, at: Path, a: Action, c: Container, network: str) -> None:
        npath: Path = (*at, "connect", "network")
        there = self.on[c.key].get(network)
        if there is not None:
            why = (f"{dotted(there.by)} connected it" if there.by is not None
                   else f"containers.{c.key}.networks declares it")
            self.out.error(npath, f"{c.key} is already on {network} at this point: {why}",
                           "disconnect it first, or drop this action")
            return
        n = self.networks[network]
        if n.driver == "overlay":
            if c.host not in self.swarm_hosts:
                self.out.error(npath, f"host {c.host!r} takes no part in the swarm, so "
                               f"{c.key} cannot join overlay {network!r}",
                               f"give host {c.host!r} a `swarm:` role")
                return
        elif c.host not in n.hosts:
            self.out.error(npath, f"network {network!r} is not created on host {c.host!r}, "
                           f"where {c.key} runs",
                           f"add {c.host!r} to the `hosts:` of network {network!r}")
            return
        declared = c.attachment(network)
        addr = a.ipv4 if a.ipv4 is not None else (declared.ipv4 if declared else None)
        apath: Path = (*at, "connect", "ipv4") if a.ipv4 is not None else npath
        # a connect that Docker would refuse leaves the state as it was
        if a.ipv4 is not None:
            errors = self.out.errors
            self.static(a.ipv4, n.subnet, n.gateway, apath, "subnet")
            if self.out.errors != errors:
                return
        if addr is not None:
            slot = self._slot(c, network, addr)
            other = self.taken.get(slot)
            if other is not None and other != c.key:
                self.out.error(apath, f"{addr} is already taken by container {other!r} on "
                               f"network {network!r} at this point",
                               "pick another address")
                return
            self.taken[slot] = c.key
        self.on[c.key][network] = _Attached(addr, at)
        self.left.pop((c.key, network), None)

    def container_action(self, at: Path, a: Action, c: Container) -> None:
        path = self._container_path(at, a)
        status, _ = self.status[c.key]
        k = c.key
        if a.kind == "pause" and status != "running":
            self.out.error(path, f"{k} is not running at this point: {self._why_status(k)}",
                           "only a running container can be paused")
            return
        if a.kind == "unpause" and status != "paused":
            self.out.error(path, f"{k} is not paused at this point: {self._why_status(k)}",
                           "unpause resumes a container that a pause action froze")
            return
        if a.kind in ("stop", "kill") and status == "stopped":
            self.out.error(path, f"{k} is already stopped at this point: "
                           f"{self._why_status(k)}", "start it first, or drop this action")
            return
        if a.kind == "start" and status != "stopped":
            hint = ("use unpause for a paused container" if status == "paused"
                    else "use restart to restart a running container")
            self.out.error(path, f"{k} is not stopped at this point: {self._why_status(k)}",
                           hint)
            return
        self.status[k] = (_AFTER[a.kind], at)

    def _needs_running(self, key: str, path: Path, to: str) -> None:
        status, _ = self.status[key]
        if status == "running":
            return
        fix = "unpause" if status == "paused" else "start"
        self.out.error(path, f"{key} is not running at this point: {self._why_status(key)}",
                       f"{fix} it first to {to}")


class _Networks(Mapping[str, frozenset[str]]):
    """The networks each container is on at this point of the walk, read when asked (a
    copy per step would cost steps x containers)."""

    def __init__(self, on: dict[str, dict[str, _Attached]]) -> None:
        self.on = on

    def __getitem__(self, key: str) -> frozenset[str]:
        return frozenset(self.on[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self.on)

    def __len__(self) -> int:
        return len(self.on)


def check(sc: Scenario, data: dict[str, Any], broken: Broken, out: Findings,
          static: StaticCheck,
          after: Callable[[Step, Mapping[str, frozenset[str]]], None]) -> None:
    """Walk the steps in order, reporting each action that the state it meets refuses;
    `after` each step's actions, with the networks of every container then (its probes
    are checked against that)."""
    if sc.steps:
        _Walk(sc, data, out, static).run(sc, broken, after)
