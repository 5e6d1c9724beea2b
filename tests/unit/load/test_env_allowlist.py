"""env() in a shared file reads only DNETLAB_* variables and those the user allows: a
file must not read a token from the environment and send it to an engine it names."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from dnetlab.errors import ScenarioInvalid
from dnetlab.load.render import render
from dnetlab.load.rendered import Variables
from dnetlab.load.source import Source

SECRET = "s3cret-token-value"


def _issues(text: str, allow: frozenset[str] = frozenset()) -> list[str]:
    with pytest.raises(ScenarioInvalid) as err:
        render(Source("f.yaml", text), Variables(cli={}, allow_env=allow))
    return [i.format() for i in err.value.issues]


def test_env_of_another_variable_is_a_located_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_TOKEN", SECRET)
    issues = _issues("version: 1\nname: x\nhosts:\n"
                     "  h: {engine: \"tcp://h:1/{{ env('SOME_TOKEN') }}\"}\n")
    assert len(issues) == 1
    assert issues[0].startswith("f.yaml:4:")
    assert "env('SOME_TOKEN') is refused" in issues[0]
    assert "--allow-env SOME_TOKEN" in issues[0]
    assert SECRET not in issues[0]


def test_allowed_and_prefixed_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_TOKEN", "abc")
    monkeypatch.setenv("DNETLAB_ADDR", "10.99.0.9")
    text = "x: \"{{ env('SOME_TOKEN') }} {{ env('DNETLAB_ADDR') }}\"\n"
    done = render(Source("f.yaml", text), Variables(cli={}, allow_env=frozenset({"SOME_TOKEN"})))
    assert done.text == "x: \"abc 10.99.0.9\"\n"


@pytest.mark.parametrize("expr", ["env('HOME')", "env('PATH', 'x')", "env(42)",
                                  "env('DNETLAB')", "env('dnetlab_x')"])
def test_refused_forms(expr: str) -> None:
    assert "is refused" in _issues(f"x: \"{{{{ {expr} }}}}\"\n")[0]


def test_plan_of_a_file_reading_a_secret_contacts_no_engine(
        run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    seen: list[bytes] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                seen.append(conn.recv(4096))

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    monkeypatch.setenv("SOME_TOKEN", SECRET)
    f = tmp_path / "s.yaml"
    f.write_text(f"""version: 1
name: leak
hosts:
  h: {{engine: "tcp://127.0.0.1:{port}/{{{{ env('SOME_TOKEN') }}}}"}}
containers:
  c: {{host: h, image: busybox}}
""")
    monkeypatch.chdir(tmp_path)
    try:
        for command in ("validate", "plan", "up", "render"):
            code, out, err = run_cli(command, str(f))
            assert code == 2, (command, err)
            assert SECRET not in out + err
    finally:
        done.set()
        t.join(2)
        listener.close()
    assert seen == []  # nothing reached the listener, token or not
    assert not (tmp_path / ".dnetlab").exists() or not any((tmp_path / ".dnetlab").glob("*.json"))
