"""The graph as ONE self-contained HTML page: an SVG laid out here, a small inline script
for zoom, pan and find, inline style; nothing is fetched (no CDN, no font, no image).

Layout, so that 200 containers stay readable: each host is a box, side by side; inside a
host, one band per network, its node on the left and the containers whose first network
it is in a grid to the right, hung from the network's bus line. A container's other
attachments are lines to those networks' nodes. A network across hosts (an overlay) is a
node above the hosts, with a leg in each host that carries its band there. A container
box lists its attachments (network, address, impairment). Failed probes of the last
verify are red arrows between containers, and listed above the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from dnetlab.graph.model import Attachment, Graph, GraphContainer, GraphNetwork

COLS = 6  # containers per line in a band
BOX_W = 170
LINE_H = 13
BOX_PAD = 6
GAP_X = 14
GAP_Y = 18
HEADER_W = 150  # the network node at the left of a band
HOST_PAD = 16
HOST_TITLE = 30
BAND_GAP = 22
TOP_BAND = 70  # room for networks across hosts
CHAR_W = 6.2  # an 11 px sans-serif character, for cutting long text

PALETTE = ("#3367d6", "#0b8043", "#e37400", "#8e24aa", "#00838f", "#c2185b", "#5d4037",
           "#546e7a", "#7cb342", "#f4511e")


def _cut(text: str, width: float) -> str:
    n = max(int(width / CHAR_W), 4)
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass
class _Layout:
    """Positions, filled while laying out: boxes of containers, anchor points of
    networks (per host for a network across hosts: its leg there)."""

    svg: list[str] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)  # hosts' boxes, under the lines
    box: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    node: dict[str, tuple[float, float]] = field(default_factory=dict)
    leg: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)


def _box_h(atts: list[Attachment]) -> float:
    return BOX_PAD * 2 + LINE_H * (1 + max(len(atts), 1))


def _attachment_text(a: Attachment, nets: dict[str, GraphNetwork]) -> str:
    text = f"{nets[a.network].key}: {a.address or 'dynamic'}"
    return text + (f" ⚡ {a.impairment}" if a.impairment else "")


def _container(lay: _Layout, c: GraphContainer, atts: list[Attachment],
               nets: dict[str, GraphNetwork], x: float, y: float) -> float:
    h = _box_h(atts)
    lay.box[c.id] = (x, y, BOX_W, h)
    cls = "ct failed" if c.failed else "ct"
    tip = "\n".join([f"{c.key} ({c.name}) on host {c.host}", f"image {c.image}",
                     *(_attachment_text(a, nets) for a in atts)])
    lay.svg.append(f'<g class="{cls}" data-key="{escape(c.key)}">'
                   f"<title>{escape(tip)}</title>"
                   f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{h:.0f}" rx="5"/>'
                   f'<text class="key" x="{x + BOX_PAD:.0f}" y="{y + BOX_PAD + 10:.0f}">'
                   f"{escape(_cut(('✗ ' if c.failed else '') + c.key, BOX_W - 2 * BOX_PAD))}"
                   "</text>")
    if not atts:
        lay.svg.append(f'<text x="{x + BOX_PAD:.0f}" y="{y + BOX_PAD + 10 + LINE_H:.0f}">'
                       "no network</text>")
    for i, a in enumerate(atts, start=1):
        cls = ' class="impaired"' if a.impairment else ""
        lay.svg.append(f'<text{cls} x="{x + BOX_PAD:.0f}" '
                       f'y="{y + BOX_PAD + 10 + i * LINE_H:.0f}">'
                       f"{escape(_cut(_attachment_text(a, nets), BOX_W - 2 * BOX_PAD))}</text>")
    lay.svg.append("</g>")
    return h


def _pill(lay: _Layout, n: GraphNetwork, colour: str, x: float, y: float, label: str,
          *, leg: bool = False) -> None:
    tip = f"{n.label}\non host(s) {', '.join(n.hosts) or '-'}"
    cls = "net leg" if leg else "net"
    dash = ' stroke-dasharray="4 3"' if n.kind != "declared" or leg else ""
    lay.svg.append(f'<g class="{cls}" data-key="{escape(n.key)}"><title>{escape(tip)}</title>'
                   f'<rect x="{x:.0f}" y="{y:.0f}" width="{HEADER_W - 12}" height="30" '
                   f'rx="15" stroke="{colour}"{dash}/>'
                   f'<text x="{x + 12:.0f}" y="{y + 19:.0f}" fill="{colour}">'
                   f"{escape(_cut(label, HEADER_W - 36))}</text></g>")


def _host(lay: _Layout, g: Graph, host: str, engine: str, x0: float, y0: float,
          colours: dict[str, str], nets: dict[str, GraphNetwork],
          atts: dict[str, list[Attachment]]) -> tuple[float, float]:
    """Lays out one host's box at (x0, y0); returns its width and height."""
    mine = [c for c in g.containers if c.host == host]
    by_first: dict[str | None, list[GraphContainer]] = {}
    for c in mine:
        first = atts[c.id][0].network if atts[c.id] else None
        by_first.setdefault(first, []).append(c)
    # a band per network that lives here, or that a container here is attached to (a
    # network across hosts then has a leg here: lines to it stay inside the host's box)
    used = {a.network for c in mine for a in atts[c.id]}
    bands: list[str | None] = [n.id for n in g.networks if n.host == host or n.id in used]
    if None in by_first:
        bands.append(None)
    width = HOST_PAD * 2 + HEADER_W + COLS * (BOX_W + GAP_X)
    body: list[str] = []
    lay.svg, outer = body, lay.svg
    y = y0 + HOST_TITLE
    for band in bands:
        members = by_first.get(band, [])
        colour = colours.get(band or "", "#999999")
        hx, hy = x0 + HOST_PAD, y
        if band is not None:
            n = nets[band]
            if n.host is None:  # a leg of a network across hosts
                _pill(lay, n, colour, hx, hy, f"{n.key} (across hosts)", leg=True)
                lay.leg[(band, host)] = (hx + (HEADER_W - 12) / 2, hy + 15)
            else:
                _pill(lay, n, colour, hx, hy, n.label)
                lay.node[band] = (hx + (HEADER_W - 12) / 2, hy + 15)
        else:
            lay.svg.append(f'<text class="muted" x="{hx:.0f}" y="{hy + 19:.0f}">'
                           "no network</text>")
        gx = x0 + HOST_PAD + HEADER_W
        trunk_x = hx + HEADER_W - 12
        rows = [members[i:i + COLS] for i in range(0, len(members), COLS)] or [[]]
        ry = y
        for row in rows:
            heights = [_box_h(atts[c.id]) for c in row]
            bus_y = ry + 4
            if row and band is not None:
                last = gx + (len(row) - 1) * (BOX_W + GAP_X) + BOX_W / 2
                lay.svg.append(f'<path class="bus" stroke="{colour}" d="M{trunk_x:.0f} '
                               f"{min(hy + 15, bus_y):.0f} V{bus_y:.0f} H{last:.0f}\"/>")
            for i, c in enumerate(row):
                bx = gx + i * (BOX_W + GAP_X)
                if band is not None:
                    lay.svg.append(f'<path class="bus" stroke="{colour}" d="M{bx + BOX_W / 2:.0f}'
                                   f' {bus_y:.0f} V{ry + 12:.0f}"/>')
                _container(lay, c, atts[c.id], nets, bx, ry + 12)
            ry += 12 + max(heights, default=30) + GAP_Y
        y = max(ry, hy + 30 + GAP_Y) + BAND_GAP - GAP_Y
    height = y - y0 + HOST_PAD
    lay.svg = outer
    lay.frames.append(f'<g class="host" data-key="{escape(host)}">'
                   f'<rect x="{x0:.0f}" y="{y0:.0f}" width="{width:.0f}" '
                   f'height="{height:.0f}" rx="10"/>'
                   f'<text x="{x0 + HOST_PAD:.0f}" y="{y0 + 21:.0f}">'
                   f"host {escape(host)} <tspan class=\"muted\">({escape(engine)})</tspan>"
                   "</text></g>")
    lay.svg += body
    return width, height


