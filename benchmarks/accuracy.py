"""Accuracy benchmark: are the counts, timers and cues right?

For every drill with a suite in benchmarks/accuracy_suites/, render each seeded synthetic
clip (formcheck.synth.render_clip), run it through the real pose model and smoother (the
same pipeline as `formcheck analyze`), run the drill's analyser, and compare with the
truth the synthetic actor knows by design. Then run the labelled real clips in
../shared/data (skipped when absent). Prints one table per drill:

  sets exact     share of truth sets whose count the analyser got exactly
  worst err      the largest count error of any set (analyser minus truth)
  fault P/R/F1   fault events vs truth faults: a match has the same code and side,
                 overlaps in time and starts within 0.5 s of the truth's onset
  clean FP       fault events of any kind on clips without injected faults
  hold err       mean |held seconds - truth| over matched holds
  holds <=0.5s   share of matched holds within 0.5 s of the truth
  at target      where a suite sets TARGET_MIN_SIZE (an issue's target holds from a fault
                 size up, e.g. heel lifts of 2 cm or more): fault F1 and holds <=0.5 s
                 over the clips whose faults are all that size or more; the smaller ones
                 are there to find the smallest fault read reliably
  <angle> MAE    mean absolute error of a per-frame quantity against the truth

--holdout K re-draws every clip of the chosen suites with another actor: a new seed
(appearance, tempo, sway), body height and build, and camera (height, tilt, roll, field
of view) drawn from K. The suites' own clips are what the thresholds were set on; the
held-out draws check that the cues carry over to bodies and cameras nobody tuned for.

Usage:
  .venv/bin/python -m benchmarks.accuracy [--quick] [--drill ID ...] [--model full|lite]
                                          [--landmarks] [--no-real] [--cache DIR]
                                          [--holdout K]

Renders and pose recordings are cached under benchmarks/.cache keyed by a hash of the
spec (and model), so only the first run pays for rendering and inference.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import importlib
import json
import logging
import math
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.accuracy_suites import Case, RealCase
from formcheck.cues import SETUP_CODES
from formcheck.drills import DRILLS, analyser_class
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame

log = logging.getLogger("accuracy")

DEFAULT_CACHE = ROOT / "benchmarks" / ".cache"
DATA_DIR = ROOT.parent / "shared" / "data"
ONSET_TOLERANCE_S = 0.5
LANDMARK_NOISE_PX = 2.0  # --landmarks: jitter like the model's on a 720p clip
CACHE_VERSION = 1  # bump when the render or the stored pose format changes


# ---------------------------------------------------------------------------- matching


def match_faults(got: list[Event], truth: list[Event],
                 tol_s: float = ONSET_TOLERANCE_S) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives). One-to-one, greedy by onset
    distance: same code and side, overlapping, onset within tol_s."""
    pairs = []
    for i, g in enumerate(got):
        for j, t in enumerate(truth):
            if g.code != t.code or g.side != t.side:
                continue
            g_end = g.t_end_s if g.t_end_s is not None else g.t_s
            t_end = t.t_end_s if t.t_end_s is not None else t.t_s
            overlap = min(g_end, t_end) - max(g.t_s, t.t_s)
            d = abs(g.t_s - t.t_s)
            if overlap >= 0 and d <= tol_s:
                pairs.append((d, i, j))
    used_g, used_t = set(), set()
    for _, i, j in sorted(pairs):
        if i not in used_g and j not in used_t:
            used_g.add(i)
            used_t.add(j)
    tp = len(used_g)
    return tp, len(got) - tp, len(truth) - tp


def set_errors(got_sets: list[dict], truth_sets: list[dict]) -> list[int]:
    """Count error (analyser - truth) per truth set; the analyser set matched to a truth
    set is the one of the same side (or no side) overlapping it most. Analyser sets that
    match no truth set add their whole count as an error."""
    errs = []
    used: set[int] = set()
    for ts in truth_sets:
        t0, t1 = ts["t_s"], ts.get("t_end_s") or ts["t_s"]
        best, best_ov = None, 0.0
        for k, gs in enumerate(got_sets):
            if k in used or (gs.get("side") not in (None, ts.get("side")) and ts.get("side") is not None):
                continue
            g0, g1 = gs["t_s"], gs.get("t_end_s") or gs["t_s"]
            ov = min(t1, g1) - max(t0, g0)
            if ov > best_ov:
                best, best_ov = k, ov
        if best is None:
            errs.append(-int(ts["reps"]))
        else:
            used.add(best)
            errs.append(int(got_sets[best].get("reps", 0)) - int(ts["reps"]))
    for k, gs in enumerate(got_sets):
        if k not in used and gs.get("reps", 0) > 0:
            errs.append(int(gs["reps"]))
    return errs


