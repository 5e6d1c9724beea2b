"""The exec paths with a stand-in SDK client: what an exec's output and exit code become,
and the file an exec over SSH leaves its output in."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest

from dnetlab.engine.connect import Connection
from dnetlab.engine.exec import ExecResult, exec_in, exec_many, read_archive
from dnetlab.engine.hostexec import Job
from dnetlab.model import Host


class Api:
    def __init__(self, out: Any, code: int | None) -> None:
        self.out, self.code = out, code
        self.created: list[tuple[str, list[str], str]] = []

    def exec_create(self, container: str, argv: list[str], **kw: Any) -> dict[str, str]:
        self.created.append((container, argv, kw["user"]))
        return {"Id": "x1"}

    def exec_start(self, exec_id: str, demux: bool) -> Any:
        return self.out

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return {"ExitCode": self.code}


def _conn(api: Api, url: str = "unix:///nowhere") -> Connection:
    return Connection(Host("h1", url), api, url, api_version="1.41")


def test_a_local_exec_gives_its_output_as_text_and_its_exit_code() -> None:
    api = Api(b"caf\xc3\xa9 \xff\n", 3)
    assert exec_in(_conn(api), "c1", ["sh", "-c", "true"], "nobody") == ExecResult(
        3, "café \ufffd\n")
    assert api.created == [("c1", ["sh", "-c", "true"], "nobody")]


def test_an_exec_whose_exit_code_the_engine_lost_is_minus_one() -> None:
    assert exec_in(_conn(Api(None, None)), "c1", ["true"], "") == ExecResult(-1, "")


def test_exec_many_wants_an_ssh_engine() -> None:
    with pytest.raises(ValueError, match="host h1: exec_many needs an ssh:// engine"):
        exec_many(_conn(Api(b"", 0)), [Job("c1", "true")], 2)


def test_the_output_file_comes_back_as_text_from_its_archive() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = "line 1\nline \u00e9\n".encode()
        info = tarfile.TarInfo(".dnetlab-exec-0123456789ab")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    assert read_archive([raw[:700], raw[700:]]) == "line 1\nline \u00e9\n"
