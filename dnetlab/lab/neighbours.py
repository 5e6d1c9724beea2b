"""Whether this machine's neighbour (ARP) table can hold what a lab's probes need.

Linux keeps one neighbour table for all network namespaces together, at most
`net.ipv4.neigh.default.gc_thresh3` entries (1024 by default). Past it the kernel refuses
new entries and drops the packets that needed them, so the pings of a large lab fail
although nothing is wrong with the lab (measured: 387 of 1,000 at 1024, none at 16384;
docs/scale.md). Only the local engine's containers count: a remote host has its own
kernel.
"""

from __future__ import annotations

from pathlib import Path

from dnetlab.model import Scenario
from dnetlab.probes.registry import runs_on

GC_THRESH3 = Path("/proc/sys/net/ipv4/neigh/default/gc_thresh3")


def needed_entries(containers: int, probes: int) -> int:
    """Each container learns its gateway; a probe's source learns its target, and the
    target learns the source back."""
    return containers + 2 * probes


def kernel_limit(path: Path = GC_THRESH3) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None


def warning(sc: Scenario, limit: int | None) -> str | None:
    """A warning when the lab's containers on the local engine and the probes they send
    need more neighbour entries than `limit`; None when they fit or the limit is
    unknown."""
    if limit is None:
        return None
    local_hosts = {h.key for h in sc.hosts if h.is_local}
    here = {c.key for c in sc.containers if c.host in local_hosts}
    probes = sum(1 for p in sc.probes if runs_on(p) in here)
    need = needed_entries(len(here), probes)
    if need <= limit:
        return None
    suggest = max(16384, 1 << (2 * need - 1).bit_length())
    return (f"this lab's {len(here)} containers on this machine and their {probes} "
            f"probes need about {need} neighbour (ARP) entries, but the kernel keeps at "
            f"most {limit} for all namespaces together (net.ipv4.neigh.default."
            "gc_thresh3): past that, pings get no reply although the lab is fine; raise "
            f"it first: sysctl -w net.ipv4.neigh.default.gc_thresh3={suggest} "
            "(docs/scale.md)")