def hold_errors(got: list[Event], truth: list[Event]) -> list[float]:
    out = []
    for t in truth:
        best = max((g for g in got if (g.t_end_s or g.t_s) > t.t_s and g.t_s < (t.t_end_s or t.t_s)),
                   key=lambda g: min(g.t_end_s or g.t_s, t.t_end_s or t.t_s) - max(g.t_s, t.t_s),
                   default=None)
        if best is not None and best.value is not None and t.value is not None:
            out.append(abs(best.value - t.value))
    return out


# ---------------------------------------------------------------------------- poses


@functools.cache
def synth_fingerprint() -> str:
    """A hash of the synthetic actor's source: a render (and its poses) is stale once the
    actor changes, while the truth is always recomputed from the current actor."""
    h = hashlib.sha1()
    for path in sorted((ROOT / "formcheck" / "synth").rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def spec_key(spec: Any, model: str) -> str:
    blob = json.dumps({"spec": spec.to_dict(), "model": model, "v": CACHE_VERSION,
                       "synth": synth_fingerprint()}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def ensure_cache(cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return cache


def save_poses(frames: Iterable[PoseFrame], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(f.to_dict()) + "\n" for f in frames)
    tmp.replace(path)


def load_poses(path: Path) -> list[PoseFrame]:
    with open(path, encoding="utf-8") as fh:
        return [PoseFrame.from_dict(json.loads(line)) for line in fh if line.strip()]


def model_poses(video: Path, model: str) -> list[PoseFrame]:
    """The raw (unsmoothed) poses of a video from the real model, in the pipeline's way."""
    from formcheck.pipeline import pose_stream
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.sources import open_source

    with open_source(video) as src, PoseEstimator(model) as est:
        return [pose for _, pose in pose_stream(src, est)]


def smoothed(frames: list[PoseFrame]) -> list[PoseFrame]:
    """The smoother `formcheck analyze` uses, applied to cached raw poses."""
    from formcheck.pose.smoothing import PoseSmoother

    sm = PoseSmoother()
    return [sm(f) for f in frames]


def case_poses(case: Case, model: str, cache: Path, landmarks: bool) -> tuple[list[PoseFrame], Any, float]:
    """(poses for the analyser, the truth clip, seconds spent producing poses)."""
    from formcheck.synth import landmark_clip, render_clip

    t0 = time.perf_counter()
    truth = landmark_clip(case.spec)  # the truth is the motion itself, same with or without render
    if landmarks:
        noisy = landmark_clip(case.spec, noise_px=LANDMARK_NOISE_PX)
        return noisy.frames, truth, time.perf_counter() - t0
    key = spec_key(case.spec, model)
    poses_path = cache / f"{case.spec.drill}-{case.name}-{key}.{model}.poses.jsonl"
    if not poses_path.exists():
        video = cache / f"{case.spec.drill}-{case.name}-{spec_key(case.spec, 'video')}.mp4"
        if not video.exists():
            log.info("rendering %s", video.name)
            render_clip(case.spec, video)
        log.info("pose model on %s", video.name)
        save_poses(model_poses(video, model), poses_path)
    frames = smoothed(load_poses(poses_path))
    return frames, truth, time.perf_counter() - t0


def held_out(case: Case, k: int, drill_usual_height_m: float) -> Case:
    """The case re-drawn with another actor and camera (deterministic in k and the name):
    the same drill, side, faults and view, a body of 1.55-1.95 m, the lens up to 0.25 m
    higher or lower than the suite put it, tilted up to 4 deg, rolled up to 2.5 deg, a
    55-75 deg field of view."""
    seed = int.from_bytes(hashlib.sha256(f"{k}/{case.name}".encode()).digest()[:4], "little")
    rng = np.random.default_rng(seed)
    s, cam = case.spec, case.spec.camera
    base_h = cam.height_m if cam.height_m is not None else drill_usual_height_m
    cam = dataclasses.replace(
        cam, height_m=round(float(max(0.35, base_h + rng.uniform(-0.25, 0.25))), 2),
        tilt_deg=round(cam.tilt_deg + float(rng.uniform(-4.0, 4.0)), 1),
        roll_deg=round(cam.roll_deg + float(rng.uniform(-2.5, 2.5)), 1),
        hfov_deg=round(float(rng.uniform(55.0, 75.0)), 1))
    spec = s.with_(seed=seed % 100_000 + 100_000, height_m=round(float(rng.uniform(1.55, 1.95)), 2),
                   build=round(float(rng.uniform(0.85, 1.3)), 2), camera=cam)
    return dataclasses.replace(case, name=f"ho{k}-{case.name}", spec=spec)


def usual_camera_height(drill: str) -> float:
    """Where the drill's synthetic script puts the lens when the spec does not say."""
    from formcheck.synth import landmark_clip
    from formcheck.synth.spec import SynthSpec

    return float(landmark_clip(SynthSpec(drill, sets=1, variation=0.0)).motion.camera_height_m)


def run_analyser(drill: str, frames: list[PoseFrame], hints: dict[str, Any]):
    an = analyser_class(drill)(**hints)
    vals: list[dict[str, float]] = []
    for f in frames:
        an.update(f)
        vals.append(an.values())
    an.finish()
    return an, vals


# ---------------------------------------------------------------------------- scoring


@dataclass
class DrillScore:
    drill: str
    cases: int = 0
    set_errs: list[int] = field(default_factory=list)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    clean_fp: int = 0
    clean_cases: int = 0
    hold_errs: list[float] = field(default_factory=list)
    min_sizes: dict[str, float] = field(default_factory=dict)  # the suite's TARGET_MIN_SIZE
    at_target: list[int] = field(default_factory=lambda: [0, 0, 0])  # tp/fp/fn, target-size clips
    hold_errs_at_target: list[float] = field(default_factory=list)
    angle_abs: dict[str, list[float]] = field(default_factory=dict)
    angle_targets: dict[str, float | None] = field(default_factory=dict)
    seconds_video: float = 0.0
    seconds_work: float = 0.0
    failures: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        n = len(self.set_errs)
        exact = sum(1 for e in self.set_errs if e == 0) / n if n else float("nan")
        worst = max(self.set_errs, key=abs) if self.set_errs else 0
        p, r, f1 = prf(self.tp, self.fp, self.fn)
        target = ({"fault_f1_at_target": prf(*self.at_target)[2], "faults_at_target": tuple(self.at_target),
                   "holds_within_0_5_at_target": within(self.hold_errs_at_target, 0.5)}
                  if self.min_sizes else {})
        return target | {"drill": self.drill, "cases": self.cases, "sets": n, "sets_exact": exact,
                "worst_count_err": worst, "fault_precision": p, "fault_recall": r, "fault_f1": f1,
                "faults_tp_fp_fn": (self.tp, self.fp, self.fn), "clean_false_faults": self.clean_fp,
                "clean_cases": self.clean_cases,
                "hold_err_s": float(np.mean(self.hold_errs)) if self.hold_errs else float("nan"),
                "holds_within_0_5": within(self.hold_errs, 0.5),
                "angle_mae": {k: float(np.mean(v)) if v else float("nan") for k, v in self.angle_abs.items()},
                "video_s": self.seconds_video, "work_s": self.seconds_work}


def fault_size(fault: Any) -> float:
    """An injected fault's size, its code's default when the spec leaves it unset."""
    from formcheck.synth.spec import FAULTS

    size = fault.size if fault.size is not None else FAULTS[fault.code].default
    return float(size) if size is not None else math.inf


def score_case(score: DrillScore, case: Case, an, vals: list[dict[str, float]], truth, frames) -> str:
    got_faults = [e for e in an.events if e.kind == "fault"]
    truth_faults = [e for e in truth.events if e.kind == "fault"]
    tp, fp, fn = match_faults(got_faults, truth_faults)
    score.tp, score.fp, score.fn = score.tp + tp, score.fp + fp, score.fn + fn
    at_target = all(fault_size(f) >= score.min_sizes.get(f.code, -math.inf) for f in case.spec.faults)
    if at_target:
        score.at_target = [a + b for a, b in zip(score.at_target, (tp, fp, fn), strict=True)]
    if not case.spec.faults:
        score.clean_cases += 1
        score.clean_fp += len(got_faults)
    errs = set_errors(an.summary().get("sets", []), truth.sets)
    score.set_errs += errs
    holds = hold_errors([e for e in an.events if e.kind == "hold"], [e for e in truth.events if e.kind == "hold"])
    score.hold_errs += holds
    if at_target:
        score.hold_errs_at_target += holds
    # per-frame quantities, aligned on time (renders keep the clip's frame times)
    t_truth = np.asarray(truth.truth.t_s, float)
    for key, target in case.angles.items():
        score.angle_targets[key] = target
        tv = truth.truth.values.get(key)
        if tv is None:
            continue
        tv = np.asarray(tv, float)
        diffs = []
        for f, v in zip(frames, vals, strict=True):
            g = v.get(key, float("nan"))
            if not math.isfinite(g):
                continue
            i = int(np.clip(np.searchsorted(t_truth, f.t_s), 0, len(t_truth) - 1))
            if abs(t_truth[i] - f.t_s) > 0.02 and i > 0:
                i -= 1
            if math.isfinite(tv[i]):
                diffs.append(abs(g - tv[i]))
        score.angle_abs.setdefault(key, []).extend(diffs)
    bad = []
    if any(e != 0 for e in errs):
        bad.append(f"count errors {errs}")
    if fp or fn:
        fl = [(e.code, e.side, round(e.t_s, 1)) for e in got_faults]
        tl = [(e.code, e.side, round(e.t_s, 1)) for e in truth_faults]
        bad.append(f"faults got {fl} truth {tl}")
    return "; ".join(bad)


# ---------------------------------------------------------------------------- real clips


def run_real(drill: str, rc: RealCase, model: str, cache: Path) -> tuple[bool, str]:
    video = DATA_DIR / rc.clip
    if not video.exists():
        return True, "absent (skipped)"
    path = cache / f"real-{video.stem}.{model}.poses.jsonl"
    if not path.exists():
        save_poses(model_poses(video, model), path)
    frames = smoothed(load_poses(path))
    an, _ = run_analyser(drill, frames, rc.hints)
    counts = [e for e in an.events if e.kind == "count"]
    # Set-up cues (wrong view, out of frame) are right answers on clips not filmed for the
    # drill; only form cues count against it here.
    setup = sorted({e.code for e in an.events if e.kind == "fault" and e.code in SETUP_CODES})
    faults = [e for e in an.events if e.kind == "fault" and e.code not in SETUP_CODES]
    ok = True
    if rc.max_counts is not None and len(counts) > rc.max_counts:
        ok = False
    if rc.expect_counts is not None and len(counts) != rc.expect_counts:
        ok = False
    if rc.max_faults is not None and len(faults) > rc.max_faults:
        ok = False
    detail = f"{len(counts)} counts, {len(faults)} form faults"
    if setup:
        detail += f" (set-up cues: {', '.join(setup)})"
    if faults:
        detail += " " + ", ".join(sorted({f"{e.code}@{e.t_s:.1f}" for e in faults}))
    return ok, detail


# ---------------------------------------------------------------------------- main


def suite_module(drill: str):
    try:
        return importlib.import_module(f"benchmarks.accuracy_suites.{drill.replace('-', '_')}")
    except ModuleNotFoundError:
        return None


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 (NaN where undefined)."""
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * p * r / (p + r) if p + r and math.isfinite(p) and math.isfinite(r) else float("nan")
    return p, r, f1


def within(errs: list[float], limit: float) -> float:
    return sum(1 for e in errs if e <= limit + 1e-9) / len(errs) if errs else float("nan")


def fmt(v: Any, pct: bool = False) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{100 * v:.0f}%" if pct else f"{v:.2f}"
    return str(v)


def print_table(rows: list[dict[str, Any]], targets: dict[str, dict[str, float | None]]) -> None:
    head = ["drill", "cases", "sets", "sets exact", "worst err", "fault P", "fault R", "fault F1",
            "tp/fp/fn", "clean FP", "hold err s", "holds <=0.5s", "at target: F1, tp/fp/fn, holds <=0.5s",
            "angle MAE (target)", "video s", "work s"]
    lines = [head]
    for r in rows:
        at_target = (f"{fmt(r['fault_f1_at_target'])}, {'/'.join(map(str, r['faults_at_target']))}, "
                     f"{fmt(r['holds_within_0_5_at_target'], True)}" if "faults_at_target" in r else "-")
        angles = ", ".join(
            f"{k} {fmt(v)}" + (f" (<={targets[r['drill']].get(k)})" if targets[r['drill']].get(k) else "")
            for k, v in r["angle_mae"].items()) or "-"
        lines.append([r["drill"], str(r["cases"]), str(r["sets"]), fmt(r["sets_exact"], True),
                      f"{r['worst_count_err']:+d}", fmt(r["fault_precision"]), fmt(r["fault_recall"]),
                      fmt(r["fault_f1"]), "/".join(map(str, r["faults_tp_fp_fn"])),
                      f"{r['clean_false_faults']} in {r['clean_cases']}", fmt(r["hold_err_s"]),
                      fmt(r["holds_within_0_5"], True), at_target, angles,
                      f"{r['video_s']:.0f}", f"{r['work_s']:.0f}"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for k, line in enumerate(lines):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few clips per drill")
    ap.add_argument("--drill", action="append", help="drill id (repeatable); default: every suite")
    ap.add_argument("--model", default="full", help="pose model: lite, full or heavy")
    ap.add_argument("--landmarks", action="store_true",
                    help="skip render and model: noisy synthetic landmarks (analyser logic only)")
    ap.add_argument("--no-real", action="store_true", help="skip the labelled real clips")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    ap.add_argument("--holdout", type=int, metavar="K",
                    help="re-draw every clip with another actor and camera (draw number K)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    cache = ensure_cache(args.cache)
    drills = args.drill or [d for d in DRILLS if suite_module(d) is not None]
    started = time.perf_counter()
    rows, targets, real_rows = [], {}, []
    mode = "landmarks (noisy synthetic, no model)" if args.landmarks else f"rendered video, model={args.model}"
    held = f", held-out draw {args.holdout}" if args.holdout is not None else ""
    print(f"accuracy benchmark: {mode}; {'quick' if args.quick else 'full'} suites{held}\n")
    for drill in drills:
        mod = suite_module(drill)
        if mod is None:
            print(f"{drill}: no suite")
            continue
        score = DrillScore(drill, min_sizes=dict(getattr(mod, "TARGET_MIN_SIZE", {})))
        cases = mod.cases(args.quick)
        if args.holdout is not None:
            cam_h = usual_camera_height(drill)
            cases = [held_out(c, args.holdout, cam_h) for c in cases]
        for case in cases:
            t0 = time.perf_counter()
            try:
                frames, truth, _ = case_poses(case, args.model, cache, args.landmarks)
                an, vals = run_analyser(drill, frames, case.hints)
            except Exception as exc:  # a crash is a result worth reporting, not a stop
                log.exception("%s/%s failed", drill, case.name)
                score.failures.append(f"{case.name}: {type(exc).__name__}: {exc}")
                continue
            score.cases += 1
            score.seconds_video += truth.duration_s
            problems = score_case(score, case, an, vals, truth, frames)
            score.seconds_work += time.perf_counter() - t0
            status = "ok" if not problems else problems
            print(f"  {drill}/{case.name}: {status}", flush=True)
        rows.append(score.row())
        targets[drill] = score.angle_targets
        for f in score.failures:
            print(f"  {drill} FAILED {f}")
        if not args.no_real and not args.landmarks and args.holdout is None and hasattr(mod, "real_cases"):
            for rc in mod.real_cases():
                ok, detail = run_real(drill, rc, args.model, cache)
                real_rows.append((drill, rc.clip, ok, detail, rc.note))
    print()
    print_table(rows, targets)
    if real_rows:
        print("\nreal footage (../shared/data, labelled):")
        for drill, clip, ok, detail, note in real_rows:
            print(f"  {'PASS' if ok else 'FAIL'}  {drill:14s} {clip:40s} {detail}  [{note}]")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "real": real_rows}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
