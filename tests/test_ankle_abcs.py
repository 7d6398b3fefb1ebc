"""Ankle-ABC analyser on synthetic landmark clips (and the sample video through the model)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from formcheck.drills.ankle_abcs import AnkleAbcsAnalyser
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.synth import Fault, SynthSpec, landmark_clip

NOISE_PX = 2.0


def clip_of(side: str = "left", seed: int = 0, reps: int = 6, faults=(), **kw):
    spec = SynthSpec("ankle-abcs", side=side, seed=seed, reps=reps, faults=list(faults), **kw)
    return landmark_clip(spec, noise_px=NOISE_PX)


def run(frames: list[PoseFrame], **hints) -> AnkleAbcsAnalyser:
    an = AnkleAbcsAnalyser(**hints)
    for f in frames:
        an.update(f)
    an.finish()
    return an


def letters(an: AnkleAbcsAnalyser) -> str:
    return "".join(e.message.split()[1] for e in an.events if e.kind == "count")


def faults(an: AnkleAbcsAnalyser) -> list[Event]:
    return [e for e in an.events if e.kind == "fault"]


def matches(got: Event, truth: Event) -> bool:
    end_g = got.t_end_s if got.t_end_s is not None else got.t_s
    return (got.code == truth.code and got.side == truth.side and abs(got.t_s - truth.t_s) <= 0.5
            and min(end_g, truth.t_end_s) >= max(got.t_s, truth.t_s))


def test_whole_alphabet_front_view_reads_every_letter():
    clip = clip_of("right", 1, reps=26)
    an = run(clip.frames)
    assert letters(an) == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert faults(an) == []
    (s,) = an.summary()["sets"]
    assert s["side"] == "right" and s["reps"] == 26 and s["letters_as_expected"] >= 24
    # The foot turned ~22 deg each way: the range of motion says so.
    for k in ("toe_up_deg", "toe_down_deg", "toe_in_deg", "toe_out_deg"):
        assert 10.0 < s[k] < 45.0, (k, s[k])
    counts = [e for e in an.events if e.kind == "count"]
    assert all(e.code == "letter" and e.side == "right" for e in counts)


@pytest.mark.parametrize("side,seed", [("left", 0), ("right", 2), ("left", 3)])
def test_letters_both_feet(side, seed):
    clip = clip_of(side, seed, reps=8)
    an = run(clip.frames)
    assert letters(an) == "ABCDEFGH"
    assert faults(an) == []
    assert an.summary()["sets"][0]["side"] == side


def test_mirrored_video_reads_the_same_letters():
    """A selfie-mirrored picture flips the letters, and the hips with them: the writer's
    right comes from the person's own hips, so the letters still read right."""
    clip = clip_of("left", 4, reps=6)
    mirrored = [dataclasses.replace(f, image=f.image * [-1, 1, 1] + [f.width, 0, 0]) for f in clip.frames]
    assert letters(run(mirrored)) == letters(run(clip.frames)) == "ABCDEF"


def test_side_view_counts_letters():
    clip = clip_of("left", 6, reps=8, view="side")
    an = run(clip.frames)
    assert abs(len(letters(an)) - 8) <= 1
    assert faults(an) == []


@pytest.mark.parametrize("side", ["left", "right"])
def test_leg_moving_is_cued_on_the_working_leg(side):
    clip = clip_of(side, 10 if side == "left" else 11, reps=6, faults=[Fault("leg_moving", 10.0, 15.0)])
    an = run(clip.frames)
    (truth,) = clip.events_of("fault")
    got = faults(an)
    assert [e.code for e in got] == ["leg_moving"] and matches(got[0], truth), (got, truth)


@pytest.mark.parametrize("side", ["left", "right"])
def test_foot_down_is_cued_and_tracing_goes_on(side):
    clip = clip_of(side, 12 if side == "left" else 13, reps=6, faults=[Fault("foot_down", 12.0, 16.0)])
    an = run(clip.frames)
    (truth,) = clip.events_of("fault")
    got = faults(an)
    assert [e.code for e in got] == ["foot_down"] and matches(got[0], truth), (got, truth)
    assert letters(an) == "ABCDEF"


def test_putting_the_foot_down_after_the_last_letter_is_no_fault():
    clip = clip_of("right", 14, reps=3)  # the clip ends with the foot lowered
    an = run(clip.frames)
    assert letters(an) == "ABC" and faults(an) == []
    assert an.summary()["sets"][0]["t_end_s"] < clip.duration_s - 1.0


def test_status_shows_the_trace_and_the_next_letter():
    clip = clip_of("left", 15, reps=4)
    (c_event,) = [e for e in clip.events_of("count") if e.message == "C"]
    an = AnkleAbcsAnalyser()
    during_c = after_c = None
    for f in clip.frames:
        an.update(f)
        if during_c is None and f.t_s > (c_event.t_s + c_event.t_end_s) / 2:
            during_c = an.status()
        if after_c is None and f.t_s > c_event.t_end_s + 0.9:
            after_c = an.status()
    assert during_c.trace is not None and len(during_c.trace) > 10
    assert np.isfinite(during_c.trace).all() and during_c.trace.shape[1] == 2
    # B is on the count by now, or held back until C shows whether it was complete
    assert during_c.count in (1, 2) and during_c.count_target == 26 and during_c.count_label == "letters"
    assert after_c.info["letter"] == "C \u2713 \u2014 next: D"
    assert after_c.side == "left" and after_c.cues == []


def test_nothing_counts_without_a_reading():
    clip = clip_of("left", 16, reps=5)
    gap = [PoseFrame.empty(f.t_s, f.width, f.height, f.index) if 8.0 <= f.t_s < 30.0 else f
           for f in clip.frames]
    an = run(gap)
    assert all(not (8.0 <= e.t_s < 30.0) for e in an.events if e.kind == "count")
    assert len(letters(an)) < 5


@pytest.mark.model
def test_sample_video_through_the_real_model():
    """The bundled sample (rendered, front view): A, B, C with the left foot."""
    from pathlib import Path

    from formcheck.pipeline import pose_stream
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.pose.smoothing import PoseSmoother
    from formcheck.sources import open_source

    video = Path(__file__).resolve().parents[1] / "sample_videos" / "ankle-abcs.mp4"
    if not video.exists():
        pytest.skip("sample video absent")
    sm = PoseSmoother()
    with open_source(video) as src, PoseEstimator("full") as est:
        frames = [sm(p) for _, p in pose_stream(src, est)]
    an = run(frames)
    (s,) = an.summary()["sets"]
    assert s["side"] == "left"
    assert abs(s["reps"] - 3) <= 1
