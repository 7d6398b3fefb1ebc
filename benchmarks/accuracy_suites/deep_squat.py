"""Accuracy suite: deep squat ankle stretch, filmed from the front or the side.

Clean holds (both views, several actors, rocking to either side first: rocking is never a
fault), heel lifts of 1-3 cm on either heel (the per-case lines show the smallest lift
found reliably per view), a too-shallow squat, a narrow stance and a caving knee (front
view only: side-on they cannot be seen). Scored: the four cues, no fault on clean clips,
good-form seconds per hold, knee flexion.

Targets (issue 5): heel-lift F1 >= 0.9 for lifts >= 2 cm, onset within 0.5 s; no fault
events on clean clips; hold time within 0.5 s of truth per hold.
"""

from __future__ import annotations

from benchmarks.accuracy_suites import Case, RealCase
from formcheck.synth import Fault, SynthSpec

DRILL = "deep-squat"
HOLD_S = 20.0  # one hold, at depth ~4.5 s in
LIFT_SIZES_CM = (1.0, 1.5, 2.0, 3.0)
ANGLES = {"knee_flexion_deg_left": None, "knee_flexion_deg_right": None}


def _case(name: str, view: str, side: str, seed: int, faults: list[Fault]) -> Case:
    spec = SynthSpec(DRILL, side=side, view=view, seed=seed, sets=1, hold_s=HOLD_S, rest_s=3.0,
                     faults=faults)
    return Case(name, spec, angles=ANGLES)


def cases(quick: bool = False) -> list[Case]:
    seeds = (0, 1) if quick else (0, 1, 2, 3)
    sizes = (1.0, 2.0) if quick else LIFT_SIZES_CM
    out: list[Case] = []
    for view in ("front", "side"):
        for i, seed in enumerate(seeds):
            side = ("left", "right")[i % 2]
            out.append(_case(f"{view}-clean-{side}-s{seed}", view, side, seed, []))
            for size in sizes:
                out.append(_case(f"{view}-heel{size:g}cm-{side}-s{seed}", view, side, seed,
                                 [Fault("heel_lift", 9.0, 12.0, size, side)]))
            if i == 0 or not quick:
                out.append(_case(f"{view}-too_shallow-s{seed}", view, side, seed,
                                 [Fault("too_shallow", 10.0, 14.0)]))
            if view == "front" and (i == 0 or not quick):
                out.append(_case(f"front-stance_narrow-s{seed}", view, side, seed,
                                 [Fault("stance_narrow", 1.0, 30.0)]))
                out.append(_case(f"front-knee_valgus-{side}-s{seed}", view, side, seed,
                                 [Fault("knee_valgus", 10.0, 14.0, None, side)]))
    return out


def real_cases() -> list[RealCase]:
    return [
        RealCase("rohanx01_bodyweight_squat_side.mp4",
                 "two slow squats side-on to about parallel, heels down: no cue"),
        RealCase("crossfit_6count_squat_side_to_front.mp4",
                 "three slow squats below parallel, side then front, heels down; the clip fades "
                 "to black at the end (no_person and low_light are right there)", max_faults=2),
    ]
