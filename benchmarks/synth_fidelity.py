"""How closely does the pose model find the synthetic actor's landmarks where they were drawn?

For every drill and camera view (front, side, oblique) this renders a few seconds of the
drill under way (in memory, seeded looks), runs the real pose model on every frame, and
prints the median image-space distance between the model's landmarks and the rendered
truth, in torso lengths (shoulder midpoint to hip midpoint), for the body joints, and
separately for the knees, ankles, heels and foot tips: which measurements the model can
support on which view. `found` is the share of frames with a person detected.

    python benchmarks/synth_fidelity.py                 # full model, 6 s per drill and view
    python benchmarks/synth_fidelity.py --model lite --seconds 3 --drills deep-squat
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from formcheck.pose.landmarks import LM
from formcheck.synth import SynthSpec, landmark_clip
from formcheck.synth.render import Renderer, random_appearance

# Prescriptions long enough to cover the window, and where in the drill the window starts.
DRILLS: dict[str, tuple[dict, float]] = {
    "star-balance": ({"sets": 1}, 3.5),
    "lateral-hops": ({"sets": 1, "reps": 15}, 2.3),
    "soleus-stretch": ({"sets": 1, "hold_s": 20}, 2.0),
    "deep-squat": ({"sets": 1, "hold_s": 20}, 3.0),
    "calf-roll": ({"sets": 1, "hold_s": 20}, 2.6),
    "ankle-abcs": ({"reps": 6}, 4.0),
}
INTENDED = {"star-balance": "front", "lateral-hops": "front", "soleus-stretch": "side",
            "deep-squat": "front", "calf-roll": "side", "ankle-abcs": "front"}

GROUPS: dict[str, list[int]] = {
    "body": [LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, LM.LEFT_ELBOW, LM.RIGHT_ELBOW, LM.LEFT_WRIST,
             LM.RIGHT_WRIST, LM.LEFT_HIP, LM.RIGHT_HIP, LM.LEFT_KNEE, LM.RIGHT_KNEE, LM.LEFT_ANKLE,
             LM.RIGHT_ANKLE],
    "hips": [LM.LEFT_HIP, LM.RIGHT_HIP],
    "knees": [LM.LEFT_KNEE, LM.RIGHT_KNEE],
    "ankles": [LM.LEFT_ANKLE, LM.RIGHT_ANKLE],
    "heels": [LM.LEFT_HEEL, LM.RIGHT_HEEL],
    "foot tips": [LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX],
}


@dataclass
class Row:
    drill: str
    view: str
    frames: int
    found: float
    medians: dict[str, float]
    swapped: float  # share of detected frames where left/right legs came back swapped


def measure(drill: str, view: str, model: str, seconds: float, seed: int) -> Row:
    from formcheck.pose.estimator import PoseEstimator

    prescription, start = DRILLS[drill]
    spec = SynthSpec(drill, view=view, seed=seed, width=640, height=360, duration_s=start + seconds,
                     **prescription)
    clip = landmark_clip(spec)
    renderer = Renderer(clip, random_appearance(seed))
    errs, swaps, found = [], 0, 0
    frames = range(int(start * spec.fps), len(clip.frames))
    with PoseEstimator(model) as est:
        for i in frames:
            pose = est.process(renderer.frame(i), float(clip.truth.t_s[i]), i)
            if not pose.detected:
                continue
            found += 1
            truth = clip.truth.image[i, :, :2]
            torso = np.linalg.norm((truth[11] + truth[12]) / 2 - (truth[23] + truth[24]) / 2)
            got = pose.image[:, :2]
            e = np.linalg.norm(got - truth, axis=1) / torso
            # A whole-leg left/right swap is a different failure from imprecision: count it.
            legs_l = [LM.LEFT_KNEE, LM.LEFT_ANKLE, LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX]
            legs_r = [LM.RIGHT_KNEE, LM.RIGHT_ANKLE, LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX]
            straight = np.nanmean(e[legs_l + legs_r])
            crossed = np.nanmean(np.linalg.norm(got[legs_l + legs_r] - truth[legs_r + legs_l], axis=1)) / torso
            swaps += crossed < 0.5 * straight
            errs.append(e)
    e = np.array(errs) if errs else np.full((1, 33), np.nan)
    medians = {name: float(np.nanmedian(e[:, idx])) for name, idx in GROUPS.items()}
    return Row(drill, view, len(frames), found / max(1, len(frames)), medians, swaps / max(1, found))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="full", help="lite, full or heavy (default full, as analyze)")
    ap.add_argument("--seconds", type=float, default=6.0, help="seconds of each drill and view")
    ap.add_argument("--drills", default=",".join(DRILLS), help="comma-separated drill ids")
    ap.add_argument("--views", default="front,side,oblique")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    cols = list(GROUPS)
    print(f"model={args.model}, {args.seconds:g} s per drill and view, 640x360, seed {args.seed}; "
          "median landmark error in torso lengths (* = the drill's intended view)")
    head = f"{'drill':15s} {'view':9s} {'found':>6s} " + " ".join(f"{c:>9s}" for c in cols) + f" {'LR swap':>8s}"
    print(head)
    print("-" * len(head))
    t0 = time.perf_counter()
    for drill in args.drills.split(","):
        for view in args.views.split(","):
            r = measure(drill, view, args.model, args.seconds, args.seed)
            mark = "*" if INTENDED[drill] == view else " "
            print(f"{drill:15s} {view + mark:9s} {r.found:6.1%} "
                  + " ".join(f"{r.medians[c]:9.3f}" for c in cols) + f" {r.swapped:8.1%}", flush=True)
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
