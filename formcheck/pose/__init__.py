"""Pose data and pose-side helpers: landmarks, PoseFrame, estimator, smoothing, geometry, view."""

from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM, NUM_LANDMARKS

__all__ = ["LM", "NUM_LANDMARKS", "PoseFrame"]
