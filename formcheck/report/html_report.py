"""The HTML report: one self-contained file a runner or physiotherapist opens in any
browser, offline. Plots and thumbnails are embedded as data URIs; there is no script,
font or style sheet from anywhere else.

Sections: what was analysed (drill, date, source, model, pose coverage); the summary per
set and side; left versus right; the event timeline (a drawn strip and a table); the
drill's signals over time with faults shaded; the frames where each fault peaked.
"""

from __future__ import annotations

import base64
import html
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formcheck import __version__
from formcheck.cues import SETUP_CODES
from formcheck.events import Event
from formcheck.history import flatten_metrics
from formcheck.report import plots
from formcheck.report.atomic import atomic_open

if TYPE_CHECKING:
    from formcheck.runner import SessionRun

CSS = """
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:24px auto;max-width:1000px;color:#222;
     padding:0 16px;line-height:1.4}
h1{margin-bottom:4px} h2{margin-top:32px;border-bottom:2px solid #eee;padding-bottom:4px}
.meta{color:#555} .warn{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;border-radius:4px}
table{border-collapse:collapse;margin:8px 0;font-size:14px} td,th{border:1px solid #ddd;padding:4px 8px;
text-align:left} th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
.fault{color:#c0392b;font-weight:bold} .plot{display:block;max-width:100%;margin:8px 0}
.thumbs{display:flex;flex-wrap:wrap;gap:12px} figure{margin:0;border:1px solid #ddd;padding:6px;
border-radius:4px;background:#fafafa} figcaption{font-size:12px;max-width:260px}
.left{color:#d97a10} .right{color:#1a8ac0}
table.nested{font-size:12px;margin:0} table.nested td,table.nested th{padding:1px 5px}
"""

# Sets its own data attribute once every embedded image has decoded, so a headless browser
# test can read from the DOM that the plots really render (nothing is fetched).
CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-images-loaded', ok);
});
"""


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
        return _nested(v)
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v[:50]) + (" …" if len(v) > 50 else "")
    if isinstance(v, dict):
        return "<br>".join(f"{_e(k)}: {_fmt(x)}" for k, x in v.items())
    return _e(v)


def _nested(items: list[dict[str, Any]], limit: int = 60) -> str:
    """A list of records (reaches, hops, strokes) as a small table inside a cell."""
    keys: list[str] = []
    for it in items:
        keys += [k for k in it if k not in keys]
    head = "".join(f"<th>{_e(k)}</th>" for k in keys)
    rows = "".join("<tr>" + "".join(_td(it.get(k)) for k in keys) + "</tr>" for it in items[:limit])
    more = f"<p>… and {len(items) - limit} more</p>" if len(items) > limit else ""
    return f'<table class="nested"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}'


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def drill_title(drill: str) -> str:
    return drill.replace("-", " ").capitalize()


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(v: Any, num: bool | None = None) -> str:
    num = isinstance(v, (int, float)) and not isinstance(v, bool) if num is None else num
    return f'<td class="num">{_fmt(v)}</td>' if num else f"<td>{_fmt(v)}</td>"


def _side_td(side: str | None) -> str:
    return f'<td class="{_e(side)}">{_e(side)}</td>' if side else "<td>–</td>"


def section_sets(summary: dict[str, Any]) -> str:
    """One column per figure; with many figures, one column per set instead (a physio reads
    down a set's figures, and the page does not overflow sideways)."""
    sets = [s for s in summary.get("sets") or [] if isinstance(s, dict)]
    if not sets:
        return "<p>No complete set was recorded.</p>"
    keys: list[str] = []
    for s in sets:
        keys += [k for k in s if k not in keys and k != "side"]
    numbers: list[int] = []
    counters: dict[str | None, int] = defaultdict(int)
    for s in sets:
        counters[s.get("side")] += 1
        numbers.append(counters[s.get("side")])
    if len(keys) <= 7:
        rows = [[f'<td class="num">{n}</td>', _side_td(s.get("side"))] + [_td(s.get(k)) for k in keys]
                for n, s in zip(numbers, sets)]
        return _table(["set", "side", *keys], rows, "sets")
    heads = [f"set {n}" + (f" ({s.get('side')})" if s.get("side") else "") for n, s in zip(numbers, sets)]
    rows = [[f"<td>{_e(k)}</td>"] + [_td(s.get(k)) for s in sets] for k in keys]
    return _table(["figure", *heads], rows, "sets")


def section_figures(summary: dict[str, Any]) -> str:
    rows = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, [*path, str(k)])
        elif path:
            rows.append([f"<td>{_e('.'.join(path))}</td>", _td(node)])

    walk({k: v for k, v in summary.items() if k != "sets"}, [])
    return _table(["figure", "value"], rows, "figures") if rows else ""


