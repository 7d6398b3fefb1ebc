"""The shared drill building blocks: debounced faults, hold timer, counter, set tracker."""

from __future__ import annotations

import math

import numpy as np
import pytest

from formcheck.drills.blocks import Counter, FaultDetector, HoldTimer, SetTracker

FPS = 30.0


def feed(det: FaultDetector, values, t0: float = 0.0, fps: float = FPS):
    """Feed one value per frame; return (events, active flag per frame)."""
    events, active = [], []
    for i, v in enumerate(values):
        events += det.update(t0 + i / fps, v)
        active.append(det.active)
    return events, active


def frames(seconds: float, value: float) -> list[float]:
    return [value] * round(seconds * FPS)


# ---------------------------------------------------------------- FaultDetector


def test_fault_needs_min_on_time_before_it_shows():
    det = FaultDetector("pelvic_drop", on=5.0, off=3.0, min_on_s=0.4, min_off_s=0.4)
    # 0.3 s over the threshold is a blip: no cue, no event.
    ev, act = feed(det, frames(1, 0) + frames(0.3, 8) + frames(1, 0))
    assert ev == [] and not any(act)
    # 0.6 s over it is a fault, reported from the start of the raw-on run.
    det = FaultDetector("pelvic_drop", on=5.0, off=3.0, min_on_s=0.4, min_off_s=0.4, side="left")
    ev, act = feed(det, frames(1, 0) + frames(0.6, 8) + frames(1, 0))
    assert len(ev) == 1
    e = ev[0]
    assert e.kind == "fault" and e.code == "pelvic_drop" and e.side == "left"
    assert e.t_s == pytest.approx(1.0, abs=1e-9)
    # It clears at the first frame back under `off` (1.6 s), once that lasted min_off_s.
    assert e.t_end_s == pytest.approx(1.6, abs=1e-9)
    assert e.value == 8.0
    first_active = act.index(True)
    assert first_active == round(1.4 * FPS)  # onset + min_on_s


def test_fault_hysteresis_never_flickers():
    det = FaultDetector("trunk_lean", on=10.0, off=7.0, min_on_s=0.2, min_off_s=0.3)
    rng = np.random.default_rng(3)
    # Rises to 12, then wobbles between 7.5 and 11 (between off and above on): must stay on.
    wobble = list(7.5 + 3.5 * rng.random(int(3 * FPS)))
    ev, act = feed(det, frames(0.5, 0) + frames(0.5, 12) + wobble + frames(1, 2))
    assert len(ev) == 1
    start = act.index(True)
    end = len(act) - 1 - act[::-1].index(True)
    assert all(act[start:end + 1]), "the cue must not flicker off while the value stays above `off`"
    assert ev[0].value == 12.0


def test_fault_value_wobbling_at_threshold_never_triggers_without_min_on():
    det = FaultDetector("trunk_lean", on=10.0, off=7.0, min_on_s=0.4, min_off_s=0.3)
    # Alternates just above / just below `on` every frame: never 0.4 s on in a row.
    vals = [10.5 if i % 2 else 9.5 for i in range(int(4 * FPS))]
    ev, act = feed(det, vals)
    assert ev == [] and not any(act)


def test_fault_flickering_but_lasting_fires_with_first_onset():
    det = FaultDetector("knee_valgus", on=6.0, off=4.0, min_on_s=0.4, min_off_s=0.3, side="right")
    # A lasting fault read through a noisy measure: 0.2 s over the level, then a 0.1 s
    # dropout well under `off`, over and over. Never 0.4 s on in a row, 0.4 s seen in all.
    flicker = (frames(0.2, 8) + frames(0.1, 1)) * 5
    ev, act = feed(det, frames(1, 0) + flicker + frames(1, 0))
    assert len(ev) == 1
    assert ev[0].t_s == pytest.approx(1.0, abs=1e-9), "onset where the fault began"
    assert ev[0].value == 8.0 and ev[0].side == "right"
    # It shows once seen for min_on_s, the dropouts not counted: two 0.2 s stretches are
    # 0.4 s seen when the third begins (1.6 s), 0.2 s later than a steady fault would.
    assert act.index(True) == round(1.6 * FPS)


def test_fault_isolated_blips_further_apart_than_min_off_never_fire():
    det = FaultDetector("knee_valgus", on=6.0, off=4.0, min_on_s=0.4, min_off_s=0.3)
    # 0.3 s blips (each shorter than min_on_s) separated by 0.4 s back under the level:
    # each dropout lasts min_off_s or more, so the run starts over every time.
    blips = (frames(0.3, 9) + frames(0.4, 0)) * 8
    ev, act = feed(det, frames(1, 0) + blips + frames(1, 0))
    assert ev == [] and not any(act)


