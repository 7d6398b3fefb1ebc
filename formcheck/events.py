"""Events: what analysers emit and reports store (the `events` array of the JSON contract)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

EventKind = Literal["fault", "count", "hold", "info"]


@dataclass(frozen=True)
class Event:
    """One report event, as in SPEC.md.

    fault: a cue (t_s onset .. t_end_s cleared, value = its peak size).
    count: one hop / reach / stroke / letter at t_s.
    hold:  one hold t_s..t_end_s, value = seconds held with good form.
    info:  anything else worth a line in the timeline.
    """

    t_s: float
    code: str
    kind: EventKind
    message: str
    side: str | None = None
    t_end_s: float | None = None
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if v is not None}
        d["t_s"] = round(self.t_s, 3)
        if self.t_end_s is not None:
            d["t_end_s"] = round(self.t_end_s, 3)
        if self.value is not None:
            d["value"] = round(float(self.value), 3)
        # Key order as in SPEC.md, for readable reports.
        order = ["t_s", "t_end_s", "code", "side", "kind", "message", "value"]
        return {k: d[k] for k in order if k in d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(t_s=float(d["t_s"]), code=d["code"], kind=d["kind"],
                   message=d.get("message", ""), side=d.get("side"),
                   t_end_s=d.get("t_end_s"), value=d.get("value"))
