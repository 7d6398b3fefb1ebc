"""The guided routine: drills in order with cards, each saved the moment it ends, and
whatever was completed kept when the routine is stopped."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time

import numpy as np
import pytest
from test_live import FORMCHECK, Live, needs_xvfb, write_clip, xdisplay  # noqa: F401 (xdisplay: a fixture)

from formcheck.live.drill_run import DrillRun, LiveSettings
from formcheck.live.keys import Action
from formcheck.live.routine import RoutineRun
from formcheck.live.setup import SetupConfig
from formcheck.render.compose import default_overlay
from formcheck.routine import drill_plan
from formcheck.runner import build_analyser
from formcheck.synth import SynthSpec, landmark_clip

W, H = 320, 240
FAST = LiveSettings(rest_s=1.0, card_s=0.5, done_s=0.3, setup=SetupConfig(countdown_s=1.0))


def runs(drills, sets=1):
    def make(d):
        return lambda: DrillRun(drill_plan(d), lambda side: build_analyser(d, side), build_analyser(d),
                                overlay=default_overlay(), sets=sets, show_card=True, routine=True, settings=FAST)
    return [make(d) for d in drills]


def test_drills_run_in_order_each_handed_over_when_it_ends():
    ended = []
    routine = RoutineRun(runs(["deep-squat", "calf-roll", "ankle-abcs"]), ended.append)
    frames = landmark_clip(SynthSpec("deep-squat", width=W, height=H, duration_s=6)).frames
    scene = np.zeros((H, W, 3), np.uint8)
    seen = []
    for i, f in enumerate(frames):
        routine.on_frame(f.t_s, f, scene.copy())
        seen.append((routine.current.plan.drill, routine.current.phase))
        if i in (40, 80):
            routine.on_action(Action.SKIP)  # skip the squat, then the calf roll
        if routine.finished:
            break
    assert [r.plan.drill for r in ended] == ["deep-squat", "calf-roll"]
    assert all(r.skipped for r in ended)
    assert routine.current.plan.drill == "ankle-abcs" and not routine.finished
    assert seen[0] == ("deep-squat", "card")
    assert ("calf-roll", "card") in seen and ("ankle-abcs", "card") in seen
    routine.on_action(Action.SKIP)
    routine.on_frame(frames[-1].t_s + 1, frames[-1], scene.copy())
    assert routine.finished and len(ended) == 3


def test_plan_prints_without_a_camera():

    p = subprocess.run([*FORMCHECK, "routine", "--plan", "--drills", "ankle-abcs,star-balance"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.index("Star (Y) balance") < out.index("Ankle ABCs")
    assert "Soleus" not in out


@needs_xvfb
def test_routine_saves_each_drill_as_it_ends_and_keeps_it_on_ctrl_c(xdisplay, tmp_path):  # noqa: F811
    clip = write_clip(tmp_path / "squat.jsonl", SynthSpec("deep-squat", width=640, height=480, duration_s=25,
                                                          hold_s=20, sets=1))
    config = tmp_path / "short.toml"
    config.write_text("[deep-squat]\nhold_s = 4.0\n")
    reports = tmp_path / "reports"
    args = ["--drills", "deep-squat,calf-roll", "--camera", str(clip), "--sets", "1", "--countdown", "1",
            "--card-seconds", "0.5", "--config", str(config), "--json-dir", str(reports), "--max-seconds", "60"]
    live = Live(xdisplay, args, tmp_path, command="routine")
    db = tmp_path / "data" / "history.db"
    deadline = time.monotonic() + 45
    rows = []
    while time.monotonic() < deadline and live.proc.poll() is None:
        if db.exists():
            with sqlite3.connect(db) as conn:
                rows = conn.execute("SELECT drill, interrupted FROM sessions").fetchall()
            if rows:
                break
        time.sleep(0.3)
    assert rows == [("deep-squat", 0)], "the squat is in the history while the routine goes on"
    live.proc.send_signal(signal.SIGINT)
    rc, _out, err = live.finish()
    assert rc == 130 and "Traceback" not in err
    assert "deep-squat: 1 set (complete)" in err and "everything completed so far is saved" in err
    first = json.loads((reports / "01-deep-squat.json").read_text())
    assert first["drill"] == "deep-squat" and not first.get("interrupted")
    assert any(e["kind"] == "hold" and e["value"] >= 3.9 for e in first["events"])  # the 4 s hold


@pytest.mark.parametrize("bad", ["squats", ","])
def test_unknown_drill_in_the_subset(bad):

    p = subprocess.run([*FORMCHECK, "routine", "--plan", "--drills", bad], capture_output=True, text=True,
                       timeout=60, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr
