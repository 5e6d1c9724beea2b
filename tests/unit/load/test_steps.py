"""`steps:` (spec 10.3) through the load stage: the model built, `use`, and every check of
the walk through the lab's state, with its exact message and place."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from dnetlab.errors import ScenarioInvalid
from dnetlab.load.asks import asks
from dnetlab.load.pipeline import Loaded, load_source
from dnetlab.load.source import Source
from dnetlab.model import Impairment

HEAD = """\
version: 1
name: lab
networks:
  net1: {subnet: 10.0.1.0/24}
  net2: {subnet: 10.0.2.0/24, gateway: 10.0.2.1}
containers:
  c1: {image: busybox, networks: {net1: {}, net2: {ipv4: 10.0.2.5}}}
  c2: {image: busybox, networks: [net1]}
  h: {image: busybox, network_mode: host}
probes:
  - {type: ping, from: c1, to: c2}
  - {type: http, from: c1, url: "http://c2/"}
  - {type: tcp, from: c1, to: c2, port: 80, within: 3}
steps:
"""


def _load(steps: str) -> Loaded:
    return load_source(Source("lab.yaml", HEAD + steps))


def _errors(steps: str) -> list[str]:
    """`LINE:COL: path: message; hint` of each error, LINE counted from `steps:`'s line."""
    with pytest.raises(ScenarioInvalid) as exc:
        _load(steps)
    base = HEAD.count("\n") - 1  # the first line of `steps` is line 2
    return [f"{(i.line or 0) - base}:{i.col}: {i.path}: {i.message}"
            + (f"; {i.hint}" if i.hint else "") for i in exc.value.issues]


def test_actions_are_built() -> None:
    sc = _load("""\
  - name: c2 moves
    within: 10
    do:
      - disconnect: {container: c2, network: net1}
      - connect: {container: c2, network: net2, ipv4: 10.0.2.9}
      - pause: c2
      - unpause: {container: c2}
      - impair: {container: c2, network: net2, rate: 1mbit, loss: 10, delay: 5, jitter: 1}
      - heal: {container: c2, network: net2}
      - exec: {on: c2, command: "sh -c 'echo a; echo b'"}
      - exec: {on: c2, command: [touch, "/tmp/x y"]}
      - sleep: 2.5
""").scenario
    (s,) = sc.steps
    assert (s.name, s.index, s.within) == ("c2 moves", 0, 10.0)
    kinds = [a.kind for a in s.actions]
    assert kinds == ["disconnect", "connect", "pause", "unpause", "impair", "heal", "exec",
                     "exec", "sleep"]
    assert [a.index for a in s.actions] == list(range(9))
    assert s.actions[1].ipv4 == IPv4Address("10.0.2.9")
    assert s.actions[2].container == "c2" and s.actions[3].container == "c2"
    assert s.actions[4].impair == Impairment("1mbit", 1_000_000, 10.0, 5.0, 1.0)
    assert s.actions[6].command == ("sh", "-c", "echo a; echo b")
    assert s.actions[7].command == ("touch", "/tmp/x y")
    assert s.actions[8].seconds == 2.5


def test_step_probes_and_use() -> None:
    sc = _load("""\
  - name: cut
    within: 7
    do: [{sleep: 0}]
    probes:
      - {type: ping, from: c1, to: c2, expect: unreachable}
      - {use: "ping c1 -> c2", expect: unreachable, within: 5, name: again}
      - {use: "tcp c1 -> c2:80", expect: closed}
      - {use: "http c1: http://c2/"}
  - name: plain
    do: [{sleep: 0}]
    probes:
      - {use: "tcp c1 -> c2:80"}
""").scenario
    s, plain = sc.steps
    names = [(p.name, p.index, p.within, getattr(p, "expect", None)) for p in s.probes]
    assert names == [("ping c1 -> c2", 0, 7.0, "unreachable"),
                     ("again", 1, 5.0, "unreachable"),
                     ("tcp c1 -> c2:80", 2, 7.0, "closed"),
                     ("http c1: http://c2/", 3, 7.0, None)]
    # no `within` in the step: the probe keeps its own
    assert plain.probes[0].within == 3.0 and plain.probes[0].expect == "open"  # type: ignore[union-attr]


def test_use_errors() -> None:
    assert _errors("""\
  - name: s
    do: [{sleep: 0}]
    probes:
      - {use: "ping c1 -> c3"}
      - {use: "http c1: http://c2/", expect: closed}
      - {use: "ping c1 -> c2", expect: open}
""") == [
        "5:15: steps[0].probes[0].use: no top-level probe is named 'ping c1 -> c3'; "
        "did you mean 'ping c1 -> c2'?",
        "6:46: steps[0].probes[1].expect: probe 'http c1: http://c2/' is of type http, which "
        "takes no `expect`; only these probe types take one: ping, dns, tcp",
        "7:40: steps[0].probes[2].expect: 'open' is not an expect of a ping probe such as "
        "'ping c1 -> c2'; use one of reachable, unreachable",
    ]


