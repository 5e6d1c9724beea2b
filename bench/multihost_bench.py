"""Issue 5: multi-host. A lab of 30 busybox containers spread over the 3 hosts of the
project's test bed (h1 manager, h2 and h3 workers, ssh://root@ADDR from .testbed/hosts.json:
10.99.0.1, 10.99.1.2, 10.99.0.3, two subnets joined by a router) on one overlay,
with 30 ping probes from each container to one on another host: `up` (swarm formed, the
overlay, 30 containers), the no-op `up`, `verify` and `down` (swarm dissolved), as the CLI
runs them, medians over rounds; the SSH channels each phase opens (in process); and
`verify` of the same 30 probes in a one-host lab on the local engine, for the ratio
remote / local.

Then the same with six hosts (issue 13): h1, h2, h3 managers, h4, h5, h6 workers, 60
containers and 60 pings (keys `mh6_*`, `ssh6_*`, `remote6_*`), on the first six hosts
of the bed. Both labs also time `up` and `down` of their local twin, for
`remote_up_vs_local`.

Run by `bench/run.py` (skip with `--no-multihost`), or alone:
`.venv/bin/python bench/multihost_bench.py [--rounds N] [--hosts 3 6]`.

Clean-up discipline: on the test hosts only objects labelled `dnetlab.scenario=bench-mh`
are removed, any swarm is left (the bed is the project's own), and busybox is removed
once at the start so that the first `up` copies it (measured apart); the bench stops
before changing anything when a host runs containers that are not the bench's. Locally
only objects labelled `dnetlab.scenario=bench-mh-local` are removed. Both before and
after, even when a step fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from common import (
    DNETLAB,
    check_workers,
    lab_down,
    lab_up,
    medians,
    merge_results,
    print_table,
    run_cli,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
TESTBED = ROOT / "scripts" / "testbed.sh"
HOSTS_JSON = ROOT / ".testbed" / "hosts.json"
LOCK = Path("/run/lock/dnetlab-bench-multihost.lock")



@dataclass(frozen=True)
class Shape:
    """One lab of the bench: `hosts` test hosts (the first `managers` of them swarm
    managers, h1 the leader; the others workers), `per_host` containers on each, one
    ping from each container (to the container of the same number on the next host).
    `tag` "" names its figures as the first (3-host) bench did; "6" gives `mh6_up_s`,
    `ssh6_channels_up`, `remote6_verify_vs_local`..."""

    hosts: int
    per_host: int
    managers: int
    tag: str
    net: str  # the overlay's /24 on the hosts
    local_net: str  # the local lab's bridge

    @property
    def n(self) -> int:
        return self.hosts * self.per_host

    @property
    def lab(self) -> str:
        return f"bench-mh{self.tag}"

    @property
    def local_lab(self) -> str:
        return f"{self.lab}-local"

    @property
    def label(self) -> str:
        return f"dnetlab.scenario={self.lab}"

    @property
    def local_label(self) -> str:
        return f"dnetlab.scenario={self.local_lab}"

    def key(self, name: str) -> str:
        """The results.json key of figure `name` ("mh_up_s", "ssh_channels_up",
        "local_verify_s", "remote_verify_vs_local"...) for this lab."""
        if not self.tag:
            return name
        for old, new in (("mh_", "mh{t}_"), ("ssh_", "ssh{t}_"), ("local_", "mh{t}_local_"),
                         ("remote_", "remote{t}_")):
            if name.startswith(old):
                return new.format(t=self.tag) + name[len(old):]
        raise ValueError(name)


THREE = Shape(hosts=3, per_host=10, managers=1, tag="", net="10.243.0", local_net="10.244.0")
SIX = Shape(hosts=6, per_host=10, managers=3, tag="6", net="10.245.0", local_net="10.250.0")
SHAPES = (THREE, SIX)
# the 3-host lab, as exec_bench.py uses it
LAB, LABEL, N_HOSTS, PER_HOST, N = THREE.lab, THREE.label, THREE.hosts, THREE.per_host, THREE.n
COUNT = 1  # echoes per ping: the cost measured is dnetlab's, not ICMP's
WITHIN = 10  # a probe failing at first may pass on a later round (none did here)
WORKERS = 8  # == dnetlab.lab.session.DEFAULT_WORKERS, checked in run()
TIMEOUT = 300  # seconds, any one CLI step
TARGETS = {"remote_verify_vs_local": ("<=", 1.5), "remote6_verify_vs_local": ("<=", 1.5)}


# -- the two labs ------------------------------------------------------------------------

def _key(h: int, j: int) -> str:
    return f"h{h}c{j}"


def _ip(prefix: str, h: int, j: int) -> str:
    return f"{prefix}.{10 * h + j}"  # h1c0 .10 .. h6c9 .69


def _probes(shape: Shape) -> list[str]:
    """Container j of host h pings container j of the next host round the ring (odd and
    even hosts sit on the bed's two subnets: every probe crosses the router)."""
    return [f"  - {{type: ping, from: {_key(h, j)}, to: {_key(h % shape.hosts + 1, j)}, "
            f"count: {COUNT}, within: {WITHIN}}}"
            for h in range(1, shape.hosts + 1) for j in range(shape.per_host)]


def lab_scenario(shape: Shape, addresses: list[str]) -> str:
    manager = addresses[0]
    lines = ["version: 1", f"name: {shape.lab}", "hosts:",
             f"  h1: {{engine: 'ssh://root@{manager}', swarm: manager, "
             f"advertise_addr: {manager}}}"]
    lines += [f"  h{h}: {{engine: 'ssh://root@{addresses[h - 1]}', "
              f"swarm: {'manager' if h <= shape.managers else 'worker'}}}"
              for h in range(2, shape.hosts + 1)]
    # a /24 holds 24 hosts of 10 containers; the model (bench/model_bench.py) goes to 100
    wide = shape.hosts * shape.per_host > 240
    prefix = shape.net.rsplit(".", 1)[0]

    def ip(h: int, j: int) -> str:
        return f"{prefix}.{h}.{10 + j}" if wide else _ip(shape.net, h, j)

    subnet = f"{prefix}.0.0/16" if wide else f"{shape.net}.0/24"
    lines += ["networks:",
              f"  ovl: {{driver: overlay, subnet: {subnet}, "
              f"gateway: {shape.net}.1, attachable: true}}",
              "containers:"]
    lines += [f"  {_key(h, j)}: {{host: h{h}, image: busybox, command: sleep infinity, "
              f"networks: {{ovl: {{ipv4: {ip(h, j)}}}}}}}"
              for h in range(1, shape.hosts + 1) for j in range(shape.per_host)]
    return "\n".join([*lines, "probes:", *_probes(shape)]) + "\n"


def model_shape(hosts: int, managers: int) -> Shape:
    """The lab of the 100-host model (bench/model_bench.py): the 3-host lab's shape, names
    and networks on any number of hosts."""
    return replace(THREE, hosts=hosts, managers=managers)


def local_scenario(shape: Shape) -> str:
    """The same containers and probes on one bridge of the local engine."""
    lines = ["version: 1", f"name: {shape.local_lab}", "networks:",
             f"  net: {{subnet: {shape.local_net}.0/24, gateway: {shape.local_net}.1}}",
             "containers:"]
    lines += [f"  {_key(h, j)}: {{image: busybox, command: sleep infinity, "
              f"networks: {{net: {{ipv4: {_ip(shape.local_net, h, j)}}}}}}}"
              for h in range(1, shape.hosts + 1) for j in range(shape.per_host)]
    return "\n".join([*lines, "probes:", *_probes(shape)]) + "\n"


# -- housekeeping on the test hosts and the local engine (never timed) -------------------

def _docker() -> Any:
    import docker  # with paramiko: the SDK's SSH transport is what ChannelCounter counts

    return docker


def _gossip_port_bound(host: str) -> bool:
    """Something in the test host's namespace listens on swarm gossip's port 7946."""
    ss = subprocess.run(["nsenter", f"--net=/run/netns/dnl-{host}", "ss", "-Htuln",
                         "sport = :7946"], capture_output=True, text=True, check=True)
    return bool(ss.stdout.strip())


def _gossip_kept(host: str) -> bool:
    """Port 7946 stays bound for 3 s (a leave's own shutdown of gossip takes less)."""
    for _ in range(30):
        if not _gossip_port_bound(host):
            return False
        time.sleep(0.1)
    return True


class Bed:
    """The first `shape.hosts` test hosts, read and cleaned through their local sockets
    (not over SSH). A larger bed is kept as it is (`up N --at-least`)."""

    def __init__(self, shape: Shape = THREE) -> None:
        self.shape = shape
        subprocess.run(["bash", str(TESTBED), "up", str(shape.hosts), "--at-least"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=600)
        self.hosts = list(json.loads(HOSTS_JSON.read_text())["hosts"])[:shape.hosts]
        if len(self.hosts) != shape.hosts:
            raise RuntimeError(f"{HOSTS_JSON}: {len(self.hosts)} hosts, not {shape.hosts}")
        docker = _docker()
        self.errors = docker.errors
        self.api = [docker.APIClient(base_url=f"unix://{h['socket']}", version="auto",
                                     timeout=60) for h in self.hosts]
        self.baseline: list[set[str]] = []  # network names of each host once reset

    @property
    def addresses(self) -> list[str]:
        return [str(h["address"]) for h in self.hosts]

    def foreign(self) -> list[str]:
        """Containers on the hosts that are not the bench's."""
        return [f"{h['name']}:{c['Names'][0].lstrip('/')}"
                for h, api in zip(self.hosts, self.api, strict=True)
                for c in api.containers(all=True)
                if (c.get("Labels") or {}).get("dnetlab.scenario") != self.shape.lab]

    def heal_gossip(self) -> list[str]:
        """Restart the engine of each host that, in no swarm, still has the left swarm's
        gossip on port 7946 (Docker 20.10, 'Could not close DB: timeout waiting for leave
        broadcast'; docs/multihost.md): its next swarm's overlay would reach no other
        host, and `up` says so. Other users of the bed (the tests) leave hosts so; the
        tests' own set-up does the same. The hosts restarted."""
        healed = []
        for i, h in enumerate(self.hosts):
            if self.api[i].info()["Swarm"]["LocalNodeState"] != "inactive" or not (
                    _gossip_kept(h["name"])):
                continue
            for verb in ("stop-engine", "start-engine"):
                subprocess.run(["bash", str(TESTBED), verb, h["name"][1:]], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
            self.api[i].close()
            self.api[i] = _docker().APIClient(base_url=f"unix://{h['socket']}",
                                              version="auto", timeout=60)
            healed.append(h["name"])
        return healed

    def reset(self, images: bool) -> None:
        """No bench-mh object and no swarm on any host (and no busybox with `images`);
        a host whose left swarm's gossip runs on is restarted."""
        for api in self.api:
            if api.info()["Swarm"]["LocalNodeState"] != "inactive":
                with suppress(self.errors.APIError):
                    api.leave_swarm(force=True)
        healed = self.heal_gossip()
        if healed:
            print(f"  restarted the engine of {', '.join(healed)}: a left swarm's gossip "
                  "ran on (Docker 20.10)", file=sys.stderr)
        for h, api in zip(self.hosts, self.api, strict=True):
            for c in api.containers(all=True, filters={"label": self.shape.label}):
                with suppress(self.errors.NotFound):
                    api.remove_container(c["Id"], force=True)
            if api.info()["Swarm"]["LocalNodeState"] != "inactive":
                with suppress(self.errors.APIError):
                    api.leave_swarm(force=True)
            for n in api.networks(filters={"label": self.shape.label}):
                with suppress(self.errors.APIError):
                    api.remove_network(n["Id"])
            for n in api.networks(names=["docker_gwbridge"]):
                if n["Name"] == "docker_gwbridge":  # what the swarm left; dnetlab's down
                    with suppress(self.errors.APIError):  # removes it too
                        api.remove_network(n["Id"])
            if images and api.images(name="busybox"):
                api.remove_image("busybox:latest")
            left = self.state(api)
            if left["containers"] or left["networks"] or left["swarm"] != "inactive":
                raise RuntimeError(f"{h['name']}: bench objects or a swarm are left: {left}")

    def state(self, api: Any) -> dict[str, Any]:
        return {"containers": len(api.containers(all=True, filters={"label": self.shape.label})),
                "running": len(api.containers(filters={"label": self.shape.label})),
                "networks": len(api.networks(filters={"label": self.shape.label})),
                "swarm": api.info()["Swarm"]["LocalNodeState"],
                "names": {n["Name"] for n in api.networks()}}

    def expect_up(self, what: str) -> None:
        for n, (h, api) in enumerate(zip(self.hosts, self.api, strict=True)):
            s = self.state(api)
            per_host = self.shape.per_host
            ok = (s["running"] == s["containers"] == per_host and s["swarm"] == "active"
                  and (n > 0 or s["networks"] == 1))  # the overlay shows on the manager
            if not ok:
                raise RuntimeError(f"{what}: {h['name']} has {s['running']} of {per_host} "
                                   f"containers running, {s['networks']} networks, swarm "
                                   f"{s['swarm']}")

    def expect_down(self, what: str) -> None:
        """As before the lab: no lab object, no swarm, the networks as they were (the
        docker_gwbridge the swarm made removed, its left `ingress-sbox` endpoint too)."""
        for h, api, base in zip(self.hosts, self.api, self.baseline, strict=True):
            s = self.state(api)
            if s["containers"] or s["networks"] or s["swarm"] != "inactive" or (
                    s["names"] != base):
                raise RuntimeError(f"{what}: {h['name']} is not as before the lab: {s}, "
                                   f"networks before {sorted(base)}")

    def dirty(self) -> bool:
        return any(s["containers"] or s["networks"] or s["swarm"] != "inactive"
                   for s in map(self.state, self.api))

    def has_image(self) -> list[bool]:
        return [bool(api.images(name="busybox")) for api in self.api]

    def close(self) -> None:
        for api in self.api:
            api.close()


class Local:
    def __init__(self, shape: Shape = THREE) -> None:
        self.label = shape.local_label
        docker = _docker()
        self.errors = docker.errors
        self.api = docker.APIClient(base_url="unix:///var/run/docker.sock", version="auto",
                                    timeout=60)
        if not self.api.images(name="busybox"):
            raise RuntimeError("busybox is not on the local engine: run `make engine`")

    def clean(self) -> None:
        for c in self.api.containers(all=True, filters={"label": self.label}):
            with suppress(self.errors.NotFound):
                self.api.remove_container(c["Id"], force=True)
        for n in self.api.networks(filters={"label": self.label}):
            with suppress(self.errors.NotFound):
                self.api.remove_network(n["Id"])

    def count(self) -> int:
        flt = {"label": self.label}
        return len(self.api.containers(all=True, filters=flt)) + len(
            self.api.networks(filters=flt))


# -- measuring ---------------------------------------------------------------------------

def _not_passed(report: str) -> str:
    """The probes of a JSON report that did not pass, one line each (the whole report of
    60 probes is too long for an error)."""
    try:
        probes = json.loads(report)["probes"]
    except (ValueError, KeyError, TypeError):
        return report[-3000:]
    bad = [p for p in probes if p.get("status") != "passed"]
    lines = [f"{len(bad)} of {len(probes)} probes did not pass:"]
    lines += [f"  {p.get('name')}: {p.get('status')}, {p.get('actual')} after "
              f"{p.get('attempts')} attempt(s) in {p.get('duration_s')} s; "
              f"{str(p.get('output') or '').strip().splitlines()[-1:]}" for p in bad[:12]]
    return "\n".join(lines)


def _passed(results: list[dict[str, Any]], what: str, n: int) -> int:
    """All n probes passed; returns the most attempts one of them took."""
    bad = [r for r in results if r["status"] != "passed"]
    if len(results) != n or bad:
        raise RuntimeError(f"{what}: {len(results)} probes, not passed: {bad[:3]}")
    return max(int(r.get("attempts") or 1) for r in results)


class ChannelCounter:
    """Counts SSH channels (paramiko.Transport.open_channel: one per engine connection,
    each running `docker system dial-stdio` on the host) and SSH connections
    (paramiko.SSHClient.connect) opened in this process while installed."""

    def __init__(self) -> None:
        import paramiko

        self.paramiko: Any = paramiko  # patched in place while installed
        self.channels = self.connections = 0
        self.by_host: dict[str, int] = {}  # channels by the host's address
        self._lock = threading.Lock()
        self._saved = (self.paramiko.Transport.open_channel, self.paramiko.SSHClient.connect)

    def _bump(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    @contextmanager
    def installed(self) -> Iterator[ChannelCounter]:
        open_channel, connect = self._saved
        counter = self

        def counted_channel(transport: Any, *args: Any, **kwargs: Any) -> Any:
            counter._bump("channels")
            with counter._lock:
                peer = str(transport.getpeername()[0])
                counter.by_host[peer] = counter.by_host.get(peer, 0) + 1
            return open_channel(transport, *args, **kwargs)

        def counted_connect(client: Any, *args: Any, **kwargs: Any) -> Any:
            counter._bump("connections")
            return connect(client, *args, **kwargs)

        self.paramiko.Transport.open_channel = counted_channel
        self.paramiko.SSHClient.connect = counted_connect
        try:
            yield self
        finally:
            self.paramiko.Transport.open_channel, self.paramiko.SSHClient.connect = self._saved

    def reset(self) -> tuple[int, int, int]:
        """Channels, connections, and the most channels one host got, since the last
        reset."""
        with self._lock:
            got = (self.channels, self.connections, max(self.by_host.values(), default=0))
            self.channels = self.connections = 0
            self.by_host = {}
        return got


class Bench:
    def __init__(self, work: Path, bed: Bed, local: Local, log: Callable[[str], None]) -> None:
        self.work, self.bed, self.local, self.log = work, bed, local, log
        self.shape = shape = bed.shape
        self.lab_file = work / f"{shape.lab}.yaml"
        self.lab_file.write_text(lab_scenario(shape, bed.addresses))
        self.local_dir = work / "local"
        self.local_dir.mkdir()
        self.local_file = self.local_dir / f"{shape.local_lab}.yaml"
        self.local_file.write_text(local_scenario(shape))
        self.samples: dict[str, list[float]] = {}
        self.out: dict[str, float] = {}
        self.retried = 0  # verify runs where a probe needed a second round
        self.healed = 0  # engines restarted after a down (a left swarm's gossip ran on)

    def add(self, key: str, seconds: float) -> None:
        self.samples.setdefault(self.shape.key(key), []).append(seconds)

    def put(self, key: str, value: float) -> None:
        self.out[self.shape.key(key)] = value

    # -- CLI (the timed figures) ---------------------------------------------------------
    def cli(self, *args: str, cwd: Path | None = None,
            explain: Callable[[str], str] | None = None) -> tuple[float, str, str]:
        if args[0] in ("up", "verify"):  # remote engines are asks: approved for the run
            args = (args[0], "--trust", *args[1:])
        return run_cli([DNETLAB, *args], cwd or self.work, TIMEOUT, explain)

    def cli_verify(self, cwd: Path, key: str) -> None:
        seconds, out, _ = self.cli("verify", "--format", "json", cwd=cwd, explain=_not_passed)
        if _passed(json.loads(out)["probes"], key, self.shape.n) > 1:
            self.retried += 1
        self.add(key, seconds)

    def first_up(self) -> None:
        if any(self.bed.has_image()):
            raise RuntimeError("a test host still has busybox before the first up")
        seconds, _, err = self.cli("up", str(self.lab_file))
        if "copying image busybox" not in err:
            raise RuntimeError(f"the first up did not copy busybox:\n{err[-2000:]}")
        self.bed.expect_up("first dnetlab up")
        self.put("mh_first_up_s", seconds)
        self.log(f"  first up (swarm, busybox copied to {self.shape.hosts} hosts, "
                 f"{self.shape.n} containers) {seconds:.2f} s")

    def round(self, r: int) -> None:
        """Round 0 only takes the first up's lab down (and the local lab's); the others
        run every phase, the remote and the local lab's back to back, order rotating."""
        def remote_up() -> None:
            self.add("mh_up_s", self.cli("up", str(self.lab_file))[0])
            self.bed.expect_up("dnetlab up")

        def local_up() -> None:
            self.add("local_up_s", self.cli("up", str(self.local_file), cwd=self.local_dir)[0])

        if r:
            for side in [remote_up, local_up][r % 2:] + [remote_up, local_up][:r % 2]:
                side()
            self.add("mh_noop_up_s", self.cli("up", str(self.lab_file))[0])
            sides = [(self.work, "mh_verify_s"), (self.local_dir, "local_verify_s")]
            for cwd, key in sides[r % 2:] + sides[:r % 2]:
                self.cli_verify(cwd, key)
            self.bed.expect_up("dnetlab verify")  # no helper left, nothing changed
        self.add("mh_down_s", self.cli("down")[0])
        self.bed.expect_down("dnetlab down")
        healed = self.bed.heal_gossip()  # not timed; counted
        if healed:
            self.healed += len(healed)
            self.log(f"  round {r}: restarted the engine of {', '.join(healed)} after down "
                     "(the left swarm's gossip ran on, Docker 20.10)")
        seconds = self.cli("down", cwd=self.local_dir)[0]
        if r:
            self.add("local_down_s", seconds)
        if self.local.count():
            raise RuntimeError("the local lab's down left objects")
        self.log(f"  round {r}: " + ", ".join(f"{k} {v[-1]:.2f}"
                                             for k, v in self.samples.items()))

    # -- in process, once per phase: SSH channels ----------------------------------------
    def in_process(self) -> None:
        from dnetlab.lab.verify import verify
        from dnetlab.load.pipeline import load

        path, root = str(self.lab_file), self.work
        counter = ChannelCounter()

        def bring_up() -> Any:
            return lab_up(path, root, WORKERS)

        def take_down() -> Any:
            return lab_down(path, root, WORKERS)

        def check_verify() -> Any:
            run = verify(load(path).scenario, workers=WORKERS)
            _passed([{"status": r.status, "attempts": r.attempts}
                     for r in run.report.results], "dnetlab.lab.verify.verify",
                    self.shape.n)
            return run

        phases: list[tuple[str, Callable[[], Any], Callable[[Any], None]]] = [
            ("up", bring_up, lambda res: self.bed.expect_up("dnetlab.lab.up.up")),
            ("noop_up", bring_up, lambda res: self._is_noop(res)),
            ("verify", check_verify, lambda run: self.put("mh_verify_execs", float(run.execs))),
            ("down", take_down, lambda res: self.bed.expect_down("dnetlab.lab.down.down")),
        ]
        with counter.installed():
            for name, fn, check in phases:
                counter.reset()
                started = time.perf_counter()
                result = fn()
                seconds = time.perf_counter() - started
                channels, connections, most = counter.reset()
                check(result)
                self.put(f"mh_{name}_in_process_s", seconds)
                self.put(f"ssh_channels_{name}", float(channels))
                self.put(f"ssh_channels_{name}_max_host", float(most))
                self.put(f"ssh_connections_{name}", float(connections))
                self.log(f"  in process {name:8} {seconds:6.2f} s  {channels:4} SSH channels "
                         f"(at most {most} on one host) over {connections} connections")

        from dnetlab.lab.verify import verify as lab_verify

        self.cli("up", str(self.local_file), cwd=self.local_dir)  # not timed
        sc = load(str(self.local_file)).scenario
        started = time.perf_counter()
        run = lab_verify(sc, workers=WORKERS)
        self.put("local_verify_in_process_s", time.perf_counter() - started)
        _passed([{"status": r.status, "attempts": r.attempts} for r in run.report.results],
                "dnetlab.lab.verify.verify (local)", self.shape.n)
        self.cli("down", cwd=self.local_dir)

    @staticmethod
    def _is_noop(result: Any) -> None:
        if result.applied is not None:
            raise RuntimeError(f"the second up changed {len(result.plan.ops)} thing(s)")

    # -- where a remote verify's time goes ---------------------------------------------
    def diagnose(self) -> None:
        """What one engine request costs over SSH, on a new channel and on a reused one,
        and what an SSH session alone costs (sshd, the login shell): read-only GETs."""
        import paramiko

        from dnetlab.engine.engine import Engine
        from dnetlab.model import Host

        engines = [Engine.open(Host(f"h{n + 1}", f"ssh://root@{a}"))
                   for n, a in enumerate(self.bed.addresses)]
        try:
            api = engines[0].conn.api
            seq = iter(range(10_000, 20_000))

            def get(n: int, eng: Any = api) -> float:
                # The SDK keeps a pool of connections per distinct URL: a new `limit`
                # is a new URL, hence a new channel and a new `docker system dial-stdio`.
                started = time.perf_counter()
                eng._result(eng._get(eng._url("/containers/json"), params={"limit": n}),
                            True)
                return time.perf_counter() - started

            fresh = [get(next(seq)) for _ in range(10)]
            get(1)
            reused = [get(1) for _ in range(10)]
            apis = [e.conn.api for e in engines]
            jobs = [(next(seq), apis[i % len(apis)]) for i in range(24)]
            started = time.perf_counter()
            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(lambda job: get(*job), jobs))
            per_s = len(jobs) / (time.perf_counter() - started)
            adapter = api._custom_adapter

            def engine_channel() -> float | None:
                started = time.perf_counter()
                chan = adapter.open_engine_channel(10.0)
                if chan is None:
                    return None
                chan.close()
                return time.perf_counter() - started

            opened = [engine_channel() for _ in range(10)]
        finally:
            for e in engines:
                e.close()
        client = paramiko.SSHClient()
        client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(self.bed.addresses[0], username="root")
        try:
            transport = client.get_transport()
            assert transport is not None

            def session() -> float:
                started = time.perf_counter()
                ch = transport.open_session()
                ch.exec_command("true")
                ch.recv_exit_status()
                ch.close()
                return time.perf_counter() - started

            sessions = [session() for _ in range(10)]
        finally:
            client.close()
        self.out.update({
            "ssh_request_new_channel_s": statistics.median(fresh),
            "ssh_request_reused_s": statistics.median(reused),
            "ssh_new_channel_requests_per_s": per_s,
            "ssh_session_true_s": statistics.median(sessions),
        })
        if None not in opened:  # the host gives channels to its engine's socket
            self.out["ssh_engine_channel_s"] = statistics.median(
                t for t in opened if t is not None)
        rc = self._login_rc()
        if rc is not None:
            self.out["login_shell_rc_s"] = rc

    @staticmethod
    def _login_rc() -> float | None:
        """sshd runs every channel's command with the user's login shell, and Debian's bash
        then reads ~/.bashrc: what that costs (the test hosts share this machine's /root)."""
        import pwd

        shell = pwd.getpwuid(os.getuid()).pw_shell
        rc = Path.home() / ".bashrc"
        if not shell.endswith("bash") or not rc.exists():
            return None
        samples = []
        for _ in range(10):
            started = time.perf_counter()
            subprocess.run([shell, "-c", f". {rc}; true"], cwd=Path.home(), timeout=30,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)


@contextmanager
def _one_at_a_time(log: Callable[[str], None], wait_s: float = 900.0) -> Iterator[None]:
    """Two multi-host benches at once would reset each other's hosts: the second waits."""
    import fcntl

    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("a") as f:
        deadline = time.monotonic() + wait_s
        waiting = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"another multi-host bench holds {LOCK}") from None
                if not waiting:
                    log(f"  waiting for another multi-host bench ({LOCK})")
                    waiting = True
                time.sleep(1.0)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run(rounds: int = 3, log: Callable[[str], None] = print,
        shapes: tuple[Shape, ...] = SHAPES) -> dict[str, float]:
    """Every lab shape in turn (3 hosts, then 6), each on the first hosts of the bed."""
    out: dict[str, float] = {}
    with _one_at_a_time(log):
        for shape in shapes:
            log(f"  -- {shape.hosts} hosts ({shape.managers} manager(s)), {shape.per_host} "
                f"containers each, {shape.n} pings")
            out.update(_run_locked(shape, rounds, log))
    return out


def _run_locked(shape: Shape, rounds: int, log: Callable[[str], None]) -> dict[str, float]:
    check_workers(WORKERS, "bench/multihost_bench.py")
    bed, local = Bed(shape), Local(shape)
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="dnetlab-bench-mh-") as tmp:
        bench = Bench(Path(tmp), bed, local, log)
        try:
            foreign = bed.foreign()
            if foreign:
                raise RuntimeError("the test hosts run containers that are not the bench's "
                                   f"({', '.join(foreign[:5])}): the multi-host bench needs "
                                   "the bed to itself; run it when no test runs")
            bed.reset(images=True)
            bed.baseline = [bed.state(api)["names"] for api in bed.api]
            local.clean()
            started = time.perf_counter()
            bench.cli("up", str(bench.local_file), cwd=bench.local_dir)  # not timed
            log(f"  local lab of {shape.n} up in {time.perf_counter() - started:.1f} s "
                "(not timed)")
            bench.first_up()
            for r in range(rounds + 1):
                bench.round(r)
                load.append(os.getloadavg()[0])
            bench.in_process()
            if shape == THREE:
                bench.diagnose()  # what a request costs over SSH: the same on any bed
            load.append(os.getloadavg()[0])
        finally:
            try:
                if bed.dirty():  # what a failed step left; then by label
                    with suppress(Exception):
                        run_cli([DNETLAB, "down"], bench.work, TIMEOUT)
                with suppress(Exception):
                    run_cli([DNETLAB, "down"], bench.local_dir, TIMEOUT)
                bed.reset(images=False)
                local.clean()
                if local.count():
                    raise RuntimeError(f"objects labelled {shape.local_label} are left "
                                       "locally")
            finally:
                bed.close()
                local.api.close()
                shutil.rmtree(Path(tmp) / ".dnetlab", ignore_errors=True)
    out = {**bench.out, **medians(bench.samples, log)}
    k = shape.key
    out[k("remote_verify_vs_local")] = out[k("mh_verify_s")] / out[k("local_verify_s")]
    out[k("remote_up_vs_local")] = out[k("mh_up_s")] / out[k("local_up_s")]
    out[k("remote_down_vs_local")] = out[k("mh_down_s")] / out[k("local_down_s")]
    out[k("mh_verify_retried_runs")] = float(bench.retried)
    out[k("mh_gossip_restarts")] = float(bench.healed)
    out[k("mh_loadavg_1m_max")] = max(load)
    log(f"  1-minute load average during the bench: {min(load):.1f} .. {max(load):.1f}")
    _explain(shape, out, log)
    return out


def _explain(shape: Shape, out: dict[str, float], log: Callable[[str], None]) -> None:
    """Where a remote verify's time goes, from the figures above."""
    k = shape.key
    ch = out[k("ssh_channels_verify")]
    log(f"  verify over SSH: {out[k('mh_verify_execs')]:.0f} execs, {ch:.0f} new SSH "
        f"channels on {shape.hosts} hosts; in process {out[k('mh_verify_in_process_s')]:.1f}"
        f" s (local: {out[k('local_verify_in_process_s')]:.1f} s)")
    if "ssh_request_reused_s" not in out:
        return
    log(f"  a request takes {1000 * out['ssh_request_reused_s']:.0f} ms on an open channel, "
        f"{1000 * out['ssh_request_new_channel_s']:.0f} ms on a new one (an SSH session "
        f"alone {1000 * out['ssh_session_true_s']:.0f} ms"
        + (f", the login shell reading ~/.bashrc {1000 * out['login_shell_rc_s']:.0f} ms"
           if "login_shell_rc_s" in out else "") + f"); new channels go at "
        f"{out['ssh_new_channel_requests_per_s']:.1f}/s with {WORKERS} in flight")


def main(results_path: Path = RESULTS, rounds: int = 3,
         shapes: tuple[Shape, ...] = SHAPES) -> dict[str, float]:
    """Run, merge the figures into bench/results.json, print them."""
    if rounds < 3:
        raise ValueError("at least 3 rounds (the figures are medians)")
    print("multi-host labs (" + "; ".join(f"{x.hosts} test hosts, {x.n} containers, {x.n} pings"
                                          for x in shapes) + f"): {rounds} round(s) each")
    started = time.perf_counter()
    results = run(rounds, shapes=shapes)
    merge_results(results, results_path)
    print_table(results, TARGETS)
    print(f"wrote {results_path.relative_to(ROOT)} (multi-host part: "
          f"{time.perf_counter() - started:.0f} s)")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (at least 3)")
    parser.add_argument("--hosts", type=int, nargs="+", choices=[x.hosts for x in SHAPES],
                        default=[x.hosts for x in SHAPES], help="the labs to run (3, 6)")
    args = parser.parse_args()
    main(rounds=args.rounds, shapes=tuple(x for x in SHAPES if x.hosts in args.hosts))
