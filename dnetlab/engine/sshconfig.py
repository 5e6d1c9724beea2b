"""Where an ssh:// engine URL leads, as the user's `ssh` would take it: the URL read with the
user's SSH config (paramiko's `SSHConfig` lookup), resolved once into an `SSHTarget` that
every SSH connection of dnetlab uses (the SDK's transport, the commands dnetlab runs on a
host, the diagnosis of a failed connect).

Honoured: `Host` patterns and aliases, `Match`, `Include`, `HostName`, `User`, `Port`,
`IdentityFile`, `IdentitiesOnly`, `UserKnownHostsFile`, `GlobalKnownHostsFile`,
`ConnectTimeout`, `ProxyJump` (chains too, each hop resolved with the config) and
`ProxyCommand`. The user and port written in the URL win over the config, as they do on
ssh's command line. Host keys are always checked strictly: `StrictHostKeyChecking` is not
read, so no config can make dnetlab accept a key silently.

The config file is `$DNETLAB_SSH_CONFIG` when set, else `~/.ssh/config`.

No paramiko import at module level: `diagnose` (loaded for local engines too) reads the
dataclass; the lookup imports paramiko when an ssh:// engine is resolved.
"""

from __future__ import annotations

import getpass
import glob
import os
import shlex
import urllib.parse
from dataclasses import dataclass
from typing import Any

CONFIG_ENV = "DNETLAB_SSH_CONFIG"
DEFAULT_CONFIG = "~/.ssh/config"
DEFAULT_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
DEFAULT_GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
MAX_JUMPS = 8  # as deep a ProxyJump chain as anyone writes; deeper is a loop
MAX_INCLUDE_DEPTH = 16  # OpenSSH's own limit


class SSHConfigError(Exception):
    """The SSH config cannot be used as written (unreadable, a bad value, a loop)."""


class HopError(Exception):
    """Connecting to a jump host (`ProxyJump`) failed; the cause is chained. Raised by the
    transport so that a diagnosis names the hop, not the final host."""

    def __init__(self, hop: SSHTarget, cause: BaseException) -> None:
        super().__init__(f"jump host {hop.display}: {cause}")
        self.hop = hop


class JumpChannelError(Exception):
    """The jump host refused or could not open the forwarded connection to the next hop."""

    def __init__(self, hop: SSHTarget, target: SSHTarget, cause: BaseException) -> None:
        super().__init__(f"jump host {hop.display} could not open a connection to "
                         f"{target.hostname}:{target.port}: {cause or type(cause).__name__}")
        self.hop = hop
        self.target = target


