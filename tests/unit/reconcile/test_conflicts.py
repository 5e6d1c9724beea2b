"""Preflight: what stops `up` before its first change, checked on hand-built engine states."""

from __future__ import annotations

from dnetlab import labels
from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.reconcile.conflicts import conflicts, missing_images
from dnetlab.reconcile.desired import HostDesired, desired_state
from dnetlab.reconcile.observed import HostObserved, LiveContainer, LiveNetwork, LiveVolume

TEXT = """
version: 1
name: demo
networks:
  lan: {subnet: 172.17.5.0/24}
  v6: {subnet: 10.60.0.0/24, ipv6_subnet: "fd00:1::/64"}
containers:
  web: {image: busybox, networks: {lan: {ipv4: 172.17.5.10}}}
  db: {image: alpine, networks: [v6]}
"""

# docker's default bridge: 172.17.0.0/16 holds the scenario's 172.17.5.0/24
BRIDGE = LiveNetwork("0123456789abcdef0123", "bridge", "bridge", "local", (), ("172.17.0.0/16",))
HOST = LiveNetwork("hhhhhhhhhhhhhhhh", "host", "host", "local", (), ())

INSTANCE = "a1b2c3d4e5f6"  # this copy of demo
DEMO = labels.Owner("demo", INSTANCE)
THEIRS = "0f0f0f0f0f0f"  # another copy's instance (another working directory)


def _desired(text: str = TEXT, instance: str = INSTANCE) -> dict[str, HostDesired]:
    return desired_state(load_source(Source("demo.yaml", text)).scenario, instance)


def _observed(*, containers: tuple[LiveContainer, ...] = (),
              networks: tuple[LiveNetwork, ...] = (HOST,), api: str = "1.45",
              images: frozenset[str] = frozenset({"busybox", "alpine"})) -> dict[str, HostObserved]:
    return {"local": HostObserved("local", api, "27.3.1", containers, networks, (), images)}


def _owned(scenario: str, key: str, kind: str,
           instance: str | None = None) -> tuple[tuple[str, str], ...]:
    """Labels as dnetlab puts them: demo's objects are this copy's unless told otherwise;
    "" is an object without the instance label (an older dnetlab's, or a spoof)."""
    if instance is None:
        instance = INSTANCE if scenario == "demo" else "c0ffee00c0ff"
    inst = ((labels.INSTANCE, instance),) if instance else ()
    return ((labels.SCENARIO, scenario), *inst, (labels.KEY, key), (labels.KIND, kind),
            (labels.CONFIG_HASH, "0000000000000000"), (labels.FIELDS, ""))


def _container(cid: str, name: str, lbls: tuple[tuple[str, str], ...] = ()) -> LiveContainer:
    return LiveContainer(cid, name, "nginx", "running", lbls, "bridge", ())


def test_clean_engine_has_no_conflicts() -> None:
    assert conflicts(DEMO, _desired(), _observed()) == []


def test_foreign_containers_with_wanted_names() -> None:
    obs = _observed(containers=(
        _container("aaaaaaaaaaaaaaaaaaaa", "demo-web"),
        _container("bbbbbbbbbbbbbbbbbbbb", "demo-db", _owned("other", "db", "container")),
        _container("cccccccccccccccccccc", "unrelated"),
    ))
    assert conflicts(DEMO, _desired(), obs) == [
        "host local: container name 'demo-web' (for container 'web') is taken by container "
        "aaaaaaaaaaaa, and it carries no dnetlab labels; dnetlab never adopts, changes or "
        "removes it: remove or rename it, or set `name:` on 'web'",
        "host local: container name 'demo-db' (for container 'db') is taken by container "
        "bbbbbbbbbbbb, and it belongs to dnetlab scenario 'other'; dnetlab never adopts, "
        "changes or removes it: remove or rename it, or set `name:` on 'db'",
    ]


def test_own_container_with_the_name_is_no_conflict() -> None:
    """Even under another key: reconcile removes and recreates it, preflight keeps out."""
    mine = _container("a" * 20, "demo-web", _owned("demo", "old", "container"))
    obs = _observed(containers=(mine,))
    assert conflicts(DEMO, _desired(), obs) == []


def test_foreign_network_with_a_wanted_name() -> None:
    """Reported once, as a name conflict, though its subnet overlaps too."""
    taken = LiveNetwork("dddddddddddddddddddd", "demo-lan", "bridge", "local",
                        _owned("other", "lan", "network"), ("172.17.5.0/24",))
    assert conflicts(DEMO, _desired(), _observed(networks=(HOST, taken))) == [
        "host local: network name 'demo-lan' (for network 'lan') is taken by network "
        "dddddddddddd, and it belongs to dnetlab scenario 'other'; remove or rename it, or set "
        "`name:` on network 'lan'",
    ]


