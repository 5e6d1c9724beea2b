"""`dnetlab capture`: pcap of a lab container's namespace while pings run, read with a pcap
library, on the local engine and on a remote host of the test bed; `-w -` streams; Ctrl-C
or SIGTERM leave no helper; hostile filters and bad targets are clear errors (exit 2).
Subnets 10.234.x, which no other test uses."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import dpkt
import pytest

from tests.integration.labtools import lab_name, write
from tests.integration.test_multihost import (  # noqa: F401 (fixtures)
    _client,
    _dnetlab,
    clean,
    hosts,
)

PCAP_MAGIC = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
HELPERS = {"label": "dnetlab.helper=capture"}


def _lab(name: str, subnet: str, host: str = "") -> str:
    hosts_part = f"hosts:\n  h1: {{engine: \"{host}\"}}\n" if host else ""
    on = "    host: h1\n" if host else ""
    return f"""version: 1
name: {name}
{hosts_part}networks:
  lan:
    driver: bridge
    subnet: {subnet}.0/24
containers:
  c1:
    image: busybox
    command: sleep infinity
{on}    networks:
      lan: {{ipv4: {subnet}.11}}
  c2:
    image: busybox
    command: sleep infinity
{on}    networks:
      lan: {{ipv4: {subnet}.12}}
"""


def echo_requests(data: bytes) -> int:
    """ICMP echo requests in a pcap (Ethernet or Linux cooked v1/v2, as `any` gives)."""
    assert data[:4] in PCAP_MAGIC, data[:24]
    reader = dpkt.pcap.Reader(io.BytesIO(data))
    link = reader.datalink()
    found = 0
    for _ts, buf in reader:
        if link == dpkt.pcap.DLT_EN10MB:
            ip = dpkt.ethernet.Ethernet(buf).data
        elif link == dpkt.pcap.DLT_LINUX_SLL:
            ip = dpkt.sll.SLL(buf).data
        elif link == 276:  # DLT_LINUX_SLL2
            ip = dpkt.sll2.SLL2(buf).data
        else:
            raise AssertionError(f"link type {link}")
        if isinstance(ip, dpkt.ip.IP) and isinstance(ip.data, dpkt.icmp.ICMP) \
                and ip.data.type == dpkt.icmp.ICMP_ECHO:
            found += 1
    return found


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "dnetlab", *args], cwd=cwd,
                          capture_output=True, timeout=120, check=False)


def _pings(client: docker.APIClient, container: str, to: str, count: int = 40) -> None:
    ex = client.exec_create(container, ["ping", "-c", str(count), "-i", "0.2", to])
    client.exec_start(ex["Id"], detach=True)


@pytest.fixture
def local_lab(run_cli, lab_dir: Path, lab_names: list[str]) -> str:  # type: ignore[no-untyped-def]
    name = lab_name("cap")
    lab_names.append(name)
    code, _, err = run_cli("up", write(lab_dir / "cap.yaml", _lab(name, "10.234.0")))
    assert code == 0, err
    return name


@pytest.fixture
def api() -> docker.APIClient:
    return docker.APIClient(version="auto")


def test_capture_to_a_file_while_pings_run(local_lab: str, lab_dir: Path,
                                           api: docker.APIClient) -> None:
    _pings(api, f"{local_lab}-c1", "10.234.0.12")
    res = _cli(lab_dir, "capture", "c1", "-w", "c1.pcap", "--count", "8", "icmp")
    assert res.returncode == 0, res.stderr
    assert b"8 packets captured in c1" in res.stderr
    assert echo_requests((lab_dir / "c1.pcap").read_bytes()) >= 3
    assert not api.containers(all=True, filters=HELPERS)


def test_capture_streams_to_stdout_on_an_interface(local_lab: str, lab_dir: Path,
                                                   api: docker.APIClient) -> None:
    _pings(api, f"{local_lab}-c1", "10.234.0.12")
    res = _cli(lab_dir, "capture", "c2:eth0", "-w", "-", "--duration", "3", "icmp")
    assert res.returncode == 0, res.stderr
    assert dpkt.pcap.Reader(io.BytesIO(res.stdout)).datalink() == dpkt.pcap.DLT_EN10MB
    assert echo_requests(res.stdout) >= 3  # c1's requests, as c2 receives them
    assert b"packets captured in c2:eth0" in res.stderr


def _interrupted(cwd: Path, api: docker.APIClient, args: list[str], sig: signal.Signals,
                 after: float) -> tuple[int, bytes]:
    """`dnetlab capture ARGS` sent `sig` `after` seconds once its helper runs (on the
    engine `api` reaches): its exit code and stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "capture", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not api.containers(filters=HELPERS):
            assert time.monotonic() < deadline, "no capture helper started"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        time.sleep(after)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_no_helper(local_lab: str, lab_dir: Path, api: docker.APIClient,
                                    sig: signal.Signals) -> None:
    code, err = _interrupted(lab_dir, api, ["c1", "-w", "x.pcap"], sig, after=0.5)
    assert code == 130, err
    assert b"Traceback" not in err
    assert not api.containers(all=True, filters=HELPERS)
    assert (lab_dir / "x.pcap").read_bytes()[:4] in PCAP_MAGIC


