"""The graph as JSON: the model's fields as they are, for other tools to draw.

    {"lab": NAME, "description": ..., "verified": bool,
     "hosts": [{"id", "key", "engine"}],
     "networks": [{"id", "key", "label", "kind", "driver", "subnet", "host", "hosts"}],
     "containers": [{"id", "key", "name", "host", "image", "failed"}],
     "attachments": [{"container", "network", "address", "impairment"}],
     "probes": [{"name", "type", "status", "actual", "source", "target", "target_text"}]}

`container`, `network`, `source` and `target` are node ids (h0, n0, c0).
"""

from __future__ import annotations

import json
from dataclasses import asdict

from dnetlab.graph.model import Graph


def to_json(g: Graph) -> str:
    return json.dumps(asdict(g), indent=2) + "\n"
