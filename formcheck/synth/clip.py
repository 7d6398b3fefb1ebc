"""Landmark-only synthetic clips: a drill script, the forward pass, a camera, and the
estimator-like noise, giving PoseFrames plus the exact truth they were made from."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM
from formcheck.synth.body import BodyDims, body_dims
from formcheck.synth.camera import Camera, place_camera
from formcheck.synth.kin import Skeleton, forward
from formcheck.synth.measure import measure
from formcheck.synth.motion import Motion
from formcheck.synth.noise import dropout_mask, jitter
from formcheck.synth.spec import SynthSpec

log = logging.getLogger(__name__)

TRUTH_SCHEMA = "formcheck-synth-truth/1"
OBLIQUE_DEG = 55.0

# Usual camera set-ups: a laptop on a table sees a standing person from about hip height;
# floor drills are filmed from a phone propped on a chair or the floor.
_SCRIPTS = {
    "star-balance": "formcheck.synth.scripts.star_balance",
    "lateral-hops": "formcheck.synth.scripts.lateral_hops",
    "soleus-stretch": "formcheck.synth.scripts.soleus_stretch",
    "deep-squat": "formcheck.synth.scripts.deep_squat",
    "calf-roll": "formcheck.synth.scripts.calf_roll",
    "ankle-abcs": "formcheck.synth.scripts.ankle_abcs",
}


@dataclass
class SynthTruth:
    """Per-frame truth. image/world as the estimator would report them without error;
    scene = the same landmarks in the scene frame (metres, y up, floor y = 0); values =
    the drill's true quantities (pelvic_drop_deg, heel_lift_cm_left, ...); labels = per
    frame categories (stance foot, phase, letter...)."""

    t_s: np.ndarray
    image: np.ndarray  # (T,33,3)
    world: np.ndarray  # (T,33,3)
    scene: np.ndarray  # (T,33,3)
    values: dict[str, np.ndarray]
    labels: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.t_s)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"t_s": float(self.t_s[i]), "image": self.image[i], "world": self.world[i],
                "scene": self.scene[i], **{k: float(v[i]) for k, v in self.values.items()},
                **{k: v[i] for k, v in self.labels.items()}}


@dataclass
class SynthClip:
    spec: SynthSpec
    frames: list[PoseFrame]
    events: list[Event]
    truth: SynthTruth
    camera: Camera
    body: BodyDims
    sets: list[dict[str, Any]]
    motion: Motion = field(repr=False)
    skeleton: Skeleton = field(repr=False)

    @property
    def duration_s(self) -> float:
        return float(self.truth.t_s[-1]) if len(self.truth) else 0.0

    def events_of(self, kind: str | None = None, code: str | None = None) -> list[Event]:
        return [e for e in self.events if (kind is None or e.kind == kind) and (code is None or e.code == code)]

    def to_truth_json(self) -> dict[str, Any]:
        """The truth as JSON: spec, camera, expected events and sets, and per frame the
        2D/3D landmarks and true quantities (NaN -> null)."""

        def r(a: np.ndarray, nd: int) -> list:
            return np.round(a, nd).tolist()

        def num(v: float) -> float | None:
            return round(float(v), 4) if np.isfinite(v) else None

        frames = []
        for i in range(len(self.truth)):
            frames.append({
                "index": i, "t_s": round(float(self.truth.t_s[i]), 6),
                "image": r(self.truth.image[i], 2), "world": r(self.truth.world[i], 4),
                "values": {k: num(v[i]) for k, v in self.truth.values.items()},
                "labels": {k: v[i] for k, v in self.truth.labels.items()},
            })
        return {
            "schema": TRUTH_SCHEMA,
            "spec": self.spec.to_dict(),
            "fps": self.spec.fps,
            "width": self.camera.width, "height": self.camera.height,
            "camera": self.camera.to_dict(),
            "body": {"height_m": self.body.height, "build": self.body.build,
                     "leg_m": round(self.body.leg, 4), "shank_m": round(self.body.shank, 4),
                     "foot_m": round(self.body.foot, 4), "torso_m": round(self.body.torso, 4)},
            "events": [e.to_dict() for e in self.events],
            "sets": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in s.items()}
                     for s in self.sets],
            "frames": frames,
        }


def build_motion(spec: SynthSpec, body: BodyDims) -> Motion:
    module = importlib.import_module(_SCRIPTS[spec.drill])
    return module.build(spec, body, np.random.default_rng(spec.seed))


def _azimuth(spec: SynthSpec, working_side: str) -> float:
    if spec.camera.azimuth_deg is not None:
        return spec.camera.azimuth_deg
    s = 1.0 if working_side == "left" else -1.0
    # Oblique: far enough round that shoulders and hips read as neither front nor side.
    return {"front": 0.0, "side": 90.0 * s, "oblique": OBLIQUE_DEG * s}[spec.resolved_view]


def make_camera(spec: SynthSpec, motion: Motion, skel: Skeleton, width: int, height: int) -> Camera:
    lm = skel.landmarks
    step = max(1, len(lm) // 400)
    pts = [lm[::step].reshape(-1, 3), skel.head_top[::step]]
    extra = motion.props.get("frame_points")
    if extra is not None:
        pts.append(np.asarray(extra, float).reshape(-1, 3))
    pts_all = np.concatenate(pts)
    intent = motion.intent
    return place_camera(spec.camera, pts_all, float(intent.heading[0]), intent.pelvis[0],
                        _azimuth(spec, motion.working_side),
                        spec.camera.height_m if spec.camera.height_m is not None else motion.camera_height_m,
                        width, height)


def landmark_clip(spec: SynthSpec, noise_px: float = 0.0, dropout: float = 0.0,
                  frame_dropout: float = 0.0, width: int | None = None, height: int | None = None,
                  ) -> SynthClip:
    """The drill as PoseFrames straight from the truth (no rendering).

    noise_px: torso landmark jitter (pixels, correlated over frames; feet and hands
    more, see synth.noise); dropout: share of landmark-frames lost (NaN, visibility 0);
    frame_dropout: share of frames in which no person is found at all.
    """
    width = width or spec.width
    height = height or spec.height
    body = body_dims(spec.height_m, spec.build)
    motion = build_motion(spec, body)
    skel = forward(motion.intent, body)
    for limb, ok in skel.reached.items():
        if not ok.all():
            log.debug("%s: %s out of reach in %d frames", spec.drill, limb, int((~ok).sum()))
    values = measure(skel.landmarks, motion.intent.heading, body, skel.soles)
    values.update(motion.values)
    if motion.derive is not None:
        values.update(motion.derive(values))
    if motion.finalize is not None:
        motion.events = motion.events + motion.finalize(values)
    cam = make_camera(spec, motion, skel, width, height)
    image = cam.image_landmarks(skel.landmarks)
    world = cam.world_landmarks(skel.landmarks)
    t = motion.intent.t
    T = len(t)

    rng = np.random.default_rng([spec.seed, 7919])
    im_noisy, w_noisy = image.copy(), world.copy()
    if noise_px > 0:
        j = jitter(rng, T, noise_px, spec.fps)
        im_noisy += j
        hip_depth = cam.to_camera((skel.landmarks[:, LM.LEFT_HIP] + skel.landmarks[:, LM.RIGHT_HIP]) / 2)[:, 2]
        w_noisy += j * (hip_depth / cam.focal_px)[:, None, None]
    vis = np.ones((T, 33))
    lost = dropout_mask(rng, T, dropout, spec.fps)
    gone = rng.random(T) < frame_dropout if frame_dropout > 0 else np.zeros(T, bool)
    frames = []
    for i in range(T):
        if gone[i]:
            frames.append(PoseFrame.empty(float(t[i]), width, height, i))
            continue
        im, wd, v = im_noisy[i].copy(), w_noisy[i].copy(), vis[i].copy()
        im[lost[i]] = np.nan
        wd[lost[i]] = np.nan
        v[lost[i]] = 0.0
        frames.append(PoseFrame(float(t[i]), im, wd, v, width, height, i))

    truth = SynthTruth(t, image, world, skel.landmarks, values, motion.labels)
    events = sorted(motion.events, key=lambda e: (e.t_s, e.code))
    # Counts are complete movements: one the clip cuts short is not expected.
    events = [e for e in events if e.t_s <= t[-1]
              and not (e.kind == "count" and e.t_end_s is not None and e.t_end_s > t[-1] + 1e-9)]
    return SynthClip(spec, frames, events, truth, cam, body, motion.sets, motion, skel)
