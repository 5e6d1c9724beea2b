"""`impair:` on attachments and networks: parsed, defaulted from the network, checked."""

from __future__ import annotations

import pytest

from dnetlab.load.impairment import rate_bps
from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.model import Impairment

TEXT = """
version: 1
name: lab
networks:
  n1: {subnet: 10.77.0.0/24, impair: {loss: 10}}
  n2: {}
containers:
  a:
    image: busybox
    networks:
      n1: {impair: {rate: 1mbit}}
      n2: {impair: {delay: 20, jitter: 5}}
  b: {image: busybox, networks: [n1, n2]}
  c:
    image: busybox
    networks:
      n1: {impair: {}}
"""


def _scenario():  # type: ignore[no-untyped-def]
    return load_source(Source("lab.yaml", TEXT)).scenario


@pytest.mark.parametrize(("text", "bps"), [
    ("10mbit", 10_000_000), ("512kbit", 512_000), ("1gbit", 1_000_000_000), ("8000bit", 8000),
    ("1kbps", 8000), ("1.5Mbit", 1_500_000), ("10 mbit", None), ("10mb", None), ("fast", None),
])
def test_rate_syntax(text: str, bps: int | None) -> None:
    assert rate_bps(text) == bps


def test_attachment_own_impair_replaces_the_networks() -> None:
    sc = _scenario()
    a = sc.container("a")
    assert a.attachment("n1").impair == Impairment(rate="1mbit", rate_bps=1_000_000)  # type: ignore[union-attr]
    assert a.attachment("n2").impair == Impairment(delay=20.0, jitter=5.0)  # type: ignore[union-attr]


def test_network_default_and_empty_impair() -> None:
    sc = _scenario()
    assert sc.container("b").attachment("n1").impair == Impairment(loss=10.0)  # type: ignore[union-attr]
    assert sc.container("b").attachment("n2").impair is None  # type: ignore[union-attr]
    assert sc.container("c").attachment("n1").impair is None  # type: ignore[union-attr]


def test_describe_and_netem() -> None:
    imp = Impairment(rate="1mbit", rate_bps=1_000_000, loss=30.0)
    assert imp.describe() == "rate 1mbit, loss 30%"
    assert not imp.needs_netem
    assert Impairment(delay=5.0).needs_netem
    assert Impairment().empty
