"""The user's SSH config on the test bed: a host reached only through a jump host
(`ProxyJump`, a `direct-tcpip` channel through it), and a `Host` alias whose user, port,
key and known_hosts file all come from the config. Host keys stay strict for every hop,
and the commands the errors give, pasted as they are, fix what they say."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_multihost import _client, _dnetlab, _reset
from tests.integration.test_multihost import hosts as hosts  # a fixture, used by name

H1, H3 = "10.99.0.1", "10.99.0.3"
# Only this machine's own connections to h3's sshd are cut: h1 reaches h3 over the bridge
# (FORWARD), so a ProxyJump through h1 is the only way left
BLOCK = ["OUTPUT", "-d", H3, "-p", "tcp", "--dport", "22", "-m", "comment", "--comment",
         "dnetlab-test-proxyjump", "-j", "REJECT", "--reject-with", "tcp-reset"]


def _lab(name: str, engine: str) -> str:
    return f"""version: 1
name: {name}
hosts:
  far: {{engine: "{engine}"}}
networks:
  lan: {{subnet: 10.232.0.0/24}}
containers:
  a: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.232.0.10}}}}}}
  b: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.232.0.11}}}}}}
probes:
  - {{type: ping, from: a, to: b}}
  - {{type: exec, on: b, command: [sh, -c, "echo via-$((40+2))"], stdout_contains: via-42}}
"""


@pytest.fixture
def clean(hosts: list[dict[str, str]], tmp_path: Path) -> Iterator[Path]:
    _reset(hosts)
    yield tmp_path
    _reset(hosts, images=False)


@pytest.fixture
def h3_only_through_h1() -> Iterator[None]:
    subprocess.run(["iptables", "-I", *BLOCK], check=True)
    try:
        yield
    finally:
        subprocess.run(["iptables", "-D", *BLOCK], check=True)


def _host_key(name: str) -> str:
    return " ".join((Path("/var/lib/dnetlab-testbed") / name / "ssh" /
                     "ssh_host_ed25519_key.pub").read_text().split()[:2])


def _paste(command: str, env: dict[str, str]) -> None:
    """Run a command from an error message exactly as a user pasting it would."""
    subprocess.run(["bash", "-c", command], env=env, check=True, stdin=subprocess.DEVNULL,
                   capture_output=True, timeout=60)


def _hint(stderr: str) -> str:
    found = re.search(r"add it with `([^`]+)`", stderr)
    assert found, stderr
    return found.group(1)


def _lab_objects(h: dict[str, str], name: str) -> int:
    c = _client(h)
    try:
        flt = {"label": f"dnetlab.scenario={name}"}
        return len(c.containers(all=True, filters=flt)) + len(c.networks(filters=flt))
    finally:
        c.close()


def test_proxyjump_through_one_host_to_another(hosts: list[dict[str, str]], clean: Path,
                                               h3_only_through_h1: None) -> None:
    """h3 is unreachable from here; `Host h3` with `ProxyJump root@10.99.0.1` in a config
    named by DNETLAB_SSH_CONFIG reaches it. Each hop's host key is checked: unknown, the
    error names the hop and gives the command that adds it (for h3, run on the jump host,
    since only it reaches h3); pasted, the commands make the lab go up, verify and down."""
    known = clean / "lab_known_hosts"
    known.write_text("")
    config = clean / "ssh_config"
    config.write_text(f"""# written by the test
Host h3
    HostName {H3}
    User root
    ProxyJump root@{H1}
    UserKnownHostsFile {known}
Host {H1}
    UserKnownHostsFile {known}
