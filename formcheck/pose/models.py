"""Where pose models live and how a model name becomes a file.

Looked for, in order:
1. the source tree's `models/` (lite and full are committed there);
2. the user model folder: `$FORMCHECK_MODELS_DIR` if set, else `$XDG_DATA_HOME/formcheck/models`
   (`~/.local/share/formcheck/models`), where `formcheck models build|fetch` put what they make.

This module does not import mediapipe: listing and resolving models is plain file work.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from formcheck.errors import ModelError

MODEL_NAMES = ("lite", "full", "heavy")
DEFAULT_MODEL = "full"

# The bundles Google serves for the Tasks API (float16 weights); `formcheck models fetch` uses them.
OFFICIAL_URLS = {
    name: ("https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
           f"pose_landmarker_{name}/float16/latest/pose_landmarker_{name}.task")
    for name in MODEL_NAMES
}


def bundle_filename(name: str) -> str:
    return f"pose_landmarker_{name}.task"


def repo_models_dir() -> Path:
    """`models/` beside the `formcheck` package (exists in a source checkout or editable install)."""
    return Path(__file__).resolve().parents[2] / "models"


def user_models_dir() -> Path:
    """The per-user model folder (may not exist yet)."""
    env = os.environ.get("FORMCHECK_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "formcheck" / "models"


def search_dirs() -> list[Path]:
    """Folders searched for named models, first match wins."""
    dirs = [repo_models_dir(), user_models_dir()]
    return list(dict.fromkeys(d.resolve() if d.exists() else d for d in dirs))


def _missing_message(name: str, dirs: list[Path]) -> str:
    where = " or ".join(str(d) for d in dirs)
    return (f"pose model '{name}' is not installed (looked in {where}); "
            f"run `formcheck models build {name}` (or `formcheck models fetch {name}` with internet)")


def resolve_model(model: str | Path, dirs: list[Path] | None = None) -> Path:
    """Turn "lite"/"full"/"heavy" or a path into an existing .task file, or raise ModelError."""
    dirs = search_dirs() if dirs is None else dirs
    text = str(model)
    if text in MODEL_NAMES:
        for folder in dirs:
            path = folder / bundle_filename(text)
            if path.is_file():
                return path
        raise ModelError(_missing_message(text, dirs))
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        raise ModelError(f"{path} is a folder; give a .task file or one of {', '.join(MODEL_NAMES)}")
    if path.suffix or os.sep in text:
        raise ModelError(f"pose model file {path} not found")
    raise ModelError(f"unknown pose model '{text}': choose {', '.join(MODEL_NAMES)} or a .task file path")


def model_label(model: str | Path) -> str:
    """Short name for reports: "lite"/"full"/"heavy", or the file name of a custom bundle."""
    text = str(model)
    if text in MODEL_NAMES:
        return text
    stem = Path(text).name
    for name in MODEL_NAMES:
        if stem == bundle_filename(name):
            return name
    return stem


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    size: int
    sha256: str
    shadowed: bool  # True when an earlier folder holds the same name (this one is not used)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def installed_models(dirs: list[Path] | None = None) -> list[InstalledModel]:
    """Every named bundle found, in search order (lite, full, heavy)."""
    dirs = search_dirs() if dirs is None else dirs
    found: list[InstalledModel] = []
    for name in MODEL_NAMES:
        seen = False
        for folder in dirs:
            path = folder / bundle_filename(name)
            if path.is_file():
                found.append(InstalledModel(name, path, path.stat().st_size, sha256_of(path), seen))
                seen = True
    return found
