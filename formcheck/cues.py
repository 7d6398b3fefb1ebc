"""Cue codes and the plain words a runner sees for each. One place, so the overlay, the
reports and the voice all say the same thing."""

from __future__ import annotations

# {side} is filled with "left"/"right"; {part} with a body part ("feet", "head"...).
CUE_MESSAGES: dict[str, str] = {
    # every drill
    "no_person": "Step into view of the camera",
    "body_not_visible": "Step back so your {part} are visible",
    "wrong_view": "Turn {view} to the camera",
    "low_light": "Too dark: turn on a light or face a window",
    # star balance
    "pelvic_drop": "Keep your hips level",
    "trunk_lean": "Keep your chest upright",
    "knee_valgus": "Push your {side} knee out over your toes",
    "balance_loss": "Keep the raised foot off the floor",
    # lateral hops
    "short_hop": "Hop all the way over the line",
    "stiff_landing": "Land softly: bend your knee",
    "wrong_foot": "Land on your {side} foot",
    # soleus stretch / deep squat
    "heel_lift": "Keep your {side} heel on the floor",
    "knee_straight": "Bend your front knee toward the wall",
    "too_shallow": "Sink lower: hips below knees",
    "stance_narrow": "Widen your stance a little",
    # calf roll
    "too_fast": "Roll slower",
    "short_stroke": "Roll the whole length of the calf",
    "no_rotation": "Turn your foot in and out as you roll",
    "hips_down": "Lift your hips off the floor",
    # ankle ABCs
    "leg_moving": "Keep your leg still: move only the ankle",
    "foot_down": "Keep your foot off the floor",
}

# When several cues are active the overlay shows the most important one first:
# set-up problems, then safety, then form details.
CUE_PRIORITY: tuple[str, ...] = (
    "no_person", "body_not_visible", "wrong_view", "low_light",
    "balance_loss", "wrong_foot", "foot_down", "heel_lift", "knee_valgus", "stiff_landing",
    "pelvic_drop", "too_shallow", "knee_straight", "hips_down", "short_hop", "trunk_lean",
    "stance_narrow", "leg_moving", "too_fast", "short_stroke", "no_rotation",
)

SETUP_CODES = frozenset({"no_person", "body_not_visible", "wrong_view", "low_light"})


def cue_message(code: str, side: str | None = None, **fields: str) -> str:
    template = CUE_MESSAGES.get(code, code.replace("_", " ").capitalize())
    values = {"side": side or "", "part": "body", "view": "side-on"} | fields
    return " ".join(template.format(**values).split())


def cue_rank(code: str) -> int:
    return CUE_PRIORITY.index(code) if code in CUE_PRIORITY else len(CUE_PRIORITY)
