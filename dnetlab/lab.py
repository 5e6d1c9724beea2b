"""The library API: bring a lab up, tear it down, read its status. The CLI is a thin
layer over these functions; so can be any other program.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dnetlab import labels, records, swarm
from dnetlab.apply import ApplyOptions, ApplyResult, apply
from dnetlab.desired import HostDesired, desired_state
from dnetlab.engine import Engine, EngineError
from dnetlab.errors import DnetlabError, EnvironmentFailure, UsageError
from dnetlab.model import Host, Scenario
from dnetlab.observed import HostObserved
from dnetlab.plan import Plan, reconcile, teardown
from dnetlab.preflight import conflicts, missing_images
from dnetlab.progress import PlainReporter, Reporter
from dnetlab.render import Rendered
from dnetlab.scenario import Loaded, parse
from dnetlab.source import Source

T = TypeVar("T")
DEFAULT_WORKERS = 8  # measured: 4-16 threads give the same speed on 2 cores


def _parallel(items: Iterable[T], fn: Callable[[T], Any], workers: int = 8) -> list[Any]:
    seq = list(items)
    if len(seq) <= 1:
        return [fn(x) for x in seq]
    with ThreadPoolExecutor(max_workers=min(workers, len(seq))) as pool:
        return list(pool.map(fn, seq))


@dataclass
class Session:
    """Open engine connections for a set of hosts; close() when done."""

    engines: dict[str, Engine] = field(default_factory=dict)

    @classmethod
    def open(cls, hosts: Iterable[Host]) -> Session:
        errors: list[str] = []
        engines: dict[str, Engine] = {}

        def one(h: Host) -> None:
            try:
                engines[h.key] = Engine.open(h)
            except DnetlabError as exc:
                errors.append(exc.message)

        _parallel(hosts, one)
        if errors:
            for e in engines.values():
                e.close()
            raise EnvironmentFailure("; ".join(sorted(errors)))
        return cls(engines)

    def observe(self, desired: Mapping[str, HostDesired] | None = None,
                swarm: bool = False) -> dict[str, HostObserved]:
        def one(key: str) -> tuple[str, HostObserved]:
            images = desired[key].images if desired and key in desired else ()
            try:
                return key, self.engines[key].observe(images, swarm=swarm)
            except EngineError as exc:
                raise EnvironmentFailure(exc.message) from exc

        return dict(_parallel(self.engines, one))

    def close(self) -> None:
        for e in self.engines.values():
            e.close()


def scenario_from_record(rec: records.Record) -> Scenario:
    """The deployed scenario, from the rendered text kept in the record."""
    n = len(rec.rendered.splitlines()) + 1
    identity = {i: i for i in range(1, n + 1)}
    source = Source(f"{rec.scenario_path} (as deployed)", rec.rendered)
    from dnetlab import __version__

    rendered = Rendered(source, rec.rendered, identity, {})
    if rec.dnetlab_version == __version__:
        try:
            return parse(rendered, trusted=True).scenario
        except Exception:  # a record edited by hand: let the full check explain
            pass
    return parse(rendered).scenario


@dataclass(frozen=True)
class UpResult:
    plan: Plan
    applied: ApplyResult | None  # None for a dry run or a lab already up to date
    seconds: float


def _uses_swarm(hosts: Iterable[Host]) -> bool:
    return any(h.swarm for h in hosts)


def preflight(sc: Scenario, session: Session, desired: Mapping[str, HostDesired],
              observed: dict[str, HostObserved], reporter: Reporter,
              pull: bool = True) -> None:
    problems = conflicts(sc.name, desired, observed)
    problems += swarm.conflicts(sc.name, sc.hosts, observed)
    if any(n.driver == "ipvlan" for n in sc.networks):
        problems += _ipvlan_support(sc, session)
    if problems:
        raise EnvironmentFailure("preflight found problems; nothing was changed:\n  "
                                 + "\n  ".join(problems))
    missing = missing_images(desired, observed)
    if not missing or not pull:
        return
    failures = []
    for host, refs in missing.items():
        for ref in refs:
            reporter.note(f"pulling image {ref} on host {host}")
            try:
                session.engines[host].pull(ref, progress=None)
            except EngineError as exc:
                why = exc.message.split(": ", 2)[-1]
                if not _copy_image(sc, session, observed, host, ref, reporter):
                    failures.append(
                        f"host {host}: image {ref} is missing and cannot be pulled ({why}), "
                        "and no other host of the lab nor the local engine has it; load or "
                        "build it there (docker load / docker build), or change `image:`")
        o = observed[host]
        observed[host] = HostObserved(o.host, o.api_version, o.server_version, o.containers,
                                      o.networks, o.volumes, o.images | frozenset(refs))
    if failures:
        raise EnvironmentFailure("preflight found problems; nothing was changed:\n  "
                                 + "\n  ".join(failures))


def _copy_image(sc: Scenario, session: Session, observed: Mapping[str, HostObserved],
                host: str, ref: str, reporter: Reporter) -> bool:
    """Stream an image the host lacks from another host of the lab, or from the local
    engine, over the connections already open (docker save | docker load)."""
    sources = [session.engines[k] for k, o in observed.items() if k != host and ref in o.images]
    local: Engine | None = None
    if not sources and not any(h.engine is None for h in sc.hosts):
        try:
            local = Engine.open(Host("local", None))
            if ref in local.observe([ref]).images:
                sources.append(local)
        except DnetlabError:
            pass
    try:
        for src in sources:
            reporter.note(f"copying image {ref} to host {host} from {src.host.key}")
            try:
                session.engines[host].load_image(src.save_image(ref))
                return True
            except EngineError as exc:
                reporter.note(f"copying {ref} from {src.host.key} failed: {exc.message}")
        return False
    finally:
        if local is not None:
            local.close()


def _ipvlan_support(sc: Scenario, session: Session) -> list[str]:
    """Docker creates an ipvlan network even where the kernel lacks ipvlan; only a
    container start fails. Find out with a throwaway network and container."""
    problems = []
    for n in (n for n in sc.networks if n.driver == "ipvlan"):
        for host in n.hosts:
            engine = session.engines[host]
            reason = engine.probe_ipvlan(n.parent, sc.probe_image)
            if reason:
                problems.append(f"host {host}: network {n.key!r} uses the ipvlan driver, which "
                                f"this host's kernel does not support ({reason}); use macvlan "
                                "or bridge")
    return problems


def plan_up(loaded: Loaded) -> tuple[Plan, list[str]]:
    """What `up` would do, and the preflight problems it would stop on; changes nothing."""
    sc = loaded.scenario
    session = Session.open(sc.hosts)
    try:
        desired = desired_state(sc)
        observed = session.observe(desired, swarm=_uses_swarm(sc.hosts))
        problems = conflicts(sc.name, desired, observed)
        problems += swarm.conflicts(sc.name, sc.hosts, observed)
        return reconcile(sc.name, desired, observed, sc.hosts), problems
    finally:
        session.close()


def _record(loaded: Loaded, state: str, variables: Mapping[str, str],
            vars_files: tuple[str, ...]) -> records.Record:
    sc = loaded.scenario
    path = loaded.rendered.source.path
    return records.Record(
        name=sc.name, scenario_path=str(Path(path).resolve()) if path else "",
        rendered=loaded.rendered.text, variables=dict(variables), vars_files=vars_files,
        hosts=tuple(records.HostRecord(h.key, h.engine, h.swarm, h.advertise_addr)
                    for h in sc.hosts), state=state,
        updated_at=time.time())


def up(loaded: Loaded, reporter: Reporter | None = None, *, workers: int = DEFAULT_WORKERS,
       stop: threading.Event | None = None, variables: Mapping[str, str] | None = None,
       vars_files: tuple[str, ...] = (), record_root: Path | None = None) -> UpResult:
    """Reconcile the live state of every host to the scenario. Idempotent."""
    started = time.monotonic()
    reporter = reporter or PlainReporter(quiet=True)
    sc = loaded.scenario
    with records.locked(sc.name, record_root, stop=stop):
        session = Session.open(sc.hosts)
        try:
            desired = desired_state(sc)
            observed = session.observe(desired, swarm=_uses_swarm(sc.hosts))
            preflight(sc, session, desired, observed, reporter)
            plan = reconcile(sc.name, desired, observed, sc.hosts)
            records.save(_record(loaded, "applying", variables or {}, vars_files), record_root)
            if plan.empty:
                records.save(_record(loaded, "up", variables or {}, vars_files), record_root)
                return UpResult(plan, None, time.monotonic() - started)
            result = apply(plan, session.engines, reporter, options=ApplyOptions(workers),
                           stop=stop, title=f"bringing up lab {sc.name}")
            state = "up" if result.ok else "partial"
            records.save(_record(loaded, state, variables or {}, vars_files), record_root)
            return UpResult(plan, result, time.monotonic() - started)
        finally:
            session.close()


@dataclass(frozen=True)
class DownResult:
    plan: Plan
    applied: ApplyResult | None
    seconds: float


def down(name: str, hosts: Iterable[Host], reporter: Reporter | None = None, *,
         workers: int = DEFAULT_WORKERS, graceful: bool = False, volumes: bool = False,
         stop: threading.Event | None = None, record_root: Path | None = None) -> DownResult:
    """Remove everything labelled as this lab's on every host; nothing else."""
    started = time.monotonic()
    reporter = reporter or PlainReporter(quiet=True)
    hosts = tuple(hosts)
    with records.locked(name, record_root, stop=stop):
        session = Session.open(hosts)
        try:
            observed = session.observe(swarm=_uses_swarm(hosts))
            plan = teardown(name, observed.values(), volumes=volumes, hosts=hosts)
            result = None
            if not plan.empty:
                result = apply(plan, session.engines, reporter,
                               options=ApplyOptions(workers, graceful=graceful, volumes=volumes),
                               stop=stop, title=f"taking down lab {name}")
            if result is None or result.ok:
                records.forget(name, record_root)
            return DownResult(plan, result, time.monotonic() - started)
        finally:
            session.close()