@dataclass(frozen=True)
class SSHTarget:
    """One SSH destination with everything the user's config says about it."""

    alias: str  # the host as written in the URL or the ProxyJump entry
    hostname: str  # where to connect (`HostName`, else the alias)
    port: int
    user: str
    explicit_user: bool  # written in the URL or the ProxyJump entry (not from the config)
    explicit_port: bool
    identity_files: tuple[str, ...]  # `IdentityFile`, expanded (only those configured)
    identities_only: bool
    known_hosts: tuple[str, ...]  # `UserKnownHostsFile`, expanded
    global_known_hosts: tuple[str, ...]
    connect_timeout: float | None
    proxy_command: str | None
    jump: SSHTarget | None  # the hop this host is reached through (`ProxyJump`)
    config_file: str | None  # the config file read; None when there is none
    config_from_env: bool  # the file came from $DNETLAB_SSH_CONFIG

    @property
    def display(self) -> str:
        """user@host[:port] as connected to, for messages."""
        return f"{self.user}@{self.hostname}" + (f":{self.port}" if self.port != 22 else "")

    @property
    def known_hosts_name(self) -> str:
        """The name the host key is recorded under in known_hosts (OpenSSH's rule)."""
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"

    # -- commands for the user to paste: every argument through shlex.quote -------------
    def ssh_command(self, *remote: str) -> str:
        """The user's own `ssh` to this host, as dnetlab reached it (same config file)."""
        args = ["ssh"]
        if self.config_from_env and self.config_file:
            args += ["-F", self.config_file]
        if self.explicit_port:
            args += ["-p", str(self.port)]
        dest = f"{self.user}@{self.alias}" if self.explicit_user else self.alias
        return " ".join([*map(shlex.quote, args), shlex.quote(dest),
                         *(shlex.quote(r) for r in remote)])

    def keyscan_command(self) -> str:
        """Fetch this host's key into the first known_hosts file: run on the machine when
        it reaches the host, on the jump host when only that one does."""
        scan = ["ssh-keyscan", "-H"] + (["-p", str(self.port)] if self.port != 22 else [])
        scan.append(self.hostname)
        quoted = " ".join(shlex.quote(a) for a in scan)
        if self.jump is not None:
            quoted = self.jump.ssh_command(quoted)
        return f"{quoted} >> {self.known_hosts_file_shown}"

    def forget_command(self) -> str:
        """Remove a recorded (changed) key of this host."""
        args = ["ssh-keygen", "-R", self.known_hosts_name]
        shown = self.known_hosts_file_shown
        if shown != "~/.ssh/known_hosts":
            args += ["-f", self.known_hosts[0] if self.known_hosts else shown]
        return " ".join(shlex.quote(a) for a in args)

    @property
    def known_hosts_file_shown(self) -> str:
        """The known_hosts file new keys go to: `~/...` unquoted (so the shell expands it)
        when it is the usual one, else the path quoted."""
        if not self.known_hosts:
            return "~/.ssh/known_hosts"
        path = self.known_hosts[0]
        if path == os.path.expanduser("~/.ssh/known_hosts"):
            return "~/.ssh/known_hosts"
        return shlex.quote(path)


def config_path() -> tuple[str, bool]:
    """The SSH config file to read, and whether the environment chose it."""
    chosen = os.environ.get(CONFIG_ENV)
    if chosen:
        return os.path.expanduser(chosen), True
    return os.path.expanduser(DEFAULT_CONFIG), False


def config_text(path: str, depth: int = 0) -> str:
    """The config with its `Include` lines replaced by the files they name (paramiko does
    not read `Include`; OpenSSH does, relative to ~/.ssh, globs allowed)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    out: list[str] = []
    for line in lines:
        words = line.strip().split(None, 1)
        if len(words) == 2 and words[0].lower() == "include":
            if depth >= MAX_INCLUDE_DEPTH:
                raise SSHConfigError(f"{path}: Include nested more than {MAX_INCLUDE_DEPTH} "
                                     "deep (a loop?)")
            for pattern in shlex.split(words[1]):
                pattern = os.path.expanduser(pattern)
                if not os.path.isabs(pattern):
                    pattern = os.path.join(os.path.expanduser("~/.ssh"), pattern)
                for name in sorted(glob.glob(pattern)):
                    out.append(config_text(name, depth + 1))
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def load_config() -> tuple[Any, str | None, bool]:
    """The parsed config (paramiko.SSHConfig), its path (None when there is no file) and
    whether $DNETLAB_SSH_CONFIG chose it."""
    import paramiko

    path, from_env = config_path()
    if not from_env and not os.path.exists(path):
        return paramiko.SSHConfig(), None, False
    try:
        text = config_text(path)
    except OSError as exc:
        how = f"${CONFIG_ENV} names {path}" if from_env else path
        raise SSHConfigError(f"{how}, which cannot be read: {exc.strerror or exc}") from None
    try:
        return paramiko.SSHConfig.from_text(text), path, from_env
    except paramiko.ssh_exception.ConfigParseError as exc:
        raise SSHConfigError(f"{path}: {exc}") from None


def resolve_url(url: str) -> SSHTarget:
    """The SSH destination of an ssh:// engine URL, with the user's config applied."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise SSHConfigError(f"{url}: invalid port") from None
    if not parts.hostname:
        raise SSHConfigError(f"{url}: no host")
    cfg, path, from_env = load_config()
    return _resolve(cfg, path, from_env, parts.hostname, parts.username, port, ())


