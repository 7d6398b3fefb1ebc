"""Ankle-ABC analyser on synthetic landmark clips (and the sample video through the model)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import SAMPLE_VIDEOS, smoothed_model_poses

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
    """Side-on the letters' left-right runs along the line of sight: they are counted, and
    the person is told plainly that they are not read (no guessed letter)."""
    clip = clip_of("left", 6, reps=8, view="side")
    an = run(clip.frames)
    assert abs(len(letters(an)) - 8) <= 1
    counts = [e for e in an.events if e.kind == "count"]
    assert all("not read" in e.message for e in counts)
    assert set(an.summary()["sets"][0]["letter_sequence"]) == {"?"}
    assert faults(an) == []


@pytest.mark.parametrize("side", ["left", "right"])
def test_leg_moving_is_cued_on_the_working_leg(side):
    clip = clip_of(side, 10 if side == "left" else 11, reps=6, faults=[Fault("leg_moving", 10.0, 15.0)])
    an = run(clip.frames)
    (truth,) = clip.events_of("fault")
    got = faults(an)
    assert [e.code for e in got] == ["leg_moving"] and matches(got[0], truth), (got, truth)


@pytest.mark.parametrize("side,seed,start", [("left", 40, 7.0), ("right", 42, 8.0)])
def test_leg_moving_onset_is_dated_where_the_sway_began(side, seed, start):
    """The cue shows seconds into a sway (the movement must last), and its event is dated
    back to where the leg first stirred, at any time in the set."""
    clip = clip_of(side, seed, reps=6, faults=[Fault("leg_moving", start, start + 5.0)])
    an = run(clip.frames)
    (truth,) = clip.events_of("fault")
    got = faults(an)
    assert [e.code for e in got] == ["leg_moving"] and matches(got[0], truth), (got, truth)


def _feet_swapped(frames: list[PoseFrame], spells: list[tuple[float, float]]) -> list[PoseFrame]:
    """The frames with the two feet's points (ankle, heel, foot tip) swapped during
    `spells`: how the model mixes the feet up while one crosses the other in the image."""
    left, right = [27, 29, 31], [28, 30, 32]
    out = []
    for f in frames:
        if any(a <= f.t_s < b for a, b in spells):
            im = f.image.copy()
            im[left + right] = f.image[right + left]
            f = dataclasses.replace(f, image=im)
        out.append(f)
    return out


def test_feet_mixed_up_by_the_model_are_no_foot_down():
    """A working foot read well below the other (on the floor) is the model mixing the feet
    up: those moments are no reading, not the foot put down, and no letter is lost."""
    clip = clip_of("right", 13, reps=6)
    spells = [(t, t + 0.45) for t in (12.0, 13.2, 14.4, 15.6)]
    an = run(_feet_swapped(clip.frames, spells))
    assert faults(an) == []
    assert letters(an) == "ABCDEF"


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


    video = SAMPLE_VIDEOS / "ankle-abcs.mp4"
    if not video.exists():
        pytest.skip("sample video absent")
    an = run(smoothed_model_poses(video))
    (s,) = an.summary()["sets"]
    assert s["side"] == "left"
    assert abs(s["reps"] - 3) <= 1


@pytest.mark.parametrize("side,seed", [("left", 0), ("right", 1)])
def test_letter_coordinates_follow_the_traced_letter(side, seed):
    """values() names the foot tip's place in the letter as the synthetic truth does
    (letter_u to the writer's right, letter_v up, half letter heights), in either foot's
    front view (mirrored in the image)."""
    clip = clip_of(side, seed, reps=6)
    an = AnkleAbcsAnalyser()
    got = []
    for f in clip.frames:
        an.update(f)
        got.append((an.values()["letter_u"], an.values()["letter_v"]))
    g = np.array(got)
    tracing = np.asarray(clip.truth.values["tracing"]) > 0
    ok = np.isfinite(g).all(axis=1) & tracing
    assert ok.sum() > 0.7 * tracing.sum()
    for k, key in enumerate(("letter_u", "letter_v")):
        truth = np.asarray(clip.truth.values[key])[ok]
        assert np.corrcoef(g[ok, k], truth)[0, 1] > 0.75, key
        assert np.abs(g[ok, k] - truth).mean() < 0.45, key


def _jostle(frames: list[PoseFrame], side: str, t0: float, t1: float, size: float) -> list[PoseFrame]:
    """The working leg's hip, knee and ankle points thrown back and forth sideways every
    0.15 s between t0 and t1 by `size` shank lengths: how the model's leg points jump
    about for a moment as the foot turns."""
    hip, knee, ankle = (23, 25, 27) if side == "left" else (24, 26, 28)
    out = []
    for f in frames:
        if t0 <= f.t_s < t1:
            im = f.image.copy()
            shank = float(np.linalg.norm(im[knee, :2] - im[ankle, :2]))
            sign = 1.0 if int((f.t_s - t0) / 0.15) % 2 == 0 else -1.0
            im[[hip, knee, ankle], 0] += sign * size * shank
            f = dataclasses.replace(f, image=im)
        out.append(f)
    return out


def test_a_moment_of_leg_jitter_is_no_leg_moving():
    """Leg movement is judged against the leg's own resting scatter and must last longer
    than a swing: a second of jumping points (well past the resting scatter) is not
    the leg drawing, while the same held for four seconds is."""
    clip = clip_of("left", 0, reps=6)
    short = run(_jostle(clip.frames, "left", 12.0, 13.0, 0.15))
    assert [e for e in faults(short) if e.code == "leg_moving"] == []
    long = run(_jostle(clip.frames, "left", 12.0, 16.0, 0.15))
    got = [e for e in faults(long) if e.code == "leg_moving"]
    assert len(got) == 1 and got[0].side == "left" and 11.5 <= got[0].t_s <= 14.0, got


def _without_pause(clip, after: str) -> list[PoseFrame]:
    """The clip's frames with the pause after letter `after` cut out (later frames moved
    back in time): the next letter follows on at once, as when a pause is too short or
    too jittery to be seen."""
    ev = {e.message: e for e in clip.events_of("count", "letter")}
    a, b = ev[after].t_end_s, ev[chr(ord(after) + 1)].t_s
    gap = b - a
    out = []
    for f in clip.frames:
        if a < f.t_s < b:
            continue
        out.append(f if f.t_s <= a else dataclasses.replace(f, t_s=f.t_s - gap))
    return out


@pytest.mark.parametrize("seed,after", [(0, "D"), (3, "F")])
def test_two_letters_run_together_are_split(seed, after):
    """A piece of trace as long as the expected letter and the next together, with no
    pause between them, is two letters (D+E and F+G here read as one without the split)."""
    clip = clip_of("left", seed, reps=8)
    an = run(_without_pause(clip, after))
    assert letters(an) == "ABCDEFGH"


def _other_foot_raised(frames: list[PoseFrame], side: str, spans, share: float) -> list[PoseFrame]:
    """The resting foot read `share` of the lift higher than it is during `spans`: the
    lifted foot looks lower over it, as the model reads it from a low camera part-way round."""
    from formcheck.pose.landmarks import other_side, side_lm

    rest = [side_lm(other_side(side), p) for p in ("HEEL", "FOOT_INDEX", "ANKLE")]
    work = [side_lm(side, p) for p in ("HEEL", "FOOT_INDEX", "ANKLE")]
    out = []
    for f in frames:
        if any(a <= f.t_s < b for a, b in spans):
            im = f.image.copy()
            gap = np.nanmax(im[rest, 1]) - np.nanmax(im[work, 1])
            im[rest, 1] -= share * gap
            f = dataclasses.replace(f, image=im)
        out.append(f)
    return out


def test_a_lifted_foot_read_lower_for_a_moment_stays_lifted():
    """Once lifted, the foot is up until it is down at the floor: the model's read of its
    height dipping under the lift level for a moment mid-letter loses no letter and is no
    foot_down."""
    clip = clip_of("left", 0, reps=6)
    spans = [(e.t_s + 1.0, e.t_s + 1.6) for e in clip.events_of("count", "letter")[1:]]
    an = run(_other_foot_raised(clip.frames, "left", spans, 0.7))
    assert letters(an) == "ABCDEF"
    assert faults(an) == []
