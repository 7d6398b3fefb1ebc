"""TrueType text on BGR frames: DejaVu Sans (shipped with matplotlib) rasterised by Pillow.

This OpenCV build has no cv2.freetype, and OpenCV's Hershey fonts are hard to read, so text
is rasterised once into an 8-bit coverage mask (a "sprite") and alpha-blended onto the
frame. Sprites are cached by (text, size, weight): an overlay redraws the same few strings
every frame ("hops 7/15", the cue banner), so after the first frame drawing text costs a
numpy blend of a small rectangle (measured ~0.2 ms to rasterise a 30-character line at
36 px, ~0.02 ms to blend it).
"""

from __future__ import annotations

import importlib.util
import os
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import ImageFont


def _matplotlib_font_dir() -> str:
    # Found without importing matplotlib (~0.4 s): the live window should start fast.
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("matplotlib is not installed: formcheck draws text with its DejaVu Sans font")
    return os.path.join(next(iter(spec.submodule_search_locations)), "mpl-data", "fonts", "ttf")


_FONT_DIR = _matplotlib_font_dir()
FONT_REGULAR = os.path.join(_FONT_DIR, "DejaVuSans.ttf")
FONT_BOLD = os.path.join(_FONT_DIR, "DejaVuSans-Bold.ttf")

# Enough for every string an overlay shows over a long session (timers change each
# tenth of a second, so the cache holds a few minutes of them) without growing forever.
_CACHE_SIZE = 2048


@dataclass(frozen=True)
class Sprite:
    """A rasterised line of text: coverage mask (h, w) uint8 and the baseline offset."""

    mask: np.ndarray
    ascent: int  # pixels from the sprite's top to the baseline

    @property
    def width(self) -> int:
        return int(self.mask.shape[1])

    @property
    def height(self) -> int:
        return int(self.mask.shape[0])


# The overlay measures the same few strings every frame (fitting panel lines is a binary
# search over their prefixes): FreeType's layout of each costs ~0.1 ms.
@lru_cache(maxsize=4096)
def _advance(text: str, size: int, bold: bool) -> float:
    return float(_font(size, bold).getlength(text))


@lru_cache(maxsize=16)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_BOLD if bold else FONT_REGULAR, size)


