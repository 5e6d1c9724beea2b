"""What every probe type is made of (`ProbeBase`, `ProbeKind`) and what it is given.

A type module builds its probe from `Fields`, asks the loader to check its references
through `References`, turns a `Resolved` probe into a `Command`, and judges that command's
exit code and output as a `Verdict`. The loader and the runner are behind the two
protocols and the plain data here, so that a type module imports nothing from `load` or
`verify`: both of them import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

# A data path in the scenario, as `("probes", 2, "to")`: the same alias as
# `load.yamlload.Path`, repeated here because load imports this package, not the reverse.
Path = tuple[str | int, ...]


class FieldErrors(Protocol):
    """Where a probe type reports a field it cannot accept (load's `Findings`)."""

    def error(self, path: Path, message: str, hint: str | None = None) -> None: ...

    def pattern(self, path: Path, pattern: str) -> None:
        """A regular expression, to be compiled with `probes.pattern`'s engine; one that
        does not compile is an error at `path`. The loader does it, because a costly
        pattern is compiled in a child process with limits (load/patterns.py)."""


class References(Protocol):
    """The cross-object checks a probe type asks of the loader (load's semantic `Checker`):
    each reports an unknown or unusable name at `path`."""

    def container_ref(self, key: str, path: Path, field: str) -> None:
        """`field` of the probe at `path` (a key, or one of a list) names a container."""

    def on_ref(self, on: str, path: Path) -> None:
        """`on:` names a container, or a host as `host:KEY`."""

    def target_ref(self, source: str, target: Target, path: Path) -> None:
        """`to:` of the probe at `path` has an address that `source` can reach."""

    def hostname_ref(self, name: str, path: Path) -> None:
        """A name to resolve (a dns query): warned about when it has no dot and is no
        container key, alias nor `localhost`."""

    def hop_ref(self, hop: str, path: Path) -> None:
        """A hop is an address, a network, or a container."""

    def error(self, path: Path, message: str, hint: str | None = None) -> None: ...


# ---- the probes ------------------------------------------------------------------------------

TargetKind = Literal["container", "container_network", "address", "hostname"]


@dataclass(frozen=True)
class Target:
    """Where a probe points: `b1`, `b1@lan`, `10.0.0.5` or `example.internal`."""

    text: str
    kind: TargetKind
    container: str | None = None
    network: str | None = None


@dataclass(frozen=True)
class ProbeBase:
    """The fields of every probe; each type's dataclass adds its own and its `type`."""

    name: str
    within: float  # seconds to keep retrying; 0: one try
    index: int  # position in its list (the file's `probes`, or a step's), for messages
    name_given: bool


P = TypeVar("P", bound=ProbeBase)
P_co = TypeVar("P_co", bound=ProbeBase, covariant=True)


@dataclass(frozen=True)
class Fields:
    """One probe of the file, as the schema let it through, for its type's `build`.

    The loader has already done what every type shares: one `from` and one `to` of their
    lists (a list expands to every pair), the name, `within`. `source` and `target` are
    only read by the types that take `from` and `to`; for the others they hold None.
    """

    raw: Mapping[str, Any]  # the probe's mapping in the file
    path: Path  # ("probes", i)
    common: Mapping[str, Any]  # the `ProbeBase` fields
    source: str
    target: Target
    out: FieldErrors


# ---- running them ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Resolved(Generic[P_co]):
    """A probe made concrete against the live lab: where it runs and what it targets."""

    probe: P_co
    runs_on: str  # a container key, or "host:<host-key>"
    host: str  # the host key where it runs
    address: str | None = None  # `to` resolved: an IP, or a hostname resolved in the container
    # container key -> every address it has: `path`/`via` of a traceroute may name containers
    addresses_of: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # a probe with `same_as`: the output of its same command run there (the runner's job)
    same_as_output: str | None = None

    @property
    def name(self) -> str:
        return self.probe.name


@dataclass(frozen=True)
class Command:
    """A POSIX sh snippet whose output and exit code the probe's checker reads."""

    script: str
    tools: tuple[str, ...] = ()  # programs it needs; missing ones send it to a helper
    needs_target: bool = False  # reads the container's own filesystem or runs its command
    # not at the same time as another such command in one batch: two traceroutes from one
    # container take each other's replies (same probe ports, the same ICMP answers)
    one_at_a_time: bool = False


@dataclass(frozen=True)
class Verdict:
    passed: bool
    expected: str  # in words: "reachable, at most 0% loss"
    actual: str  # in words: "3 of 3 replies, 0% loss"
    # the output could not be judged (a pattern that took too long on it): the probe is
    # an error, not a failure, and is not tried again
    error: bool = False


# ---- a probe type ----------------------------------------------------------------------------

def _no_target(p: ProbeBase) -> Target | None:
    return None


def _no_containers(p: ProbeBase) -> tuple[str, ...]:
    return ()


def _always(v: Mapping[str, Any]) -> bool:
    return True


def _nowhere(p: ProbeBase) -> str | None:
    return None


@dataclass(frozen=True)
class ProbeKind(Generic[P]):
    """One probe type: its dataclass and the functions of its module, for the registry."""

    type_name: str  # its `type:` in the file, and its dataclass's `type`
    probe: type[P]
    build: Callable[[Fields], P]  # reports bad fields to `Fields.out`
    # the generated name: (the mapping, one `from`, one `to`) -> "ping a -> b"
    name: Callable[[Mapping[str, Any], str | None, str | None], str]
    check_refs: Callable[[P, References, Path], None]
    runs_on: Callable[[P], str]  # a container key, or "host:<key>"
    command: Callable[[Resolved[P]], Command]
    check: Callable[[Resolved[P], int, str], Verdict]  # (probe, exit code, output)
    target: Callable[[P], Target | None] = _no_target  # its `to`, resolved before it runs
    # container keys among its fields whose every address the check compares with
    named_containers: Callable[[P], tuple[str, ...]] = _no_containers
    # where the same command runs too, its output compared with the probe's own
    # (`Resolved.same_as_output`): "host:<key>" for `same_as`; None: nowhere
    same_as: Callable[[P], str | None] = _nowhere
    # (the probe's mapping) -> False when its `name:` is a field of the type (a dns query
    # in a file without `query`), so the label is generated
    name_is_label: Callable[[Mapping[str, Any]], bool] = _always