""")
    env = {**os.environ, "DNETLAB_SSH_CONFIG": str(config)}
    (clean / "direct.yaml").write_text(_lab("direct", f"ssh://root@{H3}"))
    direct = _dnetlab(clean, "up", "direct.yaml")
    assert direct.returncode == 3 and "cannot open an SSH connection" in direct.stderr, \
        direct.stderr  # the block works: only the jump reaches h3

    (clean / "jump.yaml").write_text(_lab("jump", "ssh://h3"))
    up = _dnetlab(clean, "up", "jump.yaml", env=env)
    assert up.returncode == 3, up.stderr
    assert ("host 'far' (ssh://h3) through jump host root@10.99.0.1: the SSH host key of "
            "jump host root@10.99.0.1 is unknown") in up.stderr
    assert _hint(up.stderr) == f"ssh-keyscan -H {H1} >> {known}"
    _paste(_hint(up.stderr), env)

    up = _dnetlab(clean, "up", "jump.yaml", env=env)
    assert up.returncode == 3, up.stderr
    assert "host 'far' (ssh://h3): its SSH host key is unknown" in up.stderr
    assert _hint(up.stderr) == (f"ssh -F {config} root@{H1} 'ssh-keyscan -H {H3}' >> {known}")
    _paste(_hint(up.stderr), env)
    assert _lab_objects(hosts[2], "jump") == 0  # refused keys: nothing was done

    up = _dnetlab(clean, "up", "jump.yaml", env=env)
    assert up.returncode == 0, up.stderr
    assert "copying image busybox to host far" in up.stderr  # streamed through the jump too
    assert _lab_objects(hosts[2], "jump") == 3
    verify = _dnetlab(clean, "verify", "jump.yaml", "--format", "json", env=env)
    report = json.loads(verify.stdout)
    assert verify.returncode == 0, [(p["name"], p["status"], p["actual"])
                                    for p in report["probes"]]
    assert [p["status"] for p in report["probes"]] == ["passed", "passed"]
    down = _dnetlab(clean, "down", "jump.yaml", env=env)
    assert down.returncode == 0, down.stderr
    assert _lab_objects(hosts[2], "jump") == 0


def test_a_host_alias_with_its_own_user_port_key_and_known_hosts(
        hosts: list[dict[str, str]], clean: Path) -> None:
    """`ssh://bed2` and nothing else in the file: the config in ~/.ssh/config gives the
    address, the user, port 2222 (a second sshd of h2 that accepts only a key made for this
    test), that key (IdentitiesOnly) and a known_hosts file of its own. HOME has no other
    key and no other known_hosts, so the lab goes up only if every one is honoured."""
    h2 = hosts[1]
    home = clean / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / "keys").mkdir()
    key = home / "keys" / "lab_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                   check=True)
    (clean / "authorized_keys").write_text((home / "keys" / "lab_ed25519.pub").read_text())
    (home / "kh").mkdir()
    (home / "kh" / "lab_known_hosts").write_text(f"[{h2['address']}]:2222 "
                                                 f"{_host_key(h2['name'])}\n")
    (home / ".ssh" / "config").write_text(f"""Host bed2
    HostName {h2['address']}
    User root
    Port 2222
    IdentityFile ~/keys/lab_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile ~/kh/lab_known_hosts
""")
    sshd_config = (Path("/var/lib/dnetlab-testbed") / h2["name"] / "ssh" /
                   "sshd_config").read_text()
    sshd_config = sshd_config.replace("\nPort 22\n", "\nPort 2222\n")
    sshd_config = re.sub(r"(?m)^PidFile .*$", f"PidFile {clean / 'sshd.pid'}", sshd_config)
    sshd_config = re.sub(r"(?m)^AuthorizedKeysFile .*$",
                         f"AuthorizedKeysFile {clean / 'authorized_keys'}", sshd_config)
    assert "Port 2222" in sshd_config and str(clean / "authorized_keys") in sshd_config
    (clean / "sshd_config").write_text(sshd_config)
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK",
                                                            "DNETLAB_SSH_CONFIG")}
    env["HOME"] = str(home)
    (clean / "alias.yaml").write_text(_lab("alias", "ssh://bed2"))
    subprocess.run(["nsenter", f"--net=/run/netns/dnl-{h2['name']}", shutil.which("sshd")
                    or "/usr/sbin/sshd", "-f", str(clean / "sshd_config"), "-E",
                    str(clean / "sshd.log")], check=True)
    try:
        for _ in range(50):  # until it listens
            if subprocess.run(["ssh-keyscan", "-T", "1", "-p", "2222", h2["address"]],
                              capture_output=True, check=False).stdout:
                break
            time.sleep(0.1)
        up = _dnetlab(clean, "up", "alias.yaml", env=env)
        assert up.returncode == 0, up.stderr
        assert _lab_objects(h2, "alias") == 3
        verify = _dnetlab(clean, "verify", "alias.yaml", "--format", "json", env=env)
        report = json.loads(verify.stdout)
        assert verify.returncode == 0, [(p["name"], p["status"], p["actual"])
                                        for p in report["probes"]]
        down = _dnetlab(clean, "down", "alias.yaml", env=env)
        assert down.returncode == 0, down.stderr
        assert _lab_objects(h2, "alias") == 0
        # the port-22 sshd does not know the test's key: without the alias's settings,
        # the same HOME gets nowhere
        (clean / "plain.yaml").write_text(_lab("plain", f"ssh://root@{h2['address']}"))
        plain = _dnetlab(clean, "up", "plain.yaml", env=env)
        assert plain.returncode == 3 and "SSH host key is unknown" in plain.stderr
    finally:
        os.kill(int((clean / "sshd.pid").read_text()), 15)
