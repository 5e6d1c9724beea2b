"""The user's SSH config applied to an ssh:// engine URL (paramiko's lookup), and the
commands the messages tell the user to paste: every argument quoted."""

from __future__ import annotations

import getpass
import shlex
from pathlib import Path

import paramiko
import pytest

from dnetlab.engine.diagnose import ssh_failure
from dnetlab.engine.sshconfig import (
    HopError,
    JumpChannelError,
    SSHConfigError,
    plain_target,
    resolve_url,
)
from dnetlab.model import Host


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DNETLAB_SSH_CONFIG", raising=False)
    (tmp_path / ".ssh").mkdir()
    return tmp_path


def _config(home: Path, text: str) -> Path:
    path = home / ".ssh" / "config"
    path.write_text(text)
    return path


def test_without_a_config_the_url_is_taken_as_written(home: Path) -> None:
    t = resolve_url("ssh://root@10.99.0.1")
    assert (t.hostname, t.port, t.user, t.jump) == ("10.99.0.1", 22, "root", None)
    assert t.known_hosts == (str(home / ".ssh/known_hosts"), str(home / ".ssh/known_hosts2"))
    assert t.identity_files == () and not t.identities_only and t.config_file is None
    assert resolve_url("ssh://10.99.0.1").user == getpass.getuser()


def test_an_alias_brings_hostname_user_port_identity_and_known_hosts(home: Path) -> None:
    _config(home, """
Host bed1
    HostName 10.99.0.1
    User deploy
    Port 2222
    IdentityFile ~/.ssh/lab_key
    IdentityFile %d/.ssh/other
    IdentitiesOnly yes
    UserKnownHostsFile ~/.ssh/lab_known_hosts /etc/lab_hosts
    ConnectTimeout 7

Host *
    User nobody
    Port 2200
""")
    t = resolve_url("ssh://bed1")
    assert (t.alias, t.hostname, t.port, t.user) == ("bed1", "10.99.0.1", 2222, "deploy")
    assert t.identity_files == (str(home / ".ssh/lab_key"), str(home / ".ssh/other"))
    assert t.identities_only and t.connect_timeout == 7.0
    assert t.known_hosts == (str(home / ".ssh/lab_known_hosts"), "/etc/lab_hosts")
    assert t.known_hosts_name == "[10.99.0.1]:2222"
    # the URL's user and port win over the config, as ssh's command line does
    t = resolve_url("ssh://root@bed1:22")
    assert (t.user, t.port) == ("root", 22)
    # first obtained value wins: the catch-all applies where nothing more specific did
    other = resolve_url("ssh://elsewhere")
    assert (other.hostname, other.user, other.port) == ("elsewhere", "nobody", 2200)


def test_proxyjump_resolves_each_hop_with_the_config(home: Path) -> None:
    _config(home, """
Host h3
    HostName 10.99.0.3
    User root
    ProxyJump root@10.99.0.1
Host chain
    HostName 10.99.0.3
    ProxyJump gw1,admin@gw2:2022
Host gw1
    HostName 10.99.0.1
    User jumper
Host gw2
    HostName 10.99.0.2
    ProxyJump nowhere-because-the-chain-decides
""")
    t = resolve_url("ssh://h3")
    assert t.jump is not None and t.jump.jump is None
    assert (t.jump.hostname, t.jump.user, t.jump.port) == ("10.99.0.1", "root", 22)
    chain = resolve_url("ssh://chain")
    assert chain.jump is not None and chain.jump.jump is not None
    assert (chain.jump.hostname, chain.jump.user, chain.jump.port) == ("10.99.0.2", "admin",
                                                                       2022)
    assert (chain.jump.jump.hostname, chain.jump.jump.user) == ("10.99.0.1", "jumper")
    assert chain.jump.jump.jump is None


def test_proxyjump_none_and_proxycommand(home: Path) -> None:
    _config(home, """
Host direct
    ProxyJump none
Host piped
    ProxyCommand nc %h %p
""")
    assert resolve_url("ssh://direct").jump is None
    assert resolve_url("ssh://piped").proxy_command == "nc piped 22"


def test_a_proxyjump_loop_and_a_bad_entry_are_config_errors(home: Path) -> None:
    _config(home, "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\nHost c\n  ProxyJump x:y\n")
    with pytest.raises(SSHConfigError, match="ProxyJump loops: a -> b -> a"):
        resolve_url("ssh://a")
    with pytest.raises(SSHConfigError, match="ProxyJump entry 'x:y' is not"):
        resolve_url("ssh://c")


def test_include_is_read_relative_to_dot_ssh(home: Path) -> None:
    (home / ".ssh" / "conf.d").mkdir()
    (home / ".ssh" / "conf.d" / "lab.conf").write_text("Host lab\n  HostName 10.99.0.2\n")
    _config(home, "Include conf.d/*.conf\n")
    assert resolve_url("ssh://lab").hostname == "10.99.0.2"


