"""Overlay drawing and video output.

Every annotator is a small class with `annotate(scene_bgr, frame: PoseFrame, status) ->
scene` that draws in place (skeleton, cue banner, HUD, ABC trace, timeline); `compose`
chains them, and the live window and the annotated video use the same chain. The video
writer encodes on its own thread.
"""

from formcheck.render.banner import CueBanner
from formcheck.render.compose import Annotator, Overlay, compose, default_overlay, mirror_frame
from formcheck.render.hud import CounterBadge, HoldRing, InfoPanel, NoReadingBadge, SetSideLabel
from formcheck.render.skeleton import SkeletonAnnotator
from formcheck.render.timeline import TimelineStrip
from formcheck.render.trace import TraceAnnotator
from formcheck.render.video_writer import VideoWriter

__all__ = ["Annotator", "CounterBadge", "CueBanner", "HoldRing", "InfoPanel", "NoReadingBadge", "Overlay",
           "SetSideLabel", "SkeletonAnnotator", "TimelineStrip", "TraceAnnotator", "VideoWriter", "compose",
           "default_overlay", "mirror_frame"]
