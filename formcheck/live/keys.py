"""The live window's keys, and what each one means.

space  pause / resume      n  next set (end this one now)
l / r  switch to the left / right side (leg or foot)
s      skip (a rest, a card, or the rest of a drill in the routine)
q, Esc quit: the session so far is saved
"""

from __future__ import annotations

from enum import Enum


class Action(Enum):
    PAUSE = "pause"  # toggles pause / resume
    NEXT_SET = "next_set"
    SIDE_LEFT = "side_left"
    SIDE_RIGHT = "side_right"
    SKIP = "skip"
    QUIT = "quit"


ESC = 27

KEYMAP: dict[int, Action] = {
    ord(" "): Action.PAUSE,
    ord("n"): Action.NEXT_SET,
    ord("l"): Action.SIDE_LEFT,
    ord("r"): Action.SIDE_RIGHT,
    ord("s"): Action.SKIP,
    ord("q"): Action.QUIT,
    ESC: Action.QUIT,
}

# The one-line reminder drawn at the bottom of the live window.
KEY_HELP = "space pause   n next set   l/r side   q quit"
ROUTINE_KEY_HELP = "space pause   n next set   s skip   q quit"


def action_for_key(code: int) -> Action | None:
    """The action of a cv2.waitKey / waitKeyEx code (-1 when no key), or None.

    Only the low byte names the key (waitKeyEx adds modifier and platform bits); letters
    work with Caps Lock or Shift too."""
    if code is None or code < 0:
        return None
    key = code & 0xFF
    if ord("A") <= key <= ord("Z"):
        key = key + 32
    return KEYMAP.get(key)
