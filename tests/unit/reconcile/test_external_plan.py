"""External networks (spec 10.2) in the plan: used, never created, changed or removed.

A container on one is connected when it is not; any other drift of that attachment (an
address, the network replaced, the attachment dropped from the file) recreates the
container rather than disconnecting it. Uses the fake engine of test_plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from dnetlab.lab.up import locator
from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.reconcile.conflicts import external_problems
from dnetlab.reconcile.desired import desired_state
from dnetlab.reconcile.observed import HostObserved, LiveNetwork
from dnetlab.reconcile.plan import Plan, teardown
from tests.unit.reconcile.test_plan import (
    INSTANCE,
    Obs,
    assert_same,
    change_container,
    change_endpoint,
    deploy,
    drop_endpoint,
    empty_engine,
    owner,
    plan_for,
    scenario,
    shape,
    simulate,
)

EXT = """
version: 1
name: demo
networks:
  lan: {subnet: 10.10.0.0/24}
  shared: {external: true, name: team-net, subnet: 10.77.0.0/24}
  bridge: {external: true}
containers:
  web:
    image: busybox
    networks: {lan: {ipv4: 10.10.0.10}, shared: {ipv4: 10.77.0.10}, bridge: {}}
  plain: {image: busybox}
"""
# the user's own network, and a container of theirs on it: nothing of the lab's
TEAM_NET = LiveNetwork("n-shared", "team-net", "bridge", "local", (("team", "yes"),),
                       ("10.77.0.0/24",))
EXTERNAL_NAMES = {"team-net", "bridge"}


def _with_team_net(obs: Mapping[str, HostObserved]) -> Obs:
    return {h: dataclasses.replace(o, networks=(*o.networks, TEAM_NET))
            for h, o in obs.items()}


def _network_ops(plan: Plan) -> list[str]:
    """Every op that acts on a network itself (not a container's endpoint on it)."""
    return [op.describe() for op in plan.ops if op.action.endswith("-network")]


def _never_changes_externals(plan: Plan) -> None:
    for op in plan.ops:
        assert not (op.action.endswith("-network") and op.name in EXTERNAL_NAMES), op
        assert not (op.action == "disconnect" and op.network_name in EXTERNAL_NAMES), op
        assert op.target_id not in ("n-shared", "n-bridge"), op


def test_desired_state_lists_externals_and_creates_none() -> None:
    d = desired_state(scenario(EXT), INSTANCE)["local"]
    assert [n.name for n in d.networks] == ["demo-lan"]
    assert [(x.key, x.name, x.subnet) for x in d.externals] == [
        ("shared", "team-net", "10.77.0.0/24"), ("bridge", "bridge", None)]
    web = next(c for c in d.containers if c.key == "web")
    by_net = {a.network_name: a for a in web.attachments}
    assert by_net["team-net"].external and by_net["bridge"].external
    assert not by_net["demo-lan"].external
    # Docker's default bridge refuses aliases: none is asked for there
    assert by_net["bridge"].aliases == () and by_net["team-net"].aliases == ("web",)


def test_up_on_an_empty_engine_uses_them_and_converges() -> None:
    sc = scenario(EXT)
    before = _with_team_net(empty_engine(sc))
    plan = plan_for(sc, before)
    _never_changes_externals(plan)
    assert _network_ops(plan) == ["create network demo-lan [local]: not found"]
    after = simulate(plan, before)
    assert plan_for(sc, after).empty
    mine = owner(sc)
    assert_same(shape(after, mine, owned=True), shape(_with_team_net(deploy(sc)), mine,
                                                      owned=True))
    assert_same(shape(after, mine, owned=False), shape(before, mine, owned=False))
    web = next(c for c in after["local"].containers if c.name == "demo-web")
    assert {e.network_name for e in web.endpoints} == {"demo-lan", "team-net", "bridge"}
    assert TEAM_NET in after["local"].networks


def test_a_missing_endpoint_is_connected() -> None:
    sc = scenario(EXT)
    obs = change_container(_with_team_net(deploy(sc)), "c-web", drop_endpoint("team-net"))
    plan = plan_for(sc, obs)
    assert plan.text().splitlines() == [
        "connect demo-web to team-net [local]: not connected to shared (external)",
        "1 change to lab demo"]


def test_address_drift_recreates_the_container_never_disconnects() -> None:
    sc = scenario(EXT)
    obs = change_container(_with_team_net(deploy(sc)), "c-web",
                           change_endpoint("team-net", requested_ipv4="10.77.0.99"))
    plan = plan_for(sc, obs)
    _never_changes_externals(plan)
    assert plan.text().splitlines() == [
        "recreate container demo-web [local]: config drift: ipv4 of web on shared (external: "
        "left only by removing the container)", "1 change to lab demo"]
    assert plan_for(sc, simulate(plan, obs)).empty


def test_a_replaced_external_network_recreates_the_container() -> None:
    sc = scenario(EXT)
    obs = _with_team_net(deploy(sc))
    # the user removed team-net and made it again: a new id; web points at the old one
    o = obs["local"]
    nets = tuple(dataclasses.replace(n, id="n-team-again") if n.name == "team-net" else n
                 for n in o.networks)
    obs = {"local": dataclasses.replace(o, networks=nets)}
    plan = plan_for(sc, obs)
    _never_changes_externals(plan)
    assert "recreate container demo-web [local]: external network team-net was replaced" \
        in plan.text()


def test_dropping_the_attachment_recreates_the_container() -> None:
    sc = scenario(EXT)
    edited = scenario(EXT.replace(" shared: {ipv4: 10.77.0.10},", ""))
    plan = plan_for(edited, _with_team_net(deploy(sc)))
    _never_changes_externals(plan)
    assert [op.action for op in plan.ops] == ["remove-container", "create-container"]
    assert "config drift: external" in plan.text()


def test_a_network_the_lab_made_and_now_declares_external_is_never_removed() -> None:
    made = scenario(EXT.replace("shared: {external: true, name: team-net, subnet: "
                                "10.77.0.0/24}", "shared: {name: team-net, subnet: "
                                "10.77.0.0/24}"))
    obs = deploy(made)
    assert any(n.name == "team-net" and owner(made).owns(dict(n.labels))
               for n in obs["local"].networks)
    plan = plan_for(scenario(EXT), obs)
    _never_changes_externals(plan)


def test_down_never_touches_them() -> None:
    sc = scenario(EXT)
    plan = teardown(owner(sc), _with_team_net(deploy(sc)).values())
    _never_changes_externals(plan)
    assert sorted(_network_ops(plan)) == ["remove network demo-lan [local]: down"]


def test_preflight_names_a_missing_external_network_located() -> None:
    loaded = load_source(Source("lab.yaml", EXT))
    d = desired_state(loaded.scenario, INSTANCE)
    problems = external_problems(d, empty_engine(loaded.scenario))
    assert [(p.key, p.host) for p in problems] == [("shared", "local")]
    text = locator(loaded)(problems[0])
    # at `external: true` of networks.shared: line 6 of EXT, its value's column
    assert text.startswith("lab.yaml:6:22: networks.shared.external: host local: external "
                           "network 'team-net' does not exist (container web of network "
                           "'shared' needs it)"), text
    assert "docker network create team-net" in text
    assert external_problems(d, _with_team_net(empty_engine(loaded.scenario))) == []


def test_preflight_refuses_a_subnet_other_than_declared() -> None:
    sc = scenario(EXT)
    wrong = dataclasses.replace(TEAM_NET, subnets=("10.78.0.0/24",))
    obs = {h: dataclasses.replace(o, networks=(*o.networks, wrong))
           for h, o in empty_engine(sc).items()}
    problems = external_problems(desired_state(sc, INSTANCE), obs)
    assert [p.message for p in problems] == [
        "host local: external network 'team-net' has 10.78.0.0/24, not subnet 10.77.0.0/24 "
        "as network 'shared' declares"]
