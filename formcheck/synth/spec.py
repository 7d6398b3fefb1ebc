"""What to synthesise: the drill, its prescription, the person, the camera and the faults.

A `Fault` is named by the cue code it must trigger and sized in the unit the analysers
measure (degrees for angles, centimetres for distances...). FAULTS lists, per code, the
drills it applies to, its size's meaning and default, and the default `side`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from formcheck.errors import InputError
from formcheck.synth.camera import CameraSpec

DRILL_IDS = ("star-balance", "lateral-hops", "soleus-stretch", "deep-squat", "calf-roll", "ankle-abcs")

VARIANTS: dict[str, tuple[str, ...]] = {
    "star-balance": ("y", "star6", "star"),  # star = 8 points
    "lateral-hops": ("switch", "single-leg"),
    "soleus-stretch": (),
    "deep-squat": (),
    "calf-roll": (),
    "ankle-abcs": (),
}
DEFAULT_VARIANT = {"star-balance": "y", "lateral-hops": "switch"}

# The view each drill is filmed from by default (SPEC.md's routine table).
DEFAULT_VIEW = {"star-balance": "front", "lateral-hops": "front", "soleus-stretch": "side",
                "deep-squat": "front", "calf-roll": "side", "ankle-abcs": "front"}

# Ramp in/out of every fault: people drift into a fault over a fraction of a second.
FAULT_RAMP_S = 0.2


@dataclass(frozen=True)
class FaultInfo:
    drills: tuple[str, ...]
    unit: str  # what `size` means
    default: float | None  # None: the fault has no size
    modes: tuple[str, ...] = ()


FAULTS: dict[str, FaultInfo] = {
    "pelvic_drop": FaultInfo(("star-balance",), "deg the raised-leg hip drops", 8.0),
    "trunk_lean": FaultInfo(("star-balance",), "deg of sideways trunk lean", 15.0),
    "knee_valgus": FaultInfo(("star-balance", "lateral-hops", "deep-squat"),
                             "deg valgus the knee reaches (frontal-plane projection "
                             "angle from a straight leg; deep squat: knee inside the toes)", 15.0),
    "balance_loss": FaultInfo(("star-balance",), "raised foot touches down", None),
    "short_hop": FaultInfo(("lateral-hops",), "cm the landing foot falls short of the line", 8.0),
    "stiff_landing": FaultInfo(("lateral-hops",), "deg peak knee flexion at landing", 8.0),
    "wrong_foot": FaultInfo(("lateral-hops",), "lands on the other foot (mode 'other') or both",
                            None, ("other", "both")),
    "heel_lift": FaultInfo(("soleus-stretch", "deep-squat"), "cm the heel rises", 3.0),
    "knee_straight": FaultInfo(("soleus-stretch",), "deg the front knee straightens by", 25.0),
    "too_shallow": FaultInfo(("deep-squat",), "deg less knee flexion than a deep squat", 50.0),
    "stance_narrow": FaultInfo(("deep-squat",), "cm narrower stance (heel to heel)", 15.0),
    "too_fast": FaultInfo(("calf-roll",), "times the normal rolling speed", 3.0),
    "short_stroke": FaultInfo(("calf-roll",), "stroke length as a share of calf length", 0.25),
    "no_rotation": FaultInfo(("calf-roll",), "leg stops turning in and out", None),
    "hips_down": FaultInfo(("calf-roll",), "cm the hips sink (to the floor)", 15.0),
    "leg_moving": FaultInfo(("ankle-abcs",), "cm the ankle sways", 6.0),
    "foot_down": FaultInfo(("ankle-abcs",), "working foot rests on the floor", None),
}


@dataclass(frozen=True)
class Fault:
    """One injected fault: `code` from start_s to end_s (seconds), of `size` (None = the
    code's default). `side` None = the side the cue belongs to in this drill (the raised
    leg for pelvic_drop, the working/landing leg otherwise). `mode` for wrong_foot."""

    code: str
    start_s: float
    end_s: float
    size: float | None = None
    side: str | None = None
    mode: str | None = None

    @property
    def value(self) -> float | None:
        if self.size is not None:
            return float(self.size)
        return FAULTS[self.code].default if self.code in FAULTS else None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class SynthSpec:
    """A synthetic clip. Prescription fields left None take the drill's routine (SPEC.md).

    side: the working side: star-balance stance leg, soleus-stretch front leg, calf-roll
      rolled leg, ankle-abcs tracing foot, lateral-hops starting (take-off) foot,
      deep-squat: the side that rocks first. both_sides: do the routine on the other side
      afterwards (per-leg drills).
    duration_s: cut the clip here (None: the whole prescription).
    sets / reps / hold_s / rest_s: sets per side, reps per set (reaches are per set
      points; hops per set; letters: the alphabet prefix), hold seconds, rest between sets.
    variation: 0 = the canonical actor and tempo, 1 = the default random spread.
    """

    drill: str
    side: str = "left"
    variant: str | None = None
    faults: tuple[Fault, ...] | list[Fault] = ()
    view: str | None = None
    seed: int = 0
    fps: float = 30.0
    height_m: float = 1.75
    build: float = 1.0
    camera: CameraSpec = field(default_factory=CameraSpec)
    duration_s: float | None = None
    sets: int | None = None
    reps: int | None = None
    hold_s: float | None = None
    rest_s: float | None = None
    both_sides: bool = False
    variation: float = 1.0
    width: int = 1280
    height: int = 720

    def __post_init__(self) -> None:
        object.__setattr__(self, "faults", tuple(self.faults))
        validate(self)

    @property
    def resolved_variant(self) -> str | None:
        return self.variant or DEFAULT_VARIANT.get(self.drill)

    @property
    def resolved_view(self) -> str:
        return self.view or DEFAULT_VIEW[self.drill]

    def with_(self, **changes: Any) -> SynthSpec:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["faults"] = [f.to_dict() for f in self.faults]
        d["camera"] = self.camera.to_dict()
        d["variant"] = self.resolved_variant
        d["view"] = self.resolved_view
        return d


def validate(spec: SynthSpec) -> None:
    if spec.drill not in DRILL_IDS:
        raise InputError(f"Unknown drill '{spec.drill}': choose one of {', '.join(DRILL_IDS)}")
    if spec.side not in ("left", "right"):
        raise InputError(f"Side must be 'left' or 'right', not '{spec.side}'")
    if spec.variant is not None and spec.variant not in VARIANTS[spec.drill]:
        choices = ", ".join(VARIANTS[spec.drill]) or "none"
        raise InputError(f"Unknown variant '{spec.variant}' for {spec.drill}: choose {choices}")
    if spec.view is not None and spec.view not in ("front", "side", "oblique"):
        raise InputError(f"View must be front, side or oblique, not '{spec.view}'")
    if not 5.0 <= spec.fps <= 240.0:
        raise InputError(f"fps {spec.fps} is outside 5-240")
    if spec.duration_s is not None and spec.duration_s <= 0:
        raise InputError("Duration must be positive")
    if not 1.2 <= spec.height_m <= 2.2:
        raise InputError(f"Height {spec.height_m} m is outside 1.2-2.2 m")
    if not 0.7 <= spec.build <= 1.5:
        raise InputError(f"Build {spec.build} is outside 0.7-1.5")
    for f in spec.faults:
        info = FAULTS.get(f.code)
        if info is None:
            raise InputError(f"Unknown fault '{f.code}': choose one of {', '.join(FAULTS)}")
        if spec.drill not in info.drills:
            raise InputError(f"Fault '{f.code}' does not apply to {spec.drill} "
                             f"(it belongs to {', '.join(info.drills)})")
        if not f.end_s > f.start_s >= 0:
            raise InputError(f"Fault '{f.code}' needs 0 <= start < end, got {f.start_s}-{f.end_s}")
        if f.side is not None and f.side not in ("left", "right"):
            raise InputError(f"Fault side must be left or right, not '{f.side}'")
        if f.mode is not None and f.mode not in info.modes:
            raise InputError(f"Fault '{f.code}' has no mode '{f.mode}'")
        if f.size is not None and info.default is None:
            raise InputError(f"Fault '{f.code}' takes no size")
        if f.size is not None and f.size <= 0:
            raise InputError(f"Fault '{f.code}' size must be positive")


_FAULT_RE = re.compile(
    r"^(?P<code>[a-z_]+)@(?P<start>\d+(?:\.\d+)?)-(?P<end>\d+(?:\.\d+)?)"
    r"(?::(?P<size>[A-Za-z0-9_.]+))?(?::(?P<side>left|right))?$")


def parse_fault(text: str) -> Fault:
    """'heel_lift@3-6:2.5', 'wrong_foot@4-5:both', 'heel_lift@3-6:2:right' -> Fault."""
    m = _FAULT_RE.match(text.strip())
    if not m:
        raise InputError(f"Bad fault '{text}': write CODE@START-END[:SIZE][:SIDE], "
                         "e.g. heel_lift@3-6:2.5")
    size_txt, side = m["size"], m["side"]
    size: float | None = None
    mode: str | None = None
    if size_txt in ("left", "right") and side is None:
        side, size_txt = size_txt, None
    if size_txt is not None:
        try:
            size = float(size_txt)
        except ValueError:
            mode = size_txt
    return Fault(m["code"], float(m["start"]), float(m["end"]), size, side, mode)
