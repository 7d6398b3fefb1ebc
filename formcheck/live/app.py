"""Wiring of a live session: camera (or a recording played as one), pose model, window,
voice, recording, the drill or routine controller, and, however it ends, the results
saved (JSON report and history) before anything is said or raised.

`run_live()` is what `formcheck live` and `formcheck routine` call; the command modules
only parse options and print.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from formcheck.errors import InputError
from formcheck.live.display import Window, require_display
from formcheck.live.drill_run import DrillRun, LiveSettings
from formcheck.live.loop import LatencyStats, LiveLoop, LoopEnd, RealtimeRecorder
from formcheck.live.playback import RealtimePlayback
from formcheck.live.routine import RoutineRun
from formcheck.report.session import SessionResult, write_report
from formcheck.routine import DrillPlan
from formcheck.runner import build_analyser
from formcheck.sources import LandmarkSource, Source, open_source, parse_spec
from formcheck.voice import Voice

log = logging.getLogger(__name__)

LIVE_DEFAULT_MODEL = "lite"


@dataclass
class LiveRequest:
    drills: list[DrillPlan]
    camera: str | int = 0  # a device index, a stream URL, or a file played in real time
    routine: bool = False  # instruction cards, s skips a drill
    side: str | None = None
    variant: str | None = None
    model: str = LIVE_DEFAULT_MODEL
    mirror: bool = True
    voice: bool = False
    record: Path | None = None
    json: Path | None = None  # live: the report; routine: a folder, one report per drill
    history: bool = True
    sets: int | None = None  # sets per leg instead of the prescription's
    config: Path | None = None
    preset: str | None = None
    max_seconds: float | None = None
    loop_playback: bool = False  # a file camera starts again at its end (benchmarks)
    settings: LiveSettings = field(default_factory=LiveSettings)
    show_readout: bool = True


@dataclass
class DrillOutcome:
    drill: str
    result: SessionResult | None
    complete: bool
    skipped: bool
    sets_done: int
    history_id: int | None = None
    json_path: Path | None = None
    save_error: str | None = None


@dataclass
class LiveOutcome:
    end: LoopEnd
    drills: list[DrillOutcome]
    latency: dict[str, float]
    stats: LatencyStats | None = None

    @property
    def saved(self) -> list[DrillOutcome]:
        return [d for d in self.drills if d.result is not None]


def open_camera(spec: str | int | Path, loop: bool = False) -> Source:
    """A camera by index or URL (newest frame only), or a file played back in real time
    as if it were a camera."""
    what = parse_spec(spec)
    if isinstance(what, (int, str)):
        return open_source(what, latest_only=True)
    path: Path = what
    if path.is_dir():
        raise InputError(f"{path} is a folder: --camera takes a camera index or a video file")
    return RealtimePlayback(lambda: open_source(path), loop=loop)


def _model_of(source: Source, model: str) -> tuple[object | None, str]:
    inner = getattr(source, "_inner", source)
    if isinstance(inner, LandmarkSource):
        return None, inner.header.model or "recording"
    from formcheck.pose.inference_process import open_estimator

    # In a process of its own, the model never waits for the GIL while this process draws the
    # overlay and runs the analyser (see formcheck.pose.inference_process).
    est = open_estimator(model, mode="video")
    return est, est.model_name


def _smoother_for(source: Source):
    from formcheck.pose.smoothing import make_smoother

    inner = getattr(source, "_inner", source)
    if isinstance(inner, LandmarkSource) and inner.smoothed:
        return None
    return make_smoother()


class _Saver:
    """Turns each ended drill into its report and history entry, at once."""

    def __init__(self, req: LiveRequest, source: Source, model_name: str):
        self.req, self.source, self.model_name = req, source, model_name
        self.outcomes: list[DrillOutcome] = []

    def json_path(self, drill: str) -> Path | None:
        if self.req.json is None:
            return None
        if self.req.routine:
            return self.req.json / f"{len(self.outcomes) + 1:02d}-{drill}.json"
        return self.req.json

    def save(self, run: DrillRun) -> DrillOutcome:
        result = run.result(self.source.info, self.model_name, interrupted=not run.complete)
        out = DrillOutcome(run.plan.drill, result, run.complete, run.skipped, sum(1 for s in run.sets))
        if result is not None:
            path = self.json_path(run.plan.drill)
            try:
                if path is not None:
                    write_report(result, path)
                    out.json_path = path
                if self.req.history and any(e.kind in ("count", "hold") for e in result.events):
                    from formcheck.history import record_session

                    out.history_id = record_session(result)
            except Exception as exc:
                log.debug("saving %s failed", run.plan.drill, exc_info=True)
                out.save_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self.outcomes.append(out)
        return out


def run_live(req: LiveRequest, display_factory: Callable[[str], Window] | None = None) -> LiveOutcome:
    """Run a live drill or routine to its end; never raises for a stopped session (the
    error, if any, is in outcome.end.error, after everything has been saved)."""
    first = req.drills[0].drill
    require_display(first)
    # Bad options fail before the camera opens.
    for plan in req.drills:
        build_analyser(plan.drill, req.side, req.variant if len(req.drills) == 1 else None, req.config, req.preset)

    source = open_camera(req.camera, loop=req.loop_playback)
    estimator = None
    window = None
    voice = Voice(enabled=req.voice)
    recorder = None
    loop: LiveLoop | None = None
    try:
        estimator, model_name = _model_of(source, req.model)
        smoother = _smoother_for(source)
        window = (display_factory or (lambda d: Window(drill=d)))(first)
        if req.record is not None:
            recorder = RealtimeRecorder(req.record, source.info.fps)
        from formcheck.render.compose import default_overlay

        saver = _Saver(req, source, model_name)

        def make_run(plan: DrillPlan) -> Callable[[], DrillRun]:
            variant = req.variant if len(req.drills) == 1 else None

            def build() -> DrillRun:
                return DrillRun(
                    plan, lambda side: build_analyser(plan.drill, side, variant, req.config, req.preset),
                    build_analyser(plan.drill, req.side, variant, req.config, req.preset),
                    overlay=default_overlay(mirror=req.mirror), side=req.side, sets=req.sets, voice=voice,
                    show_card=req.routine, routine=req.routine, settings=req.settings)
            return build

        if req.routine:
            controller = RoutineRun([make_run(p) for p in req.drills], saver.save)
        else:
            controller = make_run(req.drills[0])()
        loop = LiveLoop(source, estimator, window, smoother=smoother, recorder=recorder,
                        max_seconds=req.max_seconds, show_readout=req.show_readout)
        end = loop.run(controller)
        # Whatever stopped the loop, keep what was done: the drill under way is saved as
        # interrupted (the ones before it were saved as they ended).
        try:
            if isinstance(controller, RoutineRun):
                current = controller.current
                if current not in controller.ended:
                    current.finish()
                    saver.save(current)
            else:
                controller.finish()
                saver.save(controller)
        except BaseException as exc:  # noqa: BLE001 - a second Ctrl-C while saving: keep the first
            if end.error is None:
                end = LoopEnd("interrupted" if isinstance(exc, KeyboardInterrupt) else end.reason, exc,
                              end.seconds, end.frames)
        # Frames the camera delivered: playback counts them; for a camera, the ones shown
        # plus those dropped by the camera's mailbox and by the pose thread's.
        pump_dropped = loop.pump.dropped if loop.pump is not None else 0
        captured = getattr(source, "frames_released", None) or (
            loop.stats.frames_shown + getattr(source, "dropped", 0) + pump_dropped)
        latency = loop.stats.summary(captured)
        return LiveOutcome(end, saver.outcomes, latency, loop.stats)
    finally:
        voice.close()
        # The model is closed only once the pose thread has let go of it.
        model_free = loop is None or loop.pump_stopped
        for closer in (getattr(recorder, "close", None), getattr(window, "close", None),
                       getattr(estimator, "close", None) if model_free else None, source.close):
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer()
