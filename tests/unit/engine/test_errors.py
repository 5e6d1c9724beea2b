"""What the engine refused, in its words: the SDK's exceptions become an `EngineError` that
names the operation; anything else is a bug and passes through."""

from __future__ import annotations

import docker
import paramiko
import pytest
import requests

from dnetlab.engine.errors import EngineError, EngineUnreachable, translated
from dnetlab.errors import ExitCode


def test_an_api_error_is_said_in_the_engine_s_words_even_when_they_come_as_bytes() -> None:
    with pytest.raises(EngineError) as caught, translated("host h1: starting container c1"):
        raise docker.errors.APIError("500 Server Error", explanation=b"no such image: nope")
    assert caught.value.message == "host h1: starting container c1: no such image: nope"
    assert caught.value.exit_code == ExitCode.FAILED


def test_an_api_error_without_an_explanation_keeps_the_sdk_s_text() -> None:
    with pytest.raises(EngineError) as caught, translated("host h1: x"):
        raise docker.errors.APIError("500 Server Error")
    assert caught.value.message == "host h1: x: 500 Server Error"


def test_any_other_sdk_failure_is_an_engine_error_too() -> None:
    with pytest.raises(EngineError) as caught, translated("host h1: pulling image busybox"):
        raise docker.errors.DockerException("Error while fetching server API version")
    assert caught.value.message == ("host h1: pulling image busybox: Error while fetching "
                                    "server API version")


def test_what_is_not_the_sdk_s_passes_through_untouched() -> None:
    with pytest.raises(KeyError), translated("host h1: x"):
        raise KeyError("Id")


@pytest.mark.parametrize("lost", [
    requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected())"),
    ConnectionResetError(104, "Connection reset by peer"),
    EOFError(),
    paramiko.SSHException("SSH session not active"),
])
def test_a_lost_connection_is_the_environment_s_failure(lost: BaseException) -> None:
    """dockerd killed or the SSH connection cut in the middle of the work: exit 3 naming
    the host and the operation, not an internal error."""
    with pytest.raises(EngineUnreachable) as caught, translated("host w2: creating container c1"):
        raise lost
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert caught.value.message.startswith("host w2: creating container c1: the engine stopped "
                                           f"answering ({type(lost).__name__}")
