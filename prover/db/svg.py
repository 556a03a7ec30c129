"""A search tree drawn server-side: SVG (no JavaScript, no network) plus a collapsible HTML
outline, for the attempt pages of ``make browse``.

Why: a tree is 30 to 500 nodes and thousands of failed tries; people would rather look at it
than read ``prover db tree``. The drawing keeps every node and stays readable at 500 nodes:

  * nodes are laid out left to right by depth, one row per leaf of the first-reach tree
    (each node under the edge that first reached it); a node is a dot coloured by status
    (proved green, failed red, open grey), the proof path is drawn thick and gold;
  * edges that reach a node (new, dup) or close the proof (proved) are drawn and labelled
    with their tactic and log-probability (outcome and full text on hover); the failed tries
    of a node (error, timeout, refused: most of a tree) are not drawn one by one but
    counted beside it, and listed in its hover text and in the outline;
  * hovering a node shows its goals; clicking it opens the page of that state (the
    problems whose proofs pass through an equal state);
  * the outline below the drawing holds every node and every edge as nested ``<details>``,
    failed subtrees collapsed, the proof path open.
"""
from __future__ import annotations

from html import escape

DX, DY, R = 230, 24, 6
COLOURS = {"proved": "#2e7d32", "failed": "#c62828", "open": "#9e9e9e"}
PATH = "#f9a825"
LABEL = 30  # characters of a tactic shown on an edge


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _lp(edge: dict) -> str:
    return "?" if edge.get("logprob") is None else f"{edge['logprob']:.2f}"


def layout(nodes: dict, edges: list[dict], root: str | None) -> tuple[dict, dict]:
    """(positions {node: (x, y)}, children {node: [child ids]}) of the first-reach tree."""
    children: dict[str, list[str]] = {}
    for e in edges:  # in application order: a NEW edge is the first reach of its destination
        if e["outcome"] == "new" and e["dst"] in nodes and e["dst"] != e["src"]:
            kids = children.setdefault(e["src"], [])
            if e["dst"] not in kids and nodes[e["dst"]].get("parent") in (e["src"], None):
                kids.append(e["dst"])
    pos: dict[str, tuple[float, float]] = {}
    row = 0
    placed = set()
    stack = [(root, 0, False)] if root else []
    while stack:  # iterative post-order: a parent sits at the middle of its children
        nid, depth, done = stack.pop()
        if done:
            kids = [k for k in children.get(nid, []) if k in pos]
            y = (pos[kids[0]][1] + pos[kids[-1]][1]) / 2 if kids else row * DY
            if not kids:
                row += 1
            pos[nid] = (depth * DX, y)
            continue
        if nid in placed:
            continue
        placed.add(nid)
        stack.append((nid, depth, True))
        stack.extend((k, depth + 1, False) for k in reversed(children.get(nid, [])) if k not in placed)
    for nid in nodes:  # nodes the first-reach tree misses (a broken record): a row of their own
        if nid not in pos:
            pos[nid] = (nodes[nid].get("depth", 0) * DX, row * DY)
            row += 1
    return pos, children


