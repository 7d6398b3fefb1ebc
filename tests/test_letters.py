"""Letter templates and the DTW letter recogniser."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from formcheck.drills.letters import (
    ALPHABET,
    LETTER_STROKES,
    LETTER_WIDTH,
    AlphabetDecoder,
    DecodeParams,
    LetterRecogniser,
    dtw_distances,
    letter_path,
    normalise,
    path_length,
    resample,
)


@pytest.fixture(scope="module")
def recogniser() -> LetterRecogniser:
    return LetterRecogniser()


def _smooth(xy: np.ndarray, k: int = 5) -> np.ndarray:
    pad = np.pad(xy, ((k // 2, k // 2), (0, 0)), mode="edge")
    ker = np.ones(k) / k
    return np.stack([np.convolve(pad[:, i], ker, "valid") for i in range(2)], axis=1)


def noisy_trace(letter: str, rng: np.random.Generator, noise: float = 0.04, lead_in: bool = True,
                size_px: float = 60.0) -> np.ndarray:
    """The letter as a foot would trace it: any size and place, a little slanted and
    stretched, an uneven pace, jitter of `noise` letter heights, smoothed like the analyser
    smooths, and usually a lead-in from where the foot was."""
    p = letter_path(letter, 30.0)
    if lead_in:
        start = rng.uniform([-0.3, -0.2], [1.0, 1.2])
        p = np.concatenate([np.linspace(start, p[0], 8)[:-1], p])
    aspect, slant = rng.uniform(0.85, 1.2), np.radians(rng.uniform(-8, 8))
    p = p @ np.array([[aspect, np.tan(slant)], [0.0, 1.0]]).T
    # uneven pace: resample on a wobbly clock
    u = np.cumsum(1.0 + 0.5 * np.sin(np.linspace(0, rng.uniform(3, 9), len(p))))
    idx = np.interp(np.linspace(u[0], u[-1], len(p)), u, np.arange(len(p)))
    p = np.stack([np.interp(idx, np.arange(len(p)), p[:, i]) for i in range(2)], axis=1)
    p = p * size_px + rng.uniform(50, 500, 2)
    p = p + rng.normal(0.0, noise * size_px, p.shape)
    return _smooth(p)


def test_every_capital_has_strokes_inside_its_box():
    assert set(LETTER_STROKES) == set(ALPHABET)
    for c, strokes in LETTER_STROKES.items():
        pts = np.concatenate(strokes)
        assert pts.shape[1] == 2 and len(strokes) >= 1
        assert pts[:, 1].min() >= -1e-9 and pts[:, 1].max() <= 1.0 + 1e-9, c
        assert pts[:, 0].min() >= -1e-9 and pts[:, 0].max() == pytest.approx(LETTER_WIDTH[c]), c
        assert 0.0 < LETTER_WIDTH[c] <= 1.0 or c == "I"


def test_letter_path_is_continuous_and_includes_the_moves_between_strokes():
    for c in ALPHABET:
        p = letter_path(c, points_per_unit=50.0)
        steps = np.linalg.norm(np.diff(p, axis=0), axis=1)
        assert steps.max() <= 1 / 50.0 + 1e-9, c  # no jumps: a foot cannot lift its pen
        assert np.allclose(p[0], LETTER_STROKES[c][0][0])
        assert np.allclose(p[-1], LETTER_STROKES[c][-1][-1])
        drawn = letter_path(c, 50.0, with_moves=False)
        assert path_length(p) >= path_length(drawn) - 1e-6
    # H's three strokes are joined by two moves through the air
    h_moves = path_length(letter_path("H")) - sum(path_length(s) for s in LETTER_STROKES["H"])
    assert h_moves == pytest.approx(np.hypot(0.7, 1.0) + np.hypot(0.7, 0.5), rel=1e-6)


def test_normalise_ignores_size_and_position_but_keeps_shape():
    p = letter_path("L")
    a, b = normalise(p), normalise(p * 37.0 + [200.0, -50.0])
    assert np.allclose(a, b, atol=1e-9)
    assert np.allclose(a.mean(axis=0), 0.0, atol=1e-9)
    assert np.sqrt((a ** 2).sum(axis=1).mean()) == pytest.approx(1.0)
    r = resample(p, 10)
    assert len(r) == 10 and np.allclose(r[0], p[0]) and np.allclose(r[-1], p[-1])


def test_dtw_is_zero_on_itself_and_batches():
    t = np.stack([normalise(letter_path(c), 32) for c in "ABC"])
    d = dtw_distances(t[1], t)
    assert d.shape == (3,) and d[1] == pytest.approx(0.0, abs=1e-6) and d[0] > 0.1 and d[2] > 0.1
    both = dtw_distances(t[:2], t)
    assert both.shape == (2, 3)
    assert np.allclose(both[1], d)


def _dtw_by_loops(q: np.ndarray, t: np.ndarray, band: int | None, w: float = 0.5) -> float:
    """The textbook DTW, cell by cell (the reference for the vectorised one)."""
    from formcheck.drills.letters import _directions

    n, m = len(q), len(t)
    dq, dt = _directions(q), _directions(t)
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if band is not None and abs((i - 1) - (j - 1) * n / m) > band:
                continue
            c = np.linalg.norm(q[i - 1] - t[j - 1]) + w * np.linalg.norm(dq[i - 1] - dt[j - 1])
            D[i, j] = c + min(D[i - 1, j - 1], D[i - 1, j], D[i, j - 1])
    return D[n, m] / n


@pytest.mark.parametrize("n, band", [(32, 8), (20, 3), (45, None), (9, 1)])
def test_dtw_matches_the_cell_by_cell_definition(n, band):
    rng = np.random.default_rng(n)
    t = np.stack([normalise(letter_path(c), 32) for c in "AMQZ"])
    q = np.stack([normalise(rng.normal(size=(n, 2)).cumsum(axis=0), n) for _ in range(2)])
    got = dtw_distances(q, t, band=band)
    want = np.array([[_dtw_by_loops(qq, tt, band) for tt in t] for qq in q])
    assert np.isinf(got).tolist() == np.isinf(want).tolist()
    fin = np.isfinite(want)
    assert np.allclose(got[fin], want[fin], atol=1e-9)


@pytest.mark.parametrize("letter", list(ALPHABET))
def test_each_template_is_recognised_from_a_noisy_trace_without_a_prior(recogniser, letter):
    rng = np.random.default_rng(ALPHABET.index(letter))
    rec = recogniser.recognise(noisy_trace(letter, rng))
    assert rec.letter == letter, f"{letter} read as {rec.letter}: {sorted(rec.scores.items(), key=lambda kv: kv[1])[:3]}"
    assert rec.best_shape == letter


def test_recognition_rate_on_harder_traces_with_the_alphabet_prior(recogniser):
    rng = np.random.default_rng(11)
    right_prior = right_alone = total = 0
    for _ in range(2):
        for c in ALPHABET:
            tr = noisy_trace(c, rng, noise=0.07)
            right_prior += recogniser.recognise(tr, expected=c).letter == c
            right_alone += recogniser.recognise(tr).letter == c
            total += 1
    assert right_prior / total >= 0.95
    assert right_alone / total >= 0.8
    assert right_prior >= right_alone


def test_the_prior_does_not_override_a_clearly_different_letter(recogniser):
    rng = np.random.default_rng(5)
    rec = recogniser.recognise(noisy_trace("M", rng), expected="C")
    assert rec.letter == "M" and not rec.as_expected and rec.expected == "C"


def test_a_mirrored_letter_is_not_itself(recogniser):
    """Seen from the front the camera shows letters mirrored: the analyser must undo that,
    the recogniser cannot (a mirrored J is not a J)."""
    for c in "JLNSZ":
        p = letter_path(c, 30.0)
        mirrored = p * [-1.0, 1.0]
        assert recogniser.recognise(p).letter == c
        assert recogniser.recognise(mirrored).letter != c


def test_degenerate_traces_do_not_crash(recogniser):
    for tr in (np.zeros((0, 2)), np.ones((5, 2)), np.array([[0, 0], [np.nan, 1.0], [1, 1]])):
        rec = recogniser.recognise(tr)
        assert rec.letter in ALPHABET


# ---------------------------------------------------------------------------- alphabet decoding


def _params() -> DecodeParams:
    from formcheck.drills.ankle_abcs import AnkleAbcsConfig

    cfg = AnkleAbcsConfig()
    return DecodeParams(**{f.name: float(getattr(cfg, f.name)) for f in dataclasses.fields(DecodeParams)})


def alphabet_trace(letters: str, rng: np.random.Generator, run_on: str = "", fps: float = 30.0,
                   noise: float = 0.04, size_px: float = 40.0) -> tuple[np.ndarray, np.ndarray, list[tuple[str, float, float]]]:
    """A foot tracing `letters` in one place as the drill asks: each at a steady pace along
    its strokes (easing in and out), a ~1 s stop after it and a quick move to the next
    one's start, except after the letters in `run_on`, which run straight into the next.
    Returns times, writer-view points (pixels, y down) and the truth spans."""
    pts: list[np.ndarray] = []
    truth = []
    t = 0.0
    pace = rng.uniform(0.7, 1.0)
    here = np.array([0.35, 0.5])
    hold = np.repeat(here[None], int(0.8 * fps), axis=0)
    pts.append(hold)
    t += len(hold) / fps
    for k, c in enumerate(letters):
        p = letter_path(c, 100.0) - [LETTER_WIDTH[c] / 2 - 0.35, 0.0]
        move = np.linspace(here, p[0], int(0.4 * fps))
        pts.append(move)
        t += len(move) / fps
        dur = pace * (1.0 + 0.8 * path_length(p))
        s = np.linspace(0.0, 1.0, int(dur * fps))
        s = 0.5 - 0.5 * np.cos(np.pi * s)  # easing in and out
        trace = resample(p, 400)
        idx = s * (len(trace) - 1)
        seg = np.stack([np.interp(idx, np.arange(len(trace)), trace[:, i]) for i in range(2)], axis=1)
        truth.append((c, t, t + len(seg) / fps))
        pts.append(seg)
        t += len(seg) / fps
        here = seg[-1]
        if c not in run_on or k == len(letters) - 1:
            hold = np.repeat(here[None], int(rng.uniform(0.9, 1.2) * fps), axis=0)
            pts.append(hold)
            t += len(hold) / fps
    xy = np.concatenate(pts) * size_px + 200.0
    xy = xy + rng.normal(0.0, noise * size_px, xy.shape)
    return np.arange(len(xy)) / fps, xy, truth


def _decoded(letters) -> str:
    return "".join(lt.rec.letter for lt in letters)


def test_decoder_splits_a_traced_alphabet_into_its_letters():
    rng = np.random.default_rng(1)
    t, xy, truth = alphabet_trace("ABCDEFGHIJ", rng)
    got = AlphabetDecoder(_params()).decode(t, xy, 40.0, final=True)
    assert _decoded(got) == "ABCDEFGHIJ"
    for lt, (c, t0, t1) in zip(got, truth, strict=True):
        # a piece starts with the quick move to the letter's first point (0.4 s here)
        assert t0 - 0.9 <= lt.t0 < t0 + 0.5 and t1 - 0.5 < lt.t1 <= t1 + 0.5, (c, lt.t0, lt.t1, t0, t1)
        assert lt.rec.as_expected


def test_decoder_splits_letters_run_together_without_a_stop():
    rng = np.random.default_rng(2)
    t, xy, _ = alphabet_trace("ABCDEFGH", rng, run_on="CF")
    assert _decoded(AlphabetDecoder(_params()).decode(t, xy, 40.0, final=True)) == "ABCDEFGH"


def test_decoder_lets_a_letter_be_missing():
    """The person skipped C: the trace is A B D E F G, read as such, not as A-F."""
    rng = np.random.default_rng(3)
    t, xy, _ = alphabet_trace("ABDEFG", rng, noise=0.02)
    assert _decoded(AlphabetDecoder(_params()).decode(t, xy, 40.0, final=True)) == "ABDEFG"


def test_a_held_foot_costs_as_no_letter_only_the_moments_it_moved():
    """Held still for 4 s the model's foot tip wanders, over the piece's moving level at
    moments from its start to its end (rendered: a third of a letter height over a 5 s
    hold). As no letter the piece costs the seconds the foot was not still, not the span
    between its first and last movement: priced as 4 s of movement a hold was cheaper
    read as a letter, and every letter after it shifted by one."""
    fps, h = 30.0, 40.0
    t = np.arange(int(5.0 * fps)) / fps
    xy = np.full((len(t), 2), 200.0)
    for t0 in (0.4, 4.4):  # two brief twitches of the reading, 0.3 letter heights
        m = (t >= t0) & (t < t0 + 0.3)
        xy[m, 0] += 0.3 * h * np.sin(np.pi * (t[m] - t0) / 0.3)
    dec = AlphabetDecoder(_params())
    sm, v = dec._speed(t, xy, h)
    seg = dec._segment(0, len(t) - 1, t, sm, v, 0.5)
    assert seg.moving_s > 3.5  # the span: first to last moment over the moving level
    assert seg.still_free_s < 1.2, seg.still_free_s


def test_decoder_keeps_a_crawling_i_seen_from_the_front():
    """From the front the foot's up-down runs along the line of sight: the image shows a
    fifth of it, so an I (one vertical stroke) crawls across the image while the other
    letters' left-right strokes do not. It is still a letter, and the ones after it are
    not shifted by one (with a piece timed over 0.35 of the tracing speed and a letter
    cost of 0.3, half of these sets lost their I or their last letter)."""
    for seed in range(8):
        rng = np.random.default_rng(seed)
        t, xy, _ = alphabet_trace("FGHIJKLM", rng, noise=0.03)
        xy[:, 1] = 200.0 + (xy[:, 1] - 200.0) * 0.2
        got = AlphabetDecoder(_params()).decode(t, xy, 40.0 * 0.2, final=True, first=ALPHABET.index("F"))
        assert _decoded(got) == "FGHIJKLM", seed


def test_decoder_live_shows_each_letter_soon_after_its_stop_and_never_one_too_many():
    rng = np.random.default_rng(4)
    t, xy, truth = alphabet_trace("ABCDEF", rng)
    dec = AlphabetDecoder(_params())
    shown: list = []
    shown_at: list[float] = []
    for end in range(60, len(t), 9):  # every 0.3 s, as the analyser does
        start = 0 if not shown else int(np.searchsorted(t, shown[-1].t1, side="right"))
        first = ALPHABET.index(shown[-1].rec.letter) + 1 if shown else 0
        new = dec.decode(t[:end], xy[:end], 40.0, first=first, start=start)
        shown += new
        shown_at += [t[end - 1]] * len(new)
        if len(shown) >= 2:
            dec.learn_pace(shown)
        finished = sum(1 for _, _, t1 in truth if t1 <= t[end - 1])
        assert len(shown) <= finished, (t[end - 1], _decoded(shown))
    assert _decoded(shown) in ("ABCDEF", "ABCDE")  # F's stop may run past the end
    for lt, at, (_, _, t1) in zip(shown, shown_at, truth, strict=False):
        assert at - t1 <= 1.2, (lt.rec.letter, at, t1)
