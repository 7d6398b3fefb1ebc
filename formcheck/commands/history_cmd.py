"""`formcheck history` (the stored sessions) and `formcheck progress METRIC` (one figure
over sessions, as a PNG or a terminal table)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from formcheck.cli import app
from formcheck.errors import InputError
from formcheck.history import History, MetricPoint, default_db_path


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


@app.command("history")
def history_command(
    drill: Annotated[str | None, typer.Option("--drill", help="Only sessions of this drill.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many of the newest sessions.")] = 30,
    db: Annotated[Path | None, typer.Option("--db", help="History database (default: the user's data folder).")
                  ] = None,
) -> None:
    """List stored sessions, newest first."""
    out = Console()
    path = db if db is not None else default_db_path()
    if not path.exists():
        out.print(f"No sessions stored yet ({path} will be created by the first `formcheck analyze`).")
        return
    with History.open(path, create=False) as hist:
        rows = hist.sessions(drill=drill, limit=limit)
        if not rows:
            out.print("No sessions stored yet" + (f" for {drill}" if drill else "") + ".")
            return
        table = Table(title=f"formcheck sessions ({hist.path})")
        for col in ("id", "when", "drill", "source", "length", "person seen", "sets", "counted", "held",
                    "faults"):
            table.add_column(col, justify="right" if col in ("id", "length", "sets", "counted", "held",
                                                              "faults") else "left")
        for r in rows:
            m = hist.metrics(r.id)
            sets = sum(v for (n, _), v in m.items() if n == "sets")
            reps = sum(v for (n, _), v in m.items() if n == "reps")
            held = sum(v for (n, _), v in m.items() if n == "hold_s")
            faults = sum(v for (n, _), v in m.items() if n.startswith("faults."))
            table.add_row(str(r.id), _when(r.recorded_at) + (" (stopped)" if r.interrupted else ""), r.drill,
                          Path(r.source_path).name if r.source_path else "-",
                          f"{r.duration_s:.0f} s" if r.duration_s else "-",
                          f"{r.pose_coverage:.0%}" if r.pose_coverage is not None else "-",
                          f"{sets:.0f}", f"{reps:.0f}", f"{held:.0f} s", f"{faults:.0f}")
        out.print(table)


def _progress_table(metric: str, points: list[MetricPoint]) -> Table:
    table = Table(title=f"{metric} over sessions")
    for col in ("when", "session", "drill", "side", "value", ""):
        table.add_column(col, justify="right" if col in ("session", "value") else "left")
    values = [p.value for p in points]
    lo, hi = min(values), max(values)
    for p in points:
        # A bar scaled between the smallest and largest value: the trend at a glance.
        n = 1 + round(19 * (p.value - lo) / (hi - lo)) if hi > lo else 10
        table.add_row(_when(p.recorded_at), str(p.session_id), p.drill, p.side or "-", f"{p.value:.4g}",
                      "█" * n)
    return table


@app.command("progress")
def progress_command(
    metric: Annotated[str, typer.Argument(help="A figure stored with each session, e.g. max_dorsiflexion_deg, "
                                               "peak.pelvic_drop, hold_s. A wrong name lists them.")],
    drill: Annotated[str | None, typer.Option("--drill", help="Only sessions of this drill.")] = None,
    side: Annotated[str | None, typer.Option("--side", help="left or right.")] = None,
    out_png: Annotated[Path | None, typer.Option("--out", help="Write a PNG plot here instead of a table.")
                       ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="History database (default: the user's data folder).")
                  ] = None,
) -> None:
    """Show how one figure changes over your sessions."""
    if side is not None and side not in ("left", "right"):
        raise InputError(f"--side must be left or right, not '{side}'")
    with History.open(db, create=False) as hist:
        points = hist.series(metric, drill=drill, side=side)
        if not points:
            names = hist.metric_names(drill)
            near = [n for n in names if metric.lower() in n.lower()]
            hint = ", ".join((near or names)[:12]) or "none yet"
            where = f" for {drill}" if drill else ""
            raise InputError(f"No sessions{where} have '{metric}'{' on the ' + side if side else ''}; "
                             f"figures stored: {hint}")
    if out_png is not None:
        from formcheck.report.plots import progress_plot

        out_png.parent.mkdir(parents=True, exist_ok=True)
        drills = sorted({p.drill for p in points})
        title = f"{metric} over sessions ({', '.join(drills)}{', ' + side + ' side' if side else ''})"
        out_png.write_bytes(progress_plot(points, metric, title=title))
        Console(stderr=True).print(f"Wrote {out_png} ({len(points)} points)")
        return
    Console().print(_progress_table(metric, points))
