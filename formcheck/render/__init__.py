"""Overlay drawing and video output.

Every annotator is a small class with `annotate(scene_bgr, frame: PoseFrame, status) ->
scene` that draws in place (skeleton, cue banner, HUD, ABC trace, timeline); `compose`
chains them, and the live window and the annotated video use the same chain. The video
writer encodes on its own thread.
"""

from formcheck.render.skeleton import SkeletonAnnotator
from formcheck.render.video_writer import VideoWriter

__all__ = ["SkeletonAnnotator", "VideoWriter"]
