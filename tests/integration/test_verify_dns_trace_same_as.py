"""Spec 10.1 on a real engine: dns `query`, `nxdomain` only on a resolver's answer and
`unresolved` for any missing address; traceroute by ICMP echo; `same_as: host:KEY`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.labtools import lab_name, write

LAB = """
version: 1
name: {name}
networks:
  lan: {{subnet: 10.236.21.0/24}}
containers:
  a:
    image: busybox
    command: sleep infinity
    networks: {{lan: {{ipv4: 10.236.21.10, aliases: [www]}}}}
  b:
    image: busybox
    command: sleep infinity
    networks: {{lan: {{ipv4: 10.236.21.11}}}}
  d:
    image: busybox
    command: sleep infinity
    dns: ["127.0.0.1"]
  h:
    image: busybox
    command: sleep infinity
    network_mode: host
probes:
  - {{type: dns, from: b, name: www by its alias, query: www, address: 10.236.21.10,
     within: 5}}
  - {{type: dns, from: d, name: dead resolver nxdomain, query: nosuch-x, expect: nxdomain}}
  - {{type: dns, from: d, name: dead resolver unresolved, query: nosuch-x,
     expect: unresolved}}
  - {{type: traceroute, from: a, to: b, icmp: true, hops: 1, path: [b]}}
  - {{type: interfaces, name: host ifaces, on: h, same_as: "host:local", within: 5}}
  - {{type: routes, name: host routes, on: h, same_as: "host:local", within: 5}}
  - {{type: interfaces, name: a ifaces, on: a, same_as: "host:local"}}
  - {{type: routes, name: a routes, on: a, same_as: "host:local"}}
"""


def _dnetlab(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dnetlab", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def test_dns_expectations_icmp_trace_and_same_as(tmp_path: Path,
                                                  lab_names: list[str]) -> None:
    name = lab_name()
    lab_names.append(name)
    path = write(tmp_path / "lab.yaml", LAB.format(name=name))
    up = _dnetlab(tmp_path, "up", path, "--trust")
    assert up.returncode == 0, up.stderr
    done = _dnetlab(tmp_path, "verify", path, "--trust", "--format", "json")
    assert done.returncode == 1, done.stderr
    by = {p["name"]: p for p in json.loads(done.stdout)["probes"]}
    status = {n: p["status"] for n, p in by.items()}
    assert status == {
        "www by its alias": "passed",
        "dead resolver nxdomain": "failed",
        "dead resolver unresolved": "passed",
        "traceroute a -> b": "passed",
        "host ifaces": "passed",
        "host routes": "passed",
        "a ifaces": "failed",
        "a routes": "failed",
    }, by
    # nothing listens on d's 127.0.0.1: no resolver answered, so no NXDOMAIN either
    no_answer = "nosuch-x: no answer (write to '127.0.0.1': Connection refused)"
    assert by["dead resolver nxdomain"]["actual"] == no_answer
    assert by["dead resolver unresolved"]["actual"] == no_answer
    assert by["traceroute a -> b"]["output"].startswith("traceroute to 10.236.21.11")
    assert by["host ifaces"]["actual"].startswith("the same ")
    assert by["a ifaces"]["actual"].startswith("only here: eth0 10.236.21.10/24; only on "
                                               "host:local: ")
    assert by["a routes"]["actual"].startswith("only here: default via 10.236.21.1 dev eth0")
    assert "--- the same on host:local ---" in by["a routes"]["output"]
    _dnetlab(tmp_path, "down", path, "--trust")
