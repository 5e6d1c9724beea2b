"""The graph as a mermaid flowchart (GitHub renders it in a ```mermaid block).

The subset written, one statement a line (tests/unit/graph parses it back):
`flowchart LR`; `subgraph ID["label"]` ... `end`; nodes `ID["label"]` (container),
`ID(["label"])` (network); edges `ID ---|"label"| ID` (attachment) and
`ID -.->|"label"| ID` (failed probe); `classDef NAME ...`; `class ID,ID NAME`.
Ids are made by the model (h0, n0, c0): keys never reach the syntax, only labels, and
those are quoted with `"` written as `#quot;` (mermaid's entity).
"""

from __future__ import annotations

from dnetlab.graph.model import Graph, GraphNetwork


def quote(text: str) -> str:
    # mermaid reads entities inside quoted labels: quotes and markup stay text
    for raw, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, entity)
    return f'"{text}"'


def _network(n: GraphNetwork) -> str:
    return f"{n.id}([{quote(n.label)}])"


def to_mermaid(g: Graph) -> str:
    lines = ["flowchart LR"]
    for h in g.hosts:
        lines.append(f"  subgraph {h.id}[{quote(f'host {h.key} ({h.engine})')}]")
        lines += [f"    {_network(n)}" for n in g.networks if n.host == h.key]
        lines += [f"    {c.id}[{quote(c.key)}]" for c in g.containers if c.host == h.key]
        lines.append("  end")
    # networks across hosts sit outside every host's group
    lines += [f"  {_network(n)}" for n in g.networks if n.host is None]
    lines += [f"  {a.container} ---|{quote(a.label)}| {a.network}" for a in g.attachments]
    for p in g.failed_probes:
        if p.source is not None and p.target is not None:
            lines.append(f"  {p.source} -.->|{quote(f'{p.status}: {p.name}')}| {p.target}")
    lines.append("  classDef network fill:#e8f0fe,stroke:#3367d6")
    lines.append("  classDef failed fill:#fde8e8,stroke:#d33,stroke-width:2px")
    if g.networks:
        lines.append(f"  class {','.join(n.id for n in g.networks)} network")
    failed = [c.id for c in g.containers if c.failed]
    if failed:
        lines.append(f"  class {','.join(failed)} failed")
    return "\n".join(lines) + "\n"
