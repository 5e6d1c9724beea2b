"""The large hostile scenarios, made at test time rather than committed (each up to 1 MiB).

Each case is a file's bytes with its expected outcome, as the `.expected` files beside the
committed ones say it: the exit code of `dnetlab validate` and a fragment of its output.
Run as a script to write them into a folder: `python tests/hostile/generate.py DIR`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEAD = "version: 1\nname: lab\n"
NET = "networks:\n  lan: {subnet: 10.0.0.0/8}\n"
ONE = "containers:\n  a: {image: busybox, networks: [lan]}\n"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    exit: int
    fragment: str


CASES: list[Callable[[], Case]] = []


def case(fn: Callable[[], Case]) -> Callable[[], Case]:
    CASES.append(fn)
    return fn


def _text(name: str, text: str, exit: int, fragment: str) -> Case:
    data = text.encode()
    assert len(data) <= MIB or "over-limit" in name, (name, len(data))
    return Case(name, data, exit, fragment)


def _containers(n: int, nets: str = "[lan]") -> str:
    return "containers:\n" + "".join(f"  c{i}: {{image: busybox, networks: {nets}}}\n"
                                     for i in range(n))


# -- the issue's cases -------------------------------------------------------------------------

@case
def networks_10k() -> Case:
    """10,000 networks (332 KB): the pairwise overlap check took 171 s."""
    nets = "".join(f"  n{i}: {{subnet: 10.{i // 256}.{i % 256}.0/24}}\n" for i in range(10_000))
    return _text("big-networks-10k", HEAD + "networks:\n" + nets + ONE.replace("[lan]", "[n0]"),
                 0, "10000 network(s)")


@case
def lab_2000() -> Case:
    """A large valid lab (issue 13): 2,000 containers on 40 networks with static addresses
    and aliases, 4,000 probes of four kinds (ping, dns, tcp, a cross-network ping by
    `key@network`). bench/limits_bench.py times `validate` of it (target < 1 s)."""
    nets, conts, probes = 40, 2000, 4000
    lines = [HEAD.rstrip("\n"), "networks:"]
    lines += [f"  net{n}: {{subnet: 10.{100 + n}.0.0/22, gateway: 10.{100 + n}.0.1}}"
              for n in range(nets)]
    lines.append("containers:")
    for c in range(conts):
        n, slot = c % nets, c // nets
        lines.append(f"  c{c}: {{image: busybox, command: sleep infinity, networks: "
                     f"{{net{n}: {{ipv4: 10.{100 + n}.0.{10 + slot}, aliases: [s{c}]}}}}}}")
    lines.append("probes:")
    for p in range(probes):
        a = p % conts
        b = (a + nets) % conts  # same network as a
        kind = p % 4
        if kind == 0:
            lines.append(f"  - {{type: ping, from: c{a}, to: c{b}}}")
        elif kind == 1:
            lines.append(f"  - {{type: dns, from: c{a}, name: s{b}}}")
        elif kind == 2:
            lines.append(f"  - {{type: tcp, from: c{a}, to: c{b}, port: 80, expect: closed}}")
        else:
            other = (a + 1) % conts
            lines.append(f"  - {{type: ping, from: c{a}, to: 'c{other}@net{other % nets}', "
                         "expect: unreachable}")
    return _text("big-lab-2000", "\n".join(lines) + "\n", 0,
                 "40 network(s), 2000 container(s), 4000 probe(s)")


@case
def probes_600() -> Case:
    """`from` and `to` lists of 600 containers (10 KB): 359,400 probes, 35 s."""
    keys = ", ".join(f"c{i}" for i in range(600))
    text = (HEAD + "containers:\n  c0: {image: busybox}\nprobes:\n"
            f"  - {{type: ping, from: [{keys}], to: [{keys}]}}\n")
    return _text("big-probes-600x600", text, 2,
                 "the probes expand to more than 10000: this one makes 600 x 600 = 360000")


@case
def probes_1000() -> Case:
    keys = ", ".join(f"c{i}" for i in range(1000))
    text = (HEAD + NET + _containers(1000) + "probes:\n"
            f"  - {{type: tcp, from: [{keys}], to: [{keys}], port: 80}}\n")
    return _text("big-probes-1000x1000", text, 2, "this one makes 1000 x 1000 = 1000000")


@case
def alias_long_values() -> Case:
    """A 100 KB file whose aliases repeat a 100 KB value 8000 times where each copy is an
    error that quotes it: 1.9 GB before."""
    text = (HEAD + NET + 'x-big: &big "' + "x" * 100_000 + '"\n'
            "x-l1: &l1 [" + ", ".join(["*big"] * 20) + "]\n"
            "x-l2: &l2 [" + ", ".join(["*l1"] * 20) + "]\n"
            "containers:\n  a: {image: busybox, cap_add: [" + ", ".join(["*l2"] * 20) + "]}\n")
    return _text("big-alias-long-values", text, 2, "characters of keys and values")


@case
def alias_long_keys() -> Case:
    """The same through mapping keys, which are text too."""
    key = "k" * 900
    text = (HEAD + NET + ONE + f"m0: &m0 {{? {key}a : 1, ? {key}b : 2, ? {key}c : 3}}\n"
            + "".join(f"m{i}: &m{i} {{" + ", ".join(f"k{j}: *m{i - 1}" for j in range(6)) + "}\n"
                      for i in range(1, 8)))
    return _text("big-alias-long-keys", text, 2, "characters of keys and values")


@case
def alias_memory() -> Case:
    """The other one of the issue, which ended in MemoryError: a wide bomb of mappings
    whose every error message quoted the whole value."""
    text = (HEAD + NET + "containers:\n  a: &c {image: busybox, networks: [lan], "
            'description: "' + "d" * 50_000 + '"}\n'
            + "".join(f"  a{i}: *c\n" for i in range(1, 2000)))
    return _text("big-alias-error-per-copy", text, 2, "characters of keys and values")


@case
def nested_anchors() -> Case:
    """Anchors nested 60 deep around 150,000 values: each anchor copied its positions
    (60 times 150,000) when it closed."""
    text = (HEAD + NET + ONE + "x: " + "".join(f"&a{i} [" for i in range(60))
            + ",".join(["1"] * 150_000) + "]" * 60 + "\n")
    return _text("big-nested-anchors", text, 2, "unknown key 'x'")


@case
def nested_anchors_aliased() -> Case:
    """The same, each anchor then aliased: the first alias crosses the values' limit."""
    text = (HEAD + NET + ONE + "x: " + "".join(f"&a{i} [" for i in range(60))
            + ",".join(["1"] * 150_000) + "]" * 60 + "\n"
            + "".join(f"y{i}: *a{i}\n" for i in range(60)))
    return _text("big-nested-anchors-aliased", text, 2,
                 "the document expands to more than 200000 values")