def _anchor(lay: _Layout, network: str, host: str) -> tuple[float, float] | None:
    return lay.leg.get((network, host)) or lay.node.get(network)


def svg(g: Graph) -> tuple[str, float, float]:
    """The picture: SVG text, its width and height."""
    nets = {n.id: n for n in g.networks}
    colours = {n.id: PALETTE[i % len(PALETTE)] for i, n in enumerate(g.networks)}
    atts: dict[str, list[Attachment]] = {c.id: [] for c in g.containers}
    for a in g.attachments:
        atts[a.container].append(a)
    lay = _Layout()
    across = [n for n in g.networks if n.host is None]
    top = 10 + (TOP_BAND if across else 0)
    for i, n in enumerate(across):
        px, py = 10.0 + HOST_PAD + i * (HEADER_W + 40), 20.0
        _pill(lay, n, colours[n.id], px, py, n.label)
        lay.node[n.id] = (px + (HEADER_W - 12) / 2, py + 15)
    x = 10.0
    height = 0.0
    for h in g.hosts:
        w, hh = _host(lay, g, h.key, h.engine, x, top, colours, nets, atts)
        x += w + 30
        height = max(height, hh)
    # lines drawn under the boxes: put first in the final picture
    under: list[str] = []
    for (net, _host_key), (lx, ly) in lay.leg.items():
        nx, ny = lay.node[net]
        under.append(f'<path class="link" stroke="{colours[net]}" '
                     f'd="M{nx:.0f} {ny:.0f} L{lx:.0f} {ly:.0f}"/>')
    host_of = {c.id: c.host for c in g.containers}
    for cid, its in atts.items():
        bx, by, bw, _ = lay.box[cid]
        for i, a in enumerate(its[1:], start=2):
            end = _anchor(lay, a.network, host_of[cid])
            if end is None:
                continue
            ay = by + BOX_PAD + 6 + i * LINE_H
            dash = ' stroke-dasharray="5 3"' if a.impairment else ""
            under.append(f'<path class="link" stroke="{colours[a.network]}"{dash} '
                         f'd="M{bx + bw:.0f} {ay:.0f} L{end[0]:.0f} {end[1]:.0f}">'
                         f"<title>{escape(_attachment_text(a, nets))}</title></path>")
    over: list[str] = []
    for p in g.failed_probes:
        if p.source is None or p.target is None or p.source == p.target:
            continue
        sx, sy, sw, sh = lay.box[p.source]
        tx, ty, tw, th = lay.box[p.target]
        over.append(f'<path class="probe" marker-end="url(#arrow)" d="M{sx + sw / 2:.0f} '
                    f'{sy + sh / 2:.0f} L{tx + tw / 2:.0f} {ty + th / 2:.0f}">'
                    f"<title>{escape(f'{p.status}: {p.name}: {p.actual}')}</title></path>")
    width, total_h = x - 20, top + height + 10
    defs = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" '
            'fill="#d33"/></marker></defs>')
    body = "\n".join([defs, *lay.frames, '<g id="lines">', *under, "</g>", *lay.svg, *over])
    return body, width, total_h


