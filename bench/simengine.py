"""A simulated Docker engine for the 100-host model (issue 13, part 4), and a recorder of
the calls dnetlab makes to a real one.

Both stand in at the one seam where dnetlab gets an engine connection
(`dnetlab.engine.engine.use_opener`): everything above it is dnetlab's real code (the
planner, preflight, the apply phases and waves, its thread pools, the per-host SSH batching
of verify, the SDK-facing code of `dnetlab.engine`). Below it:

- `RecordingConnection` wraps a real connection and logs each engine request (the SDK
  method, or the URL the local socket reader GETs) and each SSH session `exec_many` opens,
  with its duration: the calibration and the call sequence a fake must reproduce.
- `FakeConnection` answers the same requests from an in-memory state of a host (its
  containers, networks, images, its place in a shared swarm) and sleeps the cost measured
  for each on the real engines, scaled by `Sim.scale`. SSH hosts get a pool of channels
  that behaves like the SDK's (one new channel per request made while all open ones are
  busy, at most 10 kept), so the channel count is the real code's, not an assumption.

Why scaled real sleeps rather than a virtual clock: the code under test runs its own
thread pools (`apply`, `Session`, the verify rounds) and `time.monotonic()` deadlines;
a discrete-event clock would have to own every thread and every wait. Real sleeps keep
that code unchanged; scaling them (0.1-0.25) makes a 100-host run take seconds rather than
minutes. dnetlab's own CPU time is not scaled, so it weighs 1/scale too much in the
prediction: the bench runs one shape at two scales and reports the difference.
"""

from __future__ import annotations

import collections
import io
import itertools
import json
import re
import shlex
import statistics
import tarfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dnetlab.engine.connect import Connection, SocketReader, open_connection
from dnetlab.model import Host

SSH, LOCAL = "ssh", "local"
POOL_KEEP = 10  # the SDK's DEFAULT_MAX_POOL_SIZE: channels kept open per host
CONNECT, SESSION, CHANNEL = "connect", "ssh_session", "ssh_channel"
# an attached exec on a channel of its own to the engine's socket, from the channel's open
# to its close (`engine.exec._exec_on_engine_channel`): the exec start and the run
ATTACH = "exec_attach"
FAILED = "_failed"  # suffix of a recorded call that raised
POLLED = frozenset({"inspect_network"})  # the reads dnetlab's waits repeat

# SDK methods that are requests to the engine (the others build arguments client-side)
REQUESTS = frozenset({
    "containers", "networks", "volumes", "images", "info", "version", "inspect_network",
    "inspect_swarm", "inspect_image", "inspect_container", "create_network",
    "remove_network", "create_volume", "remove_volume", "create_container",
    "connect_container_to_network", "disconnect_container_from_network", "start", "stop",
    "restart", "kill", "pause", "unpause", "remove_container", "init_swarm", "join_swarm",
    "leave_swarm", "exec_create", "exec_start", "exec_inspect", "get_archive",
    "put_archive", "pull", "get_image", "load_image", "wait", "logs",
})


def transport_of(url: str) -> str:
    return SSH if url.startswith("ssh://") else LOCAL


def kind_of_url(url: str) -> str:
    """The SDK method a local socket GET stands for (`engine.read` reads either way)."""
    path = urllib.parse.urlsplit(re.sub(r"^/v[\d.]+", "", url)).path
    if path.startswith("/networks/"):
        return "inspect_network"
    return {"/containers/json": "containers", "/networks": "networks", "/volumes": "volumes",
            "/images/json": "images", "/info": "info", "/version": "version"}.get(path, path)


# -- the log of calls ----------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    host: str
    transport: str
    kind: str
    seconds: float
    jobs: int = 0  # ssh_session: the docker execs it ran
    at: float = 0.0  # perf_counter() when it started (recorded calls)
    arg: str = ""  # what a read a wait polls asked for (`POLLED`): the network