def test_the_config_file_may_come_from_the_environment(home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    other = home / "lab_ssh_config"
    other.write_text("Host h\n  HostName 10.99.0.3\n")
    monkeypatch.setenv("DNETLAB_SSH_CONFIG", str(other))
    t = resolve_url("ssh://h")
    assert t.hostname == "10.99.0.3" and t.config_file == str(other) and t.config_from_env
    # the user's own ssh needs the same file to reach the same host
    assert t.ssh_command() == f"ssh -F {shlex.quote(str(other))} h"
    monkeypatch.setenv("DNETLAB_SSH_CONFIG", str(home / "missing"))
    with pytest.raises(SSHConfigError, match=r"DNETLAB_SSH_CONFIG names .*missing, which "
                       r"cannot be read"):
        resolve_url("ssh://h")


def test_an_unparsable_config_is_a_config_error(home: Path) -> None:
    _config(home, "Host h\n  =bad\n")
    with pytest.raises(SSHConfigError, match="Unparsable line"):
        resolve_url("ssh://h")


def test_hints_quote_every_argument(home: Path) -> None:
    # a HostName with a shell metacharacter (the user's own config, not validated by the
    # scenario checks): pasted, it stays one argument
    _config(home, 'Host odd\n  HostName "a;b"\n  UserKnownHostsFile ~/kh$(x)\n')
    t = resolve_url("ssh://root@odd:2200")
    assert t.keyscan_command() == f"ssh-keyscan -H -p 2200 'a;b' >> '{home}/kh$(x)'"
    assert t.forget_command() == f"ssh-keygen -R '[a;b]:2200' -f '{home}/kh$(x)'"
    plain = plain_target("ssh://root@10.99.0.1")
    assert plain.keyscan_command() == "ssh-keyscan -H 10.99.0.1 >> ~/.ssh/known_hosts"
    assert plain.forget_command() == "ssh-keygen -R 10.99.0.1"
    assert plain.ssh_command("docker", "version") == "ssh root@10.99.0.1 docker version"


def test_a_host_key_known_hosts_file_of_the_config_is_the_one_named(home: Path) -> None:
    _config(home, "Host h\n  HostName 10.99.0.3\n  UserKnownHostsFile /tmp/lab known\n")
    t = resolve_url("ssh://h")
    assert t.known_hosts == ("/tmp/lab", "known")
    assert t.keyscan_command() == "ssh-keyscan -H 10.99.0.3 >> /tmp/lab"
    assert t.forget_command() == "ssh-keygen -R 10.99.0.3 -f /tmp/lab"


def test_a_host_behind_a_jump_is_scanned_from_the_jump_host(home: Path) -> None:
    _config(home, "Host h3\n  HostName 10.99.0.3\n  ProxyJump root@10.99.0.1\n")
    t = resolve_url("ssh://root@h3")
    assert t.keyscan_command() == ("ssh root@10.99.0.1 'ssh-keyscan -H 10.99.0.3' >> "
                                   "~/.ssh/known_hosts")
    said = ssh_failure(Host("far", "ssh://root@h3"), "ssh://root@h3", paramiko.SSHException(
        "Server '10.99.0.3' not found in known_hosts"))
    assert said.startswith("host 'far' (ssh://root@h3): its SSH host key is unknown")
    assert "`ssh root@10.99.0.1 'ssh-keyscan -H 10.99.0.3' >> ~/.ssh/known_hosts`" in said
    assert "(or connect once with `ssh root@h3`)" in said


def test_a_failure_at_the_jump_host_names_the_jump_host(home: Path) -> None:
    _config(home, "Host h3\n  HostName 10.99.0.3\n  ProxyJump root@10.99.0.1\n")
    t = resolve_url("ssh://root@h3")
    assert t.jump is not None
    try:
        raise HopError(t.jump, paramiko.SSHException("Server '10.99.0.1' not found in "
                                                     "known_hosts"))
    except HopError as exc:
        said = ssh_failure(Host("far", "ssh://root@h3"), "ssh://root@h3", exc)
    assert said.startswith("host 'far' (ssh://root@h3) through jump host root@10.99.0.1: the "
                           "SSH host key of jump host root@10.99.0.1 is unknown")
    assert "`ssh-keyscan -H 10.99.0.1 >> ~/.ssh/known_hosts`" in said
    refused = HopError(t.jump, paramiko.AuthenticationException("Authentication failed."))
    said = ssh_failure(Host("far", "ssh://root@h3"), "ssh://root@h3", refused)
    assert "the SSH login was refused" in said and "`ssh root@10.99.0.1 true` works" in said
    channel = JumpChannelError(t.jump, t, paramiko.ChannelException(2, "Connect failed"))
    said = ssh_failure(Host("far", "ssh://root@h3"), "ssh://root@h3", channel)
    assert said.startswith("host 'far' (ssh://root@h3): jump host root@10.99.0.1 could not "
                           "open a connection to 10.99.0.3:22")


def test_a_broken_config_is_said_as_such(home: Path) -> None:
    _config(home, "Host a\n  ProxyJump a\n")
    try:
        resolve_url("ssh://a")
    except SSHConfigError as exc:
        said = ssh_failure(Host("x", "ssh://a"), "ssh://a", exc)
    assert said.startswith("host 'x' (ssh://a): the SSH config cannot be used: ")
    assert "ProxyJump loops: a -> a" in said


def test_the_sdk_client_connects_to_the_target_of_the_url_as_written(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK rewrites ssh://bed2 as ssh://bed2:22 before its adapter sees it, which would
    hide the config's Port: the adapter takes the target resolved from the URL as written."""
    from dnetlab.engine import sshtransport
    from dnetlab.engine.connect import load_sdk

    _config(home, "Host bed2\n  HostName 10.99.0.2\n  Port 2222\n")
    seen: list[tuple[str, int]] = []

    class Stop(Exception):
        pass

    def connect(target: sshtransport.SSHTarget, timeout: float) -> sshtransport.JumpedClient:
        seen.append((target.hostname, target.port))
        raise Stop

    monkeypatch.setattr(sshtransport, "connect", connect)
    docker = load_sdk(True)
    with pytest.raises(Stop), sshtransport.resolved_as(resolve_url("ssh://bed2")):
        docker.APIClient(base_url="ssh://bed2", version="1.41")
    assert seen == [("10.99.0.2", 2222)]
