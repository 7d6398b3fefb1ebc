"""Accuracy suites, one module per drill (`<drill_id with underscores>.py`), read by
benchmarks/accuracy.py. See README.md in this folder for the contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from formcheck.synth import SynthSpec


@dataclass(frozen=True)
class Case:
    """One synthetic clip of a suite.

    name: short and unique within the drill (it names the cached render).
    spec: the SynthSpec to render; its faults are the truth the cues are matched to.
    hints: keyword arguments for the analyser (e.g. {"variant": "single-leg"}); empty means
      the analyser must find the variant and side itself.
    angles: per-frame quantities (values() keys, same names as the synth truth) whose mean
      absolute error is reported, with the target for each (None = report only).
    """

    name: str
    spec: SynthSpec
    hints: dict[str, Any] = field(default_factory=dict)
    angles: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RealCase:
    """One labelled real clip (../shared/data) run through a drill's analyser.

    clip: file name in the data folder. max_counts / max_faults: the most count / fault
    events allowed (e.g. lateral hops on skipping rope: no hop crosses a line, no cue);
    expect_counts: an exact count when the clip has one for this drill.
    """

    clip: str
    note: str = ""
    max_counts: int | None = None
    max_faults: int | None = 0
    expect_counts: int | None = None
    hints: dict[str, Any] = field(default_factory=dict)