def _resolve(cfg: Any, path: str | None, from_env: bool, alias: str, user: str | None,
             port: int | None, chain: tuple[str, ...],
             given_jump: SSHTarget | None = None) -> SSHTarget:
    """`alias` looked up in the config. `chain`: the hosts being resolved that lead here
    (for loops). `given_jump`: the previous hop of a ProxyJump list, which replaces the
    host's own ProxyJump as in OpenSSH (None: the host's own config decides)."""
    where = path or "the SSH config"
    if alias in chain or len(chain) > MAX_JUMPS:
        raise SSHConfigError(f"{where}: ProxyJump loops: {' -> '.join((*chain, alias))}")
    opts = cfg.lookup(alias)
    hostname = str(opts.get("hostname") or alias)
    try:
        cfg_port = int(opts["port"]) if "port" in opts else 22
        timeout = float(opts["connecttimeout"]) if "connecttimeout" in opts else None
    except ValueError as exc:
        raise SSHConfigError(f"{where}: Host {alias}: {exc}") from None
    explicit_user = user is not None
    resolved_user = user or str(opts.get("user") or "") or getpass.getuser()
    jump = given_jump
    spec = str(opts.get("proxyjump") or "")
    if jump is None and spec and spec.lower() != "none":
        for entry in spec.split(","):
            j_user, j_host, j_port = parse_jump(entry.strip(), where)
            jump = _resolve(cfg, path, from_env, j_host, j_user, j_port, (*chain, alias),
                            jump)
    command = opts.get("proxycommand")
    return SSHTarget(
        alias=alias, hostname=hostname, port=port or cfg_port, user=resolved_user,
        explicit_user=explicit_user, explicit_port=port is not None,
        identity_files=tuple(os.path.expanduser(p) for p in opts.get("identityfile", [])),
        identities_only=str(opts.get("identitiesonly", "no")).lower() == "yes",
        known_hosts=_files(opts.get("userknownhostsfile"), DEFAULT_KNOWN_HOSTS, hostname,
                           resolved_user),
        global_known_hosts=_files(opts.get("globalknownhostsfile"),
                                  DEFAULT_GLOBAL_KNOWN_HOSTS, hostname, resolved_user),
        connect_timeout=timeout,
        # OpenSSH uses the first of ProxyJump and ProxyCommand it reads; the lookup keeps
        # no order, so ProxyJump wins when both are set
        proxy_command=str(command) if command and jump is None else None,
        jump=jump, config_file=path, config_from_env=from_env)


def parse_jump(entry: str, where: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` or `ssh://[user@]host[:port]` of a ProxyJump list."""
    text = entry if entry.startswith("ssh://") else f"ssh://{entry}"
    parts = urllib.parse.urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port == -1 or parts.path not in ("", "/"):
        raise SSHConfigError(f"{where}: ProxyJump entry {entry!r} is not [user@]host[:port]")
    return parts.username, parts.hostname, port


def _files(value: Any, default: tuple[str, ...], host: str, user: str) -> tuple[str, ...]:
    """A list of known_hosts files as ssh_config writes it ("none": no file)."""
    names = shlex.split(str(value)) if value else list(default)
    if [n.lower() for n in names] == ["none"]:
        return ()
    out = []
    for name in names:
        for token, repl in (("%d", os.path.expanduser("~")), ("%u", getpass.getuser()),
                            ("%h", host), ("%r", user)):
            name = name.replace(token, repl)
        out.append(os.path.expanduser(name))
    return tuple(out)


def plain_target(url: str) -> SSHTarget:
    """The URL as written, without any config: for messages when the config cannot be
    read."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "?"
    return SSHTarget(
        alias=host, hostname=host, port=port or 22, user=parts.username or getpass.getuser(),
        explicit_user=parts.username is not None, explicit_port=port is not None,
        identity_files=(), identities_only=False,
        known_hosts=tuple(os.path.expanduser(p) for p in DEFAULT_KNOWN_HOSTS),
        global_known_hosts=DEFAULT_GLOBAL_KNOWN_HOSTS, connect_timeout=None,
        proxy_command=None, jump=None, config_file=None, config_from_env=False)
