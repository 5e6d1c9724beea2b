"""Why an engine cannot be reached, and how to fix it: the messages of a failed connect.

An SSH failure comes out of paramiko and the SDK as a chain of exceptions whose own words
rarely name the fix; here they are read for what went wrong (host key, login, network,
no engine behind the login) and said with the command that fixes it.
"""

from __future__ import annotations

import urllib.parse
from contextlib import suppress
from typing import Any

from dnetlab.engine.ssh import run_command
from dnetlab.errors import EnvironmentFailure
from dnetlab.model import Host

_NO_ANSWER_HINT = ("the SSH transport runs `docker system dial-stdio` on the host: is the "
                   "docker CLI installed there and dockerd running?")


def unreachable(host: Host, url: str, exc: BaseException) -> EnvironmentFailure:
    hint = ("is dockerd running? (`make engine` starts one for the tests)"
            if url.startswith("unix://") else "check the address and that dockerd runs")
    return EnvironmentFailure(
        f"host {host.key!r}: cannot reach the Docker engine at {url}: {_reason(exc)}; {hint}")


def ssh_failure_asking_the_host(docker: Any, host: Host, url: str, exc: BaseException,
                                timeout: float) -> str:
    """`ssh_failure`, and when all it can say is that no engine answered behind a working
    login, what the host itself says about it."""
    said = ssh_failure(host, url, exc)
    if said.endswith(_NO_ANSWER_HINT):
        said = _ask_the_host(docker, host, url, timeout) or said
    return said


def ssh_failure(host: Host, url: str, exc: BaseException) -> str:
    """What went wrong on the way to an engine over SSH, and how to fix it."""
    parts = urllib.parse.urlsplit(url)
    addr = parts.hostname or "?"
    port = f" -p {parts.port}" if parts.port else ""
    who = f"host {host.key!r} ({url})"
    names = {type(e).__name__ for e in _chain(exc)}
    text = " ".join(str(e) for e in _chain(exc))
    if "BadHostKeyException" in names or "does not match" in text:
        return (f"{who}: its SSH host key has CHANGED since it was recorded in known_hosts; "
                "if the host was rebuilt, remove the old key with `ssh-keygen -R "
                f"{addr}` and add the new one after checking it (`ssh-keyscan{port} {addr}`)")
    if "not found in known_hosts" in text:
        return (f"{who}: its SSH host key is unknown; dnetlab never accepts a key silently: "
                f"check it and add it with `ssh-keyscan{port} {addr} >> ~/.ssh/known_hosts` "
                f"(or connect once with `ssh{port} {parts.username or 'root'}@{addr}`)")
    if "AuthenticationException" in names or "Authentication failed" in text:
        return (f"{who}: the SSH login was refused; dnetlab uses your SSH keys and agent: "
                f"check `ssh{port} {parts.username or 'root'}@{addr} docker version` works")
    if ("NoValidConnectionsError" in names or "timed out" in text or "Unable to connect" in text
            or "No route to host" in text or "Connection refused" in text):
        return (f"{who}: cannot open an SSH connection ({_reason(exc)}); is the host up and "
                "sshd running?")
    return (f"{who}: connected over SSH but the Docker engine did not answer ({_reason(exc)}); "
            + _NO_ANSWER_HINT)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _ask_the_host(docker: Any, host: Host, url: str, timeout: float) -> str | None:
    """Why a host that accepted the SSH login gave no engine, in the host's own words:
    `docker version` run there in a session of a new connection (made as the SDK makes
    its own). None when that does not tell more."""
    who = f"host {host.key!r} ({url})"
    try:
        # as APIClient does: the adapter wants the port spelled out
        adapter = docker.transport.SSHHTTPAdapter(docker.utils.parse_host(url, False),
                                                  timeout=timeout)
    except Exception:
        return None
    try:
        out, err, status = run_command(adapter.ssh_client, "docker version --format "
                                       "'{{.Server.APIVersion}}'", b"", min(timeout, 15.0))
    except Exception:
        return None
    finally:
        with suppress(Exception):
            adapter.close()
    said = (err.decode(errors="replace") + out.decode(errors="replace")).strip()
    last = said.splitlines()[-1] if said else ""
    if status == 127 or "command not found" in said or "docker: not found" in said:
        return (f"{who}: the SSH login works but there is no `docker` command on the host "
                f"({last or 'exit 127'}); the SSH transport runs `docker system dial-stdio` "
                "there: install the Docker CLI on the host (Debian: `apt install docker.io`, "
                "or docker-ce-cli) or put it on the PATH of non-interactive SSH sessions")
    if status != 0:
        return (f"{who}: connected over SSH but the Docker engine did not answer; "
                f"`docker version` on the host says: {last or f'exit {status}'}; is dockerd "
                "running there, and can this user reach its socket?")
    return None


def _reason(exc: BaseException) -> str:
    """The gist of a connection failure, in a few words where the cause is a common one."""
    text = str(exc)
    if "FileNotFoundError" in text or "No such file" in text:
        return "no socket there"
    if "Connection refused" in text:
        return "connection refused"
    if "Permission denied" in text:
        return "permission denied on the socket"
    return text.splitlines()[0][:300] if text else type(exc).__name__
