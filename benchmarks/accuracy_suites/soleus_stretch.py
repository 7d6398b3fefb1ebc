"""Accuracy suite: soleus (knee-to-wall) stretch, filmed side-on.

Clean holds (both legs, side and oblique views, several actors), front-heel lifts of
1-3 cm (the per-case lines show the smallest lift found reliably), and the front knee
coming off the wall. Scored: heel_lift / knee_straight events, no fault on clean clips,
good-form seconds per hold, dorsiflexion (shank angle from vertical) and knee flexion.

Targets (issue 5): heel-lift F1 >= 0.9 for lifts >= 2 cm, onset within 0.5 s; no fault
events on clean clips; hold time within 0.5 s of truth per hold; dorsiflexion MAE <= 3 deg
side-on.
"""

from __future__ import annotations

from benchmarks.accuracy_suites import Case
from formcheck.synth import Fault, SynthSpec

DRILL = "soleus-stretch"
HOLD_S = 15.0  # one hold, reached ~3.4 s in
LIFT_SIZES_CM = (1.0, 1.5, 2.0, 3.0)
ANGLES = {"shank_angle_deg": 3.0, "knee_flexion_deg": None}


def _case(name: str, view: str, side: str, seed: int, faults: list[Fault]) -> Case:
    spec = SynthSpec(DRILL, side=side, view=view, seed=seed, sets=1, hold_s=HOLD_S, rest_s=3.0,
                     faults=faults)
    # Dorsiflexion is only held to its target side-on.
    angles = ANGLES if view == "side" else {k: None for k in ANGLES}
    return Case(name, spec, angles=angles)


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
                                 [Fault("heel_lift", 8.0, 11.0, size)]))
            if not quick or i == 0:
                out.append(_case(f"{view}-knee_straight-{side}-s{seed}", view, side, seed,
                                 [Fault("knee_straight", 9.0, 12.0)]))
    return out
