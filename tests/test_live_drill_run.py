"""DrillRun, the live controller of one drill, driven by synthetic landmark clips (no
window, no model): set-up, countdown, sets completing on their prescription, rests, legs,
keys, and the session it leaves behind."""

import dataclasses

import numpy as np
import pytest

from formcheck.config import apply_overrides
from formcheck.drills import analyser_class
from formcheck.live.drill_run import DrillRun, LiveSettings
from formcheck.live.keys import Action
from formcheck.live.setup import SetupConfig
from formcheck.render.compose import default_overlay
from formcheck.report.session import SourceInfo
from formcheck.routine import drill_plan
from formcheck.synth import Fault, SynthSpec, landmark_clip

W, H = 320, 240  # small frames: the overlay's drawing cost scales with them
FAST = LiveSettings(rest_s=2.0, card_s=3.0, done_s=0.5, setup=SetupConfig(countdown_s=1.0))
INFO = SourceInfo("file", "clip.jsonl", 30.0, 0, 0.0, W, H)


def make(drill, sets=2, side=None, overrides=None, routine=False, show_card=False, settings=FAST):
    cls = analyser_class(drill)

    def analyser(s):
        cfg = apply_overrides(cls.config_cls(), overrides or {})
        return cls(cfg, side=s)

    return DrillRun(drill_plan(drill), analyser, analyser(side), overlay=default_overlay(), side=side,
                    sets=sets, routine=routine, show_card=show_card, settings=settings)


def clip(drill, **kw):
    return landmark_clip(SynthSpec(drill, width=W, height=H, **kw)).frames


def play(run, frames, keys=None, until=None):
    """Feed frames; keys: {t_s: Action}. Returns [(t, phase, side, cue codes, count)]."""
    keys = dict(keys or {})
    scene = np.zeros((H, W, 3), np.uint8)
    log = []
    for f in frames:
        image = run.on_frame(f.t_s, f, scene.copy())
        assert image.shape == (H, W, 3)
        st = run._last_status
        log.append((f.t_s, run.phase, run.side, tuple(c.code for c in st.cues), st.count))
        for t in [t for t in keys if t <= f.t_s]:
            run.on_action(keys.pop(t))
        if run.finished or (until and until(run)):
            break
    return log


@pytest.fixture(scope="module")
def star_frames():
    return clip("star-balance", sets=2, faults=[Fault("pelvic_drop", 6, 9)], duration_s=18)


@pytest.fixture(scope="module")
def star_run(star_frames):
    """One left-leg set of the Y (three reaches) with a pelvic drop, played to the next set."""
    run = make("star-balance")
    log = play(run, star_frames, until=lambda r: r.phase == "setup" and r.sets)
    return run, log


def test_star_balance_set_completes_after_three_reaches_then_rest_then_other_leg(star_run):
    run, log = star_run
    phases = [p for _, p, *_ in log]
    assert phases[0] == "setup" and "active" in phases and "rest" in phases
    assert run.sets[0].side == "left" and run.sets[0].count == 3 and run.sets[0].completed
    assert run.side == "right"  # legs alternate
    rest = [t for t, p, *_ in log if p == "rest"]
    assert rest[-1] - rest[0] == pytest.approx(2.0, abs=0.1)


def test_cue_on_screen_during_the_fault_one_at_a_time(star_run):
    _run, log = star_run
    shown = [t for t, p, _, cues, _ in log if "pelvic_drop" in cues]
    assert shown and 6.0 <= shown[0] <= 7.5
    assert all(len(cues) <= 1 for *_, cues, _ in log)


def test_session_is_the_analysers_report(star_run):
    run, _ = star_run
    assert not run.complete  # one set of two per leg
    run.finish()
    result = run.result(INFO, "synth", interrupted=not run.complete)
    report = result.to_report()
    assert report["drill"] == "star-balance" and report["interrupted"]
    assert [e["code"] for e in report["events"] if e["kind"] == "count"][:3] == ["reach"] * 3
    assert any(e["code"] == "pelvic_drop" for e in report["events"])
    assert result.source.frames == run.frames_fed > 0 and result.pose_coverage == 1.0


