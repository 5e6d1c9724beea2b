"""A lab on an engine reached over tcp:// (a loopback port forwarded to the local
engine's socket by the test itself: plain TCP, loopback only)."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.labtools import lab_name, nothing_left, write


class _Forward(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect("/var/run/docker.sock")

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                # pass the half-close on, no more: a client that has sent its whole request
                # (an exec's attach) still reads the reply. Closing both ways here cut
                # replies short now and then, and a probe came back as an error.
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pump, args=(upstream, self.request), daemon=True)
        back.start()
        pump(self.request, upstream)
        back.join(timeout=10)
        upstream.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def tcp_engine() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_lab_over_tcp_engine(tcp_engine: str, tmp_path: Path, lab_names: list[str],
                             docker_client: object) -> None:
    name = lab_name()
    lab_names.append(name)
    text = f"""
version: 1
name: {name}
hosts:
  box: {{engine: "{tcp_engine}"}}
networks:
  lan: {{subnet: 10.239.0.0/24}}
containers:
  a: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.239.0.10}}}}}}
  b: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.239.0.11}}}}}}
probes:
  - {{type: ping, from: a, to: b, within: 5}}
  - {{type: dns, from: b, name: a, address: 10.239.0.10}}
"""
    path = write(tmp_path / "s.yaml", text)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        if args[0] in ("up", "verify"):  # a tcp:// engine is an ask; approved for the run
            args = (args[0], "--trust", *args[1:])
        return subprocess.run([sys.executable, "-m", "dnetlab", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)

    up = run("up", path)
    assert up.returncode == 0, up.stderr
    assert "up to date" in run("up", path).stdout
    rep = json.loads(run("verify", "--format", "json").stdout)
    assert [p["status"] for p in rep["probes"]] == ["passed", "passed"], [
        (p["name"], p["status"], p["actual"], p["output"][-300:]) for p in rep["probes"]]
    assert run("down").returncode == 0
    assert nothing_left(docker_client, name)  # type: ignore[arg-type]
