"""Drill thresholds: defaults with their reasons, presets, and TOML overrides.

Each drill declares a dataclass of thresholds built with `threshold(...)`, which keeps
the reason next to the number (shown by `formcheck drills --explain`). A TOML file may
override any key, per drill:

    preset = "gentle"          # gentle | standard | strict
    [common]
    min_on_s = 0.5
    [star-balance]
    pelvic_drop_deg = 6.0

Presets scale only the tolerances (how big a fault must be), never timing or counting:
gentle widens them by 30 %, strict narrows them by 25 %.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from formcheck.errors import InputError

PRESETS: dict[str, float] = {"gentle": 1.3, "standard": 1.0, "strict": 0.75}


def threshold(default: float, why: str, tolerance: int = 0) -> Any:
    """A configurable number with its reason.

    tolerance=+1: a fault fires above it, so the gentle preset raises it;
    tolerance=-1: a fault fires below it, so the gentle preset lowers it; 0: not scaled.
    """
    return field(default=default, metadata={"why": why, "tolerance": tolerance})


@dataclass
class DrillConfig:
    """Thresholds shared by every drill. Drill configs subclass it."""

    min_on_s: float = threshold(
        0.4, "A fault must last this long before its cue shows: shorter blips are pose jitter.")
    min_off_s: float = threshold(
        0.4, "A cue clears only after the fault has been gone this long, so it never flickers.")
    setup_min_on_s: float = threshold(
        0.7, "Set-up cues (out of frame, wrong view) wait longer: a person walking into place "
             "should not be nagged.")
    low_light_luma: float = threshold(
        35.0, "Mean frame brightness (0-255) below which landmarks get unreliable.")
    min_visibility: float = threshold(
        0.5, "Landmark visibility below which a point is treated as not seen (MediaPipe's own "
             "drawing default).")


C = TypeVar("C", bound=DrillConfig)


def explain(cfg: DrillConfig) -> list[tuple[str, Any, str]]:
    """(key, value, reason) for every threshold of a config."""
    return [(f.name, getattr(cfg, f.name), f.metadata.get("why", "")) for f in fields(cfg)]


def apply_preset(cfg: C, preset: str) -> C:
    if preset not in PRESETS:
        raise InputError(f"Unknown preset '{preset}': choose one of {', '.join(PRESETS)}")
    scale = PRESETS[preset]
    changes = {}
    for f in fields(cfg):
        tol = f.metadata.get("tolerance", 0)
        if tol:
            changes[f.name] = getattr(cfg, f.name) * (scale if tol > 0 else 1.0 / scale)
    return dataclasses.replace(cfg, **changes)


def apply_overrides(cfg: C, overrides: dict[str, Any], where: str = "config") -> C:
    known = {f.name: f for f in fields(cfg)}
    changes = {}
    for key, value in overrides.items():
        if key not in known:
            raise InputError(f"Unknown setting '{key}' in {where}")
        try:
            changes[key] = type(getattr(cfg, key))(value)
        except (TypeError, ValueError):
            raise InputError(f"Setting '{key}' in {where} must be a number, not {value!r}") from None
    return dataclasses.replace(cfg, **changes)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"Config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Config file {path} is not valid TOML: {exc}") from None


def load_config(cls: type[C], drill_id: str, path: Path | None = None,
                preset: str | None = None, overrides: dict[str, Any] | None = None) -> C:
    """Defaults, then the preset, then the TOML file's [common] and [drill] tables, then
    explicit overrides (command-line options)."""
    data = read_toml(path) if path else {}
    cfg = cls()
    cfg = apply_preset(cfg, preset or data.get("preset", "standard"))
    if isinstance(data.get("common"), dict):
        cfg = apply_overrides(cfg, data["common"], f"{path} [common]")
    if isinstance(data.get(drill_id), dict):
        cfg = apply_overrides(cfg, data[drill_id], f"{path} [{drill_id}]")
    if overrides:
        cfg = apply_overrides(cfg, overrides, "options")
    return cfg
