"""Reading the tools' output, for the parsers of several probe types. Pure.

Each parser reads busybox 1.35 and the usual Debian tools alike (iputils `ping`, bind9
`nslookup`, GNU `traceroute`, iproute2 `ip`, GNU `wget`), and never raises on text it does
not know: what it cannot read is left out, and the check says what it saw. The formats,
as captured from the real tools, live in tests/captured/.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

SECTION = "@@dnetlab-section"  # splits the parts of one probe's output (http, interfaces)


def address(text: str) -> str | None:
    """`text` as a normalised IP address, or None when it is not one."""
    try:
        return str(ip_address(text.split("%", 1)[0]))
    except ValueError:
        return None


def ip(text: str) -> IPv4Address | IPv6Address | None:
    """`text` as an address to compare with, or None (no zone stripped: a field's text)."""
    try:
        return ip_address(text)
    except ValueError:
        return None


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]


def last_words(text: str) -> str | None:
    """The last non-empty line: what a failed tool said."""
    said = [line.strip() for line in lines(text) if line.strip()]
    return said[-1] if said else None


def last_line(text: str) -> str | None:
    """The last non-empty line, for a verdict. Unlike `last_words` any line boundary
    Python knows ends a line, as the checks have always read it."""
    said = [line.strip() for line in text.splitlines() if line.strip()]
    return said[-1] if said else None