def hosts_for(name: str, sc: Scenario | None, record_root: Path | None = None) -> list[Host]:
    """Every host the lab may live on: the file's and the record's (it may differ after an
    edit)."""
    found: dict[str, Host] = {h.key: h for h in (sc.hosts if sc else ())}
    if name in records.names(record_root):
        for h in records.load(name, record_root).hosts:
            role = h.swarm if h.swarm in ("manager", "worker") else None
            found.setdefault(h.key, Host(h.key, h.engine, role,  # type: ignore[arg-type]
                                         h.advertise_addr))
    return list(found.values()) or [Host("local", None)]


# -- status ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class EndpointStatus:
    network: str
    ipv4: str | None
    ipv6: str | None
    mac: str | None


@dataclass(frozen=True)
class ContainerStatus:
    key: str
    name: str
    host: str
    state: str  # running, exited, ..., or "missing"
    image: str
    endpoints: tuple[EndpointStatus, ...]
    drift: tuple[str, ...]


@dataclass(frozen=True)
class NetworkStatus:
    key: str
    name: str
    host: str
    driver: str
    subnets: tuple[str, ...]
    state: str  # present / missing
    drift: tuple[str, ...]


@dataclass(frozen=True)
class LabStatus:
    scenario: str
    containers: tuple[ContainerStatus, ...]
    networks: tuple[NetworkStatus, ...]
    plan: Plan

    @property
    def up_to_date(self) -> bool:
        return self.plan.empty

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "up_to_date": self.up_to_date,
            "containers": [
                {"key": c.key, "name": c.name, "host": c.host, "state": c.state,
                 "image": c.image, "drift": list(c.drift),
                 "networks": [{"network": e.network, "ipv4": e.ipv4, "ipv6": e.ipv6,
                               "mac": e.mac} for e in c.endpoints]}
                for c in self.containers],
            "networks": [
                {"key": n.key, "name": n.name, "host": n.host, "driver": n.driver,
                 "subnets": list(n.subnets), "state": n.state, "drift": list(n.drift)}
                for n in self.networks],
            "pending_changes": [op.describe() for op in self.plan.ops],
        }


