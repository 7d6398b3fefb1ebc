"""The session runner: source -> estimator -> smoother -> analyser -> sinks, ending in a
SessionResult and the outputs asked for (annotated video, JSON, CSV, HTML, history).

`run_session` runs a file (or any source) end to end for `analyze`; `analyse_stream` turns
any stream of (frame, pose) pairs into a SessionRun, for front ends with their own loop. Whatever happens mid-stream (Ctrl-C, a camera lost, a video that turns out to be
truncated), what was measured until then is kept: the analyser is finished, the session is
marked `interrupted`, every output is written, and only then is the error raised again
(with the partial SessionRun attached as `exc.partial_run`) so the command line can say
what was saved and exit non-zero.

After a complete run, two outcomes are errors although the outputs are written:
no person in any frame (NoPersonError) and nothing counted or held at all
(NothingCountedError: probably the wrong drill for the footage).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from formcheck.config import load_config
from formcheck.drills import analyser_class
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.errors import FormcheckError, InputError, NoPersonError
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM
from formcheck.render.thumbnails import PeakThumbnails, Thumbnail
from formcheck.report.csv_report import FrameTable
from formcheck.report.session import SessionResult, SourceInfo, write_report

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, float], None]  # (frames done, seconds of video done)


class NothingCountedError(InputError):
    """The analyser saw a person but nothing it could count or time: likely the wrong drill."""

    exit_code = 7


@dataclass
class Outputs:
    """Where to write what; None = not wanted."""

    json: Path | None = None
    csv: Path | None = None
    html: Path | None = None
    video: Path | None = None

    def paths(self) -> list[Path]:
        return [p for p in (self.json, self.csv, self.html, self.video) if p is not None]


@dataclass
class SessionRequest:
    source: str | Path | int
    drill: str
    model: str = "full"
    side: str | None = None
    variant: str | None = None
    config: Path | None = None
    preset: str | None = None
    outputs: Outputs = field(default_factory=Outputs)
    history: bool = True  # store the finished session in the user's history
    smoothing: bool = True
    max_frames: int | None = None
    # The model in a child process of its own (see formcheck.pose.inference_process); off in
    # a process pool, where every core already runs a file and the extra process only costs.
    model_process: bool = True


@dataclass
class FrameContext:
    """Everything a sink may use for one frame."""

    image: np.ndarray | None  # the unmirrored BGR frame (None for landmark recordings)
    pose: PoseFrame
    status: LiveStatus
    values: dict[str, float]
    events: list[Event]  # events completed on this frame


class FrameSink(Protocol):
    def on_frame(self, ctx: FrameContext) -> None: ...

    def close(self) -> None: ...


@dataclass
class LetterTrace:
    """The foot path on screen when a count event fired (ankle ABCs: one letter)."""

    t_s: float
    label: str
    side: str | None
    points: np.ndarray  # (N, 2) image pixels
    facing_camera: bool = False  # the image shows the letter mirrored (the writer's right is image left)


@dataclass
class SessionRun:
    """A finished (or interrupted) session with everything the reports draw from."""

    result: SessionResult
    table: FrameTable
    thumbnails: list[Thumbnail] = field(default_factory=list)
    traces: list[LetterTrace] = field(default_factory=list)
    frames: int = 0
    wall_s: float = 0.0
    error: BaseException | None = None
    written: list[Path] = field(default_factory=list)
    history_id: int | None = None
    pipeline: Any = None  # formcheck.pipeline.PipelineStats: where the model's thread waited

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


class TableSink:
    """One row per frame: time, state and the analyser's values() (the CSV, the plots)."""

    def __init__(self) -> None:
        self.table = FrameTable()

    def on_frame(self, ctx: FrameContext) -> None:
        self.table.add(ctx.pose.t_s, ctx.pose.index, ctx.pose.detected, ctx.status, ctx.values)

    def close(self) -> None:
        pass


class FacingSink:
    """Whether the person faces the camera, over time: a letter traced facing the camera is
    mirrored on screen (the person's right is the image's left), and the report draws it back."""

    def __init__(self) -> None:
        self._changes: list[tuple[float, bool]] = []  # (t_s, facing) where it changed

    def on_frame(self, ctx: FrameContext) -> None:
        lh, rh = ctx.pose.xy(LM.LEFT_HIP)[0], ctx.pose.xy(LM.RIGHT_HIP)[0]
        if np.isfinite(lh) and np.isfinite(rh) and abs(lh - rh) > 1.0:
            # Facing the camera the person's left hip is on the image's right.
            facing = bool(lh > rh)
            if not self._changes or self._changes[-1][1] != facing:
                self._changes.append((ctx.pose.t_s, facing))

    def facing_at(self, t_s: float) -> bool:
        facing = self._changes[0][1] if self._changes else False
        for t, f in self._changes:
            if t > t_s:
                break
            facing = f
        return facing

    def traces(self, analyser: Analyser) -> list[LetterTrace]:
        """The analyser's final count traces (a final decode may have re-split what was shown live)."""
        return [LetterTrace(e.t_s, e.message, e.side, np.asarray(pts, float)[:, :2].copy(), self.facing_at(e.t_s))
                for e, pts in analyser.count_traces() if len(pts) >= 2]

    def close(self) -> None:
        pass


