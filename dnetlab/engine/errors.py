"""What an engine refused, in the engine's words: `EngineError` and the translation of the
SDK's exceptions into it; `EngineUnreachable` when it was not the engine that refused but
the way to it that broke (dockerd stopped, the SSH connection cut)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from dnetlab.engine.sshconfig import HopError, JumpChannelError
from dnetlab.errors import DnetlabError, ExitCode


class EngineError(DnetlabError):
    """An engine refused an operation."""

    exit_code = ExitCode.FAILED


class EngineUnreachable(EngineError):
    """The engine, or the connection to it, stopped answering in the middle of the work:
    the environment failed, not the operation (exit 3)."""

    exit_code = ExitCode.ENVIRONMENT


def is_connection_failure(exc: BaseException) -> bool:
    """A failure of the way to the engine rather than an answer from it: a socket or
    HTTP connection error (requests' errors are OSErrors), a channel that closed, an SSH
    transport that died, a reconnect that failed (on the way through a jump host too)."""
    if isinstance(exc, (OSError, EOFError, HopError, JumpChannelError)):
        return True
    paramiko = sys.modules.get("paramiko")  # looked up: loaded only for ssh:// engines
    return paramiko is not None and isinstance(exc, paramiko.SSHException)


def gist(exc: BaseException) -> str:
    """The first line of an exception, short, with its type when it says nothing."""
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn an SDK failure inside the block into an `EngineError` that starts with `what`,
    a lost connection into an `EngineUnreachable`; anything else passes through
    unchanged."""
    try:
        yield
    except Exception as exc:
        # looked up, not imported: a read through the socket never loads the SDK, and the
        # SDK may have been loaded inside the block
        docker = sys.modules.get("docker")
        if docker is not None and isinstance(exc, docker.errors.APIError):
            explanation = exc.explanation or str(exc)
            if isinstance(explanation, bytes):
                explanation = explanation.decode(errors="replace")
            raise EngineError(f"{what}: {explanation}") from exc
        if docker is not None and isinstance(exc, docker.errors.DockerException):
            raise EngineError(f"{what}: {exc}") from exc
        if is_connection_failure(exc):
            raise EngineUnreachable(f"{what}: the engine stopped answering ({gist(exc)})") \
                from exc
        raise
