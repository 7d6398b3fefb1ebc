"""A noise model for landmark-only clips that behaves like the pose estimator's output.

MediaPipe's landmarks jitter by a few pixels from frame to frame, more at the feet and
hands (small, fast, often blurred) than at the shoulders and hips; the jitter is not
white but drifts over a few frames (the model's own temporal filtering); and now and
then a landmark is lost for a short run of frames (occlusion, blur). This reproduces
those three properties; `noise_px` is the torso landmarks' standard deviation at the
clip's resolution.
"""

from __future__ import annotations

import numpy as np

from formcheck.pose.landmarks import LM, NUM_LANDMARKS

# Jitter relative to the torso landmarks, per landmark.
_SCALE = np.ones(NUM_LANDMARKS)
_SCALE[[LM.NOSE, LM.LEFT_EYE, LM.RIGHT_EYE, LM.LEFT_EYE_INNER, LM.RIGHT_EYE_INNER,
        LM.LEFT_EYE_OUTER, LM.RIGHT_EYE_OUTER, LM.MOUTH_LEFT, LM.MOUTH_RIGHT]] = 0.7
_SCALE[[LM.LEFT_KNEE, LM.RIGHT_KNEE, LM.LEFT_ELBOW, LM.RIGHT_ELBOW]] = 1.2
_SCALE[[LM.LEFT_ANKLE, LM.RIGHT_ANKLE]] = 1.4
_SCALE[[LM.LEFT_WRIST, LM.RIGHT_WRIST]] = 1.6
_SCALE[[LM.LEFT_HEEL, LM.RIGHT_HEEL, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX]] = 1.8
_SCALE[[LM.LEFT_PINKY, LM.RIGHT_PINKY, LM.LEFT_INDEX, LM.RIGHT_INDEX,
        LM.LEFT_THUMB, LM.RIGHT_THUMB]] = 2.0
NOISE_SCALE = _SCALE

# Frame-to-frame correlation of the jitter (AR(1) coefficient at 30 fps).
CORRELATION_30FPS = 0.6
# Mean length of a dropout run, in frames at 30 fps.
DROPOUT_RUN = 3.0


def jitter(rng: np.random.Generator, T: int, noise_px: float, fps: float) -> np.ndarray:
    """(T,33,3) correlated gaussian jitter in pixels (z gets the same scale as x)."""
    if noise_px <= 0 or T == 0:
        return np.zeros((T, NUM_LANDMARKS, 3))
    rho = CORRELATION_30FPS ** (30.0 / fps)
    e = rng.standard_normal((T, NUM_LANDMARKS, 3))
    out = np.empty_like(e)
    out[0] = e[0]
    k = np.sqrt(1 - rho * rho)
    for i in range(1, T):
        out[i] = rho * out[i - 1] + k * e[i]
    out *= noise_px * NOISE_SCALE[None, :, None]
    out[..., 2] *= 2.0  # the model's depth is its least certain output
    return out


def dropout_mask(rng: np.random.Generator, T: int, rate: float, fps: float) -> np.ndarray:
    """(T,33) bool, True where a landmark is lost. `rate` is the share of landmark-frames
    lost, in runs of about DROPOUT_RUN frames; feet and hands are lost more often."""
    mask = np.zeros((T, NUM_LANDMARKS), bool)
    if rate <= 0 or T == 0:
        return mask
    run = max(1.0, DROPOUT_RUN * fps / 30.0)
    weight = NOISE_SCALE / NOISE_SCALE.mean()
    p_start = np.clip(rate * weight / run, 0, 1)
    starts = rng.random((T, NUM_LANDMARKS)) < p_start[None, :]
    lengths = rng.geometric(1.0 / run, size=(T, NUM_LANDMARKS))
    for i, j in zip(*np.nonzero(starts), strict=True):
        mask[i:i + lengths[i, j], j] = True
    return mask