@case
def scalar_900k_name() -> Case:
    """A value of 900 KB, echoed whole in its error before."""
    return _text("big-value-900k-name", "version: 1\nname: " + "a" * 900_000 + "\n" + NET + ONE,
                 2, "... (900000 characters) is not valid")


@case
def external_name_900k() -> Case:
    """An external network's Docker name of 900 KB: refused, cut, never handed on."""
    return _text("big-external-name-900k", HEAD + "networks:\n  team: {external: true, "
                 "name: " + "e" * 900_000 + "}\ncontainers:\n  a: {image: busybox, "
                 "networks: [team]}\n", 2, "... (900000 characters) is not valid")


@case
def scalar_900k_unknown() -> Case:
    return _text("big-value-900k-enum", HEAD + NET + "containers:\n  a: {image: busybox, "
                 "restart: " + "r" * 900_000 + "}\n", 2, "(900000 characters)")


@case
def scalar_900k_reference() -> Case:
    text = HEAD + NET + ONE + "probes:\n  - {type: exec, on: a, command: [x], " \
        "stdout_matches: '" + "(" * 900_000 + "'}\n"
    return _text("big-value-900k-regex", text, 2, "invalid regular expression")


@case
def key_900k() -> Case:
    """A key of 900 KB (an explicit `?` key: plain keys stop at 1024 characters)."""
    return _text("big-key-900k", HEAD + NET + ONE + "? " + "k" * 900_000 + "\n: 1\n", 2,
                 "unknown key 'kkkk")


