"""The exec paths with a stand-in SDK client: what an exec's output and exit code become,
and the file an exec over SSH leaves its output in."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest

from dnetlab.engine.connect import Connection
from dnetlab.engine.exec import ExecResult, exec_in, exec_many, read_archive, run_helper
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


BIG = "".join(f": {'x' * 1000} {i}\n" for i in range(300))  # 300 KiB: E2BIG as an argument


def _files(archive: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read().decode()  # type: ignore[union-attr]
                for m in tar.getmembers()}


class HelperApi:
    """What a helper container is asked: the calls in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def create_host_config(self, **kw: Any) -> dict[str, Any]:
        return kw

    def create_container(self, image: str, command: list[str], **kw: Any) -> dict[str, str]:
        self.calls.append(("create", command))
        return {"Id": "h1"}

    def put_archive(self, cid: str, path: str, data: bytes) -> bool:
        self.calls.append(("put", (path, _files(data))))
        return True

    def start(self, cid: str) -> None:
        self.calls.append(("start", cid))

    def wait(self, cid: str, timeout: float) -> dict[str, int]:
        return {"StatusCode": 0}

    def logs(self, cid: str, **kw: Any) -> bytes:
        return b"ok\n"

    def remove_container(self, cid: str, force: bool) -> None:
        self.calls.append(("remove", cid))


def test_a_small_helper_script_stays_on_the_command_line() -> None:
    api = HelperApi()
    assert run_helper(_conn(api), "busybox", ["sh", "-c", "echo ok"], "host", {}, 5) == (
        ExecResult(0, "ok\n"))
    assert api.calls == [("create", ["sh", "-c", "echo ok"]), ("start", "h1"),
                         ("remove", "h1")]


def test_a_big_helper_script_is_put_in_as_a_file_before_the_helper_starts() -> None:
    api = HelperApi()
    run_helper(_conn(api), "busybox", ["sh", "-c", BIG], "host", {}, 5)
    assert api.calls == [("create", ["sh", "/.dnetlab-script"]),
                         ("put", ("/", {".dnetlab-script": BIG})), ("start", "h1"),
                         ("remove", "h1")]


class CutShort(HelperApi):
    """Ctrl-C while the engine makes the helper: made, but its ID never came back."""

    def create_container(self, image: str, command: list[str], **kw: Any) -> dict[str, str]:
        self.calls.append(("create", kw["name"]))
        raise KeyboardInterrupt


def test_a_helper_whose_creation_was_cut_short_is_removed_by_its_name() -> None:
    api = CutShort()
    with pytest.raises(KeyboardInterrupt):
        run_helper(_conn(api), "busybox", ["sh", "-c", "echo ok"], "host", {}, 5)
    (_, name), removed = api.calls
    assert name.startswith("dnetlab-helper-") and removed == ("remove", name)


class SshApi:
    """An engine over SSH: a detached exec, its output fetched from a file."""

    def __init__(self) -> None:
        self.put: list[tuple[str, dict[str, str]]] = []
        self.argv: list[str] = []

    def put_archive(self, container: str, path: str, data: bytes) -> bool:
        self.put.append((path, _files(data)))
        return True

    def exec_create(self, container: str, argv: list[str], **kw: Any) -> dict[str, str]:
        self.argv = argv
        return {"Id": "x1"}

    def exec_start(self, exec_id: str, detach: bool) -> None:
        pass

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return {"Running": False, "ExitCode": 0}

    def get_archive(self, container: str, path: str) -> tuple[list[bytes], dict[str, Any]]:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(path.rsplit("/", 1)[1])
            info.size = 3
            tar.addfile(info, io.BytesIO(b"ok\n"))
        return [buf.getvalue()], {}


def test_over_ssh_a_big_script_goes_in_as_a_file_and_is_removed_after() -> None:
    api = SshApi()
    assert exec_in(_conn(api, "ssh://root@h1"), "c1", ["sh", "-c", BIG], "") == ExecResult(
        0, "ok\n")
    [(where, files)] = api.put
    [(name, text)] = files.items()
    assert where == "/tmp" and name.startswith(".dnetlab-script-") and text == BIG
    wrapped = api.argv[2]
    assert len(wrapped) < 500 and f". /tmp/{name}" in wrapped
    assert wrapped.endswith(f"rm -f /tmp/{name}; exit $c")


def test_over_ssh_a_small_script_stays_on_the_command_line() -> None:
    api = SshApi()
    exec_in(_conn(api, "ssh://root@h1"), "c1", ["sh", "-c", "echo ok"], "")
    assert api.put == [] and "( echo ok\n)" in api.argv[2]


def test_a_capture_helper_whose_creation_was_cut_short_is_removed_by_its_name() -> None:
    from dnetlab.engine.capture import capture

    api = CutShort()
    with pytest.raises(KeyboardInterrupt):
        capture(_conn(api), "c" * 64, ["tcpdump"], lambda data: None)  # type: ignore[arg-type]
    (_, name), removed = api.calls
    assert name.startswith("dnetlab-capture-") and removed == ("remove", name)


class Killed:
    """Each signal sent to the helper, and whether it ends the stream."""

    def __init__(self, ends_on: str) -> None:
        self.sent: list[str] = []
        self.ends_on = ends_on
        self.ender: Any = None

    def kill(self, cid: str, signal: str) -> None:
        self.sent.append(signal)
        if signal == self.ends_on:
            self.ender.ended.set()


@pytest.mark.parametrize(("ends_on", "sent"), [
    ("SIGINT", ["SIGINT"]),  # tcpdump ends its file
    # a SIGINT that came before tcpdump set its handler is lost (it is PID 1)
    ("SIGKILL", ["SIGINT", "SIGKILL"]),
])
def test_a_capture_asked_to_stop_is_ended(ends_on: str, sent: list[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from dnetlab.engine import capture

    monkeypatch.setattr(capture._Ender, "ENDED_S", 0.05)
    api = Killed(ends_on)
    stop = threading.Event()
    ender = api.ender = capture._Ender(_conn(api), "c1", None, stop)  # type: ignore[arg-type]
    ender.start()
    time.sleep(0.3)
    assert api.sent == []  # not before it is asked
    stop.set()
    assert ender.ended.wait(5)
    time.sleep(0.2)
    assert api.sent == sent
