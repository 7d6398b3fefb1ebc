"""`formcheck live DRILL`: the camera window with instant cues, counters and timers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from formcheck.cli import app
from formcheck.errors import FormcheckError, InputError

CAMERA_HELP = ("Camera index (0 is the built-in webcam), or a video file played back in real time "
               "as if it were the camera (to rehearse the set-up).")


class _Stopped(FormcheckError):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.exit_code = code


def _where(d) -> str:
    parts = []
    if d.history_id is not None:
        parts.append(f"history #{d.history_id}")
    if d.json_path is not None:
        parts.append(str(d.json_path))
    return " and ".join(parts) if parts else "nowhere (nothing was counted or timed)"


def report_outcome(outcome, quiet: bool = False) -> None:
    """Print what was done and where it was saved; then raise for a session that was
    stopped by Ctrl-C (exit 130) or by a lost camera (exit 3), after saying what is kept."""
    from formcheck.commands.analyze_cmd import summary_tables

    out, err = Console(), Console(stderr=True)
    end = outcome.end
    for d in outcome.drills:
        if d.result is None:
            continue
        if not quiet:
            for table in summary_tables(d.result.to_report()):
                out.print(table)
        state = "complete" if d.complete else "skipped" if d.skipped else "stopped early"
        err.print(f"{d.drill}: {d.sets_done} set{'s' * (d.sets_done != 1)} ({state}); saved to {_where(d)}",
                  highlight=False)
        if d.save_error:
            err.print(f"[bold red]formcheck:[/] could not save {d.drill}: {d.save_error}", highlight=False)
    if not outcome.saved:
        err.print("Nothing was recorded: no set was started.", highlight=False)
    elif end.reason in ("quit", "window_closed", "max_seconds", "source_ended") and \
            not all(d.complete or d.skipped for d in outcome.drills):
        why = {"quit": "Stopped", "window_closed": "Window closed", "max_seconds": "Time is up",
               "source_ended": "The video ended"}[end.reason]
        err.print(f"{why} before the end: everything completed so far is saved.", highlight=False)
    if end.reason == "interrupted":
        err.print("formcheck: interrupted; everything completed so far is saved", highlight=False)
        raise typer.Exit(130)
    if end.reason == "camera_lost":
        kept = "; everything completed so far is saved" if outcome.saved else ""
        raise _Stopped(f"{end.error}{kept}", getattr(end.error, "exit_code", 3))
    if end.error is not None:
        raise end.error


def parse_side(side: str | None) -> str | None:
    if side is not None and side not in ("left", "right"):
        raise InputError(f"--side must be left or right, not '{side}'")
    return side


@app.command("live")
def live_command(
    drill: Annotated[str, typer.Argument(help="The drill to do (formcheck drills lists them).")],
    camera: Annotated[str, typer.Option("--camera", "-c", help=CAMERA_HELP)] = "0",
    side: Annotated[str | None, typer.Option("--side", help="Start on this leg: left or right.")] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="Drill variant (formcheck drills).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="Pose model: lite (fastest), full, heavy.")] = "lite",
    mirror: Annotated[bool, typer.Option("--mirror/--no-mirror",
                                         help="Show the picture like a mirror (left and right in the cues "
                                              "stay your own either way).")] = True,
    voice: Annotated[bool, typer.Option("--voice/--mute", help="Speak cues that persist (needs espeak-ng).")
                     ] = False,
    record: Annotated[Path | None, typer.Option("--record", help="Record the window to this video (.mp4).")
                      ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the session's JSON report here.")] = None,
    sets: Annotated[int | None, typer.Option("--sets", min=1, help="Sets per leg instead of the prescription.")
                    ] = None,
    rest: Annotated[float | None, typer.Option("--rest", min=0, help="Seconds of rest between sets.")] = None,
    countdown: Annotated[float, typer.Option("--countdown", min=0,
                                             help="Seconds counted down before each set.")] = 3.0,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file of threshold overrides.")] = None,
    preset: Annotated[str | None, typer.Option("--preset", help="gentle, standard or strict.")] = None,
    max_seconds: Annotated[float | None, typer.Option("--max-seconds", min=0,
                                                      help="Stop after this many seconds.")] = None,
    no_history: Annotated[bool, typer.Option("--no-history", help="Do not store the session in the history.")
                          ] = False,
) -> None:
    """Coach a drill live from the camera: set-up check, countdown, cues, counts and timers.

    Keys: space pause, n next set, l/r switch leg, q or Esc quit (the session is saved)."""
    from formcheck.live.app import LiveRequest, run_live
    from formcheck.live.drill_run import LiveSettings
    from formcheck.live.setup import SetupConfig
    from formcheck.routine import drill_plan

    plan = drill_plan(drill)
    req = LiveRequest([plan], camera=camera, side=parse_side(side), variant=variant, model=model,
                      mirror=mirror, voice=voice, record=record, json=json_out, history=not no_history,
                      sets=sets, config=config, preset=preset, max_seconds=max_seconds,
                      settings=LiveSettings(rest_s=rest, setup=SetupConfig(countdown_s=countdown)))
    report_outcome(run_live(req))
