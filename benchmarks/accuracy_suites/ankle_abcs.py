"""Accuracy suite: ankle ABCs, seated, filmed from the front (and once side-on).

Clean alphabets (a whole A-Z per foot, and shorter runs for other actors and a side-on
camera) and one clip per fault and foot. Scored by benchmarks/accuracy.py: letters per set
(count error), leg_moving and foot_down events, no fault on clean clips. This module also
scores letter recognition, which the framework does not know about:

    .venv/bin/python -m benchmarks.accuracy_suites.ankle_abcs [--quick] [--model full]

prints, per case, the letters read against the letters traced (matched in order of time)
and the share read right, with and without the alphabet prior (the shape alone). It reuses
the framework's cached renders and pose recordings.

Targets (issue 6): letter count error <= 2 per set of 26; recognition >= 80% on rendered
front-view traces; fault F1 >= 0.9; zero fault events on clean clips.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.accuracy_suites import Case
from formcheck.synth import Fault, SynthSpec

DRILL = "ankle-abcs"


def _spec(side: str, seed: int, reps: int, faults: list[Fault] | None = None, **kw) -> SynthSpec:
    return SynthSpec(DRILL, side=side, seed=seed, reps=reps, faults=faults or [], **kw)


def cases(quick: bool = False) -> list[Case]:
    out: list[Case] = []
    if quick:
        out.append(Case("front-clean-left-8-s0", _spec("left", 0, 8)))
        out.append(Case("front-clean-right-8-s1", _spec("right", 1, 8)))
        out.append(Case("front-leg_moving-left-s2", _spec("left", 2, 6, [Fault("leg_moving", 10.0, 15.0)])))
        out.append(Case("front-foot_down-right-s3", _spec("right", 3, 6, [Fault("foot_down", 12.0, 16.0)])))
        return out
    out.append(Case("front-clean-left-26-s0", _spec("left", 0, 26)))
    out.append(Case("front-clean-right-26-s1", _spec("right", 1, 26)))
    out.append(Case("front-clean-left-8-s4", _spec("left", 4, 8, height_m=1.6, build=0.85)))
    out.append(Case("front-clean-right-8-s5", _spec("right", 5, 8, height_m=1.9)))
    out.append(Case("side-clean-left-8-s6", _spec("left", 6, 8, view="side")))
    for j, side in enumerate(("left", "right")):
        out.append(Case(f"front-leg_moving-{side}-s{10 + j}",
                        _spec(side, 10 + j, 6, [Fault("leg_moving", 10.0, 15.0)])))
        out.append(Case(f"front-foot_down-{side}-s{12 + j}",
                        _spec(side, 12 + j, 6, [Fault("foot_down", 12.0, 16.0)])))
    return out


def letters_read(events) -> list[tuple[float, str, str]]:
    """(time, letter read, shape-only letter) per count event, from the event message."""
    out = []
    for e in events:
        if e.kind == "count" and e.code == "letter":
            out.append((e.t_s, e.message.split()[1], e.message.split()[1]))
    return out


def score_recognition(an, truth) -> tuple[int, int, int, int]:
    """(letters traced, read right with the prior, right by shape alone, count error):
    each traced letter is matched to the letter the analyser finished during it or within
    2 s after it ended."""
    traced = truth.events_of("count", "letter")
    got = [lt for lt in an._all_letters]
    used: set[int] = set()
    right = shape = 0
    for t in traced:
        end = t.t_end_s if t.t_end_s is not None else t.t_s
        for k, lt in enumerate(got):
            if k not in used and t.t_s - 0.5 <= lt.t1 <= end + 2.0:
                used.add(k)
                right += lt.rec.letter == t.message
                shape += lt.rec.best_shape == t.message
                break
    return len(traced), right, shape, len(got) - len(traced)


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks.accuracy import DEFAULT_CACHE, case_poses, ensure_cache, run_analyser

    ap = argparse.ArgumentParser(description="ABC letter recognition on rendered clips")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--model", default="full")
    ap.add_argument("--landmarks", action="store_true", help="noisy synthetic landmarks, no model")
    args = ap.parse_args(argv)
    cache = ensure_cache(DEFAULT_CACHE)
    tot = [0, 0, 0]
    front = [0, 0, 0]
    for case in cases(args.quick):
        frames, truth, _ = case_poses(case, args.model, cache, args.landmarks)
        an, _ = run_analyser(DRILL, frames, case.hints)
        n, right, shape, err = score_recognition(an, truth)
        seq = "".join(lt.rec.letter for lt in an._all_letters)
        print(f"  {case.name:28s} traced {n:2d}  read {seq:28s} right {right:2d}  shape-only {shape:2d}  "
              f"count err {err:+d}")
        for acc in (tot,) + ((front,) if case.spec.resolved_view == "front" else ()):
            acc[0] += n
            acc[1] += right
            acc[2] += shape
    for name, acc in (("all", tot), ("front view", front)):
        if acc[0]:
            print(f"{name}: {acc[1]}/{acc[0]} letters read right ({100 * acc[1] / acc[0]:.0f}%), "
                  f"shape alone {acc[2]}/{acc[0]} ({100 * acc[2] / acc[0]:.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