def test_fault_short_dip_under_off_does_not_clear():
    det = FaultDetector("x", on=5, off=3, min_on_s=0.2, min_off_s=0.5)
    ev, _act = feed(det, frames(0.5, 6) + frames(0.3, 1) + frames(0.5, 6) + frames(1, 0))
    assert len(ev) == 1
    assert ev[0].t_s == 0.0 and ev[0].t_end_s == pytest.approx(1.3, abs=1e-9)


def test_fault_below_mode_and_peak_is_the_minimum():
    det = FaultDetector("stiff_landing", on=20.0, off=25.0, below=True, min_on_s=0.1, min_off_s=0.1)
    ev, _ = feed(det, frames(0.5, 40) + [18, 15, 12, 16, 19] + frames(0.5, 40))
    assert len(ev) == 1 and ev[0].value == 12


def test_fault_peak_is_worst_value_over_whole_cue():
    det = FaultDetector("x", on=5, off=3, min_on_s=0.2, min_off_s=0.2)
    ev, _ = feed(det, frames(0.5, 6) + frames(0.5, 9) + frames(0.5, 4) + frames(0.5, 0))
    assert ev[0].value == 9


def test_fault_nan_neither_raises_nor_clears():
    det = FaultDetector("x", on=5, off=3, min_on_s=0.2, min_off_s=0.2, max_gap_s=1.0)
    vals = frames(0.5, 6) + [math.nan] * 15 + frames(0.5, 6) + frames(0.5, 0)
    ev, act = feed(det, vals)
    assert len(ev) == 1
    i_nan = int(0.5 * FPS)
    assert all(act[i_nan:i_nan + 15]), "a short gap keeps the cue on"
    # NaNs only: nothing raises.
    det2 = FaultDetector("x", on=5, off=3, min_on_s=0.0)
    assert feed(det2, [math.nan] * 30) == ([], [False] * 30)


def test_fault_long_gap_ends_cue_at_last_seen_time():
    det = FaultDetector("x", on=5, off=3, min_on_s=0.2, min_off_s=0.2, max_gap_s=0.5)
    vals = frames(1.0, 6) + [None] * 30 + frames(0.5, 0)
    ev, _ = feed(det, vals)
    assert len(ev) == 1
    assert ev[0].t_end_s == pytest.approx((int(FPS) - 1) / FPS)


def test_fault_timestamp_jump_ends_cue_and_restarts_debounce():
    det = FaultDetector("x", on=5, off=3, min_on_s=0.3, min_off_s=0.2, max_gap_s=0.5)
    out = []
    for i in range(30):
        out += det.update(i / FPS, 6.0)
    assert det.active
    # The clock jumps 10 s ahead (dropped frames): the old cue ends where it was last seen.
    out += det.update(11.0, 6.0)
    assert len(out) == 1 and out[0].t_end_s == pytest.approx(29 / FPS)
    assert not det.active, "after a gap the fault must be seen for min_on_s again"
    for i in range(1, 12):
        out += det.update(11.0 + i / FPS, 6.0)
    assert det.active and det.onset_t == 11.0


def test_fault_finish_closes_active_cue():
    det = FaultDetector("x", on=5, off=3, min_on_s=0.1)
    feed(det, frames(0.5, 6))
    ev = det.finish(0.5)
    assert len(ev) == 1 and ev[0].t_end_s == 0.5 and not det.active
    assert det.finish(0.6) == []


def test_fault_reset_drops_pending_run_only():
    det = FaultDetector("x", on=5, off=3, min_on_s=0.5)
    feed(det, frames(0.3, 6))
    det.reset()
    _ev, act = feed(det, frames(0.3, 6), t0=0.3)
    assert not any(act), "the pending run restarted at reset"


def test_fault_message_uses_side_and_fields():
    det = FaultDetector("knee_valgus", on=1, off=0, side="right")
    assert det.text() == "Push your right knee out over your toes"
    det = FaultDetector("wrong_view", on=1, off=0, message_fields={"view": "side-on"})
    assert det.text() == "Turn side-on to the camera"


# ---------------------------------------------------------------- HoldTimer


def run_hold(timer: HoldTimer, spans, fps: float = FPS):
    """spans: list of (seconds, in_position, good_form, reading)."""
    events, t, i = [], 0.0, 0
    for secs, pos, good, reading in spans:
        for _ in range(round(secs * fps)):
            t = i / fps
            events += timer.update(t, pos, good, reading)
            i += 1
    return events, t


def test_hold_counts_only_good_form_time_exactly():
    timer = HoldTimer(target_s=30, min_hold_s=3)
    ev, _t = run_hold(timer, [(1, False, True, True), (5, True, True, True), (2, True, False, True),
                             (5, True, True, True), (2, False, True, True)])
    assert len(ev) == 1
    e = ev[0]
    assert e.kind == "hold" and e.t_s == pytest.approx(1.0)
    assert e.value == pytest.approx(10.0, abs=1.5 / FPS)
    assert e.t_end_s == pytest.approx(13.0 - 1 / FPS)


