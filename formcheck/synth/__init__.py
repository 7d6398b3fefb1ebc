"""The synthetic actor: a small 3D body that performs every drill, with faults injected
at known times and sizes, seen by a camera placed anywhere, as landmarks (fast, for unit
tests) or as rendered video (for end-to-end tests, samples and accuracy benchmarks).

    from formcheck.synth import SynthSpec, Fault, landmark_clip, render_clip
    clip = landmark_clip(SynthSpec("deep-squat", faults=[Fault("heel_lift", 3, 6, 2.5)]))
    clip.frames   # list[PoseFrame]
    clip.events   # expected report events (counts, holds, faults)
    clip.truth    # per-frame true landmarks and quantities
"""

from formcheck.synth.camera import CameraSpec
from formcheck.synth.clip import SynthClip, SynthTruth, landmark_clip
from formcheck.synth.spec import FAULTS, Fault, SynthSpec, parse_fault


def render_clip(*args, **kwargs):
    """Render a clip to video (see formcheck.synth.render.render_clip)."""
    from formcheck.synth.render import render_clip as _render

    return _render(*args, **kwargs)


__all__ = ["FAULTS", "CameraSpec", "Fault", "SynthClip", "SynthSpec", "SynthTruth", "landmark_clip",
           "parse_fault", "render_clip"]
