"""`dnetlab graph`: the lab's topology as a picture, from the scenario file alone.

`model` builds a frozen `Graph`; each format is one module that turns it into text.
Nothing here talks to an engine or reads files: the command line gives the scenario and
the last verify report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports FORMATS at start-up: keep that import light
    from dnetlab.graph.model import Graph

FORMATS = ("mermaid", "dot", "json", "html")


def render(graph: Graph, fmt: str) -> str:
    """`graph` in `fmt` (one of FORMATS), as text ending in a newline."""
    # imported here: each renderer is loaded only when its format is asked for
    if fmt == "mermaid":
        from dnetlab.graph.mermaid import to_mermaid as fn
    elif fmt == "dot":
        from dnetlab.graph.dot import to_dot as fn
    elif fmt == "json":
        from dnetlab.graph.jsonout import to_json as fn
    elif fmt == "html":
        from dnetlab.graph.html import to_html as fn
    else:
        raise ValueError(f"unknown graph format {fmt!r}")
    renderer: Callable[[Graph], str] = fn
    return renderer(graph)