_STYLE = """
html, body { margin: 0; height: 100%; font: 13px system-ui, sans-serif; color: #222; }
body { display: flex; flex-direction: column; }
header { padding: 6px 12px; background: #f5f5f5; border-bottom: 1px solid #ddd; }
header h1 { font-size: 16px; display: inline; margin-right: 12px; }
header .tools { float: right; }
header button, header input { font: inherit; margin-left: 4px; }
.ok { color: #0b8043; } .bad { color: #d33; }
details { margin-top: 4px; max-height: 25vh; overflow: auto; }
#view { flex: 1; width: 100%; cursor: grab; background: #fff; touch-action: none; }
#view.dragging { cursor: grabbing; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
.host rect { fill: #fafafa; stroke: #999; }
.host text { font-size: 14px; font-weight: 600; }
.muted { fill: #888; font-weight: normal; }
.ct rect { fill: #fff; stroke: #777; }
.ct text.key { font-weight: 600; }
.ct.failed rect { fill: #fde8e8; stroke: #d33; stroke-width: 2; }
.ct.found rect { stroke: #f9a825; stroke-width: 4; }
.impaired { fill: #b35c00; }
.net rect { fill: #fff; stroke-width: 2; }
.net text { font-weight: 600; }
.bus { fill: none; stroke-width: 2; }
.link { fill: none; stroke-width: 1.2; opacity: 0.55; }
.probe { fill: none; stroke: #d33; stroke-width: 2; stroke-dasharray: 6 3; }
"""

