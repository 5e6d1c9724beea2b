"""Stage 1 of the pipeline: the scenario file is a Jinja2 template; render it to YAML text.

A file without template markers renders to itself, and Jinja2 is not even loaded: most
labs are plain YAML, and `up` of an unchanged lab should start fast.
"""

from __future__ import annotations

from dnetlab.load.rendered import Rendered, Variables
from dnetlab.load.source import Source

_MARKERS = ("{{", "{%", "{#")


def render(source: Source, variables: Variables | None = None) -> Rendered:
    """Render the scenario; raises ScenarioInvalid with every problem found."""
    if not any(m in source.text for m in _MARKERS):
        lines = len(source.text.splitlines()) + 1
        return Rendered(source, source.text, {i: i for i in range(1, lines + 1)}, {})
    from dnetlab.load.templating import render_template

    return render_template(source, variables or Variables(cli={}))
