"""The graph in Graphviz's DOT language (`dot -Tsvg lab.dot > lab.svg`).

Hosts are clusters; networks are ellipses, containers boxes; an attachment is an
undirected edge labelled with the address (and impairment); a failed probe is a red
dashed arrow from where it ran to the container it aimed at.
"""

from __future__ import annotations

from dnetlab.graph.model import Graph, GraphNetwork


def quote(text: str) -> str:
    # a DOT string: only the backslash and the double quote need escaping; newlines are
    # written as \n, which DOT reads as a centred line break
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r", "").replace("\n", "\\n") + '"'


def _network(n: GraphNetwork) -> str:
    style = "filled" if n.kind == "declared" else "filled,dashed"
    return (f'{n.id} [shape=ellipse, style="{style}", fillcolor="#e8f0fe", '
            f"label={quote(n.label)}];")


def to_dot(g: Graph) -> str:
    lines = [f"graph {quote(g.lab)} {{", "  rankdir=LR;", "  compound=true;",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8];']
    for h in g.hosts:
        lines.append(f"  subgraph cluster_{h.id} {{")
        lines.append(f"    label={quote(f'host {h.key} ({h.engine})')};")
        lines.append('    style="rounded"; color="#888888";')
        lines += [f"    {_network(n)}" for n in g.networks if n.host == h.key]
        for c in g.containers:
            if c.host == h.key:
                colour = "#fde8e8" if c.failed else "#ffffff"
                label = quote(c.key + "\n" + c.image)
                lines.append(f'    {c.id} [shape=box, style="rounded,filled", '
                             f'fillcolor="{colour}", label={label}];')
        lines.append("  }")
    lines += [f"  {_network(n)}" for n in g.networks if n.host is None]
    for a in g.attachments:
        style = ", style=bold" if a.impairment else ""
        lines.append(f"  {a.container} -- {a.network} [label={quote(a.label)}{style}];")
    for p in g.failed_probes:
        if p.source is not None and p.target is not None:
            lines.append(f"  {p.source} -- {p.target} [dir=forward, color=red, "
                         f"style=dashed, constraint=false, "
                         f"label={quote(f'{p.status}: {p.name}')}, fontcolor=red];")
    lines.append("}")
    return "\n".join(lines) + "\n"
