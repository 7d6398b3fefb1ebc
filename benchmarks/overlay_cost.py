"""How long the full overlay takes to draw one frame (the live window and the annotated
video both draw it), at 640x360 and 1280x720, on a synthetic pose with every panel shown.

    python benchmarks/overlay_cost.py [--frames 200]

The model takes ~20-30 ms a frame on 2 cores; the overlay should cost a small fraction.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from formcheck.drills.base import Cue, LiveStatus
from formcheck.render.compose import default_overlay
from formcheck.synth import SynthSpec, landmark_clip


def measure(width: int, height: int, frames: int) -> float:
    clip = landmark_clip(SynthSpec("star-balance", sets=1), width=width, height=height)
    th = np.linspace(0, 2 * np.pi, 120)
    status = LiveStatus(drill="star-balance", reading=True, side="left", set_index=2, sets_target=6,
                        count=2, count_target=3, count_label="reaches", hold_s=12.0, hold_target_s=30.0,
                        cues=[Cue("pelvic_drop", "Keep your hips level", "right")],
                        trace=np.c_[width / 2 + 80 * np.cos(th), height / 2 + 60 * np.sin(th)],
                        info={"pelvic drop": "3 deg"})
    overlay = default_overlay(duration_s=clip.duration_s)
    base = np.full((height, width, 3), 120, np.uint8)
    poses = clip.frames
    overlay.annotate(base.copy(), poses[0], status)  # warm the text-sprite cache
    t0 = time.perf_counter()
    for i in range(frames):
        overlay.annotate(base.copy(), poses[i % len(poses)], status)
    return (time.perf_counter() - t0) / frames * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    print(f"{'size':>10}  {'ms/frame':>8}")
    for w, h in ((640, 360), (1280, 720)):
        print(f"{w}x{h:<5}  {measure(w, h, args.frames):8.2f}")


if __name__ == "__main__":
    main()
