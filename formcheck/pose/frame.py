"""PoseFrame: the one data type that flows from the estimator to the analysers and sinks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.pose.landmarks import LM, NUM_LANDMARKS

# Below this visibility a landmark is treated as not seen (MediaPipe's own drawing default).
DEFAULT_MIN_VISIBILITY = 0.5


def _as_landmarks(a: Any) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape != (NUM_LANDMARKS, 3):
        raise ValueError(f"expected landmarks of shape (33, 3), got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class PoseFrame:
    """One timestamped pose.

    image:  (33, 3) image coordinates in pixels: x right, y down, z the model's relative
            depth scaled like x (pixels). NaN where the landmark is missing.
    world:  (33, 3) metres, origin between the hips, x toward image right, y down,
            z away from the camera (MediaPipe's world landmarks). NaN where missing.
    visibility: (33,) the model's 0..1 confidence that the landmark is visible; 0 where missing.
    t_s: seconds from the start of the source, from the source's own clock.
    luma: mean brightness of the frame (0..255), when the source measured it.
    """

    t_s: float
    image: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    width: int
    height: int
    index: int = -1
    luma: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "image", _as_landmarks(self.image))
        object.__setattr__(self, "world", _as_landmarks(self.world))
        vis = np.asarray(self.visibility, dtype=np.float64).reshape(NUM_LANDMARKS)
        object.__setattr__(self, "visibility", np.nan_to_num(vis, nan=0.0))

    @classmethod
    def empty(cls, t_s: float, width: int, height: int, index: int = -1,
              luma: float | None = None) -> PoseFrame:
        """A frame in which no person was found."""
        nan = np.full((NUM_LANDMARKS, 3), np.nan)
        return cls(t_s, nan, nan.copy(), np.zeros(NUM_LANDMARKS), width, height, index, luma)

    @property
    def detected(self) -> bool:
        """True when the estimator found a person in this frame."""
        return bool(np.isfinite(self.image[:, :2]).any())

    def seen(self, min_visibility: float = DEFAULT_MIN_VISIBILITY) -> np.ndarray:
        """(33,) bool: landmark present and visible enough to measure."""
        return np.isfinite(self.image[:, :2]).all(axis=1) & (self.visibility >= min_visibility)

    def xy(self, lm: LM | int) -> np.ndarray:
        """Image position (x, y) in pixels of one landmark (NaN when missing)."""
        return self.image[int(lm), :2]

    def scaled(self, factor: float) -> PoseFrame:
        """The same pose on the frame resized by `factor` (image landmarks and size; world
        landmarks are metres and stay)."""
        return dataclasses.replace(self, image=self.image * factor, width=max(1, round(self.width * factor)),
                                   height=max(1, round(self.height * factor)), extra=dict(self.extra))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (one line of a landmark recording). NaN becomes null."""

        def clean(a: np.ndarray) -> list:
            return [[None if not np.isfinite(v) else round(float(v), 5) for v in row] for row in a]

        d: dict[str, Any] = {
            "t_s": round(float(self.t_s), 6),
            "index": self.index,
            "width": self.width,
            "height": self.height,
            "image": clean(self.image) if self.detected else None,
            "world": clean(self.world) if self.detected else None,
            "visibility": [round(float(v), 4) for v in self.visibility] if self.detected else None,
        }
        if self.luma is not None:
            d["luma"] = round(float(self.luma), 2)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PoseFrame:
        t_s, w, h = float(d["t_s"]), int(d["width"]), int(d["height"])
        idx, luma = int(d.get("index", -1)), d.get("luma")
        if not d.get("image"):
            return cls.empty(t_s, w, h, idx, luma)

        def arr(rows: list) -> np.ndarray:
            return np.array([[np.nan if v is None else v for v in row] for row in rows], float)

        return cls(t_s, arr(d["image"]), arr(d["world"]), np.array(d["visibility"], float),
                   w, h, idx, luma)
