"""The observed state's look-ups by name and by key (dicts made once, issue 13) answer as
the scans over the whole list did: the first container or network listed wins."""

from __future__ import annotations

from dnetlab import labels
from dnetlab.reconcile.observed import HostObserved, LiveContainer, LiveNetwork

DEMO = labels.Owner("demo", "a1b2c3d4e5f6")


def _lbl(key: str, instance: str = "a1b2c3d4e5f6") -> tuple[tuple[str, str], ...]:
    return ((labels.SCENARIO, "demo"), (labels.INSTANCE, instance), (labels.KEY, key))


def _c(cid: str, name: str, lbls: tuple[tuple[str, str], ...] = ()) -> LiveContainer:
    return LiveContainer(cid, name, "busybox", "running", lbls, "bridge", ())


def _observed() -> HostObserved:
    containers = (_c("1", "demo-web", _lbl("web")), _c("2", "other", ()),
                  _c("3", "demo-web2", _lbl("web")),  # a duplicate key: the first wins
                  _c("4", "demo-db", _lbl("db", "0f0f0f0f0f0f")),  # another copy's
                  _c("5", "demo-web", ()))  # a name listed twice: the first wins
    networks = (LiveNetwork("n1", "lan", "bridge", "local", (), ()),
                LiveNetwork("n2", "lan", "bridge", "local", (), ()))
    return HostObserved("local", "1.41", "20.10", containers, networks)


def test_by_name_finds_the_first_listed_and_none_for_unknown() -> None:
    o = _observed()
    assert o.container_named("demo-web") == o.containers[0]
    assert o.container_named("demo-db") == o.containers[3]
    assert o.container_named("nope") is None
    assert o.network_named("lan") == o.networks[0]
    assert o.network_named("wan") is None


def test_owned_by_key_keeps_only_the_owners_first_container_of_each_key() -> None:
    by_key = _observed().owned_by_key(DEMO)
    assert {k: c.id for k, c in by_key.items()} == {"web": "1"}
