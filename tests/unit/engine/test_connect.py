"""Connecting to a local engine with the standard library: a stand-in engine on a unix
socket answers the GETs, so no Docker and no SDK are involved."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from dnetlab.engine.connect import SocketReader, open_connection
from dnetlab.engine.errors import EngineError
from dnetlab.errors import EnvironmentFailure
from dnetlab.model import Host

Answer = Callable[[str], tuple[int, bytes]]


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    answer: Answer
    asked: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # the name http.server calls
        self.server.asked.append(self.path)
        status, body = self.server.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests


@pytest.fixture
def engine_at(tmp_path: Path) -> Iterator[Callable[[Answer], tuple[str, list[str]]]]:
    """Start a stand-in engine that answers with `answer(path)`; its socket path and the
    paths it was asked for."""
    servers: list[_Server] = []

    def start(answer: Answer) -> tuple[str, list[str]]:
        path = str(tmp_path / f"engine{len(servers)}.sock")
        server = _Server(path, _Handler)
        server.answer, server.asked = answer, []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return path, server.asked

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _engine(version: str) -> Answer:
    def answer(path: str) -> tuple[int, bytes]:
        if path == "/version":
            return 200, json.dumps({"ApiVersion": version, "Version": "20.10.24"}).encode()
        if path.endswith("/containers/json?all=1"):
            return 200, b"[]"
        return 404, json.dumps({"message": f"page not found: {path}"}).encode()
    return answer


def test_a_local_engine_is_read_through_its_socket_at_the_api_version_it_speaks(
        engine_at: Callable[[Answer], tuple[str, list[str]]]) -> None:
    path, asked = engine_at(_engine("1.41"))
    conn = open_connection(Host("local", f"unix://{path}"))

    def sdk_call() -> Any:
        raise AssertionError("the SDK is not needed to read")

    assert (conn.api_version, conn.server_version) == ("1.41", "20.10.24")
    assert conn.read("containers", "/containers/json?all=1", sdk_call) == []
    assert asked == ["/version", "/v1.41/containers/json?all=1"]


def test_an_engine_older_than_docker_20_10_is_refused_before_anything_is_done(
        engine_at: Callable[[Answer], tuple[str, list[str]]]) -> None:
    path, asked = engine_at(_engine("1.40"))
    with pytest.raises(EnvironmentFailure) as caught:
        open_connection(Host("local", f"unix://{path}"))
    assert caught.value.message == (
        f"host 'local': the engine at unix://{path} speaks API 1.40, older than the 1.41 "
        "dnetlab needs (Docker 20.10 or newer)")
    assert asked == ["/version"]


def test_a_refused_get_carries_the_engine_s_message(
        engine_at: Callable[[Answer], tuple[str, list[str]]]) -> None:
    path, _ = engine_at(_engine("1.41"))
    with pytest.raises(EngineError) as caught:
        SocketReader(path, 5.0).get("/nope")
    assert caught.value.message == "GET /nope: 404 page not found: /nope"


def test_a_socket_nobody_listens_on_is_an_unreachable_engine(tmp_path: Path) -> None:
    url = f"unix://{tmp_path}/none.sock"
    with pytest.raises(EnvironmentFailure) as caught:
        open_connection(Host("local", url))
    assert caught.value.message == (
        f"host 'local': cannot reach the Docker engine at {url}: no socket there; is dockerd "
        "running? (`make engine` starts one for the tests)")