def test_step_probe_refs_and_names_are_checked_at_their_place() -> None:
    assert _errors("""\
  - name: s
    do: [{sleep: 0}]
    probes:
      - {type: ping, from: c9, to: c2}
      - {type: ping, from: c1, to: c2, name: x}
      - {type: tcp, from: c1, to: c2, port: 8, name: x}
      - {type: tcp, from: c1, to: c2, port: 99999}
  - name: s
    do: [{sleep: 0}]
""") == [
        "5:28: steps[0].probes[0].from: unknown container 'c9'; known containers: c1, c2, h",
        "7:54: steps[0].probes[2].name: probe name 'x' is already used by steps[0].probes[1]; "
        "a step's report names each of its probes: give it its own name",
        "8:45: steps[0].probes[3].port: 99999 is out of range: must be from 1 to 65535",
        "9:11: steps[1].name: step name 's' is already used by steps[0]; reports name each "
        "step: give it its own name",
    ]


def test_schema_errors_of_actions() -> None:
    assert _errors("""\
  - name: s
    do:
      - disconect: {container: c2, network: net1}
      - {pause: c2, unpause: c2}
      - {}
      - sleep: .nan
      - pause: {container: c2, network: net1}
""") == [
        "4:9: steps[0].do[0].disconect: unknown key 'disconect'; did you mean 'disconnect'?",
        "5:9: steps[0].do[1]: holds 2 actions ('pause', 'unpause'): write each action as its "
        "own list item; start each action with its own `- `",
        "6:9: steps[0].do[2]: an empty action; write one of connect, disconnect, exec, heal, "
        "impair, kill, pause, restart, sleep, start, stop, unpause",
        "7:16: steps[0].do[3].sleep: nan is out of range: must be from 0 to 3600",
        "8:32: steps[0].do[4].pause.network: unknown key 'network'; allowed here: container",
    ]


def test_references_of_actions() -> None:
    assert _errors("""\
  - name: s
    do:
      - heal: {container: cc2, network: net3}
      - stop: c9
      - exec: {on: "host:nowhere", command: ls}
      - exec: {on: c3, command: ls}
""") == [
        "4:27: steps[0].do[0].heal.container: unknown container 'cc2'; did you mean 'c2'?",
        "4:41: steps[0].do[0].heal.network: unknown network 'net3'; did you mean 'net2'?",
        "5:15: steps[0].do[1].stop: unknown container 'c9'; known containers: c1, c2, h",
        "6:20: steps[0].do[2].exec.on: unknown host 'nowhere'; known hosts: local",
        "7:20: steps[0].do[3].exec.on: unknown container 'c3'; known containers: c1, c2, h",
    ]


def test_networks_through_the_steps() -> None:
    # the state carries over from step to step
    assert _errors("""\
  - name: one
    do:
      - disconnect: {container: c2, network: net1}
  - name: two
    do:
      - disconnect: {container: c2, network: net1}
      - connect: {container: c1, network: net1}
      - connect: {container: c2, network: net2, ipv4: 10.0.2.5}
      - connect: {container: c2, network: net2, ipv4: 10.0.3.5}
      - connect: {container: c2, network: net2, ipv4: 10.0.2.1}
      - connect: {container: h, network: net2}
      - disconnect: {container: h, network: net1}
      - connect: {container: c2, network: net2, ipv4: 10.0.2.9}
      - connect: {container: c2, network: net2}
      - impair: {container: c2, network: net1, rate: 1mbit}
      - heal: {container: c1, network: net9}
      - heal: {container: h, network: net1}
""") == [
        "7:46: steps[1].do[0].disconnect.network: c2 is not on net1 at this point: "
        "steps[0].do[0] disconnected it; connect it again first",
        "8:43: steps[1].do[1].connect.network: c1 is already on net1 at this point: "
        "containers.c1.networks declares it; disconnect it first, or drop this action",
        "9:55: steps[1].do[2].connect.ipv4: 10.0.2.5 is already taken by container 'c1' on "
        "network 'net2' at this point; pick another address",
        "10:55: steps[1].do[3].connect.ipv4: address 10.0.3.5 is outside subnet 10.0.2.0/24",
        "11:55: steps[1].do[4].connect.ipv4: address 10.0.2.1 is the gateway; pick another "
        "address",
        "12:30: steps[1].do[5].connect.container: h has network_mode host: it cannot connect; "
        "connect needs a container on the scenario's networks or Docker's default bridge",
        "13:33: steps[1].do[6].disconnect.container: h has network_mode host: it cannot "
        "disconnect; disconnect needs a container on the scenario's networks or Docker's "
        "default bridge",
        "15:43: steps[1].do[8].connect.network: c2 is already on net2 at this point: "
        "steps[1].do[7] connected it; disconnect it first, or drop this action",
        "16:42: steps[1].do[9].impair.network: c2 is not on net1 at this point: "
        "steps[0].do[0] disconnected it; connect it again first",
        "17:40: steps[1].do[10].heal.network: unknown network 'net9'; did you mean 'net2'?",
        "18:39: steps[1].do[11].heal.network: h is not on net1 at this point; it has "
        "network_mode host",
    ]


