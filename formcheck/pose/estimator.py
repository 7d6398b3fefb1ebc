"""PoseEstimator: MediaPipe Pose Landmarker (Tasks API) behind one small interface.

This is the only module in formcheck that imports mediapipe. Everything downstream sees
PoseFrames: image landmarks in pixels, world landmarks in metres, visibility, the source's
own timestamp.

- `PoseEstimator` runs the landmarker synchronously in VIDEO mode (files, image folders,
  recordings), so every frame is analysed and tracking carries over between frames.
- The webcam uses the same VIDEO mode: the live loop's PosePump (formcheck/live/loop.py)
  hands the model only the newest camera frame, dropping those that arrive while it is
  busy, so latency never grows. (MediaPipe's LIVE_STREAM mode would drop frames too, but
  hands results back on its own thread through a C callback; our own pump keeps one code
  path for files and camera, the same person selection, and errors we can re-raise.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from formcheck.errors import ModelError
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM, NUM_LANDMARKS
from formcheck.pose.models import DEFAULT_MODEL, model_label, resolve_model

log = logging.getLogger(__name__)

# Luma is measured on every LUMA_STEP-th pixel each way: a 720p frame becomes 90x160, plenty
# for a mean brightness and far cheaper than converting the whole frame.
LUMA_STEP = 8

_TORSO = (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, LM.LEFT_HIP, LM.RIGHT_HIP)


def frame_luma(image_bgr: np.ndarray) -> float:
    """Mean grey level (0..255, ITU-R BT.601 weights) of a BGR or grey frame, on a subsample."""
    small = np.asarray(image_bgr)[::LUMA_STEP, ::LUMA_STEP]
    if small.ndim == 2:
        return float(small.mean())
    b, g, r = (small[..., i].mean() for i in range(3))
    return float(0.114 * b + 0.587 * g + 0.299 * r)


# ---------------------------------------------------------------------------------------------
# Choosing the analysed person


@dataclass(frozen=True)
class Candidate:
    """One pose the model found: where it is and how big (pixels)."""

    centre: np.ndarray  # (2,)
    box: np.ndarray  # (4,) x0, y0, x1, y1 of the landmarks inside the image
    size: float  # the box's longer side

    @classmethod
    def from_image_landmarks(cls, image: np.ndarray, width: int, height: int) -> Candidate | None:
        xy = image[:, :2]
        ok = np.isfinite(xy).all(axis=1)
        if not ok.any():
            return None
        pts = np.clip(xy[ok], [0, 0], [width, height])
        box = np.array([*pts.min(axis=0), *pts.max(axis=0)])
        torso = xy[list(_TORSO)]
        torso = torso[np.isfinite(torso).all(axis=1)]
        # The torso centre moves least when arms and legs swing, so it tracks best.
        centre = torso.mean(axis=0) if len(torso) else pts.mean(axis=0)
        return cls(centre, box, float(max(box[2] - box[0], box[3] - box[1], 1.0)))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class PersonSelector:
    """Chooses one person per frame and keeps choosing the same one.

    At the start (and after the person has been gone longer than `reacquire_after_s`) the
    largest, most central person is chosen. After that, only a pose that overlaps the previous
    choice (box IoU >= `min_iou`) or whose torso centre moved less than `max_step` body sizes is
    accepted, the nearest one winning; if none qualifies the frame has nobody, rather than
    handing the analysis to the person beside them.
    """

    def __init__(self, min_iou: float = 0.3, max_step: float = 0.25, reacquire_after_s: float = 1.0):
        # 0.25 body sizes per frame: far more than a hop moves at 15 fps or more, less than
        # the gap between two people standing side by side.
        self.min_iou = min_iou
        self.max_step = max_step
        self.reacquire_after_s = reacquire_after_s
        self._last: Candidate | None = None
        self._last_t: float | None = None

    def reset(self) -> None:
        self._last, self._last_t = None, None

    def tracking(self, t_s: float) -> bool:
        """True while a person is chosen and was seen recently enough to be followed."""
        return self._last is not None and t_s - (self._last_t or 0.0) <= self.reacquire_after_s

    def _step(self, c: Candidate) -> float:
        assert self._last is not None
        return float(np.linalg.norm(c.centre - self._last.centre)) / self._last.size

    def accepts(self, c: Candidate | None, t_s: float) -> bool:
        """Whether `c` is plausibly the person being followed (without choosing it)."""
        if c is None or not self.tracking(t_s):
            return False
        assert self._last is not None
        return _iou(c.box, self._last.box) >= self.min_iou or self._step(c) <= self.max_step

    def choose(self, candidates: list[Candidate | None], width: int, height: int, t_s: float) -> int | None:
        """Index of the analysed person among `candidates`, or None."""
        valid = [(i, c) for i, c in enumerate(candidates) if c is not None]
        if not valid:
            return None
        if self._last is None:
            pick = self._largest_central(valid, width, height)
        elif not self.tracking(t_s):
            # They were away a while: take whoever is nearest where they were last seen.
            pick = min(valid, key=lambda ic: self._step(ic[1]))[0]
        else:
            ok = [(i, c) for i, c in valid if self.accepts(c, t_s)]
            if not ok:
                return None
            pick = min(ok, key=lambda ic: self._step(ic[1]))[0]
        self._last, self._last_t = candidates[pick], t_s
        return pick

    @staticmethod
    def _largest_central(valid: list[tuple[int, Candidate]], width: int, height: int) -> int:
        centre = np.array([width / 2, height / 2])
        half_diag = float(np.hypot(width, height)) / 2

        def score(c: Candidate) -> float:
            area = (c.box[2] - c.box[0]) * (c.box[3] - c.box[1]) / max(width * height, 1)
            off = float(np.linalg.norm(c.centre - centre)) / half_diag  # 0 centre .. 1 corner
            return float(area * (1.0 - 0.5 * off))

        return max(valid, key=lambda ic: score(ic[1]))[0]


# ---------------------------------------------------------------------------------------------
# The estimator


# fd 2 is one per process: captures from several threads must not interleave, or the last one
# to finish would leave stderr pointing at another's temporary file.
_STDERR_LOCK = threading.RLock()


@contextlib.contextmanager
def _native_stderr_to_log() -> Iterator[list[str]]:
    """Send what native code writes to fd 2 (LiteRT prints dozens of INFO/WARNING lines per model
    load) to our debug log instead of the runner's terminal. Yields the captured lines."""
    lines: list[str] = []
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:
            yield lines
            return
        with _capture_into(saved, lines):
            yield lines


