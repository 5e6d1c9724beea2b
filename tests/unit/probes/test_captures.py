"""Every captured output of a real tool reads without error by every parser."""

from __future__ import annotations

import pytest

from dnetlab.probes.dns import parse_nslookup
from dnetlab.probes.http import parse_wget
from dnetlab.probes.interfaces import parse_interfaces
from dnetlab.probes.ping import parse_ping
from dnetlab.probes.routes import parse_routes
from dnetlab.probes.traceroute import parse_traceroute
from tests.unit.probes.kit import FIXTURES, captured


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_capture_is_readable_and_parses(fixture: str) -> None:
    code, output = captured(fixture)
    assert code >= 0
    for parser in (parse_ping, parse_nslookup, parse_wget,
                   parse_traceroute, parse_interfaces, parse_routes):
        parser(output)  # never raises on any tool's output