def test_next_set_key_ends_the_set_and_space_skips_the_rest(star_frames):
    run = make("star-balance", sets=3)
    log = play(run, star_frames[:200], keys={3.0: Action.NEXT_SET, 3.5: Action.PAUSE},
               until=lambda r: r.phase == "setup" and len(r.sets) == 1 and r.side == "right")
    assert run.sets[0].side == "left" and not run.sets[0].completed  # ended early with n
    rest = [t for t, p, *_ in log if p == "rest"]
    assert rest and rest[-1] - rest[0] < 0.7  # space skipped most of the 2 s rest


def test_side_keys_switch_leg_and_restart_the_set(star_frames):
    run = make("star-balance")
    play(run, star_frames[:60], keys={1.0: Action.SIDE_RIGHT})
    assert run.side == "right" and run.sets == [] and run.phase in ("setup", "active")
    assert run.set_analyser.side_hint == "right"
    run.on_action(Action.SIDE_LEFT)
    assert run.side == "left" and run.set_analyser.side_hint == "left"


def test_unsided_drill_ignores_side_keys():
    run = make("deep-squat")
    run.on_action(Action.SIDE_RIGHT)
    assert run.side is None


def test_pause_stops_the_analysers_and_resume_checks_the_set_up_again(star_frames):
    run = make("star-balance")
    play(run, star_frames[:150])
    assert run.phase == "active"
    fed = run.frames_fed
    run.on_action(Action.PAUSE)
    play(run, star_frames[150:240])
    assert run.paused and run.frames_fed == fed
    run.on_action(Action.PAUSE)
    assert not run.paused and run.phase == "setup"  # back through set-up and countdown
    play(run, star_frames[240:300])
    assert run.frames_fed > fed


def test_hold_drill_completes_on_good_form_time():
    frames = clip("deep-squat", sets=1, hold_s=15, duration_s=20)
    run = make("deep-squat", sets=1, overrides={"hold_s": 5.0})
    play(run, frames)
    assert run.complete, run.phase
    assert run.sets[0].hold_s == pytest.approx(5.0, abs=0.2) and run.sets[0].count is None


def test_routine_card_then_skip():
    frames = clip("deep-squat", sets=1, hold_s=15, duration_s=8)
    run = make("deep-squat", routine=True, show_card=True)
    log = play(run, frames[:30])
    assert {p for _, p, *_ in log} == {"card"}
    run.on_action(Action.PAUSE)  # space on a card: start now
    assert run.phase == "setup"
    play(run, frames[30:200])
    run.on_action(Action.SKIP)
    assert run.finished and run.skipped and not run.complete


def test_card_moves_on_by_itself():
    frames = clip("deep-squat", sets=1, hold_s=15, duration_s=8)
    run = make("deep-squat", routine=True, show_card=True,
               settings=dataclasses.replace(FAST, card_s=1.0))
    log = play(run, frames[:60])
    assert log[0][1] == "card" and log[-1][1] == "setup"


def test_nothing_fed_nothing_saved():
    run = make("deep-squat")
    run.finish()
    assert run.result(INFO, "synth", interrupted=True) is None


def test_next_set_before_the_set_began_moves_on_to_the_next_one(star_frames):
    run = make("star-balance", sets=2, settings=dataclasses.replace(FAST, rest_s=0.2))
    play(run, star_frames[:5])
    assert run.phase == "setup" and run.frames_fed == 0
    run.on_action(Action.NEXT_SET)  # "skip this set"
    assert [(s.side, s.completed) for s in run.sets] == [("left", False)]
    assert run.phase == "rest" and run.side == "right"


def test_set_up_guidance_is_spoken_when_it_persists():
    from formcheck.synth import CameraSpec
    from formcheck.voice import Voice

    frames = clip("deep-squat", duration_s=4, camera=CameraSpec(tilt_deg=-25))  # feet out of the picture
    run = make("deep-squat")
    run.voice = Voice(enabled=True, command=["true"], cooldown_s=0.0)
    play(run, frames)
    run.voice.close()
    assert run.voice.spoken == ["Step back so your feet are visible"]  # once, not every frame