def test_foreign_network_with_an_overlapping_subnet() -> None:
    assert conflicts(DEMO, _desired(), _observed(networks=(HOST, BRIDGE))) == [
        "host local: subnet 172.17.5.0/24 of network 'lan' overlaps 172.17.0.0/16 of network "
        "'bridge', which this lab does not own (it carries no dnetlab labels); choose another "
        "subnet",
    ]


def test_another_labs_network_with_an_overlapping_subnet() -> None:
    theirs = LiveNetwork("eeeeeeeeeeeeeeeeeeee", "other-lan", "bridge", "local",
                         _owned("other", "lan", "network"), ("10.60.0.128/25",))
    assert conflicts(DEMO, _desired(), _observed(networks=(HOST, theirs))) == [
        "host local: subnet 10.60.0.0/24 of network 'v6' overlaps 10.60.0.128/25 of network "
        "'other-lan', which this lab does not own (it belongs to dnetlab scenario 'other'); "
        "choose another subnet",
    ]


def test_own_network_with_the_same_subnet_is_no_conflict() -> None:
    """The lab's own networks, wanted or left over: reconcile removes before it creates."""
    same = LiveNetwork("ffffffffffffffffffff", "demo-lan", "bridge", "local",
                       _owned("demo", "lan", "network"), ("172.17.5.0/24",))
    old = LiveNetwork("gggggggggggggggggggg", "demo-old", "bridge", "local",
                      _owned("demo", "old", "network"), ("10.60.0.0/16",))
    assert conflicts(DEMO, _desired(), _observed(networks=(HOST, same, old))) == []


def test_ipv4_and_ipv6_subnets_never_clash() -> None:
    v6_only = LiveNetwork("iiiiiiiiiiiiiiiiiiii", "six", "bridge", "local", (), ("fd00::/8",))
    v4_only = LiveNetwork("jjjjjjjjjjjjjjjjjjjj", "four", "bridge", "local", (), ("10.0.0.0/9",))
    assert conflicts(DEMO, _desired(), _observed(networks=(HOST, v6_only, v4_only))) == [
        "host local: subnet 10.60.0.0/24 of network 'v6' overlaps 10.0.0.0/9 of network 'four', "
        "which this lab does not own (it carries no dnetlab labels); choose another subnet",
        "host local: subnet fd00:1::/64 of network 'v6' overlaps fd00::/8 of network 'six', "
        "which this lab does not own (it carries no dnetlab labels); choose another subnet",
    ]
    disjoint = LiveNetwork("kkkkkkkkkkkkkkkkkkkk", "mixed", "bridge", "local", (),
                           ("fd00:2::/64", "10.61.0.0/24"))
    only_v6_wide = LiveNetwork("llllllllllllllllllll", "wide", "bridge", "local", (), ("::/0",))
    assert conflicts(DEMO, _desired(), _observed(networks=(HOST, disjoint))) == []
    # ::/0 holds every IPv6 address and no IPv4 one
    assert [p.split(" overlaps ")[0] for p in conflicts(
        DEMO, _desired(), _observed(networks=(HOST, only_v6_wide)))] == [
        "host local: subnet fd00:1::/64 of network 'v6'"]


# --- another copy of the lab: the same name label, another instance (spec 10.5) ---------

def _other_copy(what: str) -> str:
    return (f"of another copy of lab 'demo' ({what}), brought up from another working "
            "directory or by another user; dnetlab never changes or removes another "
            "instance's objects: take that copy down where it was brought up (`dnetlab down` "
            "there), or give this copy another `name:`")


def test_another_instances_objects_with_wanted_names_are_conflicts_naming_it() -> None:
    obs = _observed(
        containers=(_container("aaaaaaaaaaaaaaaaaaaa", "demo-web",
                               _owned("demo", "web", "container", THEIRS)),
                    _container("bbbbbbbbbbbbbbbbbbbb", "demo-db",
                               _owned("demo", "db", "container", ""))),
        networks=(HOST, LiveNetwork("dddddddddddddddddddd", "demo-lan", "bridge", "local",
                                    _owned("demo", "lan", "network", THEIRS),
                                    ("172.17.5.0/24",))))
    assert conflicts(DEMO, _desired(), obs) == [
        "host local: container name 'demo-web' (for container 'web') is taken by container "
        "aaaaaaaaaaaa " + _other_copy(f"instance {THEIRS}"),
        "host local: container name 'demo-db' (for container 'db') is taken by container "
        "bbbbbbbbbbbb " + _other_copy(
            "no instance label (made by a dnetlab older than instances, or by hand)"),
        "host local: network name 'demo-lan' (for network 'lan') is taken by network "
        "dddddddddddd " + _other_copy(f"instance {THEIRS}"),
    ]