def section_left_right(report: dict[str, Any]) -> str:
    by_name: dict[str, dict[str | None, float]] = defaultdict(dict)
    for name, side, value in flatten_metrics(report):
        by_name[name][side] = value
    rows = []
    for name, sides in sorted(by_name.items()):
        if "left" in sides and "right" in sides:
            left, right = sides["left"], sides["right"]
            big = max(abs(left), abs(right))
            diff = f"{(left - right) / big * 100:+.0f} %" if big > 1e-9 else "0 %"
            rows.append([f"<td>{_e(name)}</td>", _td(left), _td(right), f'<td class="num">{diff}</td>'])
    if not rows:
        return "<p>This session has figures for one side only.</p>"
    return _table(["figure", "left", "right", "left vs right"], rows, "left-right")


def timeline_svg(events: list[Event], duration_s: float, width: int = 960) -> str:
    """Lanes of faults (spans) and counts/holds, drawn as inline SVG (no image file)."""
    duration_s = max(duration_s, max((e.t_end_s or e.t_s for e in events), default=0.0), 1e-3)
    lanes: list[tuple[str, str | None]] = []
    for e in sorted(events, key=lambda e: (e.kind != "count", e.kind != "hold", e.code, str(e.side))):
        key = (e.kind if e.kind in ("count", "hold") else e.code, e.side)
        if key not in lanes:
            lanes.append(key)
    left, lane_h, top = 170, 18, 6
    h = top + lane_h * len(lanes) + 22
    scale = (width - left - 10) / duration_s
    colours = plots.fault_colours(events)
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" class="timeline" '
              f'role="img" aria-label="event timeline">')]
    for i, (name, side) in enumerate(lanes):
        y = top + i * lane_h
        parts.append(f'<text x="4" y="{y + 13}" font-size="11">{_e(name)}{" (" + _e(side) + ")" if side else ""}'
                     "</text>")
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y + lane_h / 2}" y2="{y + lane_h / 2}" '
                     'stroke="#eee"/>')
    for e in events:
        key = (e.kind if e.kind in ("count", "hold") else e.code, e.side)
        y = top + lanes.index(key) * lane_h
        x0 = left + e.t_s * scale
        title = f"<title>{_e(e.code)} {e.t_s:.2f} s: {_e(e.message)}</title>"
        if e.kind == "count":
            col = plots.SIDE_COLOURS.get(e.side, "#444")
            parts.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{y + 2}" y2="{y + lane_h - 2}" '
                         f'stroke="{col}" stroke-width="2">{title}</line>')
        else:
            t1 = e.t_end_s if e.t_end_s is not None else e.t_s + 0.1
            w = max(2.0, (t1 - e.t_s) * scale)
            col = "#5cb85c" if e.kind == "hold" else colours.get(e.code, "#c0392b")
            if e.code in SETUP_CODES:
                col = plots.SETUP_COLOUR
            parts.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{lane_h - 6}" '
                         f'fill="{col}" rx="2">{title}</rect>')
    for k in range(11):
        t = duration_s * k / 10
        x = left + t * scale
        parts.append(f'<text x="{x:.1f}" y="{h - 6}" font-size="10" text-anchor="middle">{t:.0f}s</text>')
    parts.append("</svg>")
    return "".join(parts)


def section_events(run: SessionRun, thumbs: dict[tuple[str, str | None, float], str]) -> str:
    events = sorted(run.result.events, key=lambda e: (e.t_s, e.code))
    if not events:
        return "<p>No events.</p>"
    rows = []
    for e in events:
        cls = ' class="fault"' if e.kind == "fault" and e.code not in SETUP_CODES else ""
        anchor = ""
        if (e.code, e.side, round(e.t_s, 3)) in thumbs:
            anchor = f' <a href="#peak-{_e(e.code)}-{e.t_s:.3f}">frame</a>'
        rows.append([_td(round(e.t_s, 2)), _td(None if e.t_end_s is None else round(e.t_end_s, 2)),
                     f"<td{cls}>{_e(e.code)}</td>", _side_td(e.side), f"<td>{_e(e.kind)}</td>",
                     f"<td>{_e(e.message)}{anchor}</td>", _td(e.value)])
    return _table(["t (s)", "until (s)", "code", "side", "kind", "message", "value"], rows, "events")


