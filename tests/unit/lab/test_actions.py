"""The pure parts of steps' actions: the attachment a connect makes, and how an exec's
result reads."""

from __future__ import annotations

from ipaddress import IPv4Address

from dnetlab.engine.exec import ExecResult
from dnetlab.lab.actions import connect_attachment, exec_outcome
from tests.unit.reconcile.test_plan import scenario

TEXT = """
version: 1
name: demo
networks:
  lan: {subnet: 10.10.0.0/24}
  dmz: {subnet: 10.20.0.0/24}
containers:
  web:
    image: busybox
    networks:
      lan: {ipv4: 10.10.0.10, aliases: [www, web], impair: {rate: 1mbit}}
"""


def test_connect_makes_the_declared_attachment_without_its_impairment() -> None:
    sc = scenario(TEXT)
    att = connect_attachment(sc, sc.container("web"), sc.network("lan"), None)
    assert (att.network_name, att.ipv4, att.aliases) == ("demo-lan", "10.10.0.10",
                                                          ("web", "www"))
    assert att.impair is None


def test_connect_elsewhere_or_at_another_address() -> None:
    sc = scenario(TEXT)
    web = sc.container("web")
    other = connect_attachment(sc, web, sc.network("lan"), IPv4Address("10.10.0.99"))
    assert (other.ipv4, other.aliases) == ("10.10.0.99", ("web", "www"))
    extra = connect_attachment(sc, web, sc.network("dmz"), None)
    assert (extra.network_name, extra.ipv4, extra.ipv6, extra.aliases) == (
        "demo-dmz", None, None, ("web",))


def test_exec_outcome() -> None:
    assert exec_outcome(ExecResult(0, "hello\nworld\n")) == ("done", "exit 0: hello")
    assert exec_outcome(ExecResult(0, "")) == ("done", "exit 0")
    lines = "".join(f"line {i}\n" for i in range(10))
    assert exec_outcome(ExecResult(2, lines)) == (
        "failed", "exit 2: line 5\nline 6\nline 7\nline 8\nline 9")
    assert exec_outcome(ExecResult(1, "\n")) == ("failed", "exit 1 (no output)")