def tree_svg(nodes: dict, edges: list[dict], root: str | None, on_path: set[int],
             state_url=lambda nid: f"/-/prover/state/{nid}") -> str:
    pos, _ = layout(nodes, edges, root)
    if not pos:
        return "<p>(no nodes recorded)</p>"
    width = max(x for x, _ in pos.values()) + DX + 60
    height = max(y for _, y in pos.values()) + 2 * DY + 20
    off_x, off_y = 20, 20
    failed: dict[str, list[dict]] = {}
    for e in edges:
        if e["outcome"] in ("error", "timeout", "refused"):
            failed.setdefault(e["src"], []).append(e)
    path_nodes = {e["src"] for e in edges if e["id"] in on_path} | {e["dst"] for e in edges if e["id"] in on_path}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="tree" width="{width:.0f}" height="{height:.0f}" '
           f'font-family="monospace" font-size="11">']
    for e in edges:  # lines first, dots on top
        if e["src"] not in pos:
            continue
        x1, y1 = pos[e["src"]]
        if e["outcome"] == "proved":
            x2, y2 = x1 + DX * 0.6, y1
        elif e["outcome"] in ("new", "dup") and e["dst"] in pos and e["dst"] != e["src"]:
            x2, y2 = pos[e["dst"]]
        else:
            continue
        on = e["id"] in on_path
        dash = ' stroke-dasharray="4 3"' if e["outcome"] == "dup" else ""
        colour, w = (PATH, 3) if on else ("#90a4ae", 1)
        cls = "edge onpath" if on else "edge"
        title = escape(f"{e['tactic']}  [log p {_lp(e)}]  {e['outcome']}")
        # the label sits just before the end it leads to (one row per node: labels never overlap);
        # a dup edge (back to a state already drawn) is a dashed line, labelled on hover only
        label = "" if e["outcome"] == "dup" else (
            f'<text x="{x2 + off_x - R - 3:.0f}" y="{y2 + off_y - 4:.0f}" text-anchor="end" '
            f'fill="{"#e65100" if on else "#37474f"}">{escape(_short(e["tactic"], LABEL))} {_lp(e)}</text>')
        out.append(f'<g class="{cls}" data-edge="{e["id"]}"><title>{title}</title>'
                   f'<line x1="{x1 + off_x:.0f}" y1="{y1 + off_y:.0f}" x2="{x2 + off_x:.0f}" y2="{y2 + off_y:.0f}" '
                   f'stroke="{colour}" stroke-width="{w}"{dash}/>{label}</g>')
        if e["outcome"] == "proved":
            out.append(f'<rect x="{x2 + off_x - 5:.0f}" y="{y2 + off_y - 5:.0f}" width="10" height="10" '
                       f'fill="{PATH if on else COLOURS["proved"]}"><title>no goals: proof finished</title></rect>')
    for nid, (x, y) in pos.items():
        n = nodes[nid]
        status = n.get("status") or "open"
        fails = failed.get(nid, [])
        lines = [f"{nid}  {status}  depth {n.get('depth')}  score {n.get('score') or 0:.2f}", n.get("goals") or ""]
        if fails:
            lines.append(f"-- {len(fails)} failed tries:")
            lines += [f"  {_short(f['tactic'], 60)}  {f['outcome']}" for f in fails[:40]]
            if len(fails) > 40:
                lines.append(f"  ... {len(fails) - 40} more (see the outline)")
        on = nid in path_nodes
        stroke = f' stroke="{PATH}" stroke-width="3"' if on else ""
        cls = f"node {status}" + (" onpath" if on else "")
        out.append(f'<a href="{escape(state_url(nid))}"><g class="{cls}" id="n-{escape(nid)}">'
                   f'<title>{escape(chr(10).join(lines))}</title>'
                   f'<circle cx="{x + off_x:.0f}" cy="{y + off_y:.0f}" r="{R}" fill="{COLOURS.get(status, "#9e9e9e")}"{stroke}/>')
        if fails:
            t = sum(f["outcome"] == "timeout" for f in fails)
            badge = f"✗{len(fails) - t}" + (f" T{t}" if t else "")
            out.append(f'<text x="{x + off_x + 9:.0f}" y="{y + off_y + 12:.0f}" fill="#b0bec5" font-size="9">{badge}</text>')
        out.append("</g></a>")
    out.append("</svg>")
    return "\n".join(out)


def tree_outline(nodes: dict, edges: list[dict], root: str | None, on_path: set[int],
                 state_url=lambda nid: f"/-/prover/state/{nid}") -> str:
    """Every node and edge as nested <details>: failed subtrees collapsed, the proof path open."""
    if root is None:
        return ""
    by_src: dict[str, list[dict]] = {}
    for e in edges:
        by_src.setdefault(e["src"], []).append(e)
    path_nodes = {e["dst"] for e in edges if e["id"] in on_path} | ({root} if on_path else set())
    out, seen = [], {root}

    def node_summary(nid: str) -> str:
        n = nodes.get(nid, {})
        goal = _short((n.get("goals") or "").replace("\n", "  "), 110)
        return (f'<a href="{escape(state_url(nid))}" class="nid {escape(n.get("status") or "open")}">{escape(nid)}</a> '
                f'<span class="st {escape(n.get("status") or "open")}">{escape(n.get("status") or "?")}</span> '
                f'<code>{escape(goal)}</code>')

    # iterative (trees can be deep): ("node", id) writes a node and queues its edges, each
    # ("edge", row) writes one <li>, a NEW edge's destination nested inside it
    stack: list[tuple] = [("node", root)]
    while stack:
        item = stack.pop()
        if item[0] == "close":
            out.append("</details>")
            continue
        if item[0] == "edge":
            e = item[1]
            mark = ' class="onpath"' if e["id"] in on_path else ""
            text = f'{escape(e["tactic"])} <small>[{_lp(e)}] {escape(e["outcome"])}'
            if e["outcome"] in ("error", "refused") and e.get("message"):
                text += " " + escape(_short(e["message"], 100))
            text += "</small>"
            dst = e.get("dst")
            if e["outcome"] == "new" and dst in nodes and dst not in seen:
                seen.add(dst)
                out.append(f'<li{mark}>{text} →')
                stack.append(("li_end",))
                stack.append(("node", dst))
            else:
                if dst and e["outcome"] in ("new", "dup"):
                    text += f' → <a href="#o-{escape(dst)}">{escape(dst)}</a>'
                out.append(f"<li{mark}>{text}</li>")
            continue
        if item[0] == "li_end":
            out.append("</li>")
            continue
        if item[0] == "ul_end":
            out.append("</ul>")
            continue
        nid = item[1]
        n = nodes.get(nid, {})
        opened = " open" if nid in path_nodes or nid == root or n.get("status") != "failed" else ""
        out.append(f'<details id="o-{escape(nid)}"{opened}><summary>{node_summary(nid)}</summary><ul>')
        stack.append(("close",))
        stack.append(("ul_end",))
        stack.extend(("edge", e) for e in reversed(by_src.get(nid, [])))
    return '<div class="outline">' + "\n".join(out) + "</div>"
