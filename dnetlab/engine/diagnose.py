"""Why an engine cannot be reached, and how to fix it: the messages of a failed connect.

An SSH failure comes out of paramiko and the SDK as a chain of exceptions whose own words
rarely name the fix; here they are read for what went wrong (host key, login, network,
no engine behind the login) and said with the command that fixes it.
"""

from __future__ import annotations

from contextlib import suppress

from dnetlab.engine.ssh import run_command
from dnetlab.engine.sshconfig import (
    CONFIG_ENV,
    HopError,
    JumpChannelError,
    SSHConfigError,
    SSHTarget,
    plain_target,
    resolve_url,
)
from dnetlab.errors import EnvironmentFailure
from dnetlab.model import Host

_NO_ANSWER_HINT = ("the SSH transport runs `docker system dial-stdio` on the host: is the "
                   "docker CLI installed there and dockerd running?")


def unreachable(host: Host, url: str, exc: BaseException) -> EnvironmentFailure:
    hint = ("is dockerd running? (`make engine` starts one for the tests)"
            if url.startswith("unix://") else "check the address and that dockerd runs")
    return EnvironmentFailure(
        f"host {host.key!r}: cannot reach the Docker engine at {url}: {_reason(exc)}; {hint}")


def ssh_failure_asking_the_host(host: Host, url: str, exc: BaseException,
                                timeout: float) -> str:
    """`ssh_failure`, and when all it can say is that no engine answered behind a working
    login, what the host itself says about it."""
    target = _target(url)
    said = ssh_failure(host, url, exc, target)
    if said.endswith(_NO_ANSWER_HINT) and target is not None:
        said = _ask_the_host(host, url, target, timeout) or said
    return said


def ssh_failure(host: Host, url: str, exc: BaseException,
                target: SSHTarget | None = None) -> str:
    """What went wrong on the way to an engine over SSH, and how to fix it: the commands
    to paste name the host as the user's config resolves it, each argument quoted."""
    target = target or _target(url) or plain_target(url)
    chain = _chain(exc)
    names = {type(e).__name__ for e in chain}
    text = " ".join(str(e) for e in chain)
    who = f"host {host.key!r} ({url})"
    config_error = next((e for e in chain if isinstance(e, SSHConfigError)), None)
    if config_error is not None:
        return (f"{who}: the SSH config cannot be used: {config_error}; fix it (dnetlab reads "
                f"${CONFIG_ENV} when set, else ~/.ssh/config)")
    channel = next((e for e in chain if isinstance(e, JumpChannelError)), None)
    if channel is not None:
        return (f"{who}: {channel}; is the host up and sshd running, and does the jump host "
                "reach it?")
    hop_error = next((e for e in chain if isinstance(e, HopError)), None)
    hop = hop_error.hop if hop_error is not None else target
    if hop_error is not None:
        who += f" through jump host {hop.display}"
        key_of = f"the SSH host key of jump host {hop.display}"
        login = hop.ssh_command("true")
    else:
        key_of = "its SSH host key"
        login = hop.ssh_command("docker", "version")
    if "BadHostKeyException" in names or "does not match" in text:
        return (f"{who}: {key_of} has CHANGED since it was recorded in known_hosts; if the "
                f"host was rebuilt, remove the old key with `{hop.forget_command()}` and add "
                f"the new one after checking it (`{hop.keyscan_command()}`)")
    if "not found in known_hosts" in text:
        return (f"{who}: {key_of} is unknown; dnetlab never accepts a key silently: check it "
                f"and add it with `{hop.keyscan_command()}` (or connect once with "
                f"`{hop.ssh_command()}`)")
    if "AuthenticationException" in names or "Authentication failed" in text:
        return (f"{who}: the SSH login was refused; dnetlab uses your SSH keys, agent and "
                f"SSH config: check `{login}` works")
    if ("NoValidConnectionsError" in names or "timed out" in text or "Unable to connect" in text
            or "No route to host" in text or "Connection refused" in text):
        return (f"{who}: cannot open an SSH connection ({_reason(exc)}); is the host up and "
                "sshd running?")
    if hop_error is not None:
        return f"{who}: the SSH connection failed ({_reason(hop_error)})"
    return (f"{who}: connected over SSH but the Docker engine did not answer ({_reason(exc)}); "
            + _NO_ANSWER_HINT)


def _target(url: str) -> SSHTarget | None:
    """The URL resolved with the user's SSH config; None when the config is unusable (the
    failure itself says so)."""
    try:
        return resolve_url(url)
    except SSHConfigError:
        return None


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _ask_the_host(host: Host, url: str, target: SSHTarget, timeout: float) -> str | None:
    """Why a host that accepted the SSH login gave no engine, in the host's own words:
    `docker version` run there in a session of a new connection (made as the engine's
    own). None when that does not tell more."""
    from dnetlab.engine import sshtransport  # loaded already: the SSH engine needed it

    who = f"host {host.key!r} ({url})"
    try:
        client = sshtransport.connect(target, timeout)
    except Exception:
        return None
    try:
        out, err, status = run_command(client, "docker version --format "
                                       "'{{.Server.APIVersion}}'", b"", min(timeout, 15.0))
    except Exception:
        return None
    finally:
        with suppress(Exception):
            client.close()
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
