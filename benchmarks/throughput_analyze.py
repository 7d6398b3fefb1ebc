"""Throughput of `formcheck analyze`: the `analyze` rows of benchmarks/throughput.py.

Two figures, on the same clip and model as throughput.py's bare-inference baseline:

- analyze:  `formcheck analyze CLIP --drill D --video OUT.mp4 --json OUT.json` as a user runs
            it (decode, inference, smoothing, the drill analyser, the full overlay, video
            encoding, reports; the history is off), frames per second against bare
            inference. Target: >= 90 %.
- pool:     several copies of the clip through analyze's process pool (one worker per
            core), total frames per second against one file analysed alone.
            Target: >= 1.7x.

    .venv/bin/python -m benchmarks.throughput_analyze                 # shared walking clip
    .venv/bin/python -m benchmarks.throughput_analyze --clip my.mp4 --drill deep-squat

throughput.py can show the analyze row among its own: `STAGES["analyze"] = stage_analyze`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import throughput as tp
from formcheck.pose.inference_process import open_estimator
from formcheck.runner import Outputs, SessionRequest, run_session

# The shared clip is a side view of someone walking: a side-view drill's analyser is the
# one that would run on such footage (it counts nothing, which does not change the cost).
DEFAULT_DRILL = "soleus-stretch"
_drill = DEFAULT_DRILL


def stage_analyze(model: str, clip: tp.Clip, scratch: Path) -> tp.Timing:
    """analyze --video --json on the clip's first len(clip.frames) frames."""
    n = len(clip.frames)
    out = Outputs(json=scratch / "report.json", video=scratch / "annotated.mp4")
    req = SessionRequest(clip.path, _drill, model=model, outputs=out, history=False, max_frames=n)
    # As in throughput.py's stages, loading the model is not counted; it runs in its own
    # process, as `formcheck analyze` runs it on one file.
    with open_estimator(model) as est, tp._Clock(est.pid) as clock:
        run = run_session(req, check=False, estimator=est)
    if run.frames != n:
        raise RuntimeError(f"analyze saw {run.frames} frames, expected {n}")
    return dataclasses.replace(clock.timing, note=run.pipeline.summary() if run.pipeline else "")


def measure_pool(clip: Path, model: str, copies: int, frames: int, scratch: Path) -> dict[str, float]:
    """Total fps of `copies` files through analyze's pool vs one file alone (both as the
    command runs them, process start and model loading included)."""
    from rich.console import Console

    from formcheck.commands.analyze_cmd import _run_pool

    files = []
    src = scratch / "pool-in"
    src.mkdir(exist_ok=True)
    for i in range(copies):
        files.append(src / f"copy{i}{clip.suffix}")
        shutil.copyfile(clip, files[-1])

    def req(f: Path, out: Path) -> SessionRequest:
        return SessionRequest(f, _drill, model=model, outputs=Outputs(json=out / f"{f.stem}.json"),
                              history=False, max_frames=frames)

    out1 = scratch / "pool-single"
    out1.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    single = run_session(req(files[0], out1), check=False)
    single_s = time.perf_counter() - t0
    outn = scratch / "pool-many"
    outn.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    results = _run_pool([req(f, outn) for f in files], Console(stderr=True), False, 0)
    pool_s = time.perf_counter() - t0
    total = sum(r.frames for r in results)
    if total != copies * single.frames:
        raise RuntimeError(f"pool analysed {total} frames, expected {copies * single.frames}")
    single_fps, pool_fps = single.frames / single_s, total / pool_s
    return {"single_fps": single_fps, "pool_fps": pool_fps, "speedup": pool_fps / single_fps,
            "workers": min(os.cpu_count() or 1, copies), "copies": copies, "frames_each": single.frames}


def main(argv: list[str] | None = None) -> int:
    global _drill
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", type=Path, help=f"video to run on (default: {tp.SHARED_CLIP.name})")
    ap.add_argument("--drill", default=DEFAULT_DRILL, help="drill analyser to run")
    ap.add_argument("--models", nargs="+", default=["full"])
    ap.add_argument("--frames", type=int, default=200, help="frames of the clip to use")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--copies", type=int, default=4, help="files for the pool figure (0: skip it)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    _drill = args.drill
    tp.STAGES = {"inference": tp.stage_inference, "analyze": stage_analyze}
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as tmp:
        scratch = Path(tmp)
        path = args.clip or (tp.SHARED_CLIP if tp.SHARED_CLIP.exists() else tp.render_fallback_clip(scratch))
        clip = tp.load_clip(path, args.frames)
        res = tp.measure(args.models, clip, args.repeats, scratch)
        pool = (measure_pool(path, args.models[0], args.copies, args.frames, scratch) if args.copies else None)
    print(tp.table(res, clip))
    if pool:
        print(f"pool ({args.models[0]}): {pool['copies']} files x {pool['frames_each']} frames on "
              f"{pool['workers']} workers: {pool['pool_fps']:.1f} fps vs {pool['single_fps']:.1f} fps for one "
              f"file alone = {pool['speedup']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"clip": str(clip.path), "size": clip.size, "frames": len(clip.frames),
                                         "drill": _drill, "stages": res, "pool": pool}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