def status(sc: Scenario) -> LabStatus:
    session = Session.open(sc.hosts)
    try:
        desired = desired_state(sc)
        observed = session.observe(desired, swarm=_uses_swarm(sc.hosts))
    finally:
        session.close()
    plan = reconcile(sc.name, desired, observed, sc.hosts)
    causes: dict[tuple[str, str], list[str]] = {}
    for op in plan.ops:
        if op.action != "pull-image":
            causes.setdefault((op.host, op.name), []).append(op.describe())
    containers = []
    networks = []
    for host, d in desired.items():
        o = observed[host]
        owned = {c.label(labels.KEY): c for c in o.owned_containers(sc.name)}
        for spec in d.containers:
            live = owned.get(spec.key)
            containers.append(ContainerStatus(
                spec.key, spec.name, host, live.state if live else "missing",
                live.image if live else spec.image,
                tuple(EndpointStatus(e.network_name, e.ipv4, e.ipv6, e.mac)
                      for e in (live.endpoints if live else ())),
                tuple(causes.get((host, spec.name), ()))))
        owned_nets = {n.label(labels.KEY): n for n in o.owned_networks(sc.name)}
        for ns in d.networks:
            net = owned_nets.get(ns.key)
            networks.append(NetworkStatus(
                ns.key, ns.name, host, net.driver if net else ns.driver,
                net.subnets if net else tuple(s for s, _, _ in ns.ipam),
                "present" if net else "missing", tuple(causes.get((host, ns.name), ()))))
    return LabStatus(sc.name, tuple(containers), tuple(networks), plan)


