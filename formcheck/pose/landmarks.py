"""The 33 BlazePose landmarks, their left/right pairing and the skeleton's segments."""

from enum import IntEnum

NUM_LANDMARKS = 33


class LM(IntEnum):
    """BlazePose landmark indices. LEFT/RIGHT are the person's anatomical sides."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


def _mirror_index(i: int) -> int:
    name = LM(i).name
    if name.startswith("LEFT_"):
        return LM["RIGHT_" + name[5:]]
    if name.startswith("RIGHT_"):
        return LM["LEFT_" + name[6:]]
    if name == "MOUTH_LEFT":
        return LM.MOUTH_RIGHT
    if name == "MOUTH_RIGHT":
        return LM.MOUTH_LEFT
    return i


# MIRROR[i] is the landmark on the other side of the body (NOSE maps to itself).
MIRROR: tuple[int, ...] = tuple(_mirror_index(i) for i in range(NUM_LANDMARKS))

Side = str  # "left" | "right"
SIDES: tuple[Side, Side] = ("left", "right")


def other_side(side: Side) -> Side:
    return "right" if side == "left" else "left"


def side_lm(side: Side, part: str) -> LM:
    """side_lm("left", "HEEL") -> LM.LEFT_HEEL."""
    return LM[f"{side.upper()}_{part}"]


# Segments drawn as the skeleton, with the body region each belongs to.
SEGMENTS: tuple[tuple[LM, LM], ...] = (
    (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER),
    (LM.LEFT_HIP, LM.RIGHT_HIP),
    (LM.LEFT_SHOULDER, LM.LEFT_HIP),
    (LM.RIGHT_SHOULDER, LM.RIGHT_HIP),
    (LM.LEFT_SHOULDER, LM.LEFT_ELBOW),
    (LM.LEFT_ELBOW, LM.LEFT_WRIST),
    (LM.RIGHT_SHOULDER, LM.RIGHT_ELBOW),
    (LM.RIGHT_ELBOW, LM.RIGHT_WRIST),
    (LM.LEFT_HIP, LM.LEFT_KNEE),
    (LM.LEFT_KNEE, LM.LEFT_ANKLE),
    (LM.RIGHT_HIP, LM.RIGHT_KNEE),
    (LM.RIGHT_KNEE, LM.RIGHT_ANKLE),
    (LM.LEFT_ANKLE, LM.LEFT_HEEL),
    (LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX),
    (LM.LEFT_ANKLE, LM.LEFT_FOOT_INDEX),
    (LM.RIGHT_ANKLE, LM.RIGHT_HEEL),
    (LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX),
    (LM.RIGHT_ANKLE, LM.RIGHT_FOOT_INDEX),
)

# Body parts named in "step back so your ... are visible" messages.
BODY_PARTS: dict[str, tuple[LM, ...]] = {
    "head": (LM.NOSE, LM.LEFT_EAR, LM.RIGHT_EAR),
    "shoulders": (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER),
    "hips": (LM.LEFT_HIP, LM.RIGHT_HIP),
    "knees": (LM.LEFT_KNEE, LM.RIGHT_KNEE),
    "feet": (LM.LEFT_ANKLE, LM.RIGHT_ANKLE, LM.LEFT_HEEL, LM.RIGHT_HEEL,
             LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX),
}