@pytest.mark.parametrize("bpf", [
    ["icmp; touch /tmp/dnetlab-capture-pwned"],
    ["$(touch /tmp/dnetlab-capture-pwned)"],
    ["`touch /tmp/dnetlab-capture-pwned`"],
    ["-w", "/tmp/dnetlab-capture-pwned"],
    ["icmp\n-w /tmp/dnetlab-capture-pwned"],
    ["icmp' && touch /tmp/dnetlab-capture-pwned '"],
])
def test_hostile_filters_are_refused(local_lab: str, lab_dir: Path, api: docker.APIClient,
                                     bpf: list[str]) -> None:
    res = _cli(lab_dir, "capture", "c1", "-w", "h.pcap", "--count", "1", "--", *bpf)
    assert res.returncode == 2, res.stderr
    assert b"filter" in res.stderr and b"Traceback" not in res.stderr
    assert not Path("/tmp/dnetlab-capture-pwned").exists()
    assert not api.containers(all=True, filters=HELPERS)


def test_bad_targets_are_clear_errors(local_lab: str, lab_dir: Path) -> None:
    res = _cli(lab_dir, "capture", "nope", "-w", "n.pcap")
    assert res.returncode == 2
    assert b"no container 'nope'" in res.stderr and b"c1, c2" in res.stderr
    res = _cli(lab_dir, "capture", "c1:eth7", "-w", "n.pcap", "--count", "1")
    assert res.returncode == 2, res.stderr
    assert b"no interface 'eth7'" in res.stderr and b"eth0" in res.stderr
    res = _cli(lab_dir, "capture", "c1:eth0;reboot", "-w", "n.pcap")
    assert res.returncode == 2 and b"bad interface name" in res.stderr


def test_capture_on_a_remote_host(hosts: list[dict[str, str]],  # noqa: F811
                                  clean: Path) -> None:  # noqa: F811
    w1 = hosts[1]
    path = write(clean / "remote.yaml", _lab("caprem", "10.234.1", "ssh://root@10.99.1.2"))
    up = _dnetlab(clean, "up", path)
    assert up.returncode == 0, up.stderr
    c = _client(w1)
    try:
        _pings(c, "caprem-c1", "10.234.1.12")
        res = _cli(clean, "capture", "c1", "-w", "r.pcap", "--count", "8", "icmp")
        assert res.returncode == 0, res.stderr
        assert echo_requests((clean / "r.pcap").read_bytes()) >= 3
        res = _cli(clean, "capture", "c2:eth0", "-w", "-", "--duration", "2", "icmp")
        assert res.returncode == 0, res.stderr
        assert echo_requests(res.stdout) >= 3
        assert not c.containers(all=True, filters=HELPERS)
        # Ctrl-C: tcpdump is ended through the engine, its file complete, the helper gone
        _pings(c, "caprem-c1", "10.234.1.12")
        code, err = _interrupted(clean, c, ["c1", "-w", "i.pcap", "icmp"], signal.SIGINT,
                                 after=2.0)
        assert code == 130 and b"Traceback" not in err, err
        assert b"packets captured in c1" in err, err
        assert echo_requests((clean / "i.pcap").read_bytes()) >= 3
        assert not c.containers(all=True, filters=HELPERS)
    finally:
        c.close()
