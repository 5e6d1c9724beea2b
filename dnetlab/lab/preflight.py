"""The preflight that asks the engines: conflicts with what is there, images that are
missing (pulled, or copied from another host), drivers the kernel lacks. Nothing of the
lab is changed before it passes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from dnetlab.engine.engine import Engine
from dnetlab.engine.errors import EngineError
from dnetlab.errors import DnetlabError, EnvironmentFailure
from dnetlab.lab import impair
from dnetlab.lab.progress import Reporter
from dnetlab.lab.session import Session
from dnetlab.labels import Owner
from dnetlab.model import Host, Scenario
from dnetlab.reconcile import swarm
from dnetlab.reconcile.conflicts import (
    ExternalProblem,
    conflicts,
    external_problems,
    missing_images,
)
from dnetlab.reconcile.desired import HostDesired
from dnetlab.reconcile.observed import HostObserved

# An external network's problem as the user reads it: located at its entry in the file
# (FILE:LINE:COL: networks.KEY.external: ...) when the caller knows the file
Locate = Callable[[ExternalProblem], str]


def located_externals(desired: Mapping[str, HostDesired],
                      observed: Mapping[str, HostObserved],
                      locate: Locate | None = None) -> list[str]:
    return [locate(p) if locate is not None else p.text()
            for p in external_problems(desired, observed)]


def preflight(sc: Scenario, owner: Owner, session: Session, desired: Mapping[str, HostDesired],
              observed: dict[str, HostObserved], reporter: Reporter,
              pull: bool = True, locate: Locate | None = None) -> None:
    problems = located_externals(desired, observed, locate)
    problems += conflicts(owner, desired, observed)
    problems += swarm.conflicts(owner, sc.hosts, observed)
    problems += swarm.gossip_problems(owner, sc.hosts, observed)
    if any(n.driver == "ipvlan" for n in sc.networks):
        problems += _ipvlan_support(sc, session)
    problems += _vlan_parent_support(sc, session, observed)
    if not problems and any(d.impaired for d in desired.values()):
        problems += impair.preflight_problems(session, desired, observed, reporter)
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
        # replace(), not a positional rebuild: every other field (the swarm among them)
        # must survive, or the plan would init or join a swarm the host is already in
        observed[host] = replace(observed[host], images=observed[host].images | frozenset(refs))
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


def _vlan_parent_support(sc: Scenario, session: Session,
                         observed: Mapping[str, HostObserved]) -> list[str]:
    """A parent such as eth0.10 is VLAN 10 on eth0, which Docker creates with the network;
    where the kernel has no 802.1Q support that fails halfway through `up`. Find out
    first with a throwaway network, on each host that lacks the lab's network yet (an
    existing one already holds the parent)."""
    problems = []
    for n in sc.networks:
        if n.driver not in ("macvlan", "ipvlan") or not n.parent or "." not in n.parent:
            continue
        for host in n.hosts:
            if any(o.name == n.name for o in observed[host].networks):
                continue
            reason = session.engines[host].probe_vlan_parent(n.driver, n.parent)
            if reason and "vlan link" in reason:
                problems.append(
                    f"host {host}: network {n.key!r} needs {n.parent}, a VLAN sub-interface "
                    f"of {n.parent.rsplit('.', 1)[0]} that Docker could not create "
                    f"({reason}): this host's kernel has no 802.1Q VLAN support (module "
                    "8021q); load it there, or use a parent interface that exists")
    return problems
