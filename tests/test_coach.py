"""Coach: one cue at a time by priority, minimum display time, and voice pacing."""

import itertools

from formcheck.coach import Coach, CoachConfig
from formcheck.cues import cue_message
from formcheck.drills.base import Cue

HEEL = Cue("heel_lift", cue_message("heel_lift", "left"), "left")
SHALLOW = Cue("too_shallow", cue_message("too_shallow"))
FEET = Cue("body_not_visible", "Step back so your feet are visible")
CFG = CoachConfig(min_display_s=1.5, speak_after_s=1.0, repeat_s=10.0, voice_gap_s=3.0)


def run(coach, script, dt=0.1, t0=0.0):
    """script: list of (duration_s, cues). Returns [(t, shown_code, said)]."""
    out, i = [], 0
    for duration, cues in script:
        for _ in range(round(duration / dt)):
            t = round(t0 + i * dt, 6)
            o = coach.update(t, cues)
            out.append((round(t, 2), o.cue.code if o.cue else None, o.say))
            i += 1
    return out


def test_nothing_active_shows_nothing():
    out = run(Coach(CFG), [(2.0, [])])
    assert all(code is None and said is None for _, code, said in out)


def test_most_important_cue_shown_alone():
    o = Coach(CFG).update(0.0, [SHALLOW, HEEL])  # heel_lift ranks above too_shallow
    assert o.cue == HEEL
    assert [c.code for c in o.active] == ["heel_lift", "too_shallow"]


def test_cue_stays_up_for_min_display_after_it_clears():
    out = run(Coach(CFG), [(0.5, [HEEL]), (2.0, [])])
    shown = [t for t, code, _ in out if code == "heel_lift"]
    # Shown from 0.0 and held until 1.5 s after it appeared, although it cleared at 0.5 s.
    assert shown[0] == 0.0 and 1.4 <= shown[-1] < 1.6


def test_persistent_cue_stays_as_long_as_the_fault():
    out = run(Coach(CFG), [(5.0, [HEEL]), (2.0, [])])
    assert all(code == "heel_lift" for t, code, _ in out if t < 5.0)
    assert out[-1][1] is None


def test_more_important_cue_waits_for_min_display_then_replaces():
    out = run(Coach(CFG), [(0.5, [SHALLOW]), (3.0, [SHALLOW, HEEL])])
    switch = next(t for t, code, _ in out if code == "heel_lift")
    assert 1.4 <= switch <= 1.6  # not before SHALLOW had its 1.5 s


def test_setup_cue_replaces_form_cue_at_once():
    out = run(Coach(CFG), [(0.5, [HEEL]), (1.0, [FEET, HEEL])])
    assert next(t for t, code, _ in out if code == "body_not_visible") == 0.5


def test_less_important_cue_does_not_replace_while_current_persists():
    out = run(Coach(CFG), [(1.0, [HEEL]), (4.0, [HEEL, SHALLOW])])
    assert {code for _, code, _ in out} == {"heel_lift"}


def test_message_words_follow_the_analyser():
    coach = Coach(CFG)
    coach.update(0.0, [FEET])
    head = Cue("body_not_visible", "Step back so your head is visible")
    assert coach.update(0.1, [head]).cue.message == head.message


def test_spoken_only_when_persisting_and_not_repeated():
    out = run(Coach(CFG), [(30.0, [HEEL])])
    said = [t for t, _, s in out if s]
    assert said[0] == 1.0  # after speak_after_s on screen
    assert all(b - a >= 10.0 - 1e-9 for a, b in itertools.pairwise(said))  # repeat_s
    assert len(said) == 3  # 1, 11, 21


def test_brief_fault_is_never_spoken():
    out = run(Coach(CFG), [(0.8, [HEEL]), (3.0, [])])
    assert not any(s for _, _, s in out)


def test_no_two_utterances_within_the_voice_gap():
    coach = Coach(CFG)
    out = run(coach, [(1.2, [SHALLOW]), (1.6, []), (4.0, [HEEL])])
    said = [(t, s) for t, _, s in out if s]
    assert said[0] == (1.0, SHALLOW.message)
    assert said[1][1] == HEEL.message and said[1][0] - said[0][0] >= 3.0


def test_reset_clears_the_shown_cue_but_remembers_what_was_said():
    coach = Coach(CFG)
    run(coach, [(1.2, [HEEL])])
    coach.reset()
    out = run(coach, [(2.0, [HEEL])], t0=1.2)
    assert out[0][1] == "heel_lift"
    assert not any(s for _, _, s in out)  # spoken at 1.0 s; not again within repeat_s
