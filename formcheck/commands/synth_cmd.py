"""`formcheck synth`: render the synthetic actor doing a drill, with faults, to a video and
its truth (clip.truth.json), or to a landmark recording (.jsonl) without rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from formcheck.cli import app
from formcheck.errors import InputError


@app.command("synth")
def synth_command(
    drill: Annotated[str, typer.Argument(help="Drill id, e.g. deep-squat (see `formcheck drills`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .mp4 (with .truth.json beside it), "
                                      "or .jsonl for landmarks only.")],
    side: Annotated[str, typer.Option(help="Working side: stance leg, front leg, rolled leg, tracing "
                                      "foot, starting foot.")] = "left",
    variant: Annotated[str | None, typer.Option(help="star-balance: y, star6, star; lateral-hops: "
                                                "switch, single-leg.")] = None,
    fault: Annotated[list[str] | None, typer.Option(help="CODE@START-END[:SIZE][:SIDE], e.g. "
                                                    "heel_lift@3-6:2.5 (repeatable).")] = None,
    view: Annotated[str | None, typer.Option(help="front, side or oblique (default: the drill's view).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: body sway, tempo, look of the room.")] = 0,
    duration: Annotated[float | None, typer.Option(help="Cut the clip after this many seconds.")] = None,
    sets: Annotated[int | None, typer.Option(help="Sets per side (default: the routine's).")] = None,
    reps: Annotated[int | None, typer.Option(help="Reps per set: hops, reaches, letters.")] = None,
    hold: Annotated[float | None, typer.Option(help="Hold / set length in seconds.")] = None,
    rest: Annotated[float | None, typer.Option(help="Rest between sets in seconds.")] = None,
    both_sides: Annotated[bool, typer.Option("--both-sides", help="Then the other side.")] = False,
    height_m: Annotated[float, typer.Option(help="Body height in metres.")] = 1.75,
    build: Annotated[float, typer.Option(help="Body breadth, 0.7 (slight) to 1.5 (broad).")] = 1.0,
    width: Annotated[int, typer.Option(help="Video width in pixels.")] = 640,
    height: Annotated[int, typer.Option(help="Video height in pixels.")] = 360,
    fps: Annotated[float, typer.Option(help="Frames per second.")] = 30.0,
    noise_px: Annotated[float, typer.Option(help="Landmark jitter (pixels) for .jsonl output.")] = 0.0,
) -> None:
    """Make a synthetic clip of a drill with known truth (for tests, demos and benchmarks)."""
    from formcheck.synth import SynthSpec, landmark_clip, parse_fault
    from formcheck.synth.render import render_clip

    if width < 64 or height < 64:
        raise InputError("Video size must be at least 64x64 pixels")
    spec = SynthSpec(drill, side=side, variant=variant, faults=[parse_fault(f) for f in fault or []],
                     view=view, seed=seed, fps=fps, height_m=height_m, build=build,
                     duration_s=duration, sets=sets, reps=reps, hold_s=hold, rest_s=rest,
                     both_sides=both_sides, width=width, height=height)
    console = Console(stderr=True)
    suffix = out.suffix.lower()
    if suffix == ".jsonl":
        _write_landmarks(landmark_clip(spec, noise_px=noise_px), out)
        console.print(f"wrote {out}")
        return
    if suffix != ".mp4":
        raise InputError(f"Output must end in .mp4 (video) or .jsonl (landmarks), not '{out.name}'")
    res = render_clip(spec, out, width=width, height=height)
    clip = res.clip
    counts: dict[str, int] = {}
    for e in clip.events:
        counts[f"{e.code} ({e.kind})"] = counts.get(f"{e.code} ({e.kind})", 0) + 1
    console.print(f"wrote {res.video} ({len(clip.frames)} frames, {clip.duration_s:.1f} s, {res.codec}, "
                  f"{res.fps_rendered:.0f} fps rendered) and {res.truth.name}", highlight=False)
    if counts:
        console.print("expected: " + ", ".join(f"{v} x {k}" for k, v in counts.items()), highlight=False)


def _write_landmarks(clip, out: Path) -> None:
    """A landmark recording (formcheck.recording: header, then one PoseFrame a line) with
    the truth beside it; `formcheck analyze` replays it without a model."""
    from formcheck.recording import RecordingWriter
    from formcheck.report.session import SourceInfo, write_json_atomic

    f0 = clip.frames[0]
    info = SourceInfo("landmarks", out.name, clip.spec.fps, len(clip.frames), clip.duration_s,
                      f0.width, f0.height)
    with RecordingWriter(out, info, "synth") as w:
        for f in clip.frames:
            w.write(f)
    write_json_atomic(clip.to_truth_json(), out.with_name(out.stem + ".truth.json"))
