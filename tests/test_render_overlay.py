"""Overlay annotators: text sprites, cue banner, counter, hold ring, trace, timeline, mirroring."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.drills.base import Cue, LiveStatus
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM
from formcheck.render.banner import CueBanner
from formcheck.render.compose import compose, mirror_frame
from formcheck.render.hud import CounterBadge, HoldRing, InfoPanel, NoReadingBadge, SetSideLabel, counter_text
from formcheck.render.text import TextRenderer, blend_mask, fill_rect
from formcheck.render.theme import FAULT, GOOD, SETUP, TRACE
from formcheck.render.timeline import TimelineStrip
from formcheck.render.trace import TraceAnnotator

H, W = 720, 1280
BG = 128


def scene() -> np.ndarray:
    return np.full((H, W, 3), BG, np.uint8)


def frame(t: float = 1.0) -> PoseFrame:
    return PoseFrame.empty(t, W, H)


def status(**kw) -> LiveStatus:
    base = {"drill": "lateral-hops", "reading": True}
    base.update(kw)
    return LiveStatus(**base)


def near(px: np.ndarray, color: tuple[int, int, int], tol: int = 40) -> bool:
    return bool(np.abs(px.astype(int) - np.array(color)).max() <= tol)


def test_text_sprites_are_antialiased_truetype_and_cached():
    tr = TextRenderer()
    a = tr.sprite("Keep your hips level", 32)
    assert a is tr.sprite("Keep your hips level", 32)
    assert a.mask.max() == 255
    # Anti-aliased TrueType edges have many intermediate coverage levels (Hershey lines do not).
    assert len(np.unique(a.mask)) > 50
    wide, _ = tr.size("Keep your hips level", 48)
    assert wide > a.width  # scales with the font size
    bold = tr.sprite("Keep your hips level", 32, bold=True)
    assert bold.mask.sum() > a.mask.sum()


def test_text_cache_is_bounded():
    tr = TextRenderer(cache_size=10)
    for i in range(50):
        tr.sprite(f"{i} s", 20)
    assert len(tr._cache) == 10


def test_blend_and_fill_clip_at_the_edges():
    s = scene()
    mask = np.full((20, 40), 255, np.uint8)
    box = blend_mask(s, mask, W - 10, -5, (0, 0, 255))
    assert box == (W - 10, 0, W, 15)
    assert (s[0:15, W - 10:] == (0, 0, 255)).all()
    assert (s[16:, :] == BG).all()
    fill_rect(s, -10, H - 5, 5, H + 10, (0, 255, 0), 0.5)
    assert near(s[H - 1, 0], (BG // 2, (BG + 255) // 2, BG // 2), 2)


def test_form_cue_is_a_red_bar_setup_cue_big_in_the_middle():
    form = CueBanner().annotate(scene(), frame(), status(cues=[Cue("heel_lift", "Keep your left heel on the floor")]))
    assert near(form[5, 5], FAULT) and near(form[5, W - 5], FAULT)
    assert (form[H // 2] == BG).all()
    setup = CueBanner().annotate(scene(), frame(), status(
        reading=False, cues=[Cue("body_not_visible", "Step back so your feet are visible")]))
    assert (setup[5] == BG).all()  # not a top bar
    mid = setup[int(H * 0.3):int(H * 0.55)]
    assert (np.abs(mid.astype(int) - SETUP).max(axis=2) < 40).sum() > 2000  # big amber words
    assert (CueBanner().annotate(scene(), frame(), status()) == BG).all()


def test_long_cue_shrinks_to_fit_a_narrow_frame():
    narrow = np.full((640, 352, 3), BG, np.uint8)
    out = CueBanner().annotate(narrow, frame(), status(cues=[Cue("heel_lift", "Keep your left heel on the floor")]))
    assert near(out[2, 2], FAULT) and near(out[2, 349], FAULT)  # text not spilling past the bar colour


def test_counter_and_set_labels():
    assert counter_text(status(count=7, count_target=15)) == "7/15"
    assert counter_text(status(count=3)) == "3"
    assert counter_text(status()) is None
    s = CounterBadge().annotate(scene(), frame(), status(count=7, count_target=15, count_label="hops"))
    assert (s != BG).any()
    grey = CounterBadge().annotate(scene(), frame(), status(reading=False, count=7, count_target=15))
    lit = CounterBadge().annotate(scene(), frame(), status(reading=True, count=7, count_target=15))
    assert lit.max() > grey.max()  # greyed without a reading
    assert (SetSideLabel().annotate(scene(), frame(), status()) == BG).all()
    assert (SetSideLabel().annotate(scene(), frame(), status(set_index=2, sets_target=3, side="left")) != BG).any()


def _ring_top(out: np.ndarray) -> np.ndarray:
    ring = HoldRing()
    r, th = ring.radius, ring.thickness  # 720p: scale 1
    cx, cy = W - 24 - r, 74 + r + th
    return out[int(cy - r), int(cx + 4)]  # just clockwise of 12 o'clock


def test_hold_ring_fills_green_and_greys_when_paused():
    running = HoldRing().annotate(scene(), frame(), status(hold_s=12.0, hold_target_s=30.0))
    assert near(_ring_top(running), GOOD)
    paused = HoldRing().annotate(scene(), frame(), status(hold_s=12.0, hold_target_s=30.0, hold_paused=True))
    px = _ring_top(paused)
    assert not near(px, GOOD) and abs(int(px[0]) - int(px[2])) < 10  # grey
    empty = HoldRing().annotate(scene(), frame(), status(hold_s=0.0, hold_target_s=30.0))
    assert not near(_ring_top(empty), GOOD)
    assert (HoldRing().annotate(scene(), frame(), status()) == BG).all()


def test_no_reading_badge_only_without_reading():
    assert (NoReadingBadge().annotate(scene(), frame(), status(reading=True)) == BG).all()
    assert (NoReadingBadge().annotate(scene(), frame(), status(reading=False)) != BG).any()
    assert (InfoPanel().annotate(scene(), frame(), status(info={"pelvic drop": "3 deg"})) != BG).any()


def test_trace_is_drawn_where_the_points_are_and_breaks_at_gaps():
    pts = np.array([[100, 300], [200, 300], [np.nan, np.nan], [300, 500], [400, 500]], float)
    out = TraceAnnotator().annotate(scene(), frame(), status(trace=pts))
    assert (out[300, 150] != BG).any() and (out[500, 350] != BG).any()
    assert (out[400, 250] == BG).all()  # no line across the gap
    assert near(out[500, 390], TRACE)  # newest part in full colour


def test_timeline_records_fault_spans_counts_and_holds():
    tl = TimelineStrip(duration_s=10.0)
    cue = Cue("heel_lift", "Keep your left heel on the floor", "left")
    for i in range(60):
        t = i / 10
        st = status(count=i // 10, hold_s=max(0.0, t - 3), hold_target_s=30,
                    cues=[cue] if 1.0 <= t < 2.0 else [])
        out = tl.annotate(scene(), frame(t), st)
    tr = tl.track
    assert tr.spans == [(1.0, 2.0, False)]
    assert tr.ticks == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0])
    assert len(tr.holds) == 1 and tr.holds[0][0] == pytest.approx(3.0) and tr.holds[0][1] == pytest.approx(5.9)
    # The fault span is drawn in red at 1..2 s of a 10 s strip.
    x = int(12 + 0.15 * (W - 24))
    col = out[H - 8 - 12, x]
    assert near(col, FAULT)


def test_a_hold_shown_to_a_tenth_of_a_second_at_30_fps_is_one_stretch_per_run():
    """The timer shown rises every third frame; a pause of a second is a gap."""
    tl = TimelineStrip(duration_s=10.0)
    good = 0.0
    for i in range(300):
        t = i / 30
        if not 4.0 <= t < 5.0:
            good += 1 / 30
        tl.record(t, status(hold_s=round(good, 1), hold_target_s=30))
    assert len(tl.track.holds) == 2
    assert tl.track.holds[0][1] == pytest.approx(4.0, abs=0.15)
    assert tl.track.holds[1][0] == pytest.approx(5.0, abs=0.15)


def test_mirrored_view_flips_the_scene_and_every_point_but_not_the_text():
    base = scene()
    base[:, :10] = (255, 0, 0)  # a blue stripe on the image's left edge
    pts = np.array([[100.0, 300.0], [200.0, 300.0]])
    out = compose(TraceAnnotator(), mirror=True).annotate(base, frame(), status(trace=pts))
    assert (out[:, W - 10:] == (255, 0, 0)).all()
    assert (out[300, W - 150] != BG).any() and (out[300, 150] == BG).all()
    # Text reads the same (not mirrored): the banner drawn on a mirrored overlay equals the plain one.
    st = status(cues=[Cue("pelvic_drop", "Keep your hips level")])
    plain = compose(CueBanner()).annotate(scene(), frame(), st)
    mirrored = compose(CueBanner(), mirror=True).annotate(scene(), frame(), st)
    assert np.array_equal(plain, mirrored)


def test_mirror_frame_keeps_anatomical_identity():
    img = np.full((33, 3), np.nan)
    img[LM.LEFT_KNEE] = [900.0, 500.0, 0.0]
    img[LM.RIGHT_KNEE] = [400.0, 500.0, 0.0]
    f = PoseFrame(1.0, img, img.copy(), np.ones(33), W, H)
    m = mirror_frame(f)
    assert m.xy(LM.LEFT_KNEE)[0] == pytest.approx(W - 900.0)
    assert m.xy(LM.RIGHT_KNEE)[0] == pytest.approx(W - 400.0)
    assert f.xy(LM.LEFT_KNEE)[0] == 900.0  # the analyser's frame is untouched
