"""Accuracy suite: ankle ABCs, seated, filmed low and part-way round (the recommended
set-up), and for reference whole-body from the front and side-on.

Clean alphabets (a whole A-Z per foot, and shorter runs for other actors and a side-on
camera) and one clip per fault and foot. Scored by benchmarks/accuracy.py: letters per set
(count error), leg_moving and foot_down events, no fault on clean clips. This module also
scores letter recognition, which the framework does not know about:

    .venv/bin/python -m benchmarks.accuracy_suites.ankle_abcs [--quick] [--model full]

prints, per case, the letters read against the letters traced (matched in order of time)
and the share read right, with and without the alphabet prior (the shape alone). It reuses
the framework's cached renders and pose recordings.

Targets (issue 6): letter count error <= 2 per set of 26; recognition >= 80% on rendered
front-view traces; fault F1 >= 0.9; zero fault events on clean clips.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.accuracy_suites import Case, RealCase
from formcheck.synth import Fault, SynthSpec
from formcheck.synth.camera import CameraSpec

DRILL = "ankle-abcs"


def _spec(side: str, seed: int, reps: int, faults: list[Fault] | None = None, **kw) -> SynthSpec:
    return SynthSpec(DRILL, side=side, seed=seed, reps=reps, faults=faults or [], **kw)


def low_camera(side: str, height_m: float = 0.3, round_deg: float = 45.0) -> CameraSpec:
    """The set-up runners are told to use: the camera at about the lifted foot's height
    (on the floor or a low step), turned `round_deg` toward the working foot's side, the
    whole person in frame. The pose model finds a person by the face, so the head must
    stay in frame (with it cut off the model found a pose on 1 frame in 6); from the
    front, the foot points at the lens and its up-down turn runs along the line of sight
    (the model read it inverted), while from part-way round it crosses the image."""
    return CameraSpec(azimuth_deg=round_deg if side == "left" else -round_deg, height_m=height_m,
                      margin=0.03)


def cases(quick: bool = False) -> list[Case]:
    out: list[Case] = []
    uv = {"letter_u": None, "letter_v": None}
    if quick:
        out.append(Case("low-clean-left-12-s20", _spec("left", 20, 12, camera=low_camera("left")), angles=uv))
        out.append(Case("low-clean-right-12-s21", _spec("right", 21, 12, camera=low_camera("right", 0.4, 40.0),
                                                          height_m=1.6, build=0.85), angles=uv))
        out.append(Case("low-leg_moving-left-s22", _spec("left", 22, 6, [Fault("leg_moving", 10.0, 15.0)],
                                                          camera=low_camera("left"))))
        out.append(Case("low-foot_down-right-s25", _spec("right", 25, 6, [Fault("foot_down", 12.0, 16.0)],
                                                          camera=low_camera("right"))))
        return out
    # The recommended set-up: low and part-way round, clean alphabets and one clip per
    # fault and foot, several bodies and camera placements.
    out.append(Case("low-clean-left-12-s20", _spec("left", 20, 12, camera=low_camera("left")), angles=uv))
    out.append(Case("low-clean-right-12-s21", _spec("right", 21, 12, camera=low_camera("right", 0.4, 40.0),
                                                      height_m=1.6, build=0.85), angles=uv))
    for j, side in enumerate(("left", "right")):
        out.append(Case(f"low-leg_moving-{side}-s{22 + j}",
                        _spec(side, 22 + j, 6, [Fault("leg_moving", 10.0, 15.0)],
                              camera=low_camera(side, 0.25 + 0.15 * j, 50.0 - 10 * j), height_m=1.85 - 0.2 * j)))
        out.append(Case(f"low-foot_down-{side}-s{24 + j}",
                        _spec(side, 24 + j, 6, [Fault("foot_down", 12.0, 16.0)], camera=low_camera(side))))
    # Whole body from the default (higher, straight-on) camera and side-on, to know how it
    # does there.
    out.append(Case("front-clean-left-26-s0", _spec("left", 0, 26), angles=uv))
    out.append(Case("front-clean-right-8-s5", _spec("right", 5, 8, height_m=1.9), angles=uv))
    out.append(Case("side-clean-left-8-s6", _spec("left", 6, 8, view="side")))
    out.append(Case("front-leg_moving-left-s10", _spec("left", 10, 6, [Fault("leg_moving", 10.0, 15.0)])))
    out.append(Case("front-leg_moving-right-s11", _spec("right", 11, 6, [Fault("leg_moving", 10.0, 15.0)])))
    out.append(Case("front-foot_down-right-s13", _spec("right", 13, 6, [Fault("foot_down", 12.0, 16.0)])))
    return out


def real_cases() -> list[RealCase]:
    """Real clips of people on their feet: no foot is held up to trace, so no letter may
    be read and no cue may show."""
    return [
        RealCase("treadtv_standing_arm_circles_front.mp4", "standing, arms circling: no letter, no cue",
                 max_counts=0),
        RealCase("pose2sim_static_trial_standing_cam01.mp4", "standing still: no letter, no cue", max_counts=0),
        RealCase("walking_toward_camera_front.mp4", "walking toward the camera: no letter, no cue",
                 max_counts=0),
        RealCase("jump_rope_front_man.mp4", "skipping rope, both feet: no letter, no cue", max_counts=0),
    ]


def letters_read(events) -> list[tuple[float, str, str]]:
    """(time, letter read, shape-only letter) per count event, from the event message."""
    out = []
    for e in events:
        if e.kind == "count" and e.code == "letter":
            out.append((e.t_s, e.message.split()[1], e.message.split()[1]))
    return out


def score_recognition(an, truth) -> tuple[int, int, int, int]:
    """(letters traced, read right with the prior, right by shape alone, count error):
    each traced letter is matched to the letter the analyser finished during it or within
    2 s after it ended."""
    traced = truth.events_of("count", "letter")
    got = [lt for lt in an._all_letters]
    used: set[int] = set()
    right = shape = 0
    for t in traced:
        end = t.t_end_s if t.t_end_s is not None else t.t_s
        for k, lt in enumerate(got):
            if k not in used and t.t_s - 0.5 <= lt.t1 <= end + 2.0:
                used.add(k)
                right += lt.rec.letter == t.message
                shape += lt.rec.best_shape == t.message
                break
    return len(traced), right, shape, len(got) - len(traced)


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks.accuracy import DEFAULT_CACHE, case_poses, ensure_cache, run_analyser

    ap = argparse.ArgumentParser(description="ABC letter recognition on rendered clips")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--model", default="full")
    ap.add_argument("--landmarks", action="store_true", help="noisy synthetic landmarks, no model")
    args = ap.parse_args(argv)
    cache = ensure_cache(DEFAULT_CACHE)
    groups: dict[str, list[int]] = {}
    for case in cases(args.quick):
        frames, truth, _ = case_poses(case, args.model, cache, args.landmarks)
        an, _ = run_analyser(DRILL, frames, case.hints)
        n, right, shape, err = score_recognition(an, truth)
        seq = "".join(lt.rec.letter for lt in an._all_letters)
        print(f"  {case.name:28s} traced {n:2d}  read {seq:28s} right {right:2d}  shape-only {shape:2d}  "
              f"count err {err:+d}")
        group = case.name.split("-")[0]  # low (the recommended set-up), front or side (whole body)
        for key in ("all", group):
            acc = groups.setdefault(key, [0, 0, 0])
            acc[0] += n
            acc[1] += right
            acc[2] += shape
    for name, acc in groups.items():
        if acc[0]:
            print(f"{name}: {acc[1]}/{acc[0]} letters read right ({100 * acc[1] / acc[0]:.0f}%), "
                  f"shape alone {acc[2]}/{acc[0]} ({100 * acc[2] / acc[0]:.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