def test_another_instances_network_with_an_overlapping_subnet() -> None:
    theirs = LiveNetwork("eeeeeeeeeeeeeeeeeeee", "demo-old", "bridge", "local",
                         _owned("demo", "old", "network", THEIRS), ("10.60.0.0/16",))
    assert conflicts(DEMO, _desired(), _observed(networks=(HOST, theirs))) == [
        "host local: subnet 10.60.0.0/24 of network 'v6' overlaps 10.60.0.0/16 of network "
        "'demo-old', which this lab does not own (it belongs to another copy of this lab, "
        f"instance {THEIRS}); choose another subnet",
    ]


VOLUMES = """
version: 1
name: demo
containers:
  db: {image: alpine, volumes: ["dbdata:/data", "shared:/shared"]}
"""


def test_a_wanted_volume_of_another_instance_is_a_conflict() -> None:
    """Another lab's volume of the name is shared as before; another copy's would mix the
    two copies' data."""
    obs = {"local": HostObserved(
        "local", "1.45", "27.3.1", (), (HOST,),
        (LiveVolume("dbdata", _owned("demo", "dbdata", "volume", THEIRS)),
         LiveVolume("shared", _owned("other", "shared", "volume"))),
        frozenset({"alpine"}))}
    assert conflicts(DEMO, _desired(VOLUMES), obs) == [
        "host local: volume 'dbdata' is taken by another copy of lab 'demo' "
        f"(instance {THEIRS}), brought up from another working directory or by another user; "
        "dnetlab never changes or removes another instance's objects: take that copy down "
        "where it was brought up (`dnetlab down` there), or give this copy another `name:`",
    ]
    mine = {"local": HostObserved("local", "1.45", "27.3.1", (), (HOST,),
                                  (LiveVolume("dbdata", _owned("demo", "dbdata", "volume")),),
                                  frozenset({"alpine"}))}
    assert conflicts(DEMO, _desired(VOLUMES), mine) == []


def test_a_lab_recorded_before_instances_owns_the_objects_without_the_label() -> None:
    """A record of an older dnetlab has instance "": its unlabelled objects are its own,
    and a copy that does carry an instance is not."""
    old = labels.Owner("demo", "")
    unlabelled = _observed(containers=(
        _container("a" * 20, "demo-web", _owned("demo", "web", "container", "")),))
    assert conflicts(old, _desired(instance=""), unlabelled) == []
    newer = _observed(containers=(
        _container("a" * 20, "demo-web", _owned("demo", "web", "container", THEIRS)),))
    assert conflicts(old, _desired(instance=""), newer) == [
        "host local: container name 'demo-web' (for container 'web') is taken by container "
        "aaaaaaaaaaaa " + _other_copy(f"instance {THEIRS}")]


MACS = """
version: 1
name: demo
networks:
  a: {subnet: 10.1.0.0/24}
  b: {subnet: 10.2.0.0/24}
containers:
  r: {image: busybox, networks: {a: {mac: "02:00:00:00:00:01"}, b: {mac: "02:00:00:00:00:02"}}}
"""


def test_several_static_macs_need_api_1_44() -> None:
    assert conflicts(DEMO, _desired(MACS), _observed(api="1.41")) == [
        "host local: container 'r' asks for a static MAC on several networks; the engine "
        "speaks API 1.41, which sets a MAC on one network only (1.44+ on more)",
    ]
    assert conflicts(DEMO, _desired(MACS), _observed(api="1.44")) == []


TWO_HOSTS = """
version: 1
name: duo
hosts:
  a: {engine: "ssh://root@10.0.0.1"}
  b: {engine: "tcp://10.0.0.2:2375"}
containers:
  x: {host: a, image: busybox}
  y: {host: b, image: alpine}
  z: {host: b, image: "registry.example/tools:1.2"}
"""


def test_missing_images_per_host() -> None:
    desired = _desired(TWO_HOSTS)
    assert {h: d.images for h, d in desired.items()} == {
        "a": ("busybox",), "b": ("alpine", "registry.example/tools:1.2")}

    def obs(a: set[str], b: set[str]) -> dict[str, HostObserved]:
        return {h: HostObserved(h, "1.45", "27.3.1", (), (HOST,), (), frozenset(imgs))
                for h, imgs in (("a", a), ("b", b))}

    assert missing_images(desired, obs({"busybox"}, {"alpine", "registry.example/tools:1.2"})) \
        == {}
    assert missing_images(desired, obs(set(), {"alpine"})) == {
        "a": ["busybox"], "b": ["registry.example/tools:1.2"]}
    assert missing_images(desired, obs({"busybox"}, set())) == {
        "b": ["alpine", "registry.example/tools:1.2"]}


def test_missing_images_single_host() -> None:
    assert missing_images(_desired(), _observed()) == {}
    assert missing_images(_desired(), _observed(images=frozenset({"busybox"}))) == {
        "local": ["alpine"]}
