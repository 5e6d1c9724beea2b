"""`impair:` (on an attachment, or on a network as its attachments' default) to an
`Impairment`, with the checks the schema cannot make: a rate tc can take, jitter only
with a delay."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from dnetlab.load.findings import Findings
from dnetlab.load.yamlload import Path
from dnetlab.model import Attachment, Container, Impairment, Network

_RATE = re.compile(r"^(?P<n>[0-9]+(?:\.[0-9]+)?)(?P<prefix>[kmg]?)(?P<unit>bit|bps)$", re.I)
_PREFIX = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3}  # tc's units: powers of 1000
MIN_RATE_BPS = 8000  # tbf below 8kbit cannot send one full-size packet per burst in time
MAX_RATE_BPS = 100 * 1000**3  # beyond what a veth carries; tc's 32-bit rate ends at 4gbyte


def rate_bps(text: str) -> int | None:
    """`10mbit` -> 10000000; `1kbps` -> 8000 (bytes per second, as tc reads it)."""
    m = _RATE.match(text.strip())
    if m is None:
        return None
    bits = float(m["n"]) * _PREFIX[m["prefix"].lower()] * (8 if m["unit"].lower() == "bps"
                                                            else 1)
    return round(bits)


def parse(raw: Any, path: Path, out: Findings) -> Impairment | None:
    """None when `raw` is not a mapping (the schema said so already)."""
    if not isinstance(raw, dict):
        return Impairment() if raw is None else None
    ok = True
    rate = raw.get("rate")
    bps = None
    if isinstance(rate, str):
        bps = rate_bps(rate)
        if bps is None:
            ok = False  # the schema's pattern reported it
        elif not MIN_RATE_BPS <= bps <= MAX_RATE_BPS:
            out.error((*path, "rate"), f"rate {rate} is outside what tc can shape here",
                      "use a rate between 8kbit and 100gbit")
            ok = False
    delay, jitter = raw.get("delay"), raw.get("jitter")
    if jitter and not delay:
        out.error((*path, "jitter"), "jitter needs a delay",
                  "jitter varies a delay: add delay (milliseconds), or drop jitter")
        ok = False
    if not ok:
        return None
    numbers = {k: raw.get(k) for k in ("loss", "delay", "jitter")}
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, int | float))
           for v in numbers.values()):
        return None  # the schema reported the type
    return Impairment(
        rate=rate if isinstance(rate, str) else None, rate_bps=bps,
        loss=float(raw["loss"]) if raw.get("loss") else None,
        delay=float(delay) if delay else None,
        jitter=float(jitter) if jitter else None,
    )


def with_defaults(containers: tuple[Container, ...], networks: list[Network],
                  declared: set[tuple[str, str]]) -> tuple[Container, ...]:
    """Each attachment that declares no `impair` of its own takes its network's; an
    empty impairment (`impair: {}`) is none."""
    defaults = {n.key: n.impair for n in networks}

    def one(c: Container, a: Attachment) -> Attachment:
        imp = a.impair if (c.key, a.network) in declared else defaults.get(a.network)
        return replace(a, impair=None if imp is None or imp.empty else imp)

    return tuple(replace(c, attachments=tuple(one(c, a) for a in c.attachments))
                 if c.attachments else c for c in containers)