@contextlib.contextmanager
def _capture_into(saved: int, lines: list[str]) -> Iterator[None]:
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        try:
            os.dup2(tmp.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())
            for line in lines:
                log.debug("mediapipe: %s", line)


# The model sees the person through a 256x256 crop, so a frame wider than this gains it
# nothing; shrinking a 4K frame first (a linear resize, ~5 ms) saves more than it costs in
# the colour conversion, the copies and the model's own resize (4K frames cost the lite model
# ~4.5 ms more than 720p ones, for landmarks 0.9 px apart). Landmarks are still given in the
# original frame's pixels: the model answers in fractions of the image.
MODEL_MAX_SIDE = 1280


def model_input_shape(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(height, width, 3) of the RGB image the model is given for a frame of `shape`."""
    h, w = shape[:2]
    scale = MODEL_MAX_SIDE / max(h, w, 1)
    if scale >= 1.0:
        return h, w, 3
    return max(1, round(h * scale)), max(1, round(w * scale)), 3


def to_model_input(image: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    """A decoded frame as the model's input: RGB, at most MODEL_MAX_SIDE on its long side
    (written into `dst` when given, which must have model_input_shape(image.shape))."""
    import cv2

    h, w, _ = model_input_shape(image.shape)
    if (h, w) != image.shape[:2]:
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    return to_rgb(image, dst)


def to_rgb(image: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    """A grey, BGR or BGRA uint8 frame as RGB (into `dst` when given: HxWx3 uint8)."""
    import cv2

    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {img.dtype}")
    if img.ndim == 2:
        code = cv2.COLOR_GRAY2RGB
    elif img.ndim == 3 and img.shape[2] == 4:
        code = cv2.COLOR_BGRA2RGB
    elif img.ndim == 3 and img.shape[2] == 3:
        code = cv2.COLOR_BGR2RGB
    else:
        raise ValueError(f"expected an HxW, HxWx3 or HxWx4 image, got shape {img.shape}")
    return cv2.cvtColor(img, code) if dst is None else cv2.cvtColor(img, code, dst=dst)


class PoseEstimator:
    """MediaPipe Pose Landmarker on one frame at a time.

    model: "lite", "full", "heavy" or a path to a .task bundle (see formcheck.pose.models).
    mode: "video" (tracking between frames; timestamps must increase) or "image" (every
        frame on its own, for unrelated photos).
    num_poses: how many people the model may look for; the analysed one is chosen by a
        PersonSelector (largest and most central first, then the same person throughout).
    scan_every_s: see below; 0 scans every frame.

    Why two landmarkers: asked for 2 poses, MediaPipe runs its person detector on every frame in
    which it tracks fewer than 2, which halves throughput when one runner is alone in view
    (measured on 720p: lite 80 -> 41 fps, full 57 -> 34 fps). So in video mode a 1-pose
    *follower* runs on every frame and gives the pose whenever it is the chosen person, and the
    `num_poses` *scanner* looks at the whole scene at the start (to choose the largest, most
    central person), every `scan_every_s` (to count who is in view), and, once the follower has
    latched onto someone else, on every frame for `crowd_hold_s`. Feeding the follower every
    frame keeps MediaPipe's own landmark smoothing continuous (switching landmarkers on scan
    frames alone made 10-20 px jumps on 720p).

    frame.extra["people"]: how many people the landmarker(s) run on this frame saw (frames the
    follower alone handled see at most one).
    """

    def __init__(self, model: str | Path = DEFAULT_MODEL, mode: str = "video", *, num_poses: int = 2,
                 min_detection_confidence: float = 0.5, min_presence_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, scan_every_s: float = 1.0, crowd_hold_s: float = 2.0,
                 selector: PersonSelector | None = None, quiet: bool = True) -> None:
        if mode not in ("video", "image"):
            raise ValueError(f"mode must be 'video' or 'image', not {mode!r}")
        if num_poses < 1:
            raise ValueError("num_poses must be at least 1")
        self.model_path = resolve_model(model)
        self.model_name = model_label(model)
        self.mode = mode
        self.num_poses = num_poses
        self.scan_every_s = scan_every_s
        self.crowd_hold_s = crowd_hold_s
        self.selector = selector or PersonSelector()
        self.scans = 0  # frames on which the multi-person landmarker ran (for benchmarks and tests)
        self._last_ms: int | None = None
        self._last_scan_t: float | None = None
        self._crowd_until = -np.inf
        self._quiet = quiet
        # The first inference prints a few native warnings too (input alignment, ROI projection).
        self._quiet_next_frame = quiet
        confid = (min_detection_confidence, min_presence_confidence, min_tracking_confidence)
        self._scanner = self._create(num_poses, *confid)
        self._follower = (self._create(1, *confid)
                          if mode == "video" and num_poses > 1 and scan_every_s > 0 else None)

    def _create(self, num_poses: int, det: float, pres: float, track: float):
        from mediapipe.tasks.python import BaseOptions, vision

        running = vision.RunningMode.VIDEO if self.mode == "video" else vision.RunningMode.IMAGE
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=running, num_poses=num_poses,
            min_pose_detection_confidence=det, min_pose_presence_confidence=pres,
            min_tracking_confidence=track, output_segmentation_masks=False)
        capture = _native_stderr_to_log() if self._quiet else contextlib.nullcontext([])
        try:
            with capture:
                return vision.PoseLandmarker.create_from_options(options)
        except Exception as exc:  # mediapipe raises RuntimeError/ValueError with long texts
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            fix = (f"rebuild it with `formcheck models build {self.model_name}`"
                   if self.model_name in ("lite", "full", "heavy") else "check that it is a pose landmarker .task")
            raise ModelError(f"cannot load pose model {self.model_path}: {first}; {fix}") from exc

    # -- per frame ---------------------------------------------------------------------------

    def _timestamp_ms(self, t_s: float) -> int:
        """Strictly increasing integer ms from the source's clock (MediaPipe rejects repeats)."""
        ms = round(t_s * 1000.0)
        if self._last_ms is not None and ms <= self._last_ms:
            log.debug("timestamp %.4f s repeats or goes back; bumped to %d ms", t_s, self._last_ms + 1)
            ms = self._last_ms + 1
        self._last_ms = ms
        return ms

    def process(self, image_bgr: np.ndarray, t_s: float, index: int = -1,
                luma: float | None = None) -> PoseFrame:
        """Find the analysed person in one frame. t_s is kept as given in the PoseFrame."""
        if image_bgr is None:
            raise ValueError("PoseEstimator.process needs an image")
        if luma is None:
            luma = frame_luma(image_bgr)
        height, width = image_bgr.shape[:2]
        return self.process_rgb(to_model_input(image_bgr), t_s, index, luma, (width, height))

    def process_rgb(self, image_rgb: np.ndarray, t_s: float, index: int, luma: float | None,
                    size: tuple[int, int] | None = None) -> PoseFrame:
        """process() for a frame already made the model's input (to_model_input: RGB, maybe
        shrunk); `size` is the original frame's (width, height), which the landmarks' pixels
        refer to (default: the input's own)."""
        import mediapipe as mp

        width, height = size if size is not None else (image_rgb.shape[1], image_rgb.shape[0])
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image_rgb))
        capture = _native_stderr_to_log() if self._quiet_next_frame else contextlib.nullcontext()
        with capture:
            if self.mode == "image":
                self.selector.reset()  # unrelated photos: choose afresh in each
                poses = _poses(self._scanner.detect(image), width, height)
                people, pick = len(poses), self._choose(poses, width, height, t_s)
            else:
                people, pick, poses = self._video(image, self._timestamp_ms(t_s), width, height, t_s)
        self._quiet_next_frame = False
        if pick is None:
            frame = PoseFrame.empty(t_s, width, height, index, luma)
        else:
            img, world, vis = poses[pick]
            frame = PoseFrame(t_s, img, world, vis, width, height, index, luma)
        frame.extra["people"] = people
        return frame

    def _choose(self, poses: list[_Pose], width: int, height: int, t_s: float) -> int | None:
        cands = [Candidate.from_image_landmarks(p[0], width, height) for p in poses]
        return self.selector.choose(cands, width, height, t_s)

    def _scan(self, image, ts_ms: int, width: int, height: int, t_s: float) -> list[_Pose]:
        self.scans += 1
        self._last_scan_t = t_s
        return _poses(self._scanner.detect_for_video(image, ts_ms), width, height)

    def _video(self, image, ts_ms: int, width: int, height: int,
               t_s: float) -> tuple[int, int | None, list[_Pose]]:
        follower = self._follower
        if follower is None or t_s < self._crowd_until:
            # Scanner only: one-pose mode, or the follower recently latched onto someone else.
            poses = self._scan(image, ts_ms, width, height, t_s)
            return len(poses), self._choose(poses, width, height, t_s), poses

        # The follower runs on every frame so its own smoothing stays continuous; its pose is the
        # answer whenever it is the chosen person.
        followed = _poses(follower.detect_for_video(image, ts_ms), width, height)
        due = (not self.selector.tracking(t_s) or self._last_scan_t is None
               or t_s - self._last_scan_t >= self.scan_every_s)
        scanned = self._scan(image, ts_ms, width, height, t_s) if due else None
        people = max(len(followed), len(scanned or ()))
        if followed and self.selector.accepts(
                Candidate.from_image_landmarks(followed[0][0], width, height), t_s):
            return people, self._choose(followed, width, height, t_s), followed
        if followed and self.selector.tracking(t_s):
            # It has someone else: let the scanner pick out the chosen person for a while.
            log.debug("follower pose at %.3f s is not the chosen person; scanning", t_s)
            self._crowd_until = t_s + self.crowd_hold_s
            if scanned is None:
                scanned = self._scan(image, ts_ms, width, height, t_s)
                people = max(people, len(scanned))
        if scanned is None:
            return people, None, []  # the follower found nobody: nobody is there to find
        return people, self._choose(scanned, width, height, t_s), scanned

    # -- lifetime ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the chosen person (a new clip); timestamps keep increasing as MediaPipe needs."""
        self.selector.reset()
        self._last_scan_t = None
        self._crowd_until = -np.inf

    def close(self) -> None:
        with _native_stderr_to_log() if self._quiet else contextlib.nullcontext():
            for lm in (self._scanner, self._follower):
                if lm is not None:
                    lm.close()
        self._scanner = self._follower = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# image (33, 3) pixels, world (33, 3) metres, visibility (33,)
_Pose = tuple[np.ndarray, np.ndarray, np.ndarray]


def _poses(result, width: int, height: int) -> list[_Pose]:
    """Convert a PoseLandmarkerResult to arrays: image landmarks in pixels (z scaled like x)."""
    out = []
    worlds = result.pose_world_landmarks or []
    for k, pose in enumerate(result.pose_landmarks or []):
        img = np.full((NUM_LANDMARKS, 3), np.nan)
        vis = np.zeros(NUM_LANDMARKS)
        for j, lm in enumerate(pose[:NUM_LANDMARKS]):
            img[j] = (_f(lm.x) * width, _f(lm.y) * height, _f(lm.z) * width)
            vis[j] = 0.0 if lm.visibility is None else lm.visibility
        world = np.full((NUM_LANDMARKS, 3), np.nan)
        if k < len(worlds):
            for j, lm in enumerate(worlds[k][:NUM_LANDMARKS]):
                world[j] = (_f(lm.x), _f(lm.y), _f(lm.z))
        out.append((img, world, vis))
    return out


def _f(v: float | None) -> float:
    return np.nan if v is None else float(v)