# The annotated video's longest side: a 4K phone clip drawn and encoded at full size costs
# ~44 ms of CPU a frame (more than the pose model); at 1280 px it costs a few, and the overlay
# reads as well.
VIDEO_MAX_SIDE = 1280


class VideoSink:
    """Draws the overlay on each frame and writes the annotated video. The last reader of
    the frame: it draws on it in place."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], duration_s: float | None):
        from formcheck.render.compose import default_overlay
        from formcheck.render.video_writer import VideoWriter

        self.path = Path(path)
        self.overlay = default_overlay(duration_s=duration_s)
        self.scale = min(1.0, VIDEO_MAX_SIDE / max(*size, 1))
        out = (max(1, round(size[0] * self.scale)), max(1, round(size[1] * self.scale)))
        self.writer = VideoWriter(self.path, fps=fps, size=out)

    def on_frame(self, ctx: FrameContext) -> None:
        if ctx.image is None:
            return
        pose, status = ctx.pose, ctx.status
        if self.scale < 1.0:
            import cv2

            pose = pose.scaled(self.scale)
            if status.trace is not None:
                status = dataclasses.replace(status, trace=status.trace * self.scale)
            scene = cv2.resize(ctx.image, (pose.width, pose.height), interpolation=cv2.INTER_LINEAR)
        else:
            # Drawn on in place: nothing reads the frame after this sink (the fault thumbnails
            # copied what they keep before it). A copy per frame cost ~1-3 ms of the CPU the
            # model shares, most of it the kernel handing a fresh 2.7 MB block its pages.
            scene = ctx.image
        scene = self.overlay.annotate(scene, pose, status)
        # Placed by its time: a variable-rate phone clip keeps its pauses and its length.
        self.writer.write(scene, ctx.pose.t_s)

    def close(self) -> None:
        self.writer.close()


def build_analyser(drill: str, side: str | None = None, variant: str | None = None,
                   config: Path | None = None, preset: str | None = None) -> Analyser:
    cls = analyser_class(drill)
    if variant is not None and cls.variants and variant not in cls.variants:
        raise InputError(f"Unknown variant '{variant}' for {drill}: choose one of {', '.join(cls.variants)}")
    if side is not None and side not in ("left", "right"):
        raise InputError(f"--side must be left or right, not '{side}'")
    cfg = load_config(cls.config_cls, drill, config, preset)
    return cls(cfg, side=side, variant=variant)


def run_frames(frames: Iterable[tuple[Any, PoseFrame]], analyser: Analyser, sinks: list[FrameSink],
               thumbnails: PeakThumbnails | None = None, progress: ProgressFn | None = None
               ) -> tuple[int, int, BaseException | None]:
    """Drive the analyser and sinks over (video frame, pose) pairs.

    Returns (frames, frames with a person, the exception that stopped the stream or None).
    Only KeyboardInterrupt and FormcheckError (camera lost, truncated video...) are caught:
    anything else is a bug and propagates.
    """
    n = detected = 0
    error: BaseException | None = None
    try:
        for vf, pose in frames:
            image = getattr(vf, "image_bgr", None)
            events = analyser.update(pose)
            status = analyser.status()
            if thumbnails is not None:  # before the sinks: the video sink draws on the frame
                thumbnails.update(analyser, image, pose, status)
            ctx = FrameContext(image, pose, status, analyser.values(), events)
            for sink in sinks:
                sink.on_frame(ctx)
            n += 1
            detected += pose.detected
            if progress is not None:
                progress(n, pose.t_s)
    except (KeyboardInterrupt, FormcheckError) as exc:
        error = exc
        log.debug("stream stopped after %d frames: %r", n, exc)
    return n, detected, error


def _stream(source: Any, req: SessionRequest, stats: Any, estimator: Any = None):
    """(video frame, pose) pairs from the pipeline, the estimator to close afterwards (None if
    there is none, or it was the caller's), and the model label."""
    from formcheck.pipeline import pose_stream
    from formcheck.pose.smoothing import make_smoother
    from formcheck.sources import LandmarkSource

    smoother = make_smoother() if req.smoothing else None
    if isinstance(source, LandmarkSource):
        if source.smoothed:
            smoother = None  # recorded poses were smoothed already: never smooth twice
        return (pose_stream(source, None, smoother=smoother, stats=stats), None,
                source.header.model or "recording")
    owned = None
    if estimator is None:
        from formcheck.pose.inference_process import open_estimator

        estimator = owned = open_estimator(req.model, separate_process=req.model_process)
    return pose_stream(source, estimator, smoother=smoother, stats=stats), owned, estimator.model_name


def analyse_stream(frames: Iterable[tuple[Any, PoseFrame]], analyser: Analyser, *, drill: str, model: str,
                   info: Callable[[], SourceInfo], video: Path | None = None, thumbnails: bool = False,
                   progress: ProgressFn | None = None, name: str = "the input") -> SessionRun:
    """Analyse a stream of (video frame, pose) pairs into a SessionRun: the per-frame table,
    letter traces, fault thumbnails (if asked) and the annotated video (if asked).

    info() gives the source's SourceInfo; it is read again at the end, because a file
    source only knows its true frame count once decoded. The error that stopped the
    stream early, if any, is in run.error (the caller decides what to do with it).
    """
    i0 = info()
    sinks: list[FrameSink] = []
    t0 = time.perf_counter()
    try:
        table_sink, facing_sink = TableSink(), FacingSink()
        sinks = [table_sink, facing_sink]
        if video is not None:
            if i0.kind == "landmarks":
                raise InputError("--video needs a video or images: a landmark recording has no pictures")
            sinks.append(VideoSink(video, i0.fps, (i0.width, i0.height), i0.duration_s or None))
        thumbs = PeakThumbnails() if thumbnails else None
        n, detected, error = run_frames(frames, analyser, sinks, thumbs, progress)
    finally:
        for sink in sinks:
            try:
                sink.close()
            except Exception:  # a failing writer must not hide the session's own error
                log.exception("closing %s failed", type(sink).__name__)
    if n == 0 and error is None:
        raise InputError(f"{name}: no frames could be read")
    analyser.finish()
    result = SessionResult(drill=drill, source=info(), model=model,
                           pose_coverage=detected / n if n else 0.0, summary=analyser.summary(),
                           events=list(analyser.events), interrupted=error is not None)
    return SessionRun(result, table_sink.table, thumbs.finish(result.events) if thumbs else [], facing_sink.traces(analyser),
                      n, time.perf_counter() - t0, error)


def run_session(req: SessionRequest, progress: ProgressFn | None = None,
                on_start: Callable[[SourceInfo], None] | None = None, check: bool = True,
                analyser: Analyser | None = None, estimator: Any = None) -> SessionRun:
    """Run one session end to end and write its outputs (see the module docstring).

    analyser: a ready analyser to use instead of building req.drill's from its config.
    estimator: a loaded pose estimator to use (and leave open) instead of loading req.model.
    """
    from formcheck.pipeline import PipelineStats
    from formcheck.sources import open_source

    if analyser is None:
        analyser = build_analyser(req.drill, req.side, req.variant, req.config, req.preset)
    name = Path(str(req.source)).name
    source = open_source(req.source, max_frames=req.max_frames)
    owned = stream = None
    stats = PipelineStats()
    try:
        if on_start is not None:
            on_start(source.info)
        stream, owned, model_name = _stream(source, req, stats, estimator)
        run = analyse_stream(stream, analyser, drill=req.drill, model=model_name, info=lambda: source.info,
                             video=req.outputs.video, thumbnails=req.outputs.html is not None,
                             progress=progress, name=name)
    finally:
        if stream is not None:
            stream.close()  # stops the inference thread before its model is closed under it
        if owned is not None:
            owned.close()
        source.close()
    run.result.source = source.info  # the file source corrects frames/duration once decoded
    run.pipeline = stats
    if run.frames:
        write_outputs(run, req.outputs)
    if req.history and run.frames and run.result.pose_coverage > 0 and counted_anything(run.result):
        run.history_id = _store_history(run.result)
    if run.error is not None:
        run.error.partial_run = run  # type: ignore[attr-defined]
        raise run.error
    if check:
        try:
            check_result(run, name, req.drill)
        except FormcheckError as exc:
            exc.partial_run = run  # type: ignore[attr-defined]
            raise
    return run


def _store_history(result: SessionResult) -> int | None:
    from formcheck.history import HistoryError, record_session

    try:
        return record_session(result)
    except HistoryError as exc:
        # The reports are written; a broken history must not fail the analysis.
        log.warning("%s", exc)
        return None


def write_outputs(run: SessionRun, outputs: Outputs) -> None:
    """JSON, CSV and HTML (the video was written as the frames went by)."""
    if outputs.json is not None:
        write_report(run.result, outputs.json)
        run.written.append(outputs.json)
    if outputs.csv is not None:
        run.table.write_csv(outputs.csv)
        run.written.append(outputs.csv)
    if outputs.html is not None:
        from formcheck.report.html_report import write_html

        write_html(run, outputs.html)
        run.written.append(outputs.html)
    if outputs.video is not None and outputs.video.exists():
        run.written.append(outputs.video)


def counted_anything(result: SessionResult) -> bool:
    return any(e.kind in ("count", "hold") for e in result.events)


def check_result(run: SessionRun, name: str, drill: str) -> None:
    """Raise the errors of a complete run that measured nothing useful (outputs are written)."""
    if run.result.pose_coverage == 0:
        raise NoPersonError(f"No person found in any of the {run.frames} frames of {name}: "
                            "check the person is fully in the picture and the light is good")
    if not counted_anything(run.result):
        raise NothingCountedError(
            f"Nothing to count in {name} for {drill}: a person was seen in "
            f"{run.result.pose_coverage:.0%} of frames but no {drill} rep or hold was found "
            "(is this the right drill, and the whole drill in the clip?)")
