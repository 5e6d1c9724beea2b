"""`links` and `extra_hosts` of a container (spec 10.2): what they build, and the located
errors of links that Docker could not make."""

from __future__ import annotations

import pytest

from dnetlab.errors import ScenarioInvalid
from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.model import Link
from dnetlab.reconcile.desired import desired_state, link_depths

HEAD = "version: 1\nname: lab\n"
HINT = "use a user-defined network's DNS instead, or put both on the default bridge"
ADDR = ("`extra_hosts` maps a hostname to an IPv4 or IPv6 address (or host-gateway), as "
        "docker run --add-host")


def _load(text: str):  # type: ignore[no-untyped-def]
    return load_source(Source("s.yaml", HEAD + text))


def _errors(text: str) -> list[str]:
    """`LINE:COL: path: message; hint` of each issue, LINE counted in `text`."""
    with pytest.raises(ScenarioInvalid) as exc:
        _load(text)
    base = HEAD.count("\n")
    return [f"{(i.line or 0) - base}:{i.col}: {i.path}: {i.message}"
            + (f"; {i.hint}" if i.hint else "") for i in exc.value.issues]


def test_links_and_extra_hosts_build_and_reach_the_spec() -> None:
    res = _load("""containers:
  c1:
    image: busybox
    links: [c2, "c3:web"]
    extra_hosts: {db.lab: 10.237.0.5, v6.lab: "FD00:0::1", gw: host-gateway}
  c2: {image: busybox, network_mode: bridge}
  c3: {image: busybox, hostname: other}
""")
    c1 = res.scenario.containers[0]
    assert c1.links == (Link("c2"), Link("c3", "web"))
    assert c1.extra_hosts == (("db.lab", "10.237.0.5"), ("v6.lab", "fd00::1"),
                              ("gw", "host-gateway"))
    spec = desired_state(res.scenario, "0123456789ab")["local"].containers[0]
    # the alias defaults to the key; c3's hostname is not its key: its key is linked too
    assert spec.links == (("lab-c2", "c2"), ("lab-c3", "web"), ("lab-c3", "c3"))
    assert spec.linked == ("c2", "c3")
    assert spec.link_depth == 1
    assert spec.extra_hosts == ("db.lab:10.237.0.5", "v6.lab:fd00::1", "gw:host-gateway")


def test_link_depths_follow_chains() -> None:
    res = _load("""containers:
  a: {image: busybox, links: [b]}
  b: {image: busybox, links: [c, d]}
  c: {image: busybox, links: [d]}
  d: {image: busybox}
""")
    assert link_depths(res.scenario) == {"a": 3, "b": 2, "c": 1, "d": 0}


def test_links_and_extra_hosts_are_hashed() -> None:
    base = """containers:
  c1: {image: busybox, links: ["c2:web"], extra_hosts: {x.lab: 10.237.0.5}}
  c2: {image: busybox}
"""
    def spec(text: str):  # type: ignore[no-untyped-def]
        return desired_state(_load(text).scenario, "0123456789ab")["local"].containers[0]

    first = spec(base)
    assert "links=" in first.config_fields and "extra_hosts=" in first.config_fields
    for other in (base.replace("c2:web", "c2:www"), base.replace("10.237.0.5", "10.237.0.6"),
                  base.replace('links: ["c2:web"], ', "")):
        assert spec(other).config_hash != first.config_hash


@pytest.mark.parametrize(("text", "expected"), [
    ("""networks:
  net1: {subnet: 10.237.0.0/24}
containers:
  c1: {image: busybox, networks: [net1], links: [c2]}
  c2: {image: busybox}
""", ["4:42: containers.c1.links: links work only on Docker's default bridge: c1 is on "
      f"net1; {HINT}"]),
    ("""networks:
  net1: {subnet: 10.237.0.0/24}
containers:
  c1: {image: busybox, links: [c2, c3]}
  c2: {image: busybox, networks: [net1]}
  c3: {image: busybox, network_mode: none}
""", ["4:32: containers.c1.links[0]: links work only on Docker's default bridge: c2 is on "
      f"net1; {HINT}",
      "4:36: containers.c1.links[1]: links work only on Docker's default bridge: c3 uses "
      f"network_mode none; {HINT}"]),
    ("""hosts:
  h1: {}
  h2: {engine: "ssh://root@10.99.0.2"}
containers:
  c1: {image: busybox, host: h1, links: [c2]}
  c2: {image: busybox, host: h2}
""", ["5:42: containers.c1.links[0]: links work only on one host: 'c2' runs on 'h2', 'c1' on 'h1'; "
      "put both on one host, or join them with an overlay network and use its DNS"]),
    ("""containers:
  c1: {image: busybox, links: [c1, cc2, "c2:c3", c3]}
  c2: {image: busybox}
  c3: {image: busybox}
""", ["2:32: containers.c1.links[0]: container 'c1' cannot link to itself; its own name is "
      "in its /etc/hosts already",
      "2:36: containers.c1.links[1]: unknown container 'cc2'; did you mean 'c2'?",
      "2:50: containers.c1.links[3]: 'c3' already names links[2]; give each link its own "
      "alias"]),
    ("""containers:
  a: {image: busybox, links: [b]}
  b: {image: busybox, links: [c]}
  c: {image: busybox, links: ["a:x"]}
""", ["4:31: containers.c.links[0]: links form a cycle: a -> b -> c -> a; a linked container must "
      "run before the one that links to it: drop one of these links"]),
    ("""containers:
  c1:
    image: busybox
    extra_hosts: {a.lab: 10.0.0.1/24, b.lab: nope, c.lab: "fe80::1%eth0"}
""", ["4:26: containers.c1.extra_hosts[\"a.lab\"]: '10.0.0.1/24' is not an IP address; an "
      "address takes no prefix length here",
      f"4:46: containers.c1.extra_hosts[\"b.lab\"]: 'nope' is not an IP address; {ADDR}",
      f"4:59: containers.c1.extra_hosts[\"c.lab\"]: 'fe80::1%eth0' is not an IP address; "
      f"{ADDR}"]),
], ids=["linker-on-network", "target-elsewhere", "across-hosts", "self-unknown-dupe",
        "cycle", "extra-hosts-addresses"])
def test_link_and_extra_host_errors(text: str, expected: list[str]) -> None:
    assert _errors(text) == expected
