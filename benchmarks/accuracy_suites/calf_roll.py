"""Accuracy suite: calf foam-roll, filmed side-on.

Clean sets (both legs, several actors, a camera 20 degrees off side-on, a low camera, a
two-sets-per-leg session with the legs changed between)
and one clip per fault and leg. Scored: strokes per set, the four cues (too_fast,
short_stroke, no_rotation, hips_down), no fault on clean clips, rolled seconds per set.

A short or fast *stroke* begins with a stroke: those faults start where a stroke leaves
the ankle end in the clean clip of the same actor (the motion before the fault is the
same), so the truth's onset is a moment the rolling itself can show. no_rotation and
hips_down start anywhere.

Targets (issue 6): strokes exact on at least 90% of sets and never off by more than one;
fault F1 >= 0.9; zero fault events on clean clips.
"""

from __future__ import annotations

from benchmarks.accuracy_suites import Case, RealCase
from formcheck.synth import CameraSpec, Fault, SynthSpec, landmark_clip

DRILL = "calf-roll"
SET_S = 24.0
FAULT_S = {"too_fast": 9.0, "short_stroke": 9.0, "hips_down": 6.0,
           # "no rotation" can only be told after several strokes of none (10 s)
           "no_rotation": 14.0}


def _spec(side: str, seed: int, faults: list[Fault] | None = None, **kw) -> SynthSpec:
    kw = {"sets": 1, "hold_s": SET_S, "rest_s": 6.0, **kw}
    return SynthSpec(DRILL, side=side, seed=seed, faults=faults or [], **kw)


def stroke_start_after(spec: SynthSpec, t: float) -> float:
    """When the first stroke after t leaves the ankle end, in the clean clip of this actor."""
    clean = landmark_clip(spec.with_(faults=()))
    starts = [e.t_s for e in clean.events_of("count", "stroke") if e.t_s >= t]
    return round(min(starts), 3) if starts else t


def _fault_case(code: str, side: str, seed: int) -> Case:
    base = _spec(side, seed)
    start = stroke_start_after(base, 8.0) if code in ("short_stroke", "too_fast") else 8.5
    spec = base.with_(faults=(Fault(code, start, round(start + FAULT_S[code], 3)),))
    return Case(f"{code}-{side}-s{seed}", spec)


def cases(quick: bool = False) -> list[Case]:
    out: list[Case] = []
    clean = [("left", 0), ("right", 1)] if quick else [("left", 0), ("right", 1), ("left", 2), ("right", 3)]
    for side, seed in clean:
        out.append(Case(f"clean-{side}-s{seed}", _spec(side, seed)))
    if not quick:
        # 20 degrees off side-on: the view a phone propped at an angle gives
        out.append(Case("clean-offside-left-s4", _spec("left", 4, camera=CameraSpec(azimuth_deg=70.0))))
        out.append(Case("clean-tall-right-s5", _spec("right", 5, height_m=1.92, build=1.2)))
        out.append(Case("clean-lowcam-left-s6", _spec("left", 6, camera=CameraSpec(height_m=0.35))))
        out.append(Case("clean-2sets-both-s7", _spec("right", 7, sets=2, hold_s=12.0, both_sides=True)))
    codes = ("too_fast", "short_stroke", "no_rotation", "hips_down")
    sides = ("left",) if quick else ("left", "right")
    for i, code in enumerate(codes):
        for j, side in enumerate(sides):
            out.append(_fault_case(code, side, 10 + 2 * i + j))
    return out


def real_cases() -> list[RealCase]:
    """Side-on real clips of people upright: the body travels, but no leg lies on a roller,
    so nothing may count as a stroke and no cue may show."""
    return [
        RealCase("sports2d_old_demo4_walking_side.mp4", "walking side-on: no stroke, no cue", max_counts=0),
        RealCase("rohanx01_bodyweight_squat_side.mp4", "squats side-on: no stroke, no cue", max_counts=0),
        RealCase("crossfit_6count_squat_side_to_front.mp4", "squats, side then front: no stroke, no cue",
                 max_counts=0),
    ]
