"""`formcheck drills`: the routine's drills and, with --explain, every threshold and why."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from formcheck.cli import app
from formcheck.config import explain
from formcheck.drills import DRILLS, analyser_class


@app.command("drills")
def drills_command(
    explain_drill: str = typer.Option(None, "--explain", help="Show a drill's thresholds and why."),
) -> None:
    """List the drills formcheck analyses."""
    out = Console()
    if explain_drill:
        cls = analyser_class(explain_drill)
        table = Table(title=f"{explain_drill} thresholds")
        for col in ("setting", "default", "why"):
            table.add_column(col)
        for key, value, why in explain(cls.config_cls()):
            table.add_row(key, f"{value:g}" if isinstance(value, float) else str(value), why)
        out.print(table)
        return
    table = Table(title="formcheck drills")
    for col in ("id", "camera view", "variants"):
        table.add_column(col)
    for drill_id in DRILLS:
        try:
            cls = analyser_class(drill_id)
            table.add_row(drill_id, " or ".join(cls.views), ", ".join(cls.variants) or "-")
        except ImportError:
            table.add_row(drill_id, "(not available)", "-")
    out.print(table)
