"""What a failed connect says: the exception chain paramiko and the SDK raise, read for the
cause, said with the command that fixes it."""

from __future__ import annotations

from pathlib import Path

import docker
import paramiko
import pytest

from dnetlab.engine.diagnose import ssh_failure, unreachable
from dnetlab.model import Host

HOST = Host("h1", "ssh://root@10.99.0.1:2222")
URL = "ssh://root@10.99.0.1:2222"


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hints name the host as the SSH config resolves it: no config of the machine's
    user may leak in."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DNETLAB_SSH_CONFIG", raising=False)


def _as_the_sdk_raises(cause: BaseException) -> BaseException:
    """The SDK's own exception, with paramiko's underneath as it chains them."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise docker.errors.DockerException("Error while fetching server API version") \
                from exc
    except docker.errors.DockerException as outer:
        return outer


def test_an_unknown_host_key_is_never_accepted_and_the_fix_names_the_port() -> None:
    said = ssh_failure(HOST, URL, _as_the_sdk_raises(
        paramiko.SSHException("Server '[10.99.0.1]:2222' not found in known_hosts")))
    assert said.startswith(f"host 'h1' ({URL}): its SSH host key is unknown")
    assert "`ssh-keyscan -H -p 2222 10.99.0.1 >> ~/.ssh/known_hosts`" in said
    assert "`ssh -p 2222 root@10.99.0.1`" in said


def test_a_changed_host_key_is_shouted_with_the_way_to_replace_it() -> None:
    said = ssh_failure(HOST, URL, paramiko.SSHException("Host key for server does not match"))
    assert "its SSH host key has CHANGED" in said
    # the key is recorded under [host]:port for a port other than 22
    assert "`ssh-keygen -R '[10.99.0.1]:2222'`" in said


def test_a_refused_login_points_at_the_user_s_keys() -> None:
    said = ssh_failure(HOST, URL, _as_the_sdk_raises(
        paramiko.AuthenticationException("Authentication failed.")))
    assert "the SSH login was refused" in said
    assert "`ssh -p 2222 root@10.99.0.1 docker version` works" in said


def test_a_host_that_does_not_answer_is_a_network_problem() -> None:
    refused = paramiko.ssh_exception.NoValidConnectionsError(
        {("10.99.0.1", 2222): ConnectionRefusedError(111, "Connection refused")})
    said = ssh_failure(HOST, URL, _as_the_sdk_raises(refused))
    assert said == (f"host 'h1' ({URL}): cannot open an SSH connection (Error while fetching "
                    "server API version); is the host up and sshd running?")


def test_a_login_without_an_engine_behind_it_names_dial_stdio() -> None:
    said = ssh_failure(HOST, URL, _as_the_sdk_raises(EOFError("the channel closed")))
    assert said.startswith(f"host 'h1' ({URL}): connected over SSH but the Docker engine did "
                           "not answer (Error while fetching server API version)")
    assert said.endswith("is the docker CLI installed there and dockerd running?")


@pytest.mark.parametrize(("error", "reason"), [
    (FileNotFoundError(2, "No such file or directory"), "no socket there"),
    (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
    (PermissionError(13, "Permission denied"), "permission denied on the socket"),
    (TimeoutError(), "TimeoutError"),
])
def test_an_unreachable_local_engine_says_why_in_a_few_words(error: OSError,
                                                            reason: str) -> None:
    said = unreachable(Host("local", None), "unix:///run/x.sock", error).message
    assert said == (f"host 'local': cannot reach the Docker engine at unix:///run/x.sock: "
                    f"{reason}; is dockerd running? (`make engine` starts one for the tests)")