@case
def container_key_900k() -> Case:
    return _text("big-container-key-900k", HEAD + NET + "containers:\n  ? " + "c" * 900_000
                 + "\n  : {image: busybox}\n", 2, "(900000 characters) is not a valid key")


# -- counts --------------------------------------------------------------------------------------

@case
def containers_over() -> Case:
    return _text("big-containers-10001", HEAD + NET + _containers(10_001), 2,
                 "more than 10000 containers in one scenario")


@case
def containers_max() -> Case:
    return _text("big-containers-10000", HEAD + NET + _containers(10_000), 0,
                 "10000 container(s)")


@case
def networks_over() -> Case:
    nets = "".join(f"  n{i}: {{}}\n" for i in range(10_001))
    return _text("big-networks-10001", HEAD + "networks:\n" + nets + ONE, 2,
                 "more than 10000 networks in one scenario")


@case
def hosts_over() -> Case:
    hosts = "".join(f"  h{i}: {{}}\n" for i in range(10_001))
    return _text("big-hosts-10001", HEAD + "hosts:\n" + hosts + ONE, 2,
                 "more than 10000 hosts in one scenario")


@case
def hosts_remote() -> Case:
    hosts = "".join(f"  h{i}: {{engine: 'ssh://h{i}', swarm: worker}}\n" for i in range(5000))
    text = (HEAD + "hosts:\n  m: {swarm: manager}\n" + hosts
            + "networks:\n  ov: {driver: overlay, subnet: 10.0.0.0/8}\n"
            + "containers:\n" + "".join(f"  c{i}: {{image: busybox, host: h{i}, networks: [ov]}}\n"
                                        for i in range(5000)))
    return _text("big-hosts-5000-remote", text, 0, "5001 host(s)")


@case
def networks_same_subnet() -> Case:
    """Every pair overlaps: 50 million pairs; each network is reported once."""
    nets = "".join(f"  n{i}: {{subnet: 10.1.0.0/24}}\n" for i in range(10_000))
    return _text("big-networks-same-subnet", HEAD + "networks:\n" + nets + ONE.replace(
        "[lan]", "[n0]"), 2, "overlaps 10.1.0.0/24 of network 'n0' on host local")


@case
def networks_nested() -> Case:
    """Nested subnets, /8 to /30 repeated: each holds the next."""
    nets = "".join(f"  n{i}: {{subnet: 10.0.0.0/{8 + i % 23}}}\n" for i in range(5000))
    return _text("big-networks-nested", HEAD + "networks:\n" + nets + ONE.replace(
        "[lan]", "[n0]"), 2, "overlaps 10.0.0.0/")


@case
def probes_over_entries() -> Case:
    probes = "".join("  - {type: ping, from: a, to: b}\n" for _ in range(10_001))
    text = HEAD + NET + ONE + "  b: {image: busybox, networks: [lan]}\nprobes:\n" + probes
    return _text("big-probes-10001-entries", text, 2,
                 "probes[10000]: the probes expand to more than 10000: this one makes 1, "
                 "after 10000 before it")


@case
def probes_at_limit() -> Case:
    keys = ", ".join(f"c{i}" for i in range(100))
    text = (HEAD + NET + _containers(100) + "probes:\n"
            f"  - {{type: ping, from: [{keys}], to: [{keys}], count: 1}}\n")
    return _text("big-probes-100x100", text, 0, "9900 probe(s)")


