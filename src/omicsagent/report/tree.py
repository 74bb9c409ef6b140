"""The search tree of a run as a self-contained inline SVG (no script, no external load): one node per
finished iteration, an edge from each iteration's ``parent`` to it (drafts hang from a "start" node), nodes
coloured by validation score (better is brighter), failed nodes grey with a red ring, the best node ringed in
gold. Also a plain-text outline for report.md."""
from __future__ import annotations

from html import escape

from omicsagent.agent.journal import IterationRecord, RunJournal

# viridis at five stops: worst (dark purple) to best (yellow)
STOPS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
DX, DY, R, PAD = 58, 74, 15, 30


def colour(t: float) -> str:
    """The viridis-like colour at ``t`` in [0, 1]."""
    t = min(1.0, max(0.0, t)) * (len(STOPS) - 1)
    i = min(int(t), len(STOPS) - 2)
    f = t - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(STOPS[i], STOPS[i + 1]))
    return f"#{r:02x}{g:02x}{b:02x}"


def children_of(journal: RunJournal) -> dict[int | None, list[IterationRecord]]:
    """Finished iterations by parent (None: the drafts); a parent that is missing or later counts as None."""
    nodes = journal.finished_iterations
    known = {it.index for it in nodes}
    out: dict[int | None, list[IterationRecord]] = {}
    for it in nodes:
        parent = it.parent if it.parent in known and (it.parent or 0) < it.index else None
        out.setdefault(parent, []).append(it)
    return out


def _layout(journal: RunJournal) -> tuple[dict[int | None, tuple[float, float]], dict]:
    kids = children_of(journal)
    pos: dict[int | None, tuple[float, float]] = {}
    next_x = [0.0]

    def place(key: int | None, depth: int) -> float:
        below = kids.get(key, [])
        if not below:
            x = next_x[0]
            next_x[0] += 1
        else:
            xs = [place(c.index, depth + 1) for c in below]
            x = (xs[0] + xs[-1]) / 2
        pos[key] = (x, depth)
        return x

    place(None, 0)
    return pos, kids


def tree_svg(journal: RunJournal) -> str:
    """The search tree as an ``<svg id="search-tree">`` element ("" when no iteration has finished)."""
    nodes = journal.finished_iterations
    if not nodes:
        return ""
    pos, kids = _layout(journal)
    metric = journal.metric
    scores = [v for it in nodes if it.status == "succeeded" and (v := journal.primary(it)) is not None]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 1.0)
    worst, best_value = (lo, hi) if metric.greater_is_better else (hi, lo)
    best = journal.best_iteration
    width = max(x for x, _ in pos.values()) * DX + 2 * PAD + 2 * R
    depth = max(d for _, d in pos.values())
    height = depth * DY + 2 * PAD + 2 * R + 34

    def xy(key: int | None) -> tuple[float, float]:
        x, d = pos[key]
        return PAD + R + x * DX, PAD + R + d * DY

    parts = []
    for parent, below in kids.items():
        px, py = xy(parent)
        for c in below:
            cx, cy = xy(c.index)
            dash = ' stroke-dasharray="4 3"' if parent is None else ""
            parts.append(f'<line class="edge" data-parent="{"" if parent is None else parent}" '
                         f'data-child="{c.index}" x1="{px:.0f}" y1="{py:.0f}" x2="{cx:.0f}" y2="{cy:.0f}" '
                         f'stroke="#999" stroke-width="1.5"{dash}/>')
    sx, sy = xy(None)
    parts.append(f'<rect x="{sx - 22:.0f}" y="{sy - 11:.0f}" width="44" height="22" rx="5" fill="#eee" '
                 f'stroke="#999"/><text x="{sx:.0f}" y="{sy + 4:.0f}" font-size="11" text-anchor="middle">'
                 "start</text>")
    for it in nodes:
        cx, cy = xy(it.index)
        value = journal.primary(it) if it.status == "succeeded" else None
        t = 1.0
        if value is None:
            fill, ring, width_ring = "#d5d5d5", "#b22222", 2.5
        else:
            t = 1.0 if best_value == worst else (value - worst) / (best_value - worst)
            fill, ring, width_ring = colour(t), "#333", 1
        is_best = best is not None and best.index == it.index
        if is_best:
            ring, width_ring = "#d4a017", 4
        shown = "failed" if value is None else f"{metric.label} {value:.4f}"
        tip = f"iteration {it.index}: {it.summary or 'no plan'} ({shown})"
        if it.parent is not None:
            tip += f"; builds on iteration {it.parent}"
        text_fill = "#fff" if t < 0.55 else "#111"
        parts.append(
            f'<g class="node{" best" if is_best else ""}{" failed" if value is None else ""}" '
            f'data-iteration="{it.index}"><title>{escape(tip)}</title>'
            f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="{R}" fill="{fill}" stroke="{ring}" '
            f'stroke-width="{width_ring}"/><text x="{cx:.0f}" y="{cy + 4:.0f}" font-size="11" '
            f'text-anchor="middle" fill="{text_fill}">{it.index}</text></g>'
        )
    # legend: the colour scale from the worst to the best validation score
    ly = height - 22
    stops = "".join(f'<stop offset="{i / (len(STOPS) - 1):.2f}" stop-color="{colour(i / (len(STOPS) - 1))}"/>'
                    for i in range(len(STOPS)))
    fmt = ".3f" if metric.greater_is_better else ".3g"
    parts.append(
        f'<defs><linearGradient id="tree-scale">{stops}</linearGradient></defs>'
        f'<rect x="{PAD}" y="{ly}" width="120" height="10" fill="url(#tree-scale)"/>'
        f'<text x="{PAD + 126}" y="{ly + 9}" font-size="11">validation {escape(metric.label)} '
        f'{worst:{fmt}} (dark) to {best_value:{fmt}} (bright); gold ring: best; grey: failed</text>'
    )
    width = max(width, PAD + 126 + 420)
    return (f'<svg id="search-tree" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-label="search tree of the iterations" font-family="system-ui,sans-serif">'
            + "".join(parts) + "</svg>")


def tree_outline(journal: RunJournal) -> list[str]:
    """The search tree as indented text lines (for report.md)."""
    kids = children_of(journal)
    best = journal.best_iteration
    lines: list[str] = []

    def walk(key: int | None, depth: int) -> None:
        for it in kids.get(key, []):
            value = journal.primary(it) if it.status == "succeeded" else None
            shown = "failed" if value is None else f"{journal.metric.label} {value:.4f}"
            mark = " (best)" if best is not None and best.index == it.index else ""
            lines.append(f"{'  ' * depth}- {it.index}: {it.summary or 'no plan'}, {shown}{mark}")
            walk(it.index, depth + 1)

    walk(None, 0)
    return lines
