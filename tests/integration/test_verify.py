"""`dnetlab verify` against real labs: every probe type passing and failing, helpers,
retries, derived probes, reports, exit codes, and nothing left behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import pytest
from junitparser import Error, Failure, JUnitXml

from tests.integration.labtools import lab_name, owned_containers, owned_networks, write

ROOT = Path(__file__).resolve().parents[2]

KIT = """
version: 1
name: {name}
networks:
  lan: {{subnet: 10.236.0.0/24, gateway: 10.236.0.1}}
  other: {{subnet: 10.237.0.0/24}}
containers:
  a:
    image: busybox
    command: sleep infinity
    networks: {{lan: {{ipv4: 10.236.0.10, mac: "02:42:0a:ec:00:0a"}}}}
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-lab > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks: {{lan: {{ipv4: 10.236.0.20, aliases: [www]}}}}
  far:
    image: busybox
    command: sleep infinity
    networks: {{other: {{ipv4: 10.237.0.30}}}}
  bare:
    image: dnetlab/bare
    command: sleep infinity
    networks: {{lan: {{ipv4: 10.236.0.40}}}}
probes:
{probes}
"""

PASSING = """
  - {type: ping, from: a, to: web, within: 5}
  - {type: ping, from: a, to: web@lan, count: 2}
  - {type: ping, from: a, to: 10.236.0.20}
  - {type: ping, from: a, to: far@other, expect: unreachable, count: 1}
  - {type: dns, from: a, name: www, address: 10.236.0.20}
  - {type: dns, from: a, name: web, address: [10.236.0.20]}
  - {type: tcp, from: a, to: web, port: 80, within: 5}
  - {type: tcp, from: a, to: web, port: 81, expect: closed}
  - {type: http, from: a, url: "http://www/", status: 200, contains: hello-lab}
  - {type: http, from: a, url: "http://10.236.0.20/missing", status: 404}
  - {type: traceroute, from: a, to: web, hops: 1, path: [web], via: 10.236.0.20}
  - type: interfaces
    on: a
    present: [lo, eth0]
    absent: [eth1]
    addresses: {eth0: [10.236.0.10/24]}
    subnets: {eth0: [10.236.0.0/24]}
    mac: {eth0: "02:42:0A:EC:00:0A"}
    mtu: {eth0: 1500}
  - {type: interfaces, on: a, only: [lo, eth0]}
  - {type: routes, on: a, default_via: 10.236.0.1, contains: ["10.236.0.0/24 dev eth0", "default via 10.236.0.1"]}
  - {type: file, on: a, path: /etc/hosts, contains: [10.236.0.10, a], matches: '10\\.236\\.0\\.10\\s+a', absent_text: web}
  - {type: exec, on: a, command: "sh -c 'echo out-$((6*7)); exit 3'", exit_code: 3, stdout_contains: out-42, stdout_matches: 'out-\\d+'}
  - {type: ping, from: bare, to: web}
  - {type: dns, from: bare, name: web, address: 10.236.0.20}
  - {type: interfaces, on: "host:local", present: [lo, docker0]}
  - {type: ping, from: [a, web], to: [web, a]}
"""

FAILING = """
  - {name: ping-wrong, type: ping, from: a, to: far@other, count: 1}
  - {name: ping-should-not, type: ping, from: a, to: web, expect: unreachable, count: 1}
  - {type: dns, from: a, name: a, address: 10.236.0.99}
  - {name: tcp-wrong, type: tcp, from: a, to: web, port: 81}
  - {name: http-wrong, type: http, from: a, url: "http://web/", contains: goodbye}
  - {name: trace-wrong, type: traceroute, from: a, to: web, hops: 3}
  - {name: if-wrong, type: interfaces, on: a, present: [eth5], mtu: {eth0: 9000}}
  - {name: routes-wrong, type: routes, on: a, default_via: 10.236.0.254}
  - {name: file-wrong, type: file, on: a, path: /etc/hosts, contains: nowhere-to-be-found}
  - {name: exec-wrong, type: exec, on: a, command: "true", exit_code: 1}
  - {name: file-missing, type: file, on: a, path: /no/such/file, contains: x}