def find_container(sc: Scenario, key: str) -> tuple[Host, str]:
    for c in sc.containers:
        if key in (c.key, c.name):
            return sc.host(c.host), c.name
    known = ", ".join(c.key for c in sc.containers)
    raise UsageError(f"no container {key!r} in lab {sc.name} (containers: {known})")


# -- verify ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyRun:
    report: Any  # verify.outcome.Report
    execs: int  # exec calls and helper containers used


def verify(sc: Scenario, *, workers: int = DEFAULT_WORKERS, stop: threading.Event | None = None,
           auto: bool = False, only: tuple[str, ...] = (),
           on_result: Callable[[Any], None] | None = None,
           on_start: Callable[[int], None] | None = None) -> VerifyRun:
    """Run the scenario's probes (and with `auto` the derived ones) in the live lab."""
    from dnetlab.verify.auto import derived
    from dnetlab.verify.outcome import Report
    from dnetlab.verify.runner import Verifier, live_lab, resolve_all

    started = time.monotonic()
    probes = list(sc.probes) + (derived(sc) if auto else [])
    if only:
        names = [p.name for p in probes]
        unknown = [n for n in only if n not in names]
        if unknown:
            raise UsageError(f"no probe named {', '.join(map(repr, unknown))} in lab {sc.name}; "
                             f"its probes: {', '.join(map(repr, names)) or 'none'}")
        probes = [p for p in probes if p.name in only]
    session = Session.open(sc.hosts)
    try:
        observed = session.observe()
        _remove_stale_helpers(sc, session, observed)
        lab = live_lab(sc, observed)
        resolved = resolve_all(sc, lab, probes)
        if on_start is not None:
            on_start(len(resolved))
        verifier = Verifier(sc, session.engines, lab, workers=workers, stop=stop,
                            on_result=on_result)
        results = verifier.run(resolved)
    finally:
        session.close()
    return VerifyRun(Report(sc.name, tuple(results), time.monotonic() - started),
                     verifier.execs)


def _remove_stale_helpers(sc: Scenario, session: Session,
                          observed: Mapping[str, HostObserved]) -> None:
    """Helpers of a run that was killed outright (kill -9) are cleared by the next one."""
    for host, o in observed.items():
        for c in o.owned_containers(sc.name):
            if c.label(labels.KIND) == "helper":
                with contextlib.suppress(DnetlabError):
                    session.engines[host].remove_container(c.id, c.name)
