"""Accuracy suite: soleus (knee-to-wall) stretch, filmed side-on.

Clean holds (both legs, side-on and with the phone 25 degrees off side-on), front-heel
lifts of 1-3 cm (the per-case lines and benchmarks/heel_lift_sizes.py show the smallest
lift found reliably), and the front knee coming off the wall. Each seed is another actor
and camera: bodies from 1.60 to 1.90 m, slight to broad builds, the phone on the floor, a
chair or a shelf, one propped crooked. Scored: heel_lift / knee_straight events, no fault
on clean clips, good-form seconds per hold, and side-on the dorsiflexion (shank angle
from vertical) and knee flexion.

The off-side-on clips are 25 degrees round toward the front, not the synthetic actor's
default "oblique" (55 degrees from the front, i.e. half-turned): seen that far round, a
person standing between holds reads as facing the camera, and the shared view check
rightly asks them to turn side-on.

Targets (issue 5): heel-lift F1 >= 0.9 for lifts >= 2 cm, onset within 0.5 s; no fault
events on clean clips; hold time within 0.5 s of truth per hold; dorsiflexion MAE <= 3 deg
side-on.
"""

from __future__ import annotations

import dataclasses

from benchmarks.accuracy_suites import Case, RealCase
from formcheck.synth import CameraSpec, Fault, SynthSpec

DRILL = "soleus-stretch"
HOLD_S = 15.0  # one hold, reached ~3.4 s in
LIFT_SIZES_CM = (1.0, 1.5, 2.0, 3.0)
TARGET_MIN_SIZE = {"heel_lift": 2.0}  # issue 5: heel-lift F1 (and so the holds) from 2 cm up
LIFT_WINDOW_S = (8.0, 11.0)
ANGLES = {"shank_angle_deg": 3.0, "knee_flexion_deg": None}
OFF_SIDE_DEG = 25.0  # the "oblique" clips: the phone this far round from side-on

# (height m, build, camera) per seed: the actor and where the phone stands.
ACTORS = (
    (1.75, 1.0, CameraSpec()),
    (1.60, 0.9, CameraSpec(height_m=0.45)),
    (1.90, 1.2, CameraSpec(height_m=1.3, tilt_deg=5.0)),
    (1.68, 1.35, CameraSpec(height_m=0.7, roll_deg=3.0)),
)


def spec(view: str, side: str, seed: int, faults: list[Fault]) -> SynthSpec:
    height, build, cam = ACTORS[seed % len(ACTORS)]
    if view == "oblique":
        # Side-on is +-90 deg (the camera on the front leg's side), the front is 0.
        az = (90.0 - OFF_SIDE_DEG) * (1.0 if side == "left" else -1.0)
        cam = dataclasses.replace(cam, azimuth_deg=az)
    return SynthSpec(DRILL, side=side, view=view, seed=seed, sets=1, hold_s=HOLD_S, rest_s=3.0,
                     faults=faults, height_m=height, build=build, camera=cam)


def _case(name: str, view: str, side: str, seed: int, faults: list[Fault]) -> Case:
    # Angles are scored side-on only (the benchmark pools every case's errors per angle, and
    # off side-on the image shows the shank foreshortened).
    return Case(name, spec(view, side, seed, faults), angles=ANGLES if view == "side" else {})


def cases(quick: bool = False) -> list[Case]:
    seeds = (0, 1) if quick else (0, 1, 2, 3)
    views = ("side",) if quick else ("side", "oblique")
    sizes = (1.0, 2.0) if quick else LIFT_SIZES_CM
    out: list[Case] = []
    for view in views:
        for i, seed in enumerate(seeds):
            side = ("left", "right")[i % 2]
            out.append(_case(f"{view}-clean-{side}-s{seed}", view, side, seed, []))
            for size in sizes:
                out.append(_case(f"{view}-heel{size:g}cm-{side}-s{seed}", view, side, seed,
                                 [Fault("heel_lift", *LIFT_WINDOW_S, size)]))
            if not quick or i == 0:
                out.append(_case(f"{view}-knee_straight-{side}-s{seed}", view, side, seed,
                                 [Fault("knee_straight", 9.0, 12.0)]))
    return out


def real_cases() -> list[RealCase]:
    return [
        RealCase("sports2d_old_demo4_walking_side.mp4", "walking side-on: no hold, no cue", max_counts=0),
        RealCase("rohanx01_bodyweight_squat_side.mp4", "squats side-on are no split stance: no cue"),
    ]