"""

# the names the FAILING probes go by (a dns probe's `name` is its query, so the failing one
# goes by its generated name)
FAILING_NAMES = {"ping-wrong", "ping-should-not", "dns a: a", "tcp-wrong", "http-wrong",
                 "trace-wrong", "if-wrong", "routes-wrong", "file-wrong", "exec-wrong",
                 "file-missing"}


def _verify(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dnetlab", "verify", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One lab for the probe-type tests (bringing it up is the slow part)."""
    d = tmp_path_factory.mktemp("kit")
    name = lab_name()
    path = write(d / "kit.yaml", KIT.format(name=name, probes=PASSING + FAILING))
    up = subprocess.run([sys.executable, "-m", "dnetlab", "up", path], cwd=d,
                        capture_output=True, text=True, timeout=300, check=False)
    assert up.returncode == 0, up.stderr
    client = docker.from_env()
    yield d, name, path, client
    subprocess.run([sys.executable, "-m", "dnetlab", "down"], cwd=d, capture_output=True,
                   timeout=300, check=False)
    client.close()


def _json(cwd: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = _verify(["--format", "json", *extra], cwd)
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_every_probe_type_passes_and_fails_with_reasons(kit: Any) -> None:
    d, name, _path, _client = kit
    code, rep = _json(d)
    assert code == 1  # the failing set fails
    by = {p["name"]: p for p in rep["probes"]}
    assert set(by) >= FAILING_NAMES
    for n, p in by.items():
        if n in FAILING_NAMES:
            assert p["status"] == "failed", p
        else:
            assert p["status"] == "passed", p
        assert set(p) >= {"name", "type", "status", "expected", "actual", "output",
                          "duration_s"}
    # failures say what was expected and what was seen
    assert "10.236.0.99" in by["dns a: a"]["expected"]
    assert "10.236.0.10" in by["dns a: a"]["actual"]
    assert "3" in by["trace-wrong"]["expected"] and "1" in by["trace-wrong"]["actual"]
    assert "eth5" in by["if-wrong"]["actual"] or "eth5" in by["if-wrong"]["expected"]
    assert "10.236.0.254" in by["routes-wrong"]["expected"]
    assert "10.236.0.1" in by["routes-wrong"]["actual"]
    assert rep["summary"]["failed"] == len(FAILING_NAMES) and rep["summary"]["errors"] == 0
    # `ping a -> web` is written twice (once alone, once from the lists): same name
    assert rep["summary"]["passed"] == len(rep["probes"]) - len(FAILING_NAMES)
    assert rep["scenario"] == name
    # lists expanded to every distinct pair
    assert {"ping a -> web", "ping web -> a"} <= set(by)


def test_probes_in_an_image_without_tools_use_a_helper(kit: Any) -> None:
    d, name, _path, client = kit
    bare = owned_containers(client, name)["bare"]
    assert bare.exec_run(["sh", "-c", "command -v ping"]).exit_code != 0  # really lacks it
    code, rep = _json(d, "--probe", "ping bare -> web", "--probe", "dns bare: web")
    assert code == 0, rep
    assert [p["status"] for p in rep["probes"]] == ["passed", "passed"]
    left = client.containers.list(all=True, filters={"label": "dnetlab.kind=helper"})
    assert left == []


def test_selected_probe_and_unknown_probe(kit: Any) -> None:
    d, *_ = kit
    code, rep = _json(d, "--probe", "tcp-wrong")
    assert code == 1 and [p["name"] for p in rep["probes"]] == ["tcp-wrong"]
    done = _verify(["--probe", "no-such-probe"], d)
    assert done.returncode == 2 and "no probe named 'no-such-probe'" in done.stderr


def test_junit_report_parses_and_matches(kit: Any) -> None:
    d, name, *_ = kit
    out = d / "reports" / "verify.xml"
    done = _verify(["--format", "junit", "--output", str(out), "--probe", "tcp-wrong",
                    "--probe", "ping a -> web"], d)
    assert done.returncode == 1
    assert "1 passed, 1 failed" in done.stdout
    xml = JUnitXml.fromfile(str(out))
    suite = next(s for s in xml if s.name == name)  # <testsuites> holds the lab's suite
    cases = {c.name: c for c in suite}
    assert set(cases) == {"tcp-wrong", "ping a -> web"}
    assert cases["ping a -> web"].is_passed
    res = cases["tcp-wrong"].result
    assert any(isinstance(r, Failure) for r in res) and not any(isinstance(r, Error) for r in res)
    assert suite.tests == 2 and suite.failures == 1 and suite.errors == 0
    assert cases["tcp-wrong"].system_out


def test_table_report_lists_failures_with_output(kit: Any) -> None:
    d, *_ = kit
    done = _verify(["--probe", "dns a: a", "--probe", "ping a -> web"], d)
    assert done.returncode == 1
    assert "dns a: a" in done.stdout and "FAIL" in done.stdout and "PASS" in done.stdout
    assert "1 passed, 1 failed, 0 errors" in done.stdout


def test_breaking_the_lab_fails_the_right_probe(kit: Any) -> None:
    d, name, _path, client = kit
    lan = owned_networks(client, name)["lan"]
    a = owned_containers(client, name)["a"]
    lan.disconnect(a.id)
    lan.connect(a.id, ipv4_address="10.236.0.77")
    try:
        code, rep = _json(d, "--probe", "file a:/etc/hosts", "--probe", "ping a -> 10.236.0.20")
        by = {p["name"]: p for p in rep["probes"]}
        assert code == 1
        assert by["file a:/etc/hosts"]["status"] == "failed"  # /etc/hosts holds .77 now
        assert by["ping a -> 10.236.0.20"]["status"] == "passed"
        lan.disconnect(a.id)
        code, rep = _json(d, "--probe", "ping a -> web")
        assert code == 1 and rep["probes"][0]["status"] in ("failed", "error")
    finally:
        with_lan = [n for n in a.attrs["NetworkSettings"]["Networks"]]
        del with_lan
        subprocess.run([sys.executable, "-m", "dnetlab", "up", str(d / "kit.yaml")], cwd=d,
                       capture_output=True, timeout=300, check=False)


def test_lab_not_up_is_exit_3(tmp_path: Path, lab_names: list[str]) -> None:
    name = lab_name()
    lab_names.append(name)
    text = (f"version: 1\nname: {name}\ncontainers:\n  x: {{image: busybox}}\n"
            "probes:\n  - {type: ping, from: x, to: 127.0.0.1}\n")
    done = _verify([write(tmp_path / "s.yaml", text)], tmp_path)
    assert done.returncode == 3
    assert f"lab {name} is not up: container(s) x is not running; run `dnetlab up`" in done.stderr


def test_within_retries_until_a_late_service_answers(tmp_path: Path, lab_names: list[str]) -> None:
    name = lab_name()
    lab_names.append(name)
    text = f"""
version: 1
name: {name}
networks:
  lan: {{subnet: 10.238.0.0/24}}
containers:
  a: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.238.0.10}}}}}}
  late:
    image: busybox
    command: ["sh", "-c", "sleep 4; mkdir -p /w; echo ok > /w/index.html; exec httpd -f -p 80 -h /w"]
    networks: {{lan: {{ipv4: 10.238.0.20}}}}
probes:
  - {{type: tcp, from: a, to: late, port: 80, within: 20}}
"""
    path = write(tmp_path / "s.yaml", text)
    up = subprocess.run([sys.executable, "-m", "dnetlab", "up", path], cwd=tmp_path,
                        capture_output=True, text=True, timeout=120, check=False)
    assert up.returncode == 0, up.stderr
    code, rep = _json(tmp_path)
    assert code == 0, rep
    assert rep["probes"][0]["status"] == "passed" and rep["probes"][0]["attempts"] > 1


def test_auto_probes_on_two_isolated_networks(tmp_path: Path, lab_names: list[str]) -> None:
    lab_names.append("isolation")
    up = subprocess.run([sys.executable, "-m", "dnetlab", "up",
                         str(ROOT / "scenarios/isolation.yaml")], cwd=tmp_path,
                        capture_output=True, text=True, timeout=120, check=False)
    assert up.returncode == 0, up.stderr
    code, rep = _json(tmp_path, "--auto", "--probe", "auto: c1 -> c3@net1",
                      "--probe", "auto: c1 -/-> c2@net2", "--probe", "auto: c3 -> c2@net2")
    assert code == 0, rep
    assert [p["status"] for p in rep["probes"]] == ["passed"] * 3
    code, rep = _json(tmp_path, "--auto")
    autos = [p for p in rep["probes"] if p["name"].startswith("auto: ")]
    assert code == 0 and len(autos) >= 6 and all(p["status"] == "passed" for p in autos)


def test_interrupted_verify_leaves_no_helper(kit: Any) -> None:
    d, _name, _path, client = kit
    proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "verify", "--probe",
                             "ping bare -> web", "--probe", "ping-wrong", "--probe",
                             "dns bare: web"], cwd=d, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err
    assert proc.returncode in (0, 1, 130)
    left = client.containers.list(all=True, filters={"label": "dnetlab.kind=helper"})
    assert left == []


