"""The routine of SPEC.md as data: the six drills in order, each with its prescription,
which legs it works, the rest between sets, and the instruction card shown before it.

`plan(...)` turns a choice of drills into the ordered list of sets a guided session
walks through; the live routine (formcheck.live.routine) runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.errors import InputError

SIDES = ("left", "right")


@dataclass(frozen=True)
class DrillPlan:
    """One drill of the routine.

    sets: sets per leg when `sided`, else sets in all.
    reps: the count that completes a set (hops, reaches, letters), or None for a timed set.
    hold_s: the good-form time that completes a set, or None for a counted set.
    order: "alternate" (left, right, left...: each leg rests while the other works) or
           "blocked" (all sets on one leg, then the other: the set-up takes time to change).
    side_words: how a set names its leg, "{side}" filled with left/right.
    """

    drill: str
    title: str
    sets: int
    sided: bool
    rest_s: float
    views: tuple[str, ...]
    camera: str
    how: tuple[str, ...]
    reps: int | None = None
    count_label: str = ""
    hold_s: float | None = None
    order: str = "alternate"
    side_words: str = "{side} leg"

    @property
    def prescription(self) -> str:
        per = " per leg" if self.sided else ""
        if self.hold_s is not None:
            verb = "hold" if self.drill != "calf-roll" else "roll"
            return f"{verb} {self.hold_s:g} s x {self.sets}{per}"
        if self.drill == "ankle-abcs":
            return f"{self.sets} set (A-Z) per foot"
        if self.drill == "star-balance":
            return f"{self.sets} sets{per}: one reach to every point of the Y"
        return f"{self.reps} {self.count_label} x {self.sets} sets{per}"

    def card(self) -> list[str]:
        """The instruction card's lines: what to do, then where the camera goes."""
        return [f"{self.title}: {self.prescription}", *self.how, f"Camera: {self.camera}"]

    def steps(self) -> list[SetStep]:
        """Every set of this drill in the order it is done."""
        if not self.sided:
            return [SetStep(self, None, n, self.sets) for n in range(1, self.sets + 1)]
        if self.order == "blocked":
            return [SetStep(self, side, n, self.sets) for side in SIDES for n in range(1, self.sets + 1)]
        return [SetStep(self, side, n, self.sets) for n in range(1, self.sets + 1) for side in SIDES]


@dataclass(frozen=True)
class SetStep:
    drill: DrillPlan
    side: str | None
    number: int  # 1-based, counted per leg when the drill is sided
    of: int

    @property
    def label(self) -> str:
        """'Set 2 of 6 - left leg' (the overlay's set line)."""
        text = f"Set {self.number} of {self.of}"
        if self.side:
            text += " - " + self.drill.side_words.format(side=self.side)
        return text


ROUTINE: tuple[DrillPlan, ...] = (
    DrillPlan(
        "star-balance", "Star (Y) balance", sets=6, sided=True, rest_s=20.0, views=("front",),
        reps=3, count_label="reaches",
        camera="in front of you at hip height, 2-3 m away, your whole body in view",
        how=("Stand on one leg in the middle of the Y.",
             "Reach the other foot slowly toward each point, touch lightly, come back.",
             "Keep your hips level and your standing knee over your toes."),
        side_words="standing on your {side} leg"),
    DrillPlan(
        "lateral-hops", "Lateral agility hops", sets=3, sided=False, rest_s=45.0, views=("front",),
        reps=15, count_label="hops",
        camera="in front of you, 3 m away, the strap and your feet in view",
        how=("Lay a strap on the floor and stand beside it on the foot further from it.",
             "Hop sideways over the strap and land softly on the other foot.",
             "A pause of a few seconds ends the set.")),
    DrillPlan(
        "soleus-stretch", "Soleus (knee-to-wall) stretch", sets=3, sided=True, rest_s=10.0,
        views=("side",), hold_s=30.0,
        camera="to your side at knee height, 2 m away, seeing the wall and both feet",
        how=("Face a wall, one foot forward a hand's length from it.",
             "Bend the front knee to touch the wall, front heel flat on the floor.",
             "Move the foot back until the heel would just lift, and hold."),
        side_words="{side} leg forward"),
    DrillPlan(
        "deep-squat", "Deep squat ankle stretch", sets=3, sided=False, rest_s=30.0,
        views=("front", "side"), hold_s=60.0,
        camera="in front of you or to your side, 2-3 m away, your whole body in view",
        how=("Feet a little wider than your hips, toes may turn out.",
             "Sink your hips into a deep squat with both heels on the floor.",
             "Gentle rocking from side to side is fine.")),
    DrillPlan(
        "calf-roll", "Foam-roll the calf", sets=3, sided=True, rest_s=10.0, views=("side",),
        hold_s=30.0, order="blocked",
        camera="to your side at floor level, 2 m away, your legs and hips in view",
        how=("Sit with one calf on the roller, hands behind you lifting your hips.",
             "Roll slowly from ankle to knee and back, the whole length of the calf.",
             "Turn the foot in and out to reach every side of the muscle."),
        side_words="rolling your {side} calf"),
    DrillPlan(
        "ankle-abcs", "Ankle ABCs", sets=1, sided=True, rest_s=10.0, views=("front", "side"),
        reps=26, count_label="letters", order="blocked",
        camera="close and low, in front or to the side: hips, legs and feet in view",
        how=("Sit on a chair and lift one foot clear of the floor.",
             "Keep the leg still and trace the capital letters A to Z with your toes.",
             "Pause briefly between letters."),
        side_words="{side} foot"),
)

ROUTINE_BY_ID: dict[str, DrillPlan] = {d.drill: d for d in ROUTINE}


def drill_plan(drill_id: str) -> DrillPlan:
    if drill_id not in ROUTINE_BY_ID:
        raise InputError(f"Unknown drill '{drill_id}': choose one of {', '.join(ROUTINE_BY_ID)}")
    return ROUTINE_BY_ID[drill_id]


def select(drills: str | list[str] | None = None) -> list[DrillPlan]:
    """The routine's drills, or a subset ("star-balance,deep-squat"), always in routine order."""
    if not drills:
        return list(ROUTINE)
    names = drills.split(",") if isinstance(drills, str) else list(drills)
    wanted = {drill_plan(n.strip()).drill for n in names if n.strip()}
    if not wanted:
        raise InputError("--drills names no drill: give ids such as star-balance,deep-squat")
    return [d for d in ROUTINE if d.drill in wanted]


def plan(drills: str | list[str] | None = None) -> list[SetStep]:
    """Every set of the chosen drills, in the order the routine does them."""
    return [step for d in select(drills) for step in d.steps()]
