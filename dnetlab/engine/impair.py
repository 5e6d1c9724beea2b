"""Impairments in a container's network namespace: applied, removed and read back by a
short-lived helper container of dnetlab's tools image (`--network container:<id>`, with
NET_ADMIN), since lab images such as busybox have neither `tc` nor `iptables`.

Everything is the interface's root qdisc, with dnetlab's handle `d1:` so that it can be
read back and removed exactly (a qdisc with another handle is not dnetlab's):

- delay or jitter: `netem` (with its own `rate` and `loss`), where the kernel has it;
- loss (without delay): `htb`, whose class d1:2 ends in a `blackhole` qdisc, with a
  classic-BPF filter that sends a random share of the packets there (`ld rand`), and
  class d1:1 with the rate when there is one (unclassified packets go to class 1: with
  no rate, no such class, and htb sends them directly);
- rate alone: `tbf`.

Not iptables' `statistic` match: a DROP on a host's own output hook answers the sender's
`sendto` with EPERM, which ping (and any UDP program) takes as a fatal error, while a
packet lost on a wire is silent. The blackhole qdisc drops silently (it reports success)
and is built into every kernel with traffic control. Why a helper image rather than
`nsenter` from the host: docs/impairments.md.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import EngineError, translated
from dnetlab.engine.exec import run_helper
from dnetlab.model import Impairment

TOOLS_IMAGE = "dnetlab/nettools:latest"
HANDLE = "d1:"  # dnetlab's root qdisc handle: what it set, and may read back or remove
HELPER_TIMEOUT_S = 60.0
_TBF_LATENCY_MS = 200  # queue of the tbf: long enough that TCP keeps the link busy
_MIN_BURST_BYTES = 3200  # two full-size frames: tbf drops a packet bigger than its burst
_RAND_SPAN = 2**32  # `ld rand` gives a uniform 32-bit number
_SKF_AD_RANDOM = 0xFFFFF000 + 56  # SKF_AD_OFF + SKF_AD_RANDOM, as an unsigned k


@dataclass(frozen=True)
class ReadBack:
    """One namespace as read: each interface's MAC, and its qdisc, class and filter
    lines from tc."""

    macs: dict[str, str]  # MAC -> interface name
    tc: dict[str, list[str]]  # interface -> its lines from tc qdisc/class/filter show

    def impairment(self, mac: str | None) -> Impairment | None:
        """What the interface with this MAC carries; None when no such interface."""
        iface = self.macs.get((mac or "").lower())
        if iface is None:
            return None
        return parse_tc(self.tc.get(iface, []))


_SECTION = "----dnetlab-impair----"

READ_SCRIPT = (
    f"ip -o link show; echo {_SECTION}; "
    # the names from ip, not /sys/class/net: a sysfs mounted elsewhere shows other devices
    "for d in $(ip -o link show | awk -F': ' '{ sub(/@.*/, \"\", $2); print $2 }'); do "
    "echo \"dev $d\"; tc qdisc show dev \"$d\" root; "
    f"tc class show dev \"$d\" parent {HANDLE}; tc filter show dev \"$d\" parent {HANDLE}; "
    "done; true")

_UNITS = {"bit": 1, "kbit": 1000, "mbit": 1000**2, "gbit": 1000**3, "tbit": 1000**4,
          "bps": 8, "kbps": 8000, "mbps": 8 * 1000**2, "gbps": 8 * 1000**3}


def _rate(text: str) -> int | None:
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]+)", text)
    if m is None or m[2].lower() not in _UNITS:
        return None
    return round(float(m[1]) * _UNITS[m[2].lower()])


def _ms(text: str) -> float | None:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s)", text)
    if m is None:
        return None
    return float(m[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m[2]]


def _after(words: list[str], key: str) -> str | None:
    return next((words[i + 1] for i, w in enumerate(words[:-1]) if w == key), None)


def parse_tc(lines: list[str]) -> Impairment:
    """One interface's root qdisc, htb classes and filters (as `tc ... show` prints them)
    as the `Impairment` it carries; a root qdisc of another handle is none of dnetlab's."""
    root = next((ln.split() for ln in lines if ln.startswith("qdisc ")), [])
    if len(root) < 3 or root[2] != HANDLE:
        return Impairment()
    kind = root[1]
    rate = delay = jitter = loss = None
    if kind == "tbf":
        rate = _rate(_after(root, "rate") or "")
    elif kind == "netem":
        rate = _rate(_after(root, "rate") or "")
        i = root.index("delay") if "delay" in root else -1
        if i >= 0:
            delay = _ms(root[i + 1]) if i + 1 < len(root) else None
            jitter = _ms(root[i + 2]) if i + 2 < len(root) else None
        lost = _after(root, "loss")
        loss = float(lost.rstrip("%")) if lost and re.fullmatch(r"[0-9.]+%", lost) else None
    elif kind == "htb":
        for ln in lines:
            words = ln.split()
            if ln.startswith("class htb") and len(words) > 2 and words[2] == f"{HANDLE}1":
                rate = _rate(_after(words, "rate") or "")
            m = re.search(r"bytecode '4,32 0 0 \d+,53 0 1 (\d+),", ln)
            if m:
                loss = round(int(m[1]) / _RAND_SPAN * 100, 3)
    return Impairment(rate=None, rate_bps=rate, loss=loss or None, delay=delay or None,
                      jitter=jitter or None)


