"""The synthetic actor: a small 3D body that performs every drill, with faults injected
at known times and sizes, seen by a camera placed anywhere, as landmarks (fast, for unit
tests) or as rendered video (for end-to-end tests, samples and accuracy benchmarks).

    from formcheck.synth import SynthSpec, Fault, landmark_clip, render_clip
    clip = landmark_clip(SynthSpec("deep-squat", faults=[Fault("heel_lift", 3, 6, 2.5)]))
    clip.frames   # list[PoseFrame]
    clip.events   # expected report events (counts, holds, faults)
    clip.truth    # per-frame true landmarks and quantities

Layout: body.py (anthropometric dimensions), kin.py (rotations, two-bone IK, forward
pass to the 33 landmarks), motion.py (keyframes, fault envelopes, postures),
scripts/<drill>.py (each drill's choreography, faults and expected events), measure.py
(true quantities), camera.py, noise.py (estimator-like jitter and dropouts), clip.py
(landmark_clip, truth JSON), render.py (video).

Truth values (clip.truth.values, one array per name, NaN where undefined), every drill:
  knee_flexion_deg_{side}, hip_flexion_deg_{side}, ankle_dorsiflexion_deg_{side},
  shank_angle_deg_{side} (forward of vertical), knee_valgus_deg_{side} (frontal-plane
  projection angle, + medial; NaN unless the hip is well above the knee),
  knee_track_deg_{side} (knee over the toes seen from above, + medial),
  heel_height_cm_{side}, toe_height_cm_{side} (soles above the floor),
  heel_lift_cm_{side} (heel above the toe while the toe is down), foot_contact_{side},
  pelvic_obliquity_deg (+ left hip up), trunk_lean_deg (+ toward the left),
  trunk_flexion_deg, hip_height_cm, hip_above_knee_cm, hips_below_knees,
  stance_width_cm, hip_width_cm.
Fault sizes are in the unit of the truth value they move (FAULTS in spec.py): knee_valgus
`size` is the valgus angle the knee reaches at the fault's peak, measured from a straight
line, not from the clean pose: knee_valgus_deg_{side} (frontal-plane projection angle:
0 = hip, knee and ankle in line seen from the front) in star balance and lateral hops,
the knee's direction inside the toes seen from above in the deep squat. Clean knees track
a few degrees outward, so the change is a little larger than `size`; a nearly straight
knee cannot cave that far (the nearest it can is kept).
Per drill: star-balance pelvic_drop_deg (+ raised side lower), knee_valgus_deg (stance
knee), raised_foot_height_cm, reach_pct; lateral-hops in_flight, stance_knee_flexion_deg,
strap_offset_cm; soleus-stretch shank_angle_deg, knee_flexion_deg, heel_lift_cm,
ankle_dorsiflexion_deg (front leg); deep-squat rock_shift_cm, knee_valgus_deg_{side} =
knee tracking; calf-roll roll_contact_frac, leg_rotation_deg, hips_lift_cm, rolling;
ankle-abcs tracing, letter_u, letter_v, foot_clearance_cm. Labels (clip.truth.labels):
stance / front_leg / rolled_leg / working_foot, phase, letter.
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
