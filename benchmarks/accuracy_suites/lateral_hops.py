"""Lateral-hops accuracy suite: clean switch-feet and single-leg sets from both starting
feet, each cue, bodies from 1.55 to 1.95 m, cameras high, low and crooked; real
skipping-rope and jumping-jack clips must give no hop over a line and no cue."""

from __future__ import annotations

from benchmarks.accuracy_suites import Case, RealCase
from formcheck.synth import CameraSpec, Fault, SynthSpec

ANGLES = {"stance_knee_flexion_deg": None}

# Hops land about every 0.7 s from about 2.5 s in; a 0.45 s window holds one landing.
FAULTS = [
    ("short_hop", 3.9, 4.35, None),
    ("stiff_landing", 5.0, 5.45, None),
    ("knee_valgus", 6.2, 6.65, None),
    ("wrong_foot", 4.4, 4.85, "other"),
    ("wrong_foot", 5.6, 6.05, "both"),
]


def spec(**kw) -> SynthSpec:
    kw.setdefault("sets", 1)
    kw.setdefault("reps", 10)
    return SynthSpec("lateral-hops", **kw)


def cases(quick: bool) -> list[Case]:
    out = [
        Case("clean-switch-left", spec(side="left", seed=11), angles=ANGLES),
        Case("clean-single-right", spec(side="right", variant="single-leg", seed=12), angles=ANGLES),
        Case("stiff-landing", spec(side="left", seed=13, faults=[Fault("stiff_landing", 5.0, 5.45)]),
             angles=ANGLES),
        Case("two-sets", spec(side="right", seed=14, sets=2, reps=6, rest_s=5.0), angles=ANGLES),
    ]
    if quick:
        return out
    out += [
        Case("clean-switch-right-tall", spec(side="right", seed=21, height_m=1.95, build=1.2), angles=ANGLES),
        Case("clean-switch-left-short", spec(side="left", seed=22, height_m=1.55, build=0.85), angles=ANGLES),
        Case("clean-single-left", spec(side="left", variant="single-leg", seed=23), angles=ANGLES),
        Case("clean-cam-high", spec(side="left", seed=24, camera=CameraSpec(height_m=1.6, tilt_deg=8.0)),
             angles=ANGLES),
        Case("clean-cam-low-crooked", spec(side="right", seed=25, camera=CameraSpec(height_m=0.6, roll_deg=4.0)),
             angles=ANGLES),
        Case("clean-still", spec(side="left", seed=26, variation=0.0), angles=ANGLES),
        Case("clean-cam-angled", spec(side="right", seed=27, camera=CameraSpec(azimuth_deg=20.0)),
             angles=ANGLES),
    ]
    seed = 40
    for code, a, b, mode in FAULTS:
        for side in ("left", "right"):
            seed += 1
            name = f"{code.replace('_', '-')}{'-' + mode if mode else ''}-{side}"
            out.append(Case(name, spec(side=side, seed=seed, faults=[Fault(code, a, b, mode=mode)]),
                            angles=ANGLES))
    return out


def real_cases() -> list[RealCase]:
    return [
        RealCase("jump_rope_front_man.mp4", "hops in place: no crossing, no cue", max_counts=0, max_faults=0),
        RealCase("jump_rope_oblique_woman.mp4", "hops in place: no crossing, no cue", max_counts=0, max_faults=0),
        RealCase("treadtv_jumping_jacks_front_man.mp4", "jumping jacks: feet apart/together, no crossing",
                 max_counts=0, max_faults=0),
        RealCase("treadtv_standing_arm_circles_front.mp4", "standing still", max_counts=0, max_faults=0),
    ]