# Zoom about the pointer (wheel), pan by dragging, fit, and find a container by key:
# all on the SVG's viewBox, so the text stays sharp at any zoom.
_SCRIPT = """
(function () {
  var svg = document.getElementById('view');
  var full = svg.viewBox.baseVal;
  var box = {x: full.x, y: full.y, w: full.width, h: full.height};
  var home = {x: box.x, y: box.y, w: box.w, h: box.h};
  function apply() { svg.setAttribute('viewBox', box.x + ' ' + box.y + ' ' + box.w + ' ' + box.h); }
  function point(ev) {
    var r = svg.getBoundingClientRect(), s = Math.max(box.w / r.width, box.h / r.height);
    var ox = (r.width * s - box.w) / 2, oy = (r.height * s - box.h) / 2;
    return {x: box.x - ox + (ev.clientX - r.left) * s,
            y: box.y - oy + (ev.clientY - r.top) * s, s: s};
  }
  function zoom(f, p) {
    box.x = p.x - (p.x - box.x) * f; box.y = p.y - (p.y - box.y) * f;
    box.w *= f; box.h *= f; apply();
  }
  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault(); zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, point(ev));
  }, {passive: false});
  var drag = null;
  svg.addEventListener('pointerdown', function (ev) {
    drag = {x: ev.clientX, y: ev.clientY, s: point(ev).s};
    svg.classList.add('dragging'); svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener('pointermove', function (ev) {
    if (!drag) return;
    box.x -= (ev.clientX - drag.x) * drag.s; box.y -= (ev.clientY - drag.y) * drag.s;
    drag.x = ev.clientX; drag.y = ev.clientY; apply();
  });
  function up() { drag = null; svg.classList.remove('dragging'); }
  svg.addEventListener('pointerup', up); svg.addEventListener('pointercancel', up);
  function centre() { return {x: box.x + box.w / 2, y: box.y + box.h / 2}; }
  document.getElementById('zin').onclick = function () { zoom(1 / 1.4, centre()); };
  document.getElementById('zout').onclick = function () { zoom(1.4, centre()); };
  document.getElementById('fit').onclick = function () {
    box = {x: home.x, y: home.y, w: home.w, h: home.h}; apply();
  };
  document.getElementById('find').addEventListener('change', function (ev) {
    var q = ev.target.value.trim(), hit = null;
    document.querySelectorAll('.ct').forEach(function (g) {
      var on = q !== '' && g.getAttribute('data-key').indexOf(q) >= 0;
      g.classList.toggle('found', on); if (on && !hit) hit = g;
    });
    if (hit) {
      var b = hit.getBBox();
      box = {x: b.x + b.width / 2 - 400, y: b.y + b.height / 2 - 250, w: 800, h: 500}; apply();
    }
  });
})();
"""


def _summary(g: Graph) -> str:
    counts = (f"{len(g.hosts)} host(s), {len(g.networks)} network(s), "
              f"{len(g.containers)} container(s)")
    if not g.verified:
        return f"<span>{counts}; no verify recorded</span>"
    failed = g.failed_probes
    verdict = (f'<span class="ok">last verify: {g.count("passed")} passed</span>' if not failed
               else f'<span class="bad">last verify: {g.count("passed")} passed, '
                    f'{g.count("failed")} failed, {g.count("error")} error(s)</span>')
    text = f"<span>{counts};</span> {verdict}"
    if failed:
        items = "".join(f"<li><b>{escape(p.name)}</b> ({escape(p.status)}): "
                        f"{escape(p.actual)}</li>" for p in failed)
        text += f"<details><summary>failed probes</summary><ul>{items}</ul></details>"
    return text


def to_html(g: Graph) -> str:
    body, width, height = svg(g)
    title = escape(f"lab {g.lab}")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>{title}</h1>{_summary(g)}
<span class="tools"><input id="find" placeholder="find container" size="16">
<button id="zin" title="zoom in">+</button><button id="zout" title="zoom out">&minus;</button>
<button id="fit" title="whole lab">fit</button></span>
<div class="muted">{escape(g.description)}</div>
</header>
<svg id="view" viewBox="0 0 {width:.0f} {height:.0f}"
 preserveAspectRatio="xMidYMid meet">
{body}
</svg>
<script>{_SCRIPT}</script>
</body>
</html>
"""
