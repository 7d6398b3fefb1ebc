"""Heel lift by size and view: the smallest lift the analysers find reliably.

Reads the soleus-stretch and deep-squat accuracy suites (benchmarks/accuracy_suites/),
runs each clip's cached pose recording (made by `python -m benchmarks.accuracy`) through
the drill's analyser, and prints per drill, view and lift size: lifts found (same side,
onset within 0.5 s, as the accuracy benchmark matches them), onset error, the size read
(cm, the event's value) and the good-form hold error; and per view the fault events on
clean clips. A size counts as found reliably when every clip of it was found in time.

Usage:
  .venv/bin/python -m benchmarks.heel_lift_sizes [--landmarks] [--any-render] [--model full]
  .venv/bin/python -m benchmarks.heel_lift_sizes --any-render --accuracy-table [--drill ID ...]

--any-render: use the newest cached recording of each case whatever synthetic-actor
version rendered it (the accuracy benchmark's cache key includes a fingerprint of the
actor's source, so any change to formcheck/synth makes every render stale for it; this
lets the analysers be re-scored without re-rendering, at the risk of slightly stale
renders). --landmarks: noisy synthetic landmarks instead (no render, no model).
--accuracy-table: print the accuracy benchmark's own table instead, scored on the newest
cached recordings (with --any-render) by the current analysers.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import accuracy
from benchmarks.accuracy_suites import Case

DRILLS = ("soleus-stretch", "deep-squat")
_NAME = re.compile(r"^(?P<view>[a-z]+)-(?P<kind>clean|heel(?P<cm>[\d.]+)cm)-")


def newest_poses(case: Case, cache: Path, model: str) -> Path | None:
    found = sorted(cache.glob(f"{case.spec.drill}-{case.name}-*.{model}.poses.jsonl"),
                   key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def case_frames(case: Case, cache: Path, model: str, landmarks: bool, any_render: bool):
    """(poses, truth clip), or None when the case has no cached recording."""
    from formcheck.synth import landmark_clip

    if landmarks or not any_render:
        path = cache / f"{case.spec.drill}-{case.name}-{accuracy.spec_key(case.spec, model)}.{model}.poses.jsonl"
        if not landmarks and not path.exists():
            return None
        frames, truth, _ = accuracy.case_poses(case, model, cache, landmarks)
        return frames, truth
    path = newest_poses(case, cache, model)
    if path is None:
        return None
    return accuracy.smoothed(accuracy.load_poses(path)), landmark_clip(case.spec)


def score(drill: str, case: Case, frames, truth) -> dict[str, Any]:
    an, _ = accuracy.run_analyser(drill, frames, case.hints)
    got = [e for e in an.events if e.kind == "fault"]
    want = [e for e in truth.events if e.kind == "fault"]
    tp, fp, fn = accuracy.match_faults(got, want)
    lifts = [e for e in got if e.code == "heel_lift"]
    onset = read = float("nan")
    for w in want:
        same = [e for e in lifts if e.side == w.side and (e.t_end_s or e.t_s) >= w.t_s
                and e.t_s <= (w.t_end_s or w.t_s)]
        if same:
            first = min(same, key=lambda e: abs(e.t_s - w.t_s))
            onset, read = first.t_s - w.t_s, float(first.value or math.nan)
    holds = accuracy.hold_errors([e for e in an.events if e.kind == "hold"],
                                 [e for e in truth.events if e.kind == "hold"])
    return {"tp": tp, "fp": fp, "fn": fn, "faults": len(got), "onset": onset, "read_cm": read,
            "hold_err": holds[0] if holds else float("nan")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="full")
    ap.add_argument("--landmarks", action="store_true")
    ap.add_argument("--any-render", action="store_true")
    ap.add_argument("--cache", type=Path, default=accuracy.DEFAULT_CACHE)
    ap.add_argument("--accuracy-table", action="store_true")
    ap.add_argument("--drill", action="append", help="with --accuracy-table: drill id (repeatable)")
    args = ap.parse_args(argv)
    if args.accuracy_table:
        return accuracy_table(args)
    rows: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    missing = 0
    for drill in DRILLS:
        for case in accuracy.suite_module(drill).cases(False):
            m = _NAME.match(case.name)
            if m is None:
                continue
            got = case_frames(case, args.cache, args.model, args.landmarks, args.any_render)
            if got is None:
                missing += 1
                continue
            size = m["cm"] or "clean"
            rows[(drill, m["view"], size)].append(score(drill, case, *got))
    mode = "noisy synthetic landmarks" if args.landmarks else f"rendered clips through the {args.model} model"
    print(f"heel lift by size and view ({mode}); a lift is found when its onset is within "
          f"{accuracy.ONSET_TOLERANCE_S} s\n")
    head = f"{'drill':15s} {'view':8s} {'lift':>6s} {'found':>6s} {'onset mean/max s':>17s} " \
           f"{'read cm':>8s} {'hold err s':>10s} {'clean FP':>8s}"
    print(head)
    print("-" * len(head))
    smallest: dict[tuple[str, str], str] = {}
    for (drill, view, size), rs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                       -1 if kv[0][2] == "clean" else float(kv[0][2]))):
        ons = [r["onset"] for r in rs if math.isfinite(r["onset"])]
        hold = [abs(r["hold_err"]) for r in rs if math.isfinite(r["hold_err"])]
        if size == "clean":
            found, fp = "-", str(sum(r["faults"] for r in rs))
        else:
            n_ok = sum(r["tp"] for r in rs)
            found, fp = f"{n_ok}/{len(rs)}", "-"
            if n_ok == len(rs) and (drill, view) not in smallest:
                smallest[(drill, view)] = size
        reads = [r["read_cm"] for r in rs if math.isfinite(r["read_cm"])]
        print(f"{drill:15s} {view:8s} {size:>6s} {found:>6s} "
              f"{(f'{np.mean(ons):+.2f}/{max(ons, key=abs):+.2f}' if ons else '-'):>17s} "
              f"{(f'{np.median(reads):.1f}' if reads else '-'):>8s} "
              f"{(f'{np.mean(hold):.2f}' if hold else '-'):>10s} {fp:>8s}")
    print("\nsmallest lift found in every clip (cm): "
          + (", ".join(f"{d} {v} {s}" for (d, v), s in sorted(smallest.items())) or "none"))
    if missing:
        print(f"({missing} clips have no cached recording: run python -m benchmarks.accuracy first)")
    return 0


def accuracy_table(args: argparse.Namespace) -> int:
    """The accuracy benchmark's table; with --any-render each case's cache key is that of its
    newest cached recording (see the module doc)."""
    if args.any_render:
        keyed = accuracy.spec_key
        by_spec: dict[str, str] = {}
        for drill in args.drill or DRILLS:
            for case in accuracy.suite_module(drill).cases(False):
                path = newest_poses(case, args.cache, args.model)
                if path is not None:
                    by_spec[keyed(case.spec, "spec")] = path.name.split(".")[0].rsplit("-", 1)[1]

        def newest_key(spec: Any, model: str) -> str:
            return by_spec.get(keyed(spec, "spec"), keyed(spec, model))

        accuracy.spec_key = newest_key  # type: ignore[assignment]
        # Only the cases that have a recording: nothing is rendered here.
        find_suite = accuracy.suite_module

        def cached_suite(drill: str):
            mod = find_suite(drill)
            if mod is None:
                return None
            import types

            have = types.SimpleNamespace(**vars(mod))
            have.cases = lambda quick=False: [c for c in mod.cases(quick)
                                              if keyed(c.spec, "spec") in by_spec]
            return have

        accuracy.suite_module = cached_suite  # type: ignore[assignment]
    argv = ["--cache", str(args.cache), "--model", args.model]
    for d in args.drill or DRILLS:
        argv += ["--drill", d]
    if args.landmarks:
        argv.append("--landmarks")
    return accuracy.main(argv)


if __name__ == "__main__":
    sys.exit(main())
