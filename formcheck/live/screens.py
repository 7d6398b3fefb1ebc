"""What only the live window shows, drawn over the camera picture after the shared overlay
(formcheck.render): the instruction card before a drill, the set-up countdown, the rest
countdown, "paused", the keys, and a small frames-per-second readout.

Text is drawn after any mirroring, with the same TrueType renderer and colours as the
overlay, so the live screens look like the rest of formcheck. Sizes are given at 720p and
scaled with the frame.
"""

from __future__ import annotations

import numpy as np

from formcheck.render.text import fill_rect
from formcheck.render.theme import DARK, GOOD, GREY, SETUP, TEXT, WHITE, Scale

# The timeline strip (render.timeline) sits along the bottom edge; keep clear of it.
BOTTOM_CLEAR = 46


def wrap(text: str, size: int, max_width: int, bold: bool = False) -> list[str]:
    """Greedy word wrap to max_width pixels."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        cand = f"{line} {word}".strip()
        if line and TEXT.size(cand, size, bold)[0] > max_width:
            lines.append(line)
            line = word
        else:
            line = cand
    if line:
        lines.append(line)
    return lines


def dim(scene: np.ndarray, opacity: float = 0.55) -> np.ndarray:
    """Darken the whole picture (behind a card or the rest countdown)."""
    fill_rect(scene, 0, 0, scene.shape[1], scene.shape[0], DARK, opacity)
    return scene


def _stack(scene: np.ndarray, lines: list[tuple[str, int, bool, tuple[int, int, int]]], cx: int, top: int,
           gap: int) -> int:
    y = top
    for text, size, bold, colour in lines:
        TEXT.draw(scene, text, (cx, y), size, colour, bold=bold, anchor="mt")
        y += TEXT.size(text, size, bold)[1] + gap
    return y


def draw_card(scene: np.ndarray, title: str, lines: list[str], footer: str) -> np.ndarray:
    """The instruction card: the drill and its prescription, how to stand, where the camera
    goes, and how to start."""
    s = Scale.of(scene)
    H, W = scene.shape[:2]
    dim(scene, 0.78)
    width = W - s.px(120)
    title_size = s.px(40)
    while title_size > 12 and TEXT.size(title, title_size, True)[0] > width:
        title_size = int(title_size * 0.9)
    rows = [(title, title_size, True, WHITE)]
    for line in lines:
        colour = SETUP if line.startswith("Camera:") else WHITE
        rows += [(w, s.px(26), False, colour) for w in wrap(line, s.px(26), width)]
    y = _stack(scene, rows[:1], W // 2, s.px(60), s.px(24))
    y = _stack(scene, rows[1:], W // 2, y, s.px(12))
    TEXT.draw(scene, footer, (W // 2, min(y + s.px(30), H - s.px(BOTTOM_CLEAR + 40))), s.px(26), GOOD,
              bold=True, anchor="mt")
    return scene


def draw_countdown(scene: np.ndarray, number: int, subtitle: str) -> np.ndarray:
    """The big 3, 2, 1 before a set, with what the set is."""
    s = Scale.of(scene)
    H, W = scene.shape[:2]
    text = str(number)
    size = s.px(200)
    tw, th = TEXT.size(text, size, True)
    pad = s.px(20)
    cx, cy = W // 2, int(H * 0.45)
    fill_rect(scene, cx - tw // 2 - pad, cy - th // 2 - pad, cx + tw // 2 + pad, cy + th // 2 + pad, DARK, 0.55)
    TEXT.draw(scene, text, (cx, cy), size, GOOD, bold=True, anchor="mm")
    if subtitle:
        _banner_line(scene, subtitle, cy + th // 2 + s.px(40), s.px(30))
    return scene


def draw_get_ready(scene: np.ndarray, subtitle: str) -> np.ndarray:
    """Under the set-up guidance: which set comes next."""
    s = Scale.of(scene)
    _banner_line(scene, subtitle, int(scene.shape[0] * 0.62), s.px(28))
    return scene


def draw_rest(scene: np.ndarray, seconds_left: float, done_text: str, next_text: str) -> np.ndarray:
    """Rest between sets: the countdown, what was just done and what comes next."""
    s = Scale.of(scene)
    _H, W = scene.shape[:2]
    dim(scene, 0.6)
    y = s.px(70)
    y = _stack(scene, [(done_text, s.px(30), True, GOOD)], W // 2, y, s.px(20)) if done_text else y
    y = _stack(scene, [("Rest", s.px(40), True, WHITE)], W // 2, y, s.px(6))
    secs = f"{max(0, int(np.ceil(seconds_left)))}"
    y = _stack(scene, [(secs, s.px(150), True, WHITE)], W // 2, y, s.px(16))
    _stack(scene, [(f"Next: {next_text}", s.px(28), False, WHITE),
                   ("space or s: skip the rest", s.px(22), False, GREY)], W // 2, y, s.px(10))
    return scene


def draw_message(scene: np.ndarray, title: str, lines: list[str] = ()) -> np.ndarray:
    """A plain centred message over a dimmed picture ("Paused", "Well done")."""
    s = Scale.of(scene)
    H, W = scene.shape[:2]
    dim(scene, 0.5)
    rows = [(title, s.px(56), True, WHITE)] + [(ln, s.px(26), False, WHITE) for ln in lines]
    total = sum(TEXT.size(t, sz, b)[1] for t, sz, b, _ in rows) + s.px(14) * (len(rows) - 1)
    _stack(scene, rows, W // 2, (H - total) // 2, s.px(14))
    return scene


def draw_footer(scene: np.ndarray, keys: str, readout: str | None = None) -> np.ndarray:
    """The key reminder at the bottom left, and the fps/latency readout at the bottom right."""
    s = Scale.of(scene)
    H, W = scene.shape[:2]
    y = H - s.px(BOTTOM_CLEAR)
    size = s.px(18)
    tw, th = TEXT.size(keys, size)
    pad = s.px(6)
    fill_rect(scene, s.px(10), y - th - 2 * pad, s.px(10) + tw + 2 * pad, y, DARK, 0.55)
    TEXT.draw(scene, keys, (s.px(10) + pad, y - pad), size, WHITE, anchor="lb")
    if readout:
        rw, _ = TEXT.size(readout, size)
        fill_rect(scene, W - s.px(10) - rw - 2 * pad, y - th - 2 * pad, W - s.px(10), y, DARK, 0.55)
        TEXT.draw(scene, readout, (W - s.px(10) - pad, y - pad), size, GREY, anchor="rb")
    return scene


def _banner_line(scene: np.ndarray, text: str, y: int, size: int) -> None:
    s = Scale.of(scene)
    W = scene.shape[1]
    while size > 10 and TEXT.size(text, size, True)[0] > W - s.px(40):
        size = int(size * 0.9)
    tw, th = TEXT.size(text, size, True)
    pad = s.px(10)
    fill_rect(scene, W // 2 - tw // 2 - pad, y - pad, W // 2 + tw // 2 + pad, y + th + pad, DARK, 0.65)
    TEXT.draw(scene, text, (W // 2, y), size, WHITE, bold=True, anchor="mt")
