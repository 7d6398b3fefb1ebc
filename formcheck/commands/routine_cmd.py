"""`formcheck routine`: the whole routine of SPEC.md, guided in the live window."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from formcheck.cli import app
from formcheck.commands.live_cmd import CAMERA_HELP, parse_side, report_outcome


def plan_table(plans) -> Table:
    t = Table(title="formcheck routine")
    for col in ("#", "drill", "prescription", "camera", "rest"):
        t.add_column(col)
    for i, p in enumerate(plans, 1):
        t.add_row(str(i), p.title, p.prescription, p.camera, f"{p.rest_s:g} s")
    return t


@app.command("routine")
def routine_command(
    drills: Annotated[str | None, typer.Option("--drills", help="Only these drills, comma-separated "
                                               "(e.g. star-balance,deep-squat); always in routine order.")
                      ] = None,
    camera: Annotated[str, typer.Option("--camera", "-c", help=CAMERA_HELP)] = "0",
    side: Annotated[str | None, typer.Option("--side", help="Start each drill on this leg.")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="Pose model: lite (fastest), full, heavy.")] = "lite",
    mirror: Annotated[bool, typer.Option("--mirror/--no-mirror", help="Show the picture like a mirror.")] = True,
    voice: Annotated[bool, typer.Option("--voice/--mute", help="Speak cues that persist (needs espeak-ng).")
                     ] = False,
    record: Annotated[Path | None, typer.Option("--record", help="Record the window to this video (.mp4).")
                      ] = None,
    json_dir: Annotated[Path | None, typer.Option("--json-dir", help="Write one JSON report per drill here.")
                        ] = None,
    sets: Annotated[int | None, typer.Option("--sets", min=1, help="Sets per leg instead of the prescription.")
                    ] = None,
    rest: Annotated[float | None, typer.Option("--rest", min=0, help="Seconds of rest between sets.")] = None,
    countdown: Annotated[float, typer.Option("--countdown", min=0,
                                             help="Seconds counted down before each set.")] = 3.0,
    card_seconds: Annotated[float, typer.Option("--card-seconds", min=0,
                                                help="How long each instruction card stays up.")] = 30.0,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file of threshold overrides.")] = None,
    preset: Annotated[str | None, typer.Option("--preset", help="gentle, standard or strict.")] = None,
    max_seconds: Annotated[float | None, typer.Option("--max-seconds", min=0,
                                                      help="Stop after this many seconds.")] = None,
    no_history: Annotated[bool, typer.Option("--no-history", help="Do not store the sessions in the history.")
                          ] = False,
    show_plan: Annotated[bool, typer.Option("--plan", help="Print the routine and exit (no camera).")] = False,
) -> None:
    """The guided routine: each drill with its instruction card, sets for both legs, rests.

    Each drill is saved to the history as soon as it ends; quitting keeps what is done.
    Keys: space pause, n next set, s skip (a rest, or the rest of a drill), q or Esc quit."""
    from formcheck.routine import select

    plans = select(drills)
    if show_plan:
        Console().print(plan_table(plans))
        return
    from formcheck.live.app import LiveRequest, run_live
    from formcheck.live.drill_run import LiveSettings
    from formcheck.live.setup import SetupConfig

    req = LiveRequest(plans, camera=camera, routine=True, side=parse_side(side), model=model, mirror=mirror,
                      voice=voice, record=record, json=json_dir, history=not no_history, sets=sets,
                      config=config, preset=preset, max_seconds=max_seconds,
                      settings=LiveSettings(rest_s=rest, card_s=card_seconds,
                                                       setup=SetupConfig(countdown_s=countdown)))
    report_outcome(run_live(req))