@pytest.mark.parametrize("seed", ["none", "host", "bridge", "static-ip", "isolation", "links"])
def test_seed_scenario_proves_the_seed(seed: str, tmp_path: Path, lab_names: list[str]) -> None:
    lab_names.append(seed)
    up = subprocess.run([sys.executable, "-m", "dnetlab", "up",
                         str(ROOT / "scenarios" / f"{seed}.yaml")], cwd=tmp_path,
                        capture_output=True, text=True, timeout=120, check=False)
    assert up.returncode == 0, up.stderr
    code, rep = _json(tmp_path)
    bad = [(p["name"], p["status"], p["actual"]) for p in rep["probes"]
           if p["status"] != "passed"]
    assert code == 0 and not bad, bad
    assert rep["summary"]["passed"] == len(rep["probes"]) > 0


def _up_seed(seed: str, cwd: Path) -> None:
    up = subprocess.run([sys.executable, "-m", "dnetlab", "up",
                         str(ROOT / "scenarios" / f"{seed}.yaml")], cwd=cwd,
                        capture_output=True, text=True, timeout=120, check=False)
    assert up.returncode == 0, up.stderr


def test_static_ip_seed_fails_when_an_address_is_changed_by_hand(
        tmp_path: Path, lab_names: list[str]) -> None:
    lab_names.append("static-ip")
    _up_seed("static-ip", tmp_path)
    client = docker.from_env()
    try:
        lan = client.networks.get("static-ip-lan")
        c2 = client.containers.get("static-ip-c2")
        lan.disconnect(c2.id)
        lan.connect(c2.id, ipv4_address="10.201.0.77")
        code, rep = _json(tmp_path)
        by = {p["name"]: p for p in rep["probes"]}
        assert code == 1
        assert by["dns c1: c2"]["status"] == "failed"
        assert by["dns c1: c2"]["expected"] == "c2 -> 10.201.0.11"
        assert "10.201.0.77" in by["dns c1: c2"]["actual"]
        assert by["ping c1 -> c2"]["status"] == "passed"  # reachable at its new address
        assert all(p["status"] == "passed" for n, p in by.items()
                   if n not in ("dns c1: c2",) and "c2" not in n)
    finally:
        client.close()


