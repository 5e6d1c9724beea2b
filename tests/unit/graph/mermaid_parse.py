"""A strict parser of the mermaid subset `dnetlab graph` writes (dnetlab/graph/mermaid.py
says which): any other line is an error, so the round trip checks the syntax too."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LABEL = r'"([^"]*)"'
_ID = r"([A-Za-z][A-Za-z0-9_]*)"
_SUBGRAPH = re.compile(rf"subgraph {_ID}\[{_LABEL}\]")
_CONTAINER = re.compile(rf"{_ID}\[{_LABEL}\]")
_NETWORK = re.compile(rf"{_ID}\(\[{_LABEL}\]\)")
_LINK = re.compile(rf"{_ID} ---\|{_LABEL}\| {_ID}")
_PROBE = re.compile(rf"{_ID} -\.->\|{_LABEL}\| {_ID}")
_CLASSDEF = re.compile(r"classDef [a-z]+ [a-z-]+:[#a-z0-9]+(,[a-z-]+:[#a-z0-9]+)*")
_CLASS = re.compile(rf"class {_ID}(?:,{_ID})* ([a-z]+)")

_ENTITIES = {"#quot;": '"', "#lt;": "<", "#gt;": ">", "#amp;": "&"}


def unquote(text: str) -> str:
    return re.sub(r"#(quot|lt|gt|amp);", lambda m: _ENTITIES[m.group()], text)


@dataclass
class Parsed:
    groups: dict[str, str] = field(default_factory=dict)  # id -> label
    containers: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # group
    networks: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    links: list[tuple[str, str, str]] = field(default_factory=list)
    probes: list[tuple[str, str, str]] = field(default_factory=list)
    classes: dict[str, set[str]] = field(default_factory=dict)


def parse(text: str) -> Parsed:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR", lines[0]
    out = Parsed()
    group: str | None = None
    for n, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if m := _SUBGRAPH.fullmatch(line):
            assert group is None, f"line {n}: nested subgraph"
            group = m[1]
            out.groups[group] = unquote(m[2])
        elif line == "end":
            assert group is not None, f"line {n}: end without subgraph"
            group = None
        elif m := _NETWORK.fullmatch(line):
            assert m[1] not in out.networks and m[1] not in out.containers, f"line {n}"
            out.networks[m[1]] = (unquote(m[2]), group)
        elif m := _CONTAINER.fullmatch(line):
            assert m[1] not in out.networks and m[1] not in out.containers, f"line {n}"
            out.containers[m[1]] = (unquote(m[2]), group)
        elif m := _LINK.fullmatch(line):
            out.links.append((m[1], unquote(m[2]), m[3]))
        elif m := _PROBE.fullmatch(line):
            out.probes.append((m[1], unquote(m[2]), m[3]))
        elif _CLASSDEF.fullmatch(line):
            pass
        elif m := _CLASS.fullmatch(line):
            ids = line.split(" ")[1].split(",")
            out.classes.setdefault(line.split(" ")[2], set()).update(ids)
        else:
            raise AssertionError(f"line {n}: not in the subset: {raw!r}")
    assert group is None, "subgraph not closed"
    known = set(out.networks) | set(out.containers)
    for a, _label, b in out.links + out.probes:
        assert a in known and b in known, f"edge {a} -> {b} names an undeclared node"
    for ids in out.classes.values():
        assert ids <= known
    return out