def render_html(run: SessionRun, generated: datetime | None = None) -> str:
    res = run.result
    report = res.to_report()
    src = res.source
    generated = generated or datetime.now().astimezone()
    duration = src.duration_s or (float(run.table.times()[-1]) if len(run.table) else 0.0)
    thumbs = {(t.code, t.side, round(t.onset_t, 3)): data_uri(t.jpeg, "image/jpeg")
              for t in run.thumbnails if t.jpeg}

    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>formcheck: {_e(drill_title(res.drill))} – {_e(Path(src.path or src.kind).name)}</title>",
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<style>{CSS}</style><script>{CHECK_SCRIPT}</script></head><body>"]
    out.append(f'<h1 id="drill">{_e(drill_title(res.drill))}</h1>')
    out.append(f'<p class="meta" id="meta">Analysed {generated:%Y-%m-%d %H:%M} · source '
               f"<b>{_e(src.path or src.kind)}</b> ({src.width}×{src.height}, {src.fps:.3g} fps, "
               f"{src.frames} frames, {duration:.1f} s) · pose model <b>{_e(res.model)}</b> · "
               f"person found in {res.pose_coverage:.0%} of frames · formcheck {_e(__version__)}</p>")
    if res.interrupted:
        out.append('<p class="warn" id="interrupted">This session was interrupted: the figures cover '
                   "only what was recorded before it stopped.</p>")

    out.append('<h2 id="sets">Sets</h2>')
    out.append(section_sets(res.summary))
    figs = section_figures(res.summary)
    if figs:
        out.append('<h2 id="figures">Figures</h2>' + figs)
    out.append('<h2 id="left-right">Left and right</h2>')
    out.append(section_left_right(report))

    out.append('<h2 id="timeline">Timeline</h2>')
    out.append(timeline_svg(res.events, duration))
    out.append(section_events(run, thumbs))

    out.append('<h2 id="signals">Signals over time</h2>')
    images = []
    for title, png in plots.signal_plots(run.table, res.events):
        images.append(f'<img class="plot signal" alt="{_e(title)}" src="{data_uri(png, "image/png")}">')
    timing = plots.count_timing_plot(res.events, duration)
    if timing:
        images.append(f'<img class="plot timing" alt="time between counts" src="{data_uri(timing, "image/png")}">')
    traces = plots.trace_plot(run.traces) if run.traces else None
    if traces:
        images.append(f'<img class="plot traces" alt="letter traces" src="{data_uri(traces, "image/png")}">')
    out.append("".join(images) if images else "<p>No measurements to plot.</p>")

    out.append('<h2 id="peaks">Where each fault peaked</h2>')
    if thumbs:
        events_by_key = {(e.code, e.side, round(e.t_s, 3)): e for e in res.events if e.kind == "fault"}
        figs_html = []
        for t in sorted(run.thumbnails, key=lambda t: t.onset_t):
            if not t.jpeg:
                continue
            ev = events_by_key.get((t.code, t.side, round(t.onset_t, 3)))
            peak = f", worst {ev.value:.3g}" if ev is not None and ev.value is not None else ""
            cap = f"{_e(t.code)}{' (' + _e(t.side) + ')' if t.side else ''} at {t.t_s:.2f} s{peak}"
            figs_html.append(f'<figure id="peak-{_e(t.code)}-{t.onset_t:.3f}"><img class="thumb" alt="{cap}" '
                             f'src="{data_uri(t.jpeg, "image/jpeg")}"><figcaption>{cap}</figcaption></figure>')
        out.append('<div class="thumbs">' + "".join(figs_html) + "</div>")
    elif not any(e.kind == "fault" and e.code not in SETUP_CODES for e in res.events):
        out.append("<p>No form faults: nothing to show.</p>")
    else:
        out.append("<p>No pictures: this source is a landmark recording, without video frames.</p>"
                   if src.kind == "landmarks" else "<p>No pictures of the faults were kept.</p>")
    out.append("</body></html>")
    return "\n".join(out)


def write_html(run: SessionRun, path: Path) -> None:
    """Write atomically (temporary file renamed into place)."""
    text = render_html(run)
    with atomic_open(path) as fh:
        fh.write(text)