class TextRenderer:
    """Rasterises and caches text sprites; blends them onto frames."""

    def __init__(self, cache_size: int = _CACHE_SIZE):
        self._cache: OrderedDict[tuple[str, int, bool], Sprite] = OrderedDict()
        self._cache_size = cache_size

    def sprite(self, text: str, size: int, bold: bool = False) -> Sprite:
        key = (text, max(6, int(size)), bool(bold))
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        font = _font(key[1], key[2])
        ascent, descent = font.getmetrics()
        # The mask of getmask2 starts at the text's ink offset; place it on a canvas of the
        # font's full line height so that every string of one size shares a baseline.
        core, (ox, oy) = font.getmask2(text, mode="L")
        # A glyph may start left of the pen (negative bearing: a regular "T" at many sizes);
        # start its ink at the canvas edge rather than slicing from a negative index.
        ox, oy = max(0, ox), max(0, oy)
        w = max(1, ox + core.size[0])
        canvas = np.zeros((ascent + descent, w), np.uint8)
        if core.size[0] and core.size[1]:
            ink = np.asarray(core, dtype=np.uint8).reshape(core.size[1], core.size[0])
            h = min(ink.shape[0], canvas.shape[0] - oy)
            canvas[oy:oy + h, ox:ox + ink.shape[1]] = ink[:h]
        sp = Sprite(canvas, ascent)
        self._cache[key] = sp
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return sp

    def measure(self, text: str, size: int, bold: bool = False) -> float:
        """Advance width in pixels, without rasterising a sprite."""
        return _advance(text, max(6, int(size)), bool(bold))

    def fit(self, text: str, size: int, max_width: int, bold: bool = False) -> str:
        """The text, cut with an ellipsis if wider than max_width pixels."""
        if self.measure(text, size, bold) <= max_width:
            return text
        lo, hi = 0, len(text)
        while lo < hi:  # the longest prefix that fits with its ellipsis
            mid = (lo + hi + 1) // 2
            if self.measure(text[:mid].rstrip() + "…", size, bold) <= max_width:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo].rstrip() + "…"

    def wrap(self, text: str, size: int, max_width: int, bold: bool = False, max_lines: int = 2) -> list[str]:
        """Split text at spaces into lines no wider than max_width (the last one cut if needed)."""
        lines: list[str] = []
        words = text.split()
        while words and len(lines) < max_lines - 1:
            line = words.pop(0)
            while words and self.measure(f"{line} {words[0]}", size, bold) <= max_width:
                line += " " + words.pop(0)
            lines.append(line)
        if words:
            lines.append(self.fit(" ".join(words), size, max_width, bold))
        return lines

    def size(self, text: str, size: int, bold: bool = False) -> tuple[int, int]:
        sp = self.sprite(text, size, bold)
        return sp.width, sp.height

    def draw(self, scene: np.ndarray, text: str, org: tuple[int, int], size: int,
             color: tuple[int, int, int], bold: bool = False, anchor: str = "lt",
             opacity: float = 1.0) -> tuple[int, int, int, int]:
        """Draw text at org (x, y). anchor: two letters, horizontal l/m/r then vertical
        t (top)/m (middle)/b (bottom). Returns the drawn box (x0, y0, x1, y1), clipped."""
        sp = self.sprite(text, size, bold)
        x, y = int(org[0]), int(org[1])
        if anchor[0] == "m":
            x -= sp.width // 2
        elif anchor[0] == "r":
            x -= sp.width
        if anchor[1] == "m":
            y -= sp.height // 2
        elif anchor[1] == "b":
            y -= sp.height
        return blend_mask(scene, sp.mask, x, y, color, opacity)


def _solid(shape: tuple[int, ...], color: tuple[int, int, int]) -> np.ndarray:
    # cv2.rectangle fills ~50x faster than numpy's broadcast assignment of a colour.
    solid = np.empty(shape, np.uint8)
    cv2.rectangle(solid, (0, 0), (shape[1], shape[0]), tuple(int(c) for c in color), -1)
    return solid


def blend_mask(scene: np.ndarray, mask: np.ndarray, x: int, y: int,
               color: tuple[int, int, int], opacity: float = 1.0) -> tuple[int, int, int, int]:
    """Alpha-blend a solid colour through an 8-bit coverage mask at (x, y), in place."""
    H, W = scene.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + mask.shape[1]), min(H, y + mask.shape[0])
    if x1 <= x0 or y1 <= y0:
        return (x0, y0, x0, y0)
    m = mask[y0 - y:y1 - y, x0 - x:x1 - x]
    roi = scene[y0:y1, x0:x1]
    w_text = m.astype(np.float32) * np.float32(opacity / 255.0)
    cv2.blendLinear(roi, _solid(roi.shape, color), 1.0 - w_text, w_text, dst=roi)
    return (x0, y0, x1, y1)


def fill_rect(scene: np.ndarray, x0: int, y0: int, x1: int, y1: int,
              color: tuple[int, int, int], opacity: float = 1.0) -> None:
    """Fill a rectangle, translucent when opacity < 1 (panels behind text), in place."""
    H, W = scene.shape[:2]
    x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(W, int(x1)), min(H, int(y1))
    if x1 <= x0 or y1 <= y0:
        return
    roi = scene[y0:y1, x0:x1]
    if opacity >= 1.0:
        cv2.rectangle(roi, (0, 0), (x1 - x0, y1 - y0), tuple(int(c) for c in color), -1)
        return
    cv2.addWeighted(roi, 1.0 - opacity, _solid(roi.shape, color), opacity, 0.0, dst=roi)