@case
def probes_unknown_refs() -> Case:
    """Thousands of unknown names among thousands of known ones: "did you mean" for
    each compared every pair."""
    probes = "".join(f"  - {{type: ping, from: x{i}, to: c{i}}}\n" for i in range(5000))
    text = HEAD + NET + _containers(5000) + "probes:\n" + probes
    return _text("big-probes-unknown-refs", text, 2, "unknown container 'x0'")


@case
def unknown_keys() -> Case:
    """99,000 unknown keys: jsonschema's one error for them became 99,000 messages, each
    with its "did you mean"."""
    return _text("big-unknown-keys", HEAD + NET + ONE + "".join(f"k{i}: 1\n"
                                                              for i in range(99_000)),
                 2, "more than 200 errors")


@case
def unknown_networks() -> Case:
    """A container on 120,000 unknown networks: a message each, and a suggestion each."""
    nets = ", ".join(f"n{i}" for i in range(120_000))
    return _text("big-unknown-networks", HEAD + NET + f"containers:\n  a: {{image: busybox, "
                 f"networks: [{nets}]}}\n", 2, "unknown network 'n0'")


@case
def unknown_hops() -> Case:
    hops = ",".join(f"x{j}" for j in range(20))
    probes = "".join(f"  - {{type: traceroute, from: c{i}, to: c1, path: [{hops}]}}\n"
                     for i in range(5000))
    return _text("big-unknown-hops", HEAD + NET + _containers(5000) + "probes:\n" + probes,
                 2, "unknown container 'x0'")


@case
def wide_containers() -> Case:
    """Two containers on all of 10,000 networks, and 5000 probes between them: each probe
    made both sets of networks again (6 s)."""
    nets = "".join(f"  n{i}: {{subnet: 10.{i // 256}.{i % 256}.0/24}}\n" for i in range(10_000))
    on = ", ".join(f"n{i}" for i in range(10_000))
    text = (HEAD + "networks:\n" + nets + f"containers:\n  a: {{image: busybox, networks: "
            f"[{on}]}}\n  b: {{image: busybox, networks: [{on}]}}\nprobes:\n"
            + "  - {type: ping, from: a, to: b}\n" * 5000)
    return _text("big-wide-containers", text, 0, "5000 probe(s)")


@case
def values_over() -> Case:
    return _text("big-list-210k-values", HEAD + NET + ONE + "x: [" + ",".join(
        ["1"] * 210_000) + "]\n", 2, "the document expands to more than 200000 values")


@case
def unique_items_mixed() -> Case:
    """A list jsonschema cannot sort (numbers and text): it compared every pair."""
    items = ", ".join(str(i) if i % 2 else f"s{i}" for i in range(100_000))
    return _text("big-list-mixed-unique", HEAD + NET + "containers:\n  a: {image: busybox, "
                 f"cap_add: [{items}]}}\n", 2, "more than 200 errors")


@case
def caps_valid() -> Case:
    letters = "abcdefghijklmnopqrstuvwxyz"
    caps = [a + b + c for a in letters for b in letters for c in letters][:17_000]
    text = HEAD + NET + "containers:\n  a: {image: busybox, cap_add: [" + ", ".join(caps) + "]}\n"
    return _text("big-list-17k-capabilities", text, 0, "asks: container a adds capabilities")


@case
def env_many() -> Case:
    env = ", ".join(f"K{i}: v" for i in range(60_000))
    return _text("big-env-60k", HEAD + NET + "containers:\n  a: {image: busybox, env: {"
                 + env + "}}\n", 0, "1 container(s)")


@case
def duplicate_keys() -> Case:
    return _text("big-duplicate-keys", HEAD + NET + ONE + "d: 1\n" * 60_000, 2,
                 "more than 200 errors")


@case
def deep_1mib() -> Case:
    return _text("big-deep-flow", HEAD + "x: " + "[" * (MIB - 100) + "\n", 2,
                 "nesting deeper than 64 levels")


