"""Drill analysers, one module per drill, registered by id."""

from __future__ import annotations

import importlib

from formcheck.drills.base import Analyser
from formcheck.errors import InputError

# drill id -> "module:Class"; imported lazily so one drill's import cost is paid only when used.
DRILLS: dict[str, str] = {
    "star-balance": "formcheck.drills.star_balance:StarBalanceAnalyser",
    "lateral-hops": "formcheck.drills.lateral_hops:LateralHopsAnalyser",
    "soleus-stretch": "formcheck.drills.soleus_stretch:SoleusStretchAnalyser",
    "deep-squat": "formcheck.drills.deep_squat:DeepSquatAnalyser",
    "calf-roll": "formcheck.drills.calf_roll:CalfRollAnalyser",
    "ankle-abcs": "formcheck.drills.ankle_abcs:AnkleAbcsAnalyser",
}


def analyser_class(drill_id: str) -> type[Analyser]:
    if drill_id not in DRILLS:
        raise InputError(f"Unknown drill '{drill_id}': choose one of {', '.join(DRILLS)}")
    module, cls = DRILLS[drill_id].split(":")
    return getattr(importlib.import_module(module), cls)