class CallLog:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def add(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def take(self) -> list[Call]:
        """The calls so far; the log starts again empty."""
        with self._lock:
            got, self.calls = self.calls, []
        return got


def decided(calls: list[Call]) -> Iterator[Call]:
    """The requests dnetlab decided to make: a wait's repeats left out, as their number is
    the wait's length, Docker's, run by run. A repeat is a retry that failed (`FAILED`:
    `remove_network` while Docker still holds an endpoint), or a read of `POLLED` asking
    the host for what its previous one of that kind did (`down` waiting for a left
    swarm's endpoint on docker_gwbridge, `up` for the swarm's gossip: `gossipwait`)."""
    last: dict[tuple[str, str], str] = {}
    for c in calls:
        if c.kind == CHANNEL or c.kind.endswith(FAILED):
            continue
        if c.kind in POLLED:
            seen, last[(c.host, c.kind)] = last.get((c.host, c.kind)), c.arg
            if seen == c.arg:
                continue
        yield c


def kinds(calls: list[Call], hosts: Callable[[str], str] = lambda h: "") -> Counter[str]:
    """The multiset of the kinds of the calls dnetlab decided to make (`decided`), per
    `hosts(host)` class when given ("manager"...)."""
    return Counter(f"{hosts(c.host)}{c.kind}" for c in decided(calls))


def per_host(calls: list[Call]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for c in calls:
        if c.kind != CHANNEL:
            out.setdefault(c.host, Counter())[c.kind] += 1
    return out


# -- recording a real engine -----------------------------------------------------------------

class _Timed:
    def __init__(self, log: CallLog, host: str, transport: str) -> None:
        self.log, self.host, self.transport = log, host, transport

    def timed(self, kind: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run and log one call; one that fails is logged as KIND + FAILED: a retry of a
        wait (`remove_network` while Docker still holds a left swarm's dead endpoint on
        docker_gwbridge), as many as the wait lasts, not a cost of the call's kind."""
        started = time.perf_counter()
        failed = True
        try:
            out = fn(*args, **kwargs)
            failed = False
            return out
        finally:
            self.log.add(Call(self.host, self.transport, kind + (FAILED if failed else ""),
                              time.perf_counter() - started, at=started,
                              arg=str(args[0]) if kind in POLLED and args else ""))


class RecordingAPI(_Timed):
    """The SDK client, each request logged; the rest passed through."""

    def __init__(self, api: Any, log: CallLog, host: str, transport: str) -> None:
        super().__init__(log, host, transport)
        self._api = api

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._api, name)
        if name in REQUESTS:
            return lambda *a, **kw: self.timed(name, attr, *a, **kw)
        if name == "_custom_adapter" and attr is not None:
            return _RecordingAdapter(attr, self)
        return attr


class _RecordingAdapter:
    """The SSH adapter: each channel to the engine's socket an exec asks for is logged as
    one `ATTACH` call, from its open to its close (the pool's channels are opened by the
    adapter itself, not through here)."""

    def __init__(self, adapter: Any, owner: _Timed) -> None:
        self._adapter, self._owner = adapter, owner

    def open_engine_channel(self, timeout: float) -> Any:
        started = time.perf_counter()
        chan = self._adapter.open_engine_channel(timeout)
        return None if chan is None else _RecordingAttach(chan, self._owner, started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)


class _RecordingAttach:
    def __init__(self, chan: Any, owner: _Timed, started: float) -> None:
        self._chan, self._owner, self._started = chan, owner, started

    def close(self) -> None:
        self._chan.close()
        o = self._owner
        o.log.add(Call(o.host, o.transport, ATTACH, time.perf_counter() - self._started,
                       at=self._started))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chan, name)


class RecordingReader(SocketReader):
    def __init__(self, reader: SocketReader, log: CallLog, host: str) -> None:
        super().__init__(reader.path, reader.timeout)
        self.prefix = reader.prefix
        self._reader, self._timed = reader, _Timed(log, host, LOCAL)

    def get(self, url: str) -> Any:
        return self._timed.timed(kind_of_url(url), self._reader.get, url)


class _RecordingSSHClient:
    """The paramiko client under `exec_many`: each session logged with its duration (from
    open to close) and the number of docker execs its script runs."""

    def __init__(self, client: Any, log: CallLog, host: str) -> None:
        self._client, self.log, self.host = client, log, host

    def get_transport(self) -> Any:
        transport = self._client.get_transport()
        client = self

        class Transport:
            def is_active(self) -> bool:
                return bool(transport.is_active())

            def open_session(self, timeout: float | None = None) -> Any:
                return _RecordingChannel(transport.open_session(timeout=timeout), client)

        return Transport() if transport is not None else None


class _RecordingPrepared:
    """The session `verify` prepared when it connected (`ssh.PreparedCommand`), logged as a
    session from when `exec_many` takes it: its idle wait before is not the host's work."""

    def __init__(self, prepared: Any, owner: _RecordingSSHClient) -> None:
        self._prepared, self._owner = prepared, owner
        self.command = prepared.command

    def take(self) -> Any:
        chan = self._prepared.take()
        return None if chan is None else _RecordingChannel(chan, self._owner)

    def discard(self) -> None:
        self._prepared.discard()


class _RecordingChannel:
    def __init__(self, chan: Any, owner: _RecordingSSHClient) -> None:
        self._chan, self._owner = chan, owner
        self._started = time.perf_counter()
        self._jobs = 0

    def sendall(self, data: bytes) -> None:
        self._jobs += len(_exec_jobs(data.decode(errors="replace")))
        self._chan.sendall(data)

    def close(self) -> None:
        self._chan.close()
        self._owner.log.add(Call(self._owner.host, SSH, SESSION,
                                 time.perf_counter() - self._started, self._jobs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chan, name)


class RecordingConnection(Connection):
    """A real connection whose engine requests are logged."""

    log: CallLog
    _wrapped: Any = None

    @classmethod
    def around(cls, conn: Connection, log: CallLog) -> RecordingConnection:
        rec = cls.__new__(cls)
        rec.__dict__.update(conn.__dict__)
        rec.log = log
        if rec.reader is not None:
            rec.reader = RecordingReader(rec.reader, log, conn.host.key)
        adapter = getattr(conn.__dict__.get("_api"), "_custom_adapter", None)
        if getattr(adapter, "prepared", None) is not None:
            adapter.prepared = _RecordingPrepared(adapter.prepared,
                                                  _RecordingSSHClient(None, log, conn.host.key))
        return rec

    @property
    def api(self) -> Any:
        if self._wrapped is None:
            self._wrapped = RecordingAPI(Connection.api.fget(self),  # type: ignore[attr-defined]
                                         self.log, self.host.key, transport_of(self.url))
        return self._wrapped

    def ssh_client(self) -> Any:
        client = super().ssh_client()
        return None if client is None else _RecordingSSHClient(client, self.log,
                                                                self.host.key)


def recording_opener(log: CallLog) -> Callable[[Host, float], Connection]:
    def opener(host: Host, timeout: float) -> Connection:
        started = time.perf_counter()
        conn = open_connection(host, timeout)
        log.add(Call(host.key, transport_of(conn.url), CONNECT,
                     time.perf_counter() - started))
        return RecordingConnection.around(conn, log)

    return opener


# -- the costs the fake replays ------------------------------------------------------------

@dataclass(frozen=True)
class Costs:
    """Seconds per engine call kind and transport, as measured on the real engines with one
    call at a time (`calibrate`), and how much of that work the engines can do at once."""

    call_s: Mapping[str, Mapping[str, float]]  # transport -> kind -> seconds
    connect_s: Mapping[str, float]  # transport -> opening a connection (SSH: + 1 channel)
    channel_s: float  # a new pooled SSH channel (to the engine's socket, or dial-stdio's)
    session_base_s: float  # exec_many: one SSH session running `sh -s`...
    session_job_s: float  # ... and each `docker exec` it runs
    parallel: float  # engine calls one machine serves at once at full speed
    shared: bool = True  # True: all hosts share one machine's `parallel` (the test bed)
    # after a swarm leave, how long docker_gwbridge keeps the `ingress-sbox` endpoint that
    # down waits out before removing it (`engine.change.remove_left_swarm_bridge`)
    gwbridge_linger_s: float = 0.0
    # the share of an attached exec's time (`ATTACH`, measured one at a time) that is the
    # machine's work; the rest is waiting (round trips, the client) that holds no core
    attach_busy: float = 1.0

    def call(self, transport: str, kind: str) -> float:
        table = self.call_s.get(transport) or {}
        if kind in table:
            return table[kind]
        reads = [table[k] for k in ("containers", "networks", "info") if k in table]
        return statistics.median(reads) if reads else 0.0

    def flat(self, prefix: str = "model_cal_") -> dict[str, float]:
        """As bench/results.json keeps figures: flat, one float each."""
        out = {f"{prefix}{t}_{k}_s": v for t, table in self.call_s.items()
               for k, v in table.items()}
        out.update({f"{prefix}{t}_connect_s": v for t, v in self.connect_s.items()})
        out.update({f"{prefix}ssh_channel_s": self.channel_s,
                    f"{prefix}ssh_session_base_s": self.session_base_s,
                    f"{prefix}ssh_session_job_s": self.session_job_s,
                    f"{prefix}gwbridge_linger_s": self.gwbridge_linger_s,
                    f"{prefix}attach_busy": self.attach_busy,
                    f"{prefix}parallel": self.parallel})
        return out

    @classmethod
    def from_flat(cls, flat: Mapping[str, float], prefix: str = "model_cal_",
                  shared: bool = True) -> Costs:
        call_s: dict[str, dict[str, float]] = {}
        connect_s: dict[str, float] = {}
        for key, v in flat.items():
            if not key.startswith(prefix) or not key.endswith("_s"):
                continue
            t, _, kind = key[len(prefix):-2].partition("_")
            if t not in (SSH, LOCAL) or kind.startswith(("channel", "session")) or \
                    key == f"{prefix}gwbridge_linger_s":
                continue
            if kind == "connect":
                connect_s[t] = v
            else:
                call_s.setdefault(t, {})[kind] = v
        return cls(call_s, connect_s, flat[f"{prefix}ssh_channel_s"],
                   flat[f"{prefix}ssh_session_base_s"], flat[f"{prefix}ssh_session_job_s"],
                   flat[f"{prefix}parallel"], shared,
                   flat.get(f"{prefix}gwbridge_linger_s", 0.0),
                   flat.get(f"{prefix}attach_busy", 1.0))


# -- the simulation's shared state -------------------------------------------------------

class Slots:
    """A machine's engine work slots, given in the order asked for. A plain semaphore lets
    the thread that just gave a slot back take it again before the one it woke runs: two
    of the 8 workers then did all of a host's requests while six waited a second, so
    no host but the first ever had more than two requests in flight (and two channels),
    where a real engine serves all eight side by side (eight channels a host)."""

    def __init__(self, parallel: float) -> None:
        self._free = max(1, round(parallel))
        self._lock = threading.Lock()
        self._waiting: collections.deque[threading.Event] = collections.deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over with the event: nothing to take

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


class Sim:
    """The fake hosts, the swarm they may form, the clock, and what was counted."""

    def __init__(self, costs: Costs, scale: float = 0.2,
                 images: tuple[str, ...] = ("busybox:latest",)) -> None:
        import docker  # noqa: F401 - `Connection.sdk()` hands out its types and errors

        self.costs, self.scale = costs, scale
        self.images = images
        self.log = CallLog()
        self.hosts: dict[str, FakeHost] = {}
        self.swarm: FakeSwarm | None = None
        self.lock = threading.RLock()
        self.channels = self.connections = 0
        # the hosts give channels to their engine's socket when the calibration's did
        self.streams = ATTACH in (costs.call_s.get(SSH) or {})
        self._ids = itertools.count(1)
        self._shared = Slots(costs.parallel)

    def new_id(self) -> str:
        return f"{next(self._ids):064x}"

    def host(self, key: str, address: str, transport: str) -> FakeHost:
        with self.lock:
            if key not in self.hosts:
                self.hosts[key] = FakeHost(self, key, address, transport)
            return self.hosts[key]

    def reset_counts(self) -> tuple[int, int]:
        with self.lock:
            got = (self.channels, self.connections)
            self.channels = self.connections = 0
        return got

    def busy(self, host: FakeHost, seconds: float) -> None:
        """`seconds` of engine work on `host`, queued behind the machine's other work."""
        sem = self._shared if self.costs.shared else host.slots
        with sem:
            time.sleep(seconds * self.scale)

    def opener(self) -> Callable[[Host, float], Connection]:
        def opener(host: Host, timeout: float) -> Connection:
            url = host.engine or "unix:///var/run/docker.sock"
            t = transport_of(url)
            address = urllib.parse.urlsplit(url).hostname or "127.0.0.1"
            fake = self.host(host.key, address, t)
            return fake.connect(host, url, timeout)

        return opener


@dataclass
class FakeSwarm:
    id: str
    labels: dict[str, str]
    managers: dict[str, str] = field(default_factory=dict)  # host key -> address
    workers: dict[str, str] = field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> network


def _network(nid: str, name: str, driver: str, scope: str, labels: dict[str, str],
             subnets: list[dict[str, str]]) -> dict[str, Any]:
    return {"Id": nid, "Name": name, "Driver": driver, "Scope": scope, "Labels": labels,
            "IPAM": {"Config": subnets}, "Containers": {}}


class FakeHost:
    """One engine's objects, and its channel pool when reached over SSH."""

    def __init__(self, sim: Sim, key: str, address: str, transport: str) -> None:
        self.sim, self.key, self.address, self.transport = sim, key, address, transport
        self.containers: dict[str, dict[str, Any]] = {}
        self.networks: dict[str, dict[str, Any]] = {
            sim.new_id(): _network("", n, n if n != "none" else "null", "local", {}, [])
            for n in ("bridge", "host", "none")}
        for nid, n in self.networks.items():
            n["Id"] = nid
        self.images = set(sim.images)
        self.execs: dict[str, dict[str, Any]] = {}
        self.files: dict[tuple[str, str], str] = {}  # (container, path) -> text
        self.free_channels = 0
        self.gwbridge_busy_until = 0.0  # monotonic: `ingress-sbox` still on docker_gwbridge
        # swarm gossip reaching this host late (seen on the test bed): host key -> how many
        # more inspects of a swarm network leave that member out of its peers
        self.gossip_late: dict[str, int] = {}
        self.slots = Slots(sim.costs.parallel)

    # -- transport -------------------------------------------------------------------------
    def connect(self, host: Host, url: str, timeout: float) -> Connection:
        sim = self.sim
        with sim.lock:
            sim.connections += 1 if self.transport == SSH else 0
            # the connection's first channel, and the session asking where the engine's
            # socket is (`ssh.SOCKET_QUERY`, once a connection where hosts give channels
            # to it; its time is in the measured connect)
            sim.channels += (1 + sim.streams) if self.transport == SSH else 0
        seconds = sim.costs.connect_s.get(self.transport, 0.0)
        self.sim.busy(self, seconds)
        sim.log.add(Call(self.key, self.transport, CONNECT, seconds))
        api = FakeAPI(self)
        reader = FakeReader(self) if self.transport == LOCAL else None
        with sim.lock:  # a new client: a pool of its own, holding the channel just made
            self.free_channels = 1 if self.transport == SSH else 0
        conn = Connection(host, api, url, "1.41", reader, timeout)
        conn.server_version = "20.10.24+dfsg1"
        return conn

    def request(self, kind: str, jobs: int = 0, lanes: int = 1, arg: str = "") -> None:
        """One request's cost: a channel from the pool (a new one when all are busy), the
        engine's work, the channel back to the pool."""
        sim, costs = self.sim, self.sim.costs
        if self.transport == SSH:
            with sim.lock:
                reuse = self.free_channels > 0
                if reuse:
                    self.free_channels -= 1
                else:
                    sim.channels += 1
            if not reuse:  # logged apart: no request of its own (`kinds` leaves it out)
                sim.busy(self, costs.channel_s)
                sim.log.add(Call(self.key, self.transport, CHANNEL, costs.channel_s))
        if kind == SESSION:
            seconds = costs.session_base_s + costs.session_job_s * jobs
            self._session(jobs, lanes)
        else:
            seconds = costs.call(self.transport, kind)
            sim.busy(self, seconds)
        sim.log.add(Call(self.key, self.transport, kind, seconds, jobs, arg=arg))
        if self.transport == SSH and kind != SESSION:
            with sim.lock:
                self.free_channels = min(POOL_KEEP, self.free_channels + 1)

    def attach(self) -> None:
        """An exec's own channel to the engine's socket (never pooled): its cost is the
        measured `ATTACH`, channel open included."""
        sim = self.sim
        with sim.lock:
            sim.channels += 1
        seconds = sim.costs.call(self.transport, ATTACH)
        sim.busy(self, seconds * sim.costs.attach_busy)
        time.sleep(seconds * (1 - sim.costs.attach_busy) * sim.scale)
        sim.log.add(Call(self.key, self.transport, ATTACH, seconds))

    def _session(self, jobs: int, lanes: int) -> None:
        """The host script of `hostexec`: its shell, then its `docker exec`s in `lanes`
        lanes, each exec engine work of its own. The machine's slots are shared exec by
        exec, as the host's cores are by its execs: three hosts' scripts on the bed's two
        cores take one and a half times one script, not two."""
        sim, costs = self.sim, self.sim.costs
        sim.busy(self, costs.session_base_s)
        lanes = max(1, min(lanes, jobs))
        per_lane = [jobs // lanes + (1 if k < jobs % lanes else 0) for k in range(lanes)]

        def lane(n: int) -> None:
            for _ in range(n):
                sim.busy(self, costs.session_job_s)

        threads = [threading.Thread(target=lane, args=(n,)) for n in per_lane if n]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # -- state -----------------------------------------------------------------------------
    def visible_networks(self) -> list[dict[str, Any]]:
        """Local networks, and the swarm's overlays: on a manager all of them, on a worker
        those a container of this host is attached to (as Docker lists them)."""
        out = list(self.networks.values())
        sw = self.sim.swarm
        if sw is not None and (self.key in sw.managers or self.key in sw.workers):
            used = {ep["NetworkID"] for c in self.containers.values()
                    for ep in c["NetworkSettings"]["Networks"].values()}
            out += [n for nid, n in sw.networks.items()
                    if self.key in sw.managers or nid in used]
        return out

    def network(self, name_or_id: str, listed: bool = False) -> dict[str, Any]:
        """A network by name or ID; a member of a swarm finds every attachable overlay of
        it (a worker asks the managers), `listed`: only what it lists."""
        import docker

        sw = self.sim.swarm
        found = self.visible_networks()
        if not listed and sw is not None and (self.key in sw.managers or
                                              self.key in sw.workers):
            found += list(sw.networks.values())
        for n in found:
            if name_or_id in (n["Id"], n["Name"]):
                return n
        raise docker.errors.NotFound(f"network {name_or_id} not found")

    def container(self, name_or_id: str) -> dict[str, Any]:
        import docker

        for c in self.containers.values():
            if name_or_id in (c["Id"], c["Names"][0][1:]):
                return c
        raise docker.errors.NotFound(f"No such container: {name_or_id}")

    def add_gwbridge(self) -> None:
        """What joining a swarm makes on a host (down removes it after the leave)."""
        if not any(n["Name"] == "docker_gwbridge" for n in self.networks.values()):
            nid = self.sim.new_id()
            self.networks[nid] = _network(nid, "docker_gwbridge", "bridge", "local", {}, [])

    def swarm_info(self) -> dict[str, Any]:
        sw = self.sim.swarm
        drivers = ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"]
        if sw is None or (self.key not in sw.managers and self.key not in sw.workers):
            return {"Swarm": {"LocalNodeState": "inactive"}, "Plugins": {"Network": drivers}}
        manager = self.key in sw.managers
        raw: dict[str, Any] = {
            "LocalNodeState": "active", "NodeID": f"node-{self.key}", "NodeAddr": self.address,
            "ControlAvailable": manager,
            "RemoteManagers": [{"Addr": f"{a}:2377"} for a in sw.managers.values()]}
        if manager:
            raw["Cluster"] = {"ID": sw.id, "Spec": {"Labels": dict(sw.labels)}}
        return {"Swarm": raw, "Plugins": {"Network": drivers}}


class FakeReader(SocketReader):
    """The local socket reader's GETs, from the fake host."""

    def __init__(self, host: FakeHost) -> None:
        super().__init__("/var/run/docker.sock", 30.0)
        self.h, self.prefix = host, "/v1.41"

    def get(self, url: str) -> Any:
        kind = kind_of_url(url)
        api = FakeAPI(self.h)
        if kind == "inspect_network":
            nid = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
            return api.inspect_network(nid, verbose=True)
        if kind == "volumes":
            return api.volumes()
        return getattr(api, kind)()


def _exec_jobs(script: str) -> list[tuple[str, str]]:
    """The (container, script) of each `docker exec ... sh -c SCRIPT >"$d/INDEX"` in a host
    script of `hostexec`, in the order of INDEX (the script runs them in lanes, so they
    are not written in that order)."""
    try:
        words = shlex.split(script)
    except ValueError:
        return []
    found: list[tuple[int, str, str]] = []
    for i in range(len(words) - 6):
        if words[i:i + 2] == ["docker", "exec"] and words[i + 3:i + 5] == ["sh", "-c"]:
            m = re.match(r">\$d/(\d+)$", words[i + 6])
            found.append((int(m.group(1)) if m else len(found), words[i + 2], words[i + 5]))
    return [(container, inner) for _, container, inner in sorted(found)]


def _lanes(script: str) -> int:
    """How many lanes a host script of `hostexec` runs its execs in (each a `(` line)."""
    return max(1, sum(1 for line in script.splitlines() if line == "("))


_PING = re.compile(r"ping -c (\d+)")


def run_batch(script: str) -> str:
    """What a container prints for a batch of probes (`verify.batch.script`): each command
    ends with status 0, and a ping gets all its replies."""
    m = re.search(r"T='([^']+)'", script)
    if m is None:
        return ""
    token = m.group(1)
    out = []
    for i, cmd in enumerate(re.findall(r"\( (.*?)\n\) >\"\$d/(\d+)\"", script, re.S)):
        text = ""
        ping = _PING.search(cmd[0])
        if ping:
            n = int(ping.group(1))
            text = f"{n} packets transmitted, {n} packets received, 0% packet loss"
        out.append(f"{token} begin {i} 0\n{text}\n\n{token} end {i}")
    return "\n".join(out) + "\n"


class FakeAPI:
    """The subset of the SDK's `APIClient` that dnetlab calls, answered from `FakeHost`."""

    api_version = "1.41"

    def __init__(self, host: FakeHost) -> None:
        self.h = host
        self._custom_adapter = _FakeAdapter(host) if host.transport == SSH else None

    def _req(self, kind: str, arg: str = "") -> None:
        self.h.request(kind, arg=arg)

    def close(self) -> None:
        pass

    # -- reads -----------------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        self._req("version")
        return {"ApiVersion": "1.41", "Version": "20.10.24+dfsg1"}

    def containers(self, all: bool = False, **_: Any) -> list[dict[str, Any]]:
        self._req("containers")
        with self.h.sim.lock:
            return [dict(c) for c in self.h.containers.values()]

    def networks(self, **_: Any) -> list[dict[str, Any]]:
        self._req("networks")
        with self.h.sim.lock:
            return [dict(n) for n in self.h.visible_networks()]

    def volumes(self, **_: Any) -> dict[str, Any]:
        self._req("volumes")
        return {"Volumes": []}

    def images(self, **_: Any) -> list[dict[str, Any]]:
        self._req("images")
        return [{"RepoTags": sorted(self.h.images)}]

    def inspect_image(self, ref: str) -> dict[str, Any]:
        import docker

        self._req("inspect_image")
        if ref not in self.h.images:
            raise docker.errors.ImageNotFound(f"No such image: {ref}")
        return {"RepoTags": [ref]}

    def info(self) -> dict[str, Any]:
        self._req("info")
        with self.h.sim.lock:
            return self.h.swarm_info()

    def inspect_network(self, net_id: str, verbose: bool = False, **_: Any) -> dict[str, Any]:
        self._req("inspect_network", net_id)
        with self.h.sim.lock:
            n = dict(self.h.network(net_id, listed=True))
            if n["Name"] == "docker_gwbridge" and time.monotonic() < self.h.gwbridge_busy_until:
                n["Containers"] = {"ingress-sbox": {"Name": "gateway_ingress-sbox"}}
            sw = self.h.sim.swarm
            if n["Scope"] == "swarm" and sw is not None:
                # every member knows every member, but those whose gossip is late here
                members = {**sw.managers, **sw.workers}
                late = {k for k, left in self.h.gossip_late.items() if left > 0}
                for k in late:
                    self.h.gossip_late[k] -= 1
                n["Peers"] = [{"IP": a} for k, a in members.items() if k not in late]
                # the plain containers on it, on the hosts this one's gossip knows
                n["Services"] = {"": {"Tasks": [
                    {"Name": c["Names"][0][1:]} for k, h in self.h.sim.hosts.items()
                    if k in members and k not in late for c in h.containers.values()
                    if any(ep.get("NetworkID") == n["Id"]
                           for ep in c["NetworkSettings"]["Networks"].values())]}}
            return n

    def inspect_swarm(self) -> dict[str, Any]:
        self._req("inspect_swarm")
        return {"JoinTokens": {"Manager": "SWMTKN-m", "Worker": "SWMTKN-w"}}

    # -- arguments built client-side (no request, as in the SDK) ----------------------------
    def create_host_config(self, **kw: Any) -> dict[str, Any]:
        return kw

    def create_networking_config(self, endpoints: dict[str, Any]) -> dict[str, Any]:
        return endpoints

    def create_endpoint_config(self, **kw: Any) -> dict[str, Any]:
        return kw

    def create_swarm_spec(self, labels: dict[str, str] | None = None,
                          **_: Any) -> dict[str, Any]:
        return {"Labels": dict(labels or {})}

    # -- swarm -----------------------------------------------------------------------------
    def init_swarm(self, advertise_addr: str | None = None, swarm_spec: Any = None,
                   **_: Any) -> str:
        self._req("init_swarm")
        sim = self.h.sim
        with sim.lock:
            sim.swarm = FakeSwarm(sim.new_id()[:25], dict((swarm_spec or {}).get("Labels")
                                                          or {}))
            sim.swarm.managers[self.h.key] = advertise_addr or self.h.address
            self.h.add_gwbridge()
        return f"node-{self.h.key}"

    def join_swarm(self, remote_addrs: list[str], join_token: str,
                   advertise_addr: str | None = None, **_: Any) -> bool:
        self._req("join_swarm")
        sim = self.h.sim
        with sim.lock:
            assert sim.swarm is not None, "join before init"
            role = sim.swarm.managers if join_token == "SWMTKN-m" else sim.swarm.workers
            role[self.h.key] = advertise_addr or self.h.address
            self.h.add_gwbridge()
        return True

    def leave_swarm(self, force: bool = False) -> bool:
        self._req("leave_swarm")
        sim = self.h.sim
        with sim.lock:
            sw = sim.swarm
            if sw is not None:
                sw.managers.pop(self.h.key, None)
                sw.workers.pop(self.h.key, None)
                if not sw.managers:
                    sim.swarm = None
            self.h.gwbridge_busy_until = (time.monotonic()
                                          + sim.costs.gwbridge_linger_s * sim.scale)
        return True

    # -- networks --------------------------------------------------------------------------
    def create_network(self, name: str, driver: str | None = None, ipam: Any = None,
                       labels: dict[str, str] | None = None, **_: Any) -> dict[str, Any]:
        self._req("create_network")
        sim = self.h.sim
        subnets = [{"Subnet": p.get("Subnet"), "Gateway": p.get("Gateway")}
                   for p in ((ipam or {}).get("Config") or [])]
        with sim.lock:
            nid = sim.new_id()
            if driver == "overlay":
                assert sim.swarm is not None, "an overlay outside a swarm"
                sim.swarm.networks[nid] = _network(nid, name, "overlay", "swarm",
                                                   dict(labels or {}), subnets)
            else:
                self.h.networks[nid] = _network(nid, name, driver or "bridge", "local",
                                                dict(labels or {}), subnets)
        return {"Id": nid}

    def remove_network(self, net_id: str) -> None:
        self._req("remove_network")
        sim = self.h.sim
        with sim.lock:
            n = self.h.network(net_id, listed=True)
            self.h.networks.pop(n["Id"], None)
            if sim.swarm is not None:
                sim.swarm.networks.pop(n["Id"], None)

    # -- containers ------------------------------------------------------------------------
    def create_container(self, image: str, command: Any = None, name: str | None = None,
                         labels: dict[str, str] | None = None, host_config: Any = None,
                         networking_config: Any = None, **_: Any) -> dict[str, Any]:
        self._req("create_container")
        with self.h.sim.lock:
            cid = self.h.sim.new_id()
            mode = (host_config or {}).get("network_mode") or "bridge"
            c = {"Id": cid, "Names": [f"/{name or cid[:12]}"], "Image": image,
                 "State": "created", "Labels": dict(labels or {}),
                 "HostConfig": {"NetworkMode": mode}, "NetworkSettings": {"Networks": {}}}
            self.h.containers[cid] = c
            for net, ep in (networking_config or {}).items():
                self._attach(c, net, ep.get("ipv4_address"), ep.get("aliases"))
        return {"Id": cid}

    def _attach(self, c: dict[str, Any], net: str, ipv4: str | None,
                aliases: list[str] | None) -> None:
        n = self.h.network(net)
        c["NetworkSettings"]["Networks"][n["Name"]] = {
            "NetworkID": n["Id"], "IPAddress": ipv4 or "", "IPAMConfig": {"IPv4Address": ipv4}
            if ipv4 else None, "MacAddress": "02:42:00:00:00:01",
            "Aliases": list(aliases or [])}

    def connect_container_to_network(self, container: str, net_id: str,
                                     ipv4_address: str | None = None,
                                     aliases: list[str] | None = None, **_: Any) -> None:
        self._req("connect_container_to_network")
        with self.h.sim.lock:
            self._attach(self.h.container(container), net_id, ipv4_address, aliases)

    def disconnect_container_from_network(self, container: str, net_id: str,
                                          **_: Any) -> None:
        self._req("disconnect_container_from_network")
        with self.h.sim.lock:
            if container == "gateway_ingress-sbox":  # a left swarm's endpoint, deleted
                self.h.gwbridge_busy_until = 0.0
                return
            nets = self.h.container(container)["NetworkSettings"]["Networks"]
            nets.pop(self.h.network(net_id)["Name"], None)

    def _state(self, kind: str, container: str, state: str) -> None:
        self._req(kind)
        with self.h.sim.lock:
            self.h.container(container)["State"] = state

    def start(self, container: str) -> None:
        self._state("start", container, "running")

    def stop(self, container: str, timeout: int = 10) -> None:
        self._state("stop", container, "exited")

    def restart(self, container: str, timeout: int = 10) -> None:
        self._state("restart", container, "running")

    def kill(self, container: str, signal: str = "SIGKILL") -> None:
        self._state("kill", container, "exited")

    def pause(self, container: str) -> None:
        self._state("pause", container, "paused")

    def unpause(self, container: str) -> None:
        self._state("unpause", container, "running")

    def remove_container(self, container: str, force: bool = False, v: bool = False) -> None:
        self._req("remove_container")
        with self.h.sim.lock:
            self.h.containers.pop(self.h.container(container)["Id"], None)

    def wait(self, container: str, timeout: float | None = None) -> dict[str, Any]:
        self._req("wait")
        return {"StatusCode": 0}

    def logs(self, container: str, **_: Any) -> bytes:
        self._req("logs")
        return b""

    # -- exec --------------------------------------------------------------------------------
    def exec_create(self, container: str, cmd: list[str], **_: Any) -> dict[str, Any]:
        self._req("exec_create")
        with self.h.sim.lock:
            self.h.container(container)
            eid = self.h.sim.new_id()
            self.h.execs[eid] = {"container": container, "cmd": list(cmd)}
        return {"Id": eid}

    def exec_start(self, exec_id: str, detach: bool = False, **_: Any) -> bytes | None:
        self._req("exec_start")
        ex = self.h.execs[exec_id]
        script = ex["cmd"][2] if ex["cmd"][:2] == ["sh", "-c"] else ""
        out = run_batch(script)
        m = re.search(r"\) >(/tmp/\.dnetlab-exec-\w+) 2>&1", script)
        if detach and m:  # over SSH: the output goes to a file, fetched by get_archive
            self.h.files[(ex["container"], m.group(1))] = out
            return None
        return out.encode()

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        self._req("exec_inspect")
        return {"Running": False, "ExitCode": 0}

    def get_archive(self, container: str, path: str) -> tuple[Iterator[bytes], dict[str, Any]]:
        self._req("get_archive")
        text = self.h.files.pop((container, path), "").encode()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(path.rsplit("/", 1)[-1])
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text))
        return iter([buf.getvalue()]), {}

    def put_archive(self, container: str, path: str, data: bytes) -> bool:
        self._req("put_archive")
        return True

    # -- images ------------------------------------------------------------------------------
    def get_image(self, ref: str) -> Iterator[bytes]:
        self._req("get_image")
        return iter([ref.encode()])

    def load_image(self, data: Iterator[bytes]) -> list[dict[str, Any]]:
        self._req("load_image")
        with self.h.sim.lock:
            self.h.images.add(b"".join(data).decode())
        return [{"stream": "Loaded image"}]

    def pull(self, repo: str, tag: str = "latest", **_: Any) -> Iterator[dict[str, Any]]:
        self._req("pull")
        return iter([{"error": "no registry in the model"}])


# -- SSH: the client `exec_many` sends its host script on ------------------------------------

class _FakeAdapter:
    def __init__(self, host: FakeHost) -> None:
        self.h = host
        self.ssh_client = _FakeSSHClient(host)
        # as the real hosts answer `ssh.SOCKET_QUERY` (the test bed's sshd forwards it)
        self.socket_path: str | None = "/var/run/docker.sock" if host.sim.streams else None

    def open_engine_channel(self, timeout: float) -> _FakeEngineChannel | None:
        return _FakeEngineChannel(self.h) if self.socket_path is not None else None


class _FakeEngineChannel:
    """An exec's channel to the engine's socket (`hijack.EngineStream`): the exec's
    create answered, then its start with the engine's upgrade and the exec's output
    (`run_batch`, with the status line `exec._attach_job` asks for) as one stdout frame,
    then the end of the stream. Logged as one `ATTACH`, as the recorder logs the real."""

    def __init__(self, host: FakeHost) -> None:
        self.h = host
        self.cmd: list[str] = []
        self.reply = b""

    def settimeout(self, timeout: float) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        head, _, body = data.partition(b"\r\n\r\n")
        if b"/exec HTTP/1.1" in head.split(b"\r\n", 1)[0]:
            self.cmd = list(json.loads(body)["Cmd"])
            answer = json.dumps({"Id": self.h.sim.new_id()}).encode()
            self.reply = (b"HTTP/1.1 201 Created\r\nContent-Length: "
                          + str(len(answer)).encode() + b"\r\n\r\n" + answer)
            return
        self.h.attach()
        script = self.cmd[2] if self.cmd[:2] == ["sh", "-c"] else ""
        mark = re.match(r"echo (@@dnl-x-[0-9a-f]+);", script)
        text = run_batch(script)
        if mark:  # `hostexec.wrapped`, then the status
            text = f"{mark.group(1)}\n{text}\n{mark.group(1)} 0\n"
        out = text.encode()
        self.reply = (b"HTTP/1.1 101 UPGRADED\r\n\r\n"
                      + bytes([1, 0, 0, 0]) + len(out).to_bytes(4, "big") + out)

    def recv(self, n: int) -> bytes:
        chunk, self.reply = self.reply[:n], self.reply[n:]
        return chunk

    def close(self) -> None:
        pass


class _FakeSSHClient:
    def __init__(self, host: FakeHost) -> None:
        self.h = host

    def get_transport(self) -> _FakeTransport:
        return _FakeTransport(self.h)


class _FakeTransport:
    def __init__(self, host: FakeHost) -> None:
        self.h = host

    def is_active(self) -> bool:
        return True

    def open_session(self, timeout: float | None = None) -> _FakeChannel:
        with self.h.sim.lock:
            self.h.sim.channels += 1  # a session is a channel, never pooled
        return _FakeChannel(self.h)


class _FakeChannel:
    """Runs the host script of `hostexec` when its stdin ends: each `docker exec` answered
    with `run_batch`, framed as the script frames it."""

    def __init__(self, host: FakeHost) -> None:
        self.h = host
        self.stdin = b""
        self.reply = b""
        self.sent = False

    def settimeout(self, timeout: float) -> None:
        pass

    def exec_command(self, command: str) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.stdin += data

    def shutdown_write(self) -> None:
        script = self.stdin.decode(errors="replace")
        jobs = _exec_jobs(script)
        self.h.request(SESSION, len(jobs), _lanes(script))
        m = re.search(r"(@@dnl-x-[0-9a-f]+)", script)
        mark = m.group(1) if m else ""
        out = bytearray()
        for i, (_, inner) in enumerate(jobs):
            body = f"{mark}\n{run_batch(inner)}".encode()
            out += f"{mark} {i} 0 {len(body)} 0\n".encode() + body
        self.reply = bytes(out)

    def recv_stderr_ready(self) -> bool:
        return False

    def recv(self, n: int) -> bytes:
        chunk, self.reply = self.reply[:n], self.reply[n:]
        return chunk

    def recv_stderr(self, n: int) -> bytes:
        return b""

    def recv_exit_status(self) -> int:
        return 0

    def close(self) -> None:
        pass