def test_container_states_through_the_steps() -> None:
    assert _errors("""\
  - name: one
    do:
      - unpause: c2
      - pause: c2
      - pause: c2
      - exec: {on: c2, command: ls}
      - impair: {container: c2, network: net1, loss: 5}
      - start: c2
  - name: two
    do:
      - stop: c2
      - kill: {container: c2}
      - heal: {container: c2, network: net1}
      - start: c1
      - start: c2
      - restart: c1
      - unpause: c2
""") == [
        "4:18: steps[0].do[0].unpause: c2 is not paused at this point: every container runs "
        "when the steps begin; unpause resumes a container that a pause action froze",
        "6:16: steps[0].do[2].pause: c2 is not running at this point: steps[0].do[1] paused "
        "it; only a running container can be paused",
        "7:20: steps[0].do[3].exec.on: c2 is not running at this point: steps[0].do[1] paused "
        "it; unpause it first to run a command in it",
        "8:29: steps[0].do[4].impair.container: c2 is not running at this point: "
        "steps[0].do[1] paused it; unpause it first to impair its interface",
        "9:16: steps[0].do[5].start: c2 is not stopped at this point: steps[0].do[1] paused "
        "it; use unpause for a paused container",
        "13:27: steps[1].do[1].kill.container: c2 is already stopped at this point: "
        "steps[1].do[0] stopped it; start it first, or drop this action",
        "14:27: steps[1].do[2].heal.container: c2 is not running at this point: "
        "steps[1].do[0] stopped it; start it first to heal its interface",
        "15:16: steps[1].do[3].start: c1 is not stopped at this point: every container runs "
        "when the steps begin; use restart to restart a running container",
        "18:18: steps[1].do[6].unpause: c2 is not paused at this point: steps[1].do[4] "
        "started it; unpause resumes a container that a pause action froze",
    ]


def test_walk_stops_before_a_broken_step() -> None:
    # after a step the schema refused, the state is unknown: no guesses from there on
    assert _errors("""\
  - name: one
    do:
      - disconnect: {container: c2, network: net2, bogus: 1}
  - name: two
    do:
      - disconnect: {container: c2, network: net2}
""") == ["4:52: steps[0].do[0].disconnect.bogus: unknown key 'bogus'; allowed here: "
         "container, network"]


def test_exec_on_a_host_asks() -> None:
    loaded = _load("""\
  - name: s
    do:
      - exec: {on: "host:local", command: "ip -br a"}
      - exec: {on: c1, command: "ip -br a"}
""")
    found = [a for a in asks(loaded.scenario) if a.kind == "host-exec"]
    assert [(a.what, a.path) for a in found] == [
        ("step 's' runs a command in the network namespace of host local (in a helper "
         "container of image busybox)", ("steps", 0, "do", 0))]


def test_shell_metacharacters_stay_one_argv() -> None:
    (s,) = _load("""\
  - name: s
    do:
      - exec: {on: c1, command: "echo '$(reboot); `id`' && rm -rf /"}
""").scenario.steps
    assert s.actions[0].command == ("echo", "$(reboot); `id`", "&&", "rm", "-rf", "/")


def test_step_probes_see_the_networks_after_the_steps_actions() -> None:
    # c2 is on net1 only: once connected to net2, `to: c2` from a net2-only view holds;
    # once it has left net1, c1 -> c2@net1 is an error at that step
    sc = _load("""\
  - name: c2 joins net2
    do: [{connect: {container: c2, network: net2}}]
    probes:
      - {type: ping, from: c1, to: c2@net2}
  - name: c2 leaves net1
    do: [{disconnect: {container: c2, network: net1}}]
    probes:
      - {type: ping, from: c1, to: c2}
""").scenario
    assert [len(s.probes) for s in sc.steps] == [1, 1]
    errors = _errors("""\
  - name: c2 leaves net1
    do: [{disconnect: {container: c2, network: net1}}]
    probes:
      - {type: ping, from: c1, to: c2@net1}
""")
    assert len(errors) == 1 and "steps[0].probes[0].to: container 'c2' is not on network "\
        "'net1'" in errors[0], errors