@case
def many_documents() -> Case:
    return _text("big-many-documents", (HEAD + NET + ONE) + "---\na: 1\n" * 100_000, 2,
                 "expected a single document in the stream")


@case
def control_at_end() -> Case:
    body = HEAD + NET + ONE + "# " + "x" * (MIB - 400) + "\n"
    return _text("big-control-at-end", body + "description: \x07\n", 2,
                 "control character U+0007 is not allowed in YAML")


@case
def bidi_everywhere() -> Case:
    return _text("big-bidi-description", HEAD + NET + ONE + 'description: "'
                 + "\u202e\u200b" * 150_000 + '"\n', 0, "1 container(s)")


@case
def over_limit() -> Case:
    return _text("big-over-limit", HEAD + "# x\n" * (MIB // 4 + 10), 2,
                 "over the limit of 1048576 bytes")


@case
def template_10k() -> Case:
    """A template that renders a valid lab of 10,000 containers."""
    text = (HEAD + NET + "containers:\n{% for i in range(10000) %}"
            "  c{{ i }}: {image: busybox, networks: {lan: {ipv4: '10.{{ i // 250 }}.{{ i % 250 }}"
            ".10'}}}\n{% endfor %}")
    return _text("big-template-10k-containers", text, 0, "10000 container(s)")


@case
def template_lines() -> Case:
    """A template whose loop makes the maximum of lines, each a duplicate key."""
    text = HEAD + NET + ONE + "{% for i in range(100000) %}d: {{ i }}\n{% endfor %}"
    return _text("big-template-duplicates", text, 2, "more than 200 errors")


# -- steps --------------------------------------------------------------------------------------

_STEP = "steps:\n  - name: s\n    do:\n"


@case
def steps_actions_over() -> Case:
    """10,001 actions in one `do` list: refused before the schema, at the one past."""
    text = HEAD + NET + ONE + _STEP + "      - pause: a\n      - unpause: a\n" * 5001
    return _text("big-steps-actions-over", text, 2,
                 "steps[0].do[10000]: more than 10000 actions in the steps of one scenario")


@case
def steps_actions_at_limit() -> Case:
    """10,000 actions, each walked through the lab's state."""
    text = HEAD + NET + ONE + _STEP + "      - pause: a\n      - unpause: a\n" * 5000
    return _text("big-steps-actions-10k", text, 0, "ok: scenario 'lab'")


@case
def steps_actions_all_wrong() -> Case:
    """10,000 actions that the state refuses: the checks stop at 200 errors."""
    text = HEAD + NET + ONE + _STEP + "      - unpause: {container: a}\n" * 10_000
    return _text("big-steps-actions-all-wrong", text, 2, "more than 200 errors")


@case
def steps_many() -> Case:
    """4,000 steps of two actions and a `use` each (with an unknown name every time)."""
    steps = "".join(f"  - name: s{i}\n    do: [{{disconnect: {{container: a, network: lan}}}}, "
                    f"{{connect: {{container: a, network: lan}}}}]\n"
                    f"    probes: [{{use: p{i}, expect: unreachable}}]\n" for i in range(4000))
    text = (HEAD + NET + ONE + "probes:\n" + "".join(
        f"  - {{type: ping, from: a, to: 10.0.{i // 256}.{i % 256}, name: q{i}}}\n"
        for i in range(4000)) + "steps:\n" + steps)
    return _text("big-steps-4000", text, 2, "no top-level probe is named 'p0'")


def write_all(folder: Path) -> list[tuple[Path, Case]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for make in CASES:
        c = make()
        path = folder / f"{c.name}.yaml"
        path.write_bytes(c.data)
        out.append((path, c))
    return out


if __name__ == "__main__":
    for path, c in write_all(Path(sys.argv[1])):
        print(f"{path}  {len(c.data)} bytes  exit {c.exit}  {c.fragment}")
