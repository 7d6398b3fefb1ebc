"""`formcheck pose SOURCE --out poses.jsonl [--video overlay.mp4]`: run the pose model over a
video, image folder, camera or recording and keep every pose as a landmark recording,
optionally with a skeleton overlay video.

`run_pose` is the whole job without the command line around it; the throughput
benchmark times exactly this function.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Self

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from formcheck.cli import app
from formcheck.errors import InputError, NoPersonError
from formcheck.pipeline import Estimator, PipelineStats, Smoother, pose_stream
from formcheck.pose.smoothing import make_smoother
from formcheck.recording import RecordingWriter
from formcheck.render.skeleton import SkeletonAnnotator
from formcheck.render.video_writer import VideoWriter
from formcheck.sources import ImageFolderSource, LandmarkSource, Source, open_source


@dataclass
class PoseRun:
    """What one `formcheck pose` run did."""

    frames: int = 0
    detected: int = 0  # frames with a person found
    elapsed_s: float = 0.0  # first frame requested to last frame written
    dropped: int = 0  # camera frames skipped because the model was busy
    fourcc: str | None = None  # the overlay video's codec
    pipeline: PipelineStats = field(default_factory=PipelineStats)  # where the model's thread waited

    @property
    def fps(self) -> float:
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0


def run_pose(source: Source, estimator: Estimator | None, *, out: Path | None, video: Path | None = None,
             smoother: Smoother | None = None, model: str = "", codec: str = "auto",
             on_frame: Callable[[PoseRun], None] | None = None) -> PoseRun:
    """Poses of every frame of `source`, written to `out` (a recording) and, with `video`,
    drawn over the frames into an overlay video. Files are closed (and keep what was
    written) even when the source fails part-way."""
    run = PoseRun()
    settings = smoother.settings() if smoother is not None and hasattr(smoother, "settings") else None
    if isinstance(source, LandmarkSource) and source.smoothed:
        settings = source.header.smoothing
    info = source.info
    skeleton = SkeletonAnnotator()
    recording = RecordingWriter(out, info, model, settings) if out is not None else None
    writer = VideoWriter(video, info.fps, (info.width, info.height), codec=codec) if video is not None else None
    canvas: np.ndarray | None = None
    t0 = time.perf_counter()
    try:
        for vf, pose in pose_stream(source, estimator, smoother, stats=run.pipeline):
            if recording is not None:
                recording.write(pose)
            if writer is not None:
                if vf.image_bgr is not None:
                    scene = vf.image_bgr  # drawn on in place: nothing else reads it after inference
                else:
                    # A recording has no pictures: draw the skeleton on black.
                    if canvas is None or canvas.shape[:2] != (pose.height, pose.width):
                        canvas = np.zeros((max(pose.height, 1), max(pose.width, 1), 3), np.uint8)
                    scene = canvas.copy()
                writer.write(skeleton.annotate(scene, pose))
            run.frames += 1
            run.detected += pose.detected
            if on_frame is not None:
                on_frame(run)
    finally:
        if recording is not None:
            recording.close()
        if writer is not None:
            writer.close()
            run.fourcc = writer.fourcc
        run.elapsed_s = time.perf_counter() - t0
        run.dropped = source.dropped
    return run


class _ProgressBar:
    """Frames done, fps and time left, on stderr; redrawn at most 5 times a second so the
    bar costs the pipeline nothing measurable."""

    def __init__(self, total: int | None):
        self.total = total
        self._bar = Progress(TextColumn("[bold]pose[/]"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[fps]:5.1f} fps"), TimeElapsedColumn(),
                             TimeRemainingColumn(), console=Console(stderr=True))
        self._task = self._bar.add_task("pose", total=total, fps=0.0)
        self._t0 = self._shown = time.perf_counter()

    def __enter__(self) -> Self:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def __call__(self, run: PoseRun) -> None:
        now = time.perf_counter()
        if now - self._shown > 0.2:
            self._shown = now
            self._bar.update(self._task, completed=run.frames, fps=run.frames / (now - self._t0))

    def finish(self, run: PoseRun) -> None:
        self._bar.update(self._task, completed=run.frames, total=self.total or run.frames, fps=run.fps)


@app.command("pose")
def pose_command(
    source_spec: Annotated[str, typer.Argument(
        metavar="SOURCE", help="Video file, image folder, camera index (0) or .jsonl recording.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Landmark recording to write (.jsonl). "
        "Default: SOURCE's name + .poses.jsonl in the current folder.")] = None,
    video: Annotated[Path | None, typer.Option(
        "--video", help="Also write a skeleton overlay video (.mp4).")] = None,
    model: Annotated[str, typer.Option(
        "--model", "-m", help="Pose model: lite, full, heavy, or a .task file.")] = "full",
    smooth: Annotated[bool, typer.Option(
        "--smooth/--no-smooth", help="One-euro smoothing (--no-smooth records the raw model output).")] = True,
    max_frames: Annotated[int | None, typer.Option(
        "--max-frames", min=1, help="Stop after this many frames.")] = None,
    fps: Annotated[float, typer.Option("--fps", min=0.1, help="Frame rate of an image folder.")] = 30.0,
    codec: Annotated[str, typer.Option(
        "--codec", help="Overlay video codec (a FourCC): auto = avc1 (H.264) when this OpenCV can "
        "encode it, else mp4v.")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Find the pose in every frame and save it as a landmark recording (and overlay video)."""
    from formcheck.pose.inference_process import open_estimator

    if out is None:
        stem = "camera" if source_spec.isdigit() else Path(source_spec).stem
        out = Path(f"{stem}.poses.jsonl")
    if out.suffix.lower() != ".jsonl":
        raise InputError(f"--out must be a .jsonl file, not {out.name}")
    if video is not None and video.suffix.lower() not in (".mp4", ".avi", ".mov", ".mkv"):
        raise InputError(f"--video must be a video file (.mp4), not {video.name}")
    # A recording from the camera keeps every frame it can (no newest-only dropping).
    with open_source(source_spec, fps=fps, max_frames=max_frames, latest_only=False) as source:
        if isinstance(source, LandmarkSource):
            estimator, label = None, source.header.model or "unknown"
        else:
            single_photo = isinstance(source, ImageFolderSource) and len(source.files) == 1
            estimator = open_estimator(model, mode="image" if single_photo else "video")
            label = estimator.model_name
        smoother = make_smoother() if smooth else None
        bar = None if quiet else _ProgressBar(source.info.frames or None)
        try:
            with bar or contextlib.nullcontext():
                run = run_pose(source, estimator, out=out, video=video, smoother=smoother, model=label,
                               codec=codec, on_frame=bar)
                if bar is not None:
                    bar.finish(run)
        finally:
            if estimator is not None:
                estimator.close()
    if run.detected == 0:
        raise NoPersonError(f"No person found in any of the {run.frames} frames of {source.name}: "
                            f"is the whole body in view and lit?")
    if not quiet:
        said = f"{run.frames} poses (person found in {100 * run.detected / max(run.frames, 1):.0f}% of frames) -> {out}"
        if video is not None:
            said += f"; overlay -> {video} ({run.fourcc})"
        if run.dropped:
            said += f"; {run.dropped} camera frames dropped"
        Console().print(f"{said}. {run.fps:.1f} fps", highlight=False, soft_wrap=True)