def test_isolation_seed_fails_when_the_bridges_are_joined_by_hand(
        tmp_path: Path, lab_names: list[str]) -> None:
    lab_names.append("isolation")
    _up_seed("isolation", tmp_path)
    client = docker.from_env()
    try:
        client.networks.get("isolation-net2").connect("isolation-c1")
        code, rep = _json(tmp_path)
        by = {p["name"]: p for p in rep["probes"]}
        assert code == 1
        broken = by["ping c1 -> 10.202.2.10"]
        assert broken["status"] == "failed"
        assert broken["expected"].startswith("unreachable")
        assert "replies" in broken["actual"] and not broken["actual"].startswith("0/")
        client.networks.get("isolation-net2").disconnect("isolation-c1")
        code, rep = _json(tmp_path, "--probe", "ping c1 -> 10.202.2.10")
        assert code == 0
    finally:
        client.close()


def test_none_seed_fails_when_the_container_gets_a_network(
        tmp_path: Path, lab_names: list[str]) -> None:
    lab_names.append("none")
    _up_seed("none", tmp_path)
    client = docker.from_env()
    try:
        # a container in network mode none cannot be connected: recreate it on the bridge,
        # keeping dnetlab's labels, to break the lab the way a wrong hand edit would
        old = client.containers.get("none-c1")
        labels = old.labels
        old.remove(force=True)
        client.containers.run("busybox", "sleep infinity", name="none-c1", labels=labels,
                              detach=True, init=True)
        code, rep = _json(tmp_path)
        by = {p["name"]: p for p in rep["probes"]}
        assert code == 1
        assert by["interfaces c1"]["status"] == "failed"
        assert "eth0" in by["interfaces c1"]["actual"]
        assert by["routes c1"]["status"] == "failed"
        assert "172.17.0.1" in by["routes c1"]["actual"]
    finally:
        client.close()
