"""Star-balance accuracy suite: clean Y and star clips on both legs, each cue on both
legs, bodies from 1.55 to 1.95 m, and cameras high, low, tilted and crooked."""

from __future__ import annotations

from benchmarks.accuracy_suites import Case, RealCase
from formcheck.synth import CameraSpec, Fault, SynthSpec, landmark_clip

ANGLES = {"pelvic_drop_deg": 2.0, "knee_valgus_deg": None, "trunk_lean_abs_deg": None, "reach_pct": None}

# Fault windows sit inside the first set's single-leg stance (it starts about 3-4 s in,
# the first reach ends about 7-8 s in, the third about 14-17 s in).
FAULTS = {
    "pelvic_drop": (4.5, 6.5),
    "trunk_lean": (8.0, 10.0),
    "knee_valgus": (4.0, 5.5),
    "balance_loss": (8.5, 9.5),
}


def spec(**kw) -> SynthSpec:
    kw.setdefault("sets", 1)
    return SynthSpec("star-balance", **kw)


def cases(quick: bool) -> list[Case]:
    out = [
        Case("clean-y-left", spec(side="left", seed=11), angles=ANGLES),
        Case("pelvic-drop-right", spec(side="left", seed=12, faults=[Fault("pelvic_drop", *FAULTS["pelvic_drop"])]),
             angles=ANGLES),
        Case("balance-loss-left", spec(side="right", seed=13,
                                       faults=[Fault("balance_loss", *FAULTS["balance_loss"])]), angles=ANGLES),
        Case("clean-star-right", spec(side="right", variant="star", seed=14), angles=ANGLES),
    ]
    if quick:
        return out
    out += [
        Case("clean-y-right-tall", spec(side="right", seed=21, height_m=1.95, build=1.2), angles=ANGLES),
        Case("clean-y-left-short", spec(side="left", seed=22, height_m=1.55, build=0.85), angles=ANGLES),
        Case("clean-star6-left", spec(side="left", variant="star6", seed=23), angles=ANGLES),
        Case("clean-cam-high", spec(side="left", seed=24, camera=CameraSpec(height_m=1.6, tilt_deg=8.0)),
             angles=ANGLES),
        Case("clean-cam-low-crooked", spec(side="right", seed=25, camera=CameraSpec(height_m=0.6, roll_deg=4.0)),
             angles=ANGLES),
        Case("clean-cam-angled", spec(side="left", seed=26, camera=CameraSpec(azimuth_deg=20.0)), angles=ANGLES),
        Case("clean-y-still", spec(side="right", seed=27, variation=0.0), angles=ANGLES),
    ]
    seed = 40
    for code, (a, b) in FAULTS.items():
        for stance in ("left", "right"):
            seed += 1
            out.append(Case(f"{code.replace('_', '-')}-{stance}-stance",
                            spec(side=stance, seed=seed, faults=[Fault(code, a, b)]), angles=ANGLES))
    out.append(Case("two-faults-tall", spec(side="right", seed=60, height_m=1.9, faults=[
        Fault("pelvic_drop", 4.5, 6.5, size=10.0), Fault("trunk_lean", 9.0, 11.0)]), angles=ANGLES))
    # The raised foot put down beside the stance foot, between two reaches (the FAULTS
    # balance loss above comes at the far end of a reach, which one front camera cannot
    # tell from a foot hovering a few centimetres up).
    for stance, seed in (("left", 61), ("right", 62)):
        t0 = _between_reaches(spec(side=stance, seed=seed))
        out.append(Case(f"balance-loss-centre-{stance}-stance",
                        spec(side=stance, seed=seed, faults=[Fault("balance_loss", t0, t0 + 1.0)]),
                        angles=ANGLES))
    out.append(Case("knee-valgus-cam-angled", spec(side="right", seed=63, camera=CameraSpec(azimuth_deg=20.0),
                                                   faults=[Fault("knee_valgus", *FAULTS["knee_valgus"])]),
                    angles=ANGLES))
    return out


def _between_reaches(s: SynthSpec) -> float:
    """Just before the first reach of a clip ends (its return to the centre)."""
    clip = landmark_clip(s)
    first = min((e for e in clip.events if e.kind == "count"), key=lambda e: e.t_s)
    return round(float(first.t_end_s) - 0.2, 2)


def real_cases() -> list[RealCase]:
    return [
        RealCase("treadtv_standing_arm_circles_front.mp4", "standing still: no reach, no cue",
                 max_counts=0, max_faults=0),
        RealCase("pose2sim_static_trial_standing_cam01.mp4", "11 frames of standing", max_counts=0, max_faults=0),
        RealCase("treadtv_jumping_jacks_front_man.mp4", "two-footed jumps are no reaches",
                 max_counts=0, max_faults=None),
    ]