def parse_read(output: str) -> ReadBack:
    links, _, rest = output.partition(_SECTION)
    macs: dict[str, str] = {}
    for line in links.splitlines():
        m = re.match(r"^\d+:\s+([^:@\s]+)(?:@\S+)?:.*link/ether\s+([0-9a-fA-F:]{17})", line)
        if m:
            macs[m[2].lower()] = m[1]
    tc: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in rest.splitlines():
        if line.startswith("dev "):
            current = tc.setdefault(line[4:].strip(), [])
        elif current is not None and line.strip():
            current.append(line.strip())
    return ReadBack(macs, tc)


def burst_bytes(rate_bps: int) -> int:
    # 10 ms worth of data, at least two full-size frames (tbf needs one per token fill)
    return max(rate_bps // 800, _MIN_BURST_BYTES)


def loss_bytecode(percent: float) -> str:
    """Classic BPF for tc's bpf classifier: a random 32-bit number below the threshold
    sends the packet to class d1:2 (the blackhole), any other is not classified."""
    threshold = min(round(percent / 100 * _RAND_SPAN), _RAND_SPAN - 1)
    classid = 0xD10002
    return f"4,32 0 0 {_SKF_AD_RANDOM},53 0 1 {threshold},6 0 0 0,6 0 0 {classid}"


def qdisc_commands(imp: Impairment) -> list[str]:
    """tc commands that make "$IF" carry exactly `imp` (after its root qdisc is gone)."""
    dev = 'dev "$IF"'
    if imp.delay or imp.jitter:
        netem = f"netem delay {imp.delay or 0:g}ms"
        if imp.jitter:
            netem += f" {imp.jitter:g}ms"
        if imp.loss:
            netem += f" loss {imp.loss:g}%"
        if imp.rate_bps:
            netem += f" rate {imp.rate_bps}bit"
        return [f"tc qdisc add {dev} root handle {HANDLE} {netem}"]
    if imp.loss:
        cmds = [f"tc qdisc add {dev} root handle {HANDLE} htb default 1"]
        if imp.rate_bps:
            cmds.append(f"tc class add {dev} parent {HANDLE} classid {HANDLE}1 htb "
                        f"rate {imp.rate_bps}bit ceil {imp.rate_bps}bit")
        cmds += [
            # the blackhole's class never sends: its rate is a formality; a quantum of one
            # frame keeps htb from warning that the rate's is too small
            f"tc class add {dev} parent {HANDLE} classid {HANDLE}2 htb rate 8kbit "
            "quantum 1514",
            f"tc qdisc add {dev} parent {HANDLE}2 handle d2: blackhole",
            # IPv4 and IPv6 only: a lost ARP reply or neighbour advertisement would hold
            # back every packet to that neighbour until it resolves, multiplying the loss
            *(f"tc filter add {dev} parent {HANDLE} protocol {proto} prio {prio} bpf "
              f"bytecode '{loss_bytecode(imp.loss)}' flowid {HANDLE}2"
              for prio, proto in ((1, "ip"), (2, "ipv6"))),
        ]
        return cmds
    if imp.rate_bps:
        return [f"tc qdisc add {dev} root handle {HANDLE} tbf rate {imp.rate_bps}bit "
                f"burst {burst_bytes(imp.rate_bps)} latency {_TBF_LATENCY_MS}ms"]
    return []


def apply_script(mac: str, imp: Impairment | None) -> str:
    """Set the interface with this MAC to exactly `imp` (None: no impairment), whatever
    dnetlab set before; a root qdisc that is not dnetlab's is left alone when nothing is
    wanted, and replaced when something is."""
    imp = imp or Impairment()
    cmds = qdisc_commands(imp)
    lines = [
        "set -e",
        f"IF=$(ip -o link show | awk -v mac={shlex.quote(mac.lower())} "
        "'tolower($0) ~ (\"link/ether \" mac) { sub(/:$/, \"\", $2); sub(/@.*/, \"\", $2); "
        "print $2; exit }')",
        f'[ -n "$IF" ] || {{ echo "no interface with MAC {mac} in the container"; exit 3; }}',
    ]
    if cmds:
        lines.append('tc qdisc del dev "$IF" root 2>/dev/null || true')
        lines += cmds
    else:
        lines.append(f'if tc qdisc show dev "$IF" root | grep -q "^qdisc [a-z_]* {HANDLE} "; '
                     'then tc qdisc del dev "$IF" root; fi')
    lines.append('echo "impairment of $IF set"')
    return "\n".join(lines) + "\n"


def _helper(conn: Connection, container_id: str, script: str, what: str) -> str:
    res = run_helper(conn, TOOLS_IMAGE, ["sh", "-c", script], f"container:{container_id}",
                     {"dnetlab.kind": "helper"}, HELPER_TIMEOUT_S, cap_add=("NET_ADMIN",))
    if res.exit_code != 0:
        raise EngineError(f"host {conn.host.key}: {what}: {res.output.strip()[-300:]}")
    return res.output


def _mac_on(conn: Connection, container_id: str, network: str) -> str:
    with translated(f"host {conn.host.key}: inspecting container {container_id}"):
        info = conn.api.inspect_container(container_id)
    nets = ((info.get("NetworkSettings") or {}).get("Networks")) or {}
    mac = (nets.get(network) or {}).get("MacAddress") or ""
    if not mac:
        raise EngineError(f"host {conn.host.key}: container {info.get('Name', '')[1:]} has no "
                          f"interface on network {network}")
    return str(mac).lower()


def set_impairment(conn: Connection, container_id: str, network: str, name: str,
                   imp: Impairment | None) -> None:
    mac = _mac_on(conn, container_id, network)
    verb = "impairing" if imp is not None else "healing"
    _helper(conn, container_id, apply_script(mac, imp), f"{verb} {name} on {network}")


def read_impairments(conn: Connection, container_ids: Iterable[str]) -> dict[str, ReadBack]:
    """Each running container's namespace as read (one helper each, in parallel)."""
    from concurrent.futures import ThreadPoolExecutor

    ids = list(container_ids)

    def one(cid: str) -> tuple[str, ReadBack]:
        return cid, parse_read(_helper(conn, cid, READ_SCRIPT, "reading impairments"))

    if not ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(ids))) as pool:
        return dict(pool.map(one, ids))


def netem_missing(conn: Connection) -> str | None:
    """None when this host's kernel has sch_netem, else tc's answer; tried on the
    loopback of a helper's own namespace (--network none), which goes away with it."""
    res = run_helper(conn, TOOLS_IMAGE,
                     ["sh", "-c", "tc qdisc add dev lo root netem delay 1ms 2>&1"], "none",
                     {"dnetlab.kind": "helper"}, HELPER_TIMEOUT_S, cap_add=("NET_ADMIN",))
    if res.exit_code == 0:
        return None
    return res.output.strip().splitlines()[-1] if res.output.strip() else "tc failed"
