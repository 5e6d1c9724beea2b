"""Impairments in a container's network namespace: applied, removed and read back by a
short-lived helper container of dnetlab's tools image (`--network container:<id>`, with
NET_ADMIN), since lab images such as busybox have neither `tc` nor `iptables`.

Rate and delay are the root qdisc of the interface (tbf; netem when there is a delay);
loss is an iptables rule in dnetlab's own chain of the mangle table, jumped to from
POSTROUTING, so that it covers everything the interface sends (the container's own
packets and forwarded ones) and can be read back and removed exactly. Why a helper image
rather than `nsenter` from the host: docs/impairments.md.
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
CHAIN = "DNETLAB-IMPAIR"
HELPER_TIMEOUT_S = 60.0
_TBF_LATENCY_MS = 200  # queue of the tbf: long enough that TCP keeps the link busy
_MIN_BURST_BYTES = 3200  # two full-size frames: tbf drops a packet bigger than its burst


@dataclass(frozen=True)
class ReadBack:
    """One namespace as read: each interface's MAC, root qdisc line and loss rules."""

    macs: dict[str, str]  # MAC -> interface name
    qdiscs: dict[str, str]  # interface -> its root qdisc line from `tc qdisc show`
    loss: dict[str, float]  # interface -> percent, from the chain's rules

    def impairment(self, mac: str | None) -> Impairment | None:
        """What the interface with this MAC carries; None when no such interface."""
        iface = self.macs.get((mac or "").lower())
        if iface is None:
            return None
        return parse_qdisc(self.qdiscs.get(iface, ""), self.loss.get(iface))


_SECTION = "----dnetlab-impair----"

READ_SCRIPT = (f"ip -o link show; echo {_SECTION}; tc qdisc show; echo {_SECTION}; "
               f"iptables -w -t mangle -S {CHAIN} 2>/dev/null; true")

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


def parse_qdisc(line: str, loss: float | None) -> Impairment:
    """A root qdisc line (`qdisc tbf 8001: dev eth0 root refcnt 2 rate 1Mbit burst ...`,
    `qdisc netem 8002: dev eth0 root ... delay 20ms  5ms rate 1Mbit`) and a loss as one
    `Impairment` (rate_bps, delay, jitter; the rate's text is tc's)."""
    words = line.split()
    kind = words[1] if len(words) > 1 else ""
    rate = delay = jitter = None
    if kind in ("tbf", "netem"):
        for i, w in enumerate(words[:-1]):
            if w == "rate" and rate is None:
                rate = _rate(words[i + 1])
            elif w == "delay" and kind == "netem":
                delay = _ms(words[i + 1])
                if i + 2 < len(words):
                    jitter = _ms(words[i + 2])
    return Impairment(rate=None, rate_bps=rate, loss=loss or None, delay=delay or None,
                      jitter=jitter or None)


def parse_read(output: str) -> ReadBack:
    links, _, rest = output.partition(_SECTION)
    qdiscs_text, _, rules = rest.partition(_SECTION)
    macs: dict[str, str] = {}
    for line in links.splitlines():
        m = re.match(r"^\d+:\s+([^:@\s]+)(?:@\S+)?:.*link/ether\s+([0-9a-fA-F:]{17})", line)
        if m:
            macs[m[2].lower()] = m[1]
    qdiscs: dict[str, str] = {}
    for line in qdiscs_text.splitlines():
        m = re.match(r"^qdisc\s+\S+\s+\S+\s+dev\s+(\S+)\s+root\b", line)
        if m:
            qdiscs[m[1]] = line.strip()
    loss: dict[str, float] = {}
    for line in rules.splitlines():
        m = re.search(r"-o\s+(\S+)\s.*--probability\s+([0-9.]+)", line)
        if m and line.startswith(f"-A {CHAIN}"):
            loss[m[1]] = round(float(m[2]) * 100, 3)
    return ReadBack(macs, qdiscs, loss)


def burst_bytes(rate_bps: int) -> int:
    # 10 ms worth of data, at least two full-size frames (tbf needs one per token fill)
    return max(rate_bps // 800, _MIN_BURST_BYTES)


def apply_script(mac: str, imp: Impairment | None) -> str:
    """Set the interface with this MAC to exactly `imp` (None: no impairment), whatever it
    carried before: the root qdisc is replaced (or removed when it is one dnetlab sets),
    the interface's rules in the chain are replaced."""
    imp = imp or Impairment()
    lines = [
        "set -e",
        f"IF=$(ip -o link show | awk -v mac={shlex.quote(mac.lower())} "
        "'tolower($0) ~ (\"link/ether \" mac) { sub(/:$/, \"\", $2); sub(/@.*/, \"\", $2); "
        "print $2; exit }')",
        f'[ -n "$IF" ] || {{ echo "no interface with MAC {mac} in the container"; exit 3; }}',
    ]
    if imp.delay or imp.jitter:
        netem = f"netem delay {imp.delay or 0:g}ms"
        if imp.jitter:
            netem += f" {imp.jitter:g}ms"
        if imp.rate_bps:
            netem += f" rate {imp.rate_bps}bit"
        lines.append(f'tc qdisc replace dev "$IF" root {netem}')
    elif imp.rate_bps:
        lines.append(f'tc qdisc replace dev "$IF" root tbf rate {imp.rate_bps}bit '
                     f"burst {burst_bytes(imp.rate_bps)} latency {_TBF_LATENCY_MS}ms")
    else:
        # only a qdisc of the kinds dnetlab sets is removed; anything else is not ours
        lines.append('if tc qdisc show dev "$IF" root | grep -Eq "^qdisc (tbf|netem) "; then '
                     'tc qdisc del dev "$IF" root; fi')
    lines += [
        f"iptables -w -t mangle -N {CHAIN} 2>/dev/null || true",
        f"iptables -w -t mangle -C POSTROUTING -j {CHAIN} 2>/dev/null || "
        f"iptables -w -t mangle -A POSTROUTING -j {CHAIN}",
        f'iptables -w -t mangle -S {CHAIN} | grep -- "^-A {CHAIN} -o $IF " | '
        "sed 's/^-A /-D /' | while read -r rule; do iptables -w -t mangle $rule; done",
    ]
    if imp.loss:
        lines.append(f'iptables -w -t mangle -A {CHAIN} -o "$IF" -m statistic --mode random '
                     f"--probability {imp.loss / 100:.6f} -j DROP")
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
