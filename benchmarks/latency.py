"""Live latency: how old is the picture on screen, and how many camera frames are dropped?

A recording is played back in real time at its own 30 fps as if it were the webcam (the
live window's own `--camera FILE` path: frames are released on the wall clock whether or
not the loop is ready, and a frame the loop was too slow for is dropped). The real live
loop runs on it -- pose model, smoothing, set-up check, analysers, coach, overlay, window
-- and every displayed frame's capture-to-display latency is recorded: from the moment
the frame was released to the moment imshow + waitKey returned with it on screen.

Reported per model (lite, full): display rate, share of frames dropped, latency median /
90th percentile / max, and the median per minute, which shows whether lag grows over a
long run (it must not: the loop always takes the newest frame). Target on a 2-core
machine: median under 100 ms with lite, flat over 5 minutes.

Without a display, a virtual one (Xvfb) is started for the run.

    .venv/bin/python benchmarks/latency.py                        # 1 minute per model
    .venv/bin/python benchmarks/latency.py --minutes 5 --models lite
    .venv/bin/python benchmarks/latency.py --clip my_720p.mp4 --json latency.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO / "sample_videos" / "deep-squat.mp4"


def per_minute(shown_at: list[float], latencies_s: list[float], window_s: float = 60.0) -> list[float]:
    """Median latency (ms) in each successive window of the run."""
    if not shown_at:
        return []
    t = np.asarray(shown_at[-len(latencies_s):]) - shown_at[0]
    lat = np.asarray(latencies_s) * 1000
    out = []
    for k in range(int(t[-1] // window_s) + 1):
        sel = (t >= k * window_s) & (t < (k + 1) * window_s)
        if sel.sum() >= 10:
            out.append(float(np.median(lat[sel])))
    return out


def run_model(clip: Path, model: str, seconds: float, drill: str) -> dict:
    from formcheck.live.app import LiveRequest, run_live
    from formcheck.live.drill_run import LiveSettings
    from formcheck.routine import drill_plan

    # Sets enough that the drill never ends inside the run; no history or reports written.
    req = LiveRequest([drill_plan(drill)], camera=clip, model=model, history=False, max_seconds=seconds,
                      loop_playback=True, sets=999, settings=LiveSettings(rest_s=5.0))
    outcome = run_live(req)
    if outcome.end.error is not None:
        raise outcome.end.error
    row = {"model": model, "seconds": round(outcome.end.seconds, 1), **outcome.latency}
    row["latency_by_minute_ms"] = per_minute(outcome.stats.shown_at, outcome.stats.latencies_s)
    return row


def print_table(rows: list[dict], clip: Path, size: tuple[int, int], fps: float) -> None:
    print(f"\nLive latency: {clip.name} ({size[0]}x{size[1]} at {fps:g} fps, played as a camera), "
          f"{os.cpu_count()} CPUs")
    head = f"{'model':<6} {'run s':>6} {'shown fps':>9} {'dropped':>8} {'median ms':>9} {'p90 ms':>7} " \
           f"{'max ms':>7}  per-minute median ms"
    print(head)
    print("-" * len(head))
    for r in rows:
        mins = " ".join(f"{v:.0f}" for v in r["latency_by_minute_ms"])
        print(f"{r['model']:<6} {r['seconds']:>6.0f} {r['display_fps']:>9.1f} {r['dropped_share']:>7.0%} "
              f"{r['latency_median_ms']:>9.0f} {r['latency_p90_ms']:>7.0f} {r['latency_max_ms']:>7.0f}  {mins}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="Recording played as the camera (looped).")
    ap.add_argument("--minutes", type=float, default=1.0, help="Run length per model.")
    ap.add_argument("--models", default="lite,full", help="Comma-separated: lite, full, heavy.")
    ap.add_argument("--drill", default="deep-squat", help="Drill the live loop analyses.")
    ap.add_argument("--json", type=Path, help="Also write the figures here.")
    args = ap.parse_args(argv)

    import cv2

    from formcheck.live.display import display_available
    from formcheck.live.virtual_display import VirtualDisplay

    cap = cv2.VideoCapture(str(args.clip))
    if not cap.isOpened():
        print(f"cannot open {args.clip}", file=sys.stderr)
        return 2
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()

    rows = []
    with contextlib.ExitStack() as stack:
        if not display_available():
            vd = stack.enter_context(VirtualDisplay(max(1280, size[0] + 100), max(800, size[1] + 100)))
            os.environ["DISPLAY"] = vd.display
            print(f"no display: running on a virtual one ({vd.display})", file=sys.stderr)
        for model in args.models.split(","):
            print(f"{model}: {args.minutes:g} min ...", file=sys.stderr, flush=True)
            rows.append(run_model(args.clip, model.strip(), args.minutes * 60, args.drill))
    print_table(rows, args.clip, size, fps)
    if args.json:
        args.json.write_text(json.dumps({"clip": str(args.clip), "size": size, "fps": fps, "rows": rows},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
