"""A bare name that no container key, alias nor `localhost` explains is warned about,
located (spec 10.1): `to` of any probe, and the name a dns probe resolves."""

from __future__ import annotations

from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source

LAB = """version: 1
name: lab
networks:
  lan: {subnet: 10.10.0.0/24}
containers:
  web1: {image: busybox, networks: {lan: {ipv4: 10.10.0.10, aliases: [www]}}}
  db: {image: busybox, networks: {lan: {ipv4: 10.10.0.11}}}
probes:
"""

TREATED = "is no container key, alias nor localhost: treated as a hostname"


def _warnings(probes: str) -> list[tuple[int, int, str, str, str | None]]:
    loaded = load_source(Source("lab.yaml", LAB + probes))
    return [(w.line, w.col, w.path, w.message, w.hint) for w in loaded.warnings
            if w.severity == "warning"]


def test_a_typo_of_a_container_key_or_alias_is_a_located_warning() -> None:
    assert _warnings(
        "  - {type: ping, from: db, to: web2}\n"
        "  - {type: ping, from: db, to: [web1, wwx, localhost, example.org, 10.10.0.10]}\n"
        "  - {type: tcp, from: db, to: www, port: 80}\n"
        "  - {type: dns, from: db, name: dbb}\n"
        "  - {type: dns, from: db, name: a label, query: web}\n"
        "  - {type: dns, from: db, name: www}\n"
    ) == [
        (9, 32, "probes[0].to", f"'web2' {TREATED}; did you mean 'web1'?", None),
        (10, 39, "probes[1].to[1]", f"'wwx' {TREATED}; did you mean 'www'?", None),
        (12, 33, "probes[3].name", f"'dbb' {TREATED}; did you mean 'db'?", None),
        (13, 49, "probes[4].query", f"'web' {TREATED}; did you mean 'web1'?", None),
    ]


def test_a_name_like_no_key_is_warned_about_without_a_suggestion() -> None:
    assert _warnings("  - {type: dns, from: db, name: zzzzzz, expect: unresolved}\n") == [
        (9, 33, "probes[0].name", f"'zzzzzz' {TREATED}",
         "a hostname without a dot goes to the container's resolver")]


def test_names_with_a_dot_keys_aliases_and_localhost_are_not() -> None:
    assert _warnings(
        "  - {type: dns, from: db, name: web1}\n"
        "  - {type: dns, from: db, query: www}\n"
        "  - {type: dns, from: db, name: localhost}\n"
        "  - {type: dns, from: db, name: nosuch.example, expect: unresolved}\n"
        "  - {type: ping, from: db, to: host.docker.internal}\n") == []


def test_a_step_probe_is_warned_about_where_it_stands() -> None:
    text = LAB + "  - {type: ping, from: db, to: web1}\nsteps:\n  - name: s\n" \
        "    do: [{sleep: 0}]\n    probes:\n      - {type: ping, from: db, to: wbe1}\n"
    loaded = load_source(Source("lab.yaml", text))
    assert [(w.line, w.path, w.message) for w in loaded.warnings] == [
        (14, "steps[0].probes[0].to", f"'wbe1' {TREATED}; did you mean 'web1'?")]


def test_link_aliases_and_extra_hosts_are_known_names() -> None:
    from dnetlab.load.pipeline import load_source
    from dnetlab.load.source import Source

    loaded = load_source(Source("l.yaml", """version: 1
name: l
containers:
  c1: {image: busybox, links: ["c2:web"], extra_hosts: {loop: 127.0.0.1}}
  c2: {image: busybox}
probes:
  - {type: ping, from: c1, to: web}
  - {type: ping, from: c1, to: loop}
  - {type: ping, from: c1, to: webb}
"""))
    warned = [w.path for w in loaded.warnings]
    assert warned == ["probes[2].to"], warned