def test_hold_pauses_and_resumes_on_fault():
    timer = HoldTimer(target_s=30)
    run_hold(timer, [(3, True, True, True)])
    g = timer.good_s
    for i in range(30):
        timer.update(3 + i / FPS, True, False)
    assert timer.paused and timer.in_hold
    assert timer.good_s == pytest.approx(g), "no time counts while the form is faulty"
    before = timer.good_s
    for i in range(30, 60):
        timer.update(3 + i / FPS, True, True)
    assert not timer.paused
    assert timer.good_s - before == pytest.approx(30 / FPS, abs=1e-9)


def test_hold_lost_pose_pauses_without_ending_or_counting():
    timer = HoldTimer(target_s=30, leave_grace_s=1.0, lost_grace_s=3.0)
    ev, _ = run_hold(timer, [(4, True, True, True), (2, True, True, False), (4, True, True, True),
                             (4, False, False, True)])
    assert len(ev) == 1, "a 2 s loss of the pose pauses the hold, it does not split it"
    assert ev[0].value == pytest.approx(8.0, abs=1.5 / FPS)


def test_hold_long_pose_loss_ends_the_hold():
    timer = HoldTimer(target_s=30, leave_grace_s=1.0, lost_grace_s=3.0)
    ev, _ = run_hold(timer, [(4, True, True, True), (5, True, True, False), (4, True, True, True),
                             (3, False, False, True)])
    assert len(ev) == 2
    assert ev[0].t_end_s == pytest.approx(4 - 1 / FPS)


def test_hold_leave_grace_keeps_hold_through_a_short_step_out():
    timer = HoldTimer(target_s=30, leave_grace_s=1.0)
    ev, _ = run_hold(timer, [(4, True, True, True), (0.5, False, True, True), (4, True, True, True),
                             (2, False, True, True)])
    assert len(ev) == 1
    ev2, _ = run_hold(HoldTimer(target_s=30, leave_grace_s=1.0),
                      [(4, True, True, True), (1.5, False, True, True), (4, True, True, True),
                       (2, False, True, True)])
    assert len(ev2) == 2


def test_hold_shorter_than_min_is_dropped():
    timer = HoldTimer(min_hold_s=3.0)
    ev, _ = run_hold(timer, [(2, True, True, True), (3, False, True, True)])
    assert ev == []


def test_hold_big_frame_gap_adds_nothing():
    timer = HoldTimer(max_step_s=0.25)
    timer.update(0.0, True, True)
    timer.update(0.1, True, True)
    timer.update(5.0, True, True)  # timestamps jumped: not 4.9 s of holding
    assert timer.good_s == pytest.approx(0.1)


def test_hold_finish_closes_open_hold_and_progress():
    timer = HoldTimer(target_s=10, min_hold_s=1)
    run_hold(timer, [(5, True, True, True)])
    assert timer.progress == pytest.approx(0.5, abs=0.01)
    ev = timer.finish(5.0)
    assert len(ev) == 1 and ev[0].value == pytest.approx(5 - 1 / FPS, abs=1e-3)
    assert timer.finish(6.0) == []


# ---------------------------------------------------------------- Counter


def test_counter_refractory():
    c = Counter(refractory_s=0.25)
    assert c.try_count(0.0)
    assert not c.try_count(0.1)
    assert not c.try_count(0.24)
    assert c.try_count(0.3)
    assert c.count == 2
    c.reset()
    assert c.count == 0 and c.try_count(0.31)


# ---------------------------------------------------------------- SetTracker


def test_set_tracker_per_side_and_rests():
    st = SetTracker(sets_per_side=3)
    st.start("left", 0.0)
    st.current.reps = 15
    st.end(20.0)
    st.start("left", 50.0)
    st.current.reps = 14
    st.start("right", 80.0)  # starting a set closes the open one
    assert st.sets_done("left") == 2 and st.remaining("left") == 1
    assert st.sets_done("right") == 0 and st.remaining("right") == 3
    st.end(100.0)
    assert st.rests_s() == [30.0, 0.0]
    lst = st.to_list()
    assert [s["side"] for s in lst] == ["left", "left", "right"]
    assert lst[0] == {"side": "left", "t_s": 0.0, "t_end_s": 20.0, "reps": 15, "hold_s": 0.0}
    assert st.end(120.0) is None


def test_set_tracker_lists_open_set():
    st = SetTracker(sets_per_side=1, sides=(None,))
    st.start(None, 1.0).figures["cadence_hops_per_min"] = 80.0
    lst = st.to_list()
    assert lst == [{"side": None, "t_s": 1.0, "t_end_s": None, "reps": 0, "hold_s": 0.0,
                    "cadence_hops_per_min": 80.0}]
