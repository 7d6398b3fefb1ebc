"""`formcheck analyze VIDEO... --drill ID`: analyse recorded drills, write the annotated
video and the reports, and store each session in the history.

One input runs in this process with a progress bar. Several inputs (or a folder of videos)
run in a pool of processes, one per core, each writing its own outputs. With several
inputs, an output option names a folder (`--json reports/` -> `reports/<video name>.json`)
or a pattern with `{stem}` (`--html out/{stem}-report.html`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from formcheck.cli import app
from formcheck.errors import FormcheckError, InputError
from formcheck.runner import Outputs, SessionRequest, SessionRun, run_session

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".3gp"})
RECORDING_SUFFIXES = frozenset({".jsonl"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
OUTPUT_SUFFIX = {"json": ".json", "csv": ".csv", "html": ".html", "video": "-annotated.mp4"}


# ------------------------------------------------------------------------------- inputs


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given; a folder holding videos (or recordings) becomes those files, sorted by
    name; a folder of images only stays one input (an image-sequence source)."""
    out: list[Path] = []
    for p in inputs:
        if p.is_dir():
            vids = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in
                          VIDEO_SUFFIXES | RECORDING_SUFFIXES)
            if vids:
                out += vids
            elif any(f.suffix.lower() in IMAGE_SUFFIXES for f in p.iterdir()):
                out.append(p)
            else:
                raise InputError(f"No videos or images in folder {p}")
        else:
            if not p.exists():
                raise InputError(f"Video not found: {p}")
            out.append(p)
    return list(dict.fromkeys(out))


def _stems(inputs: list[Path]) -> list[str]:
    """Output names per input: the file stem, made unique when two inputs share it."""
    seen: dict[str, int] = {}
    out = []
    for p in inputs:
        stem = p.name if p.is_dir() else p.stem
        n = seen.get(stem, 0)
        seen[stem] = n + 1
        out.append(stem if n == 0 else f"{stem}-{n + 1}")
    return out


def plan_outputs(inputs: list[Path], json: Path | None, csv: Path | None, html: Path | None,
                 video: Path | None) -> list[Outputs]:
    """Output paths per input. One input: the paths as given (an existing folder or a
    {stem} pattern is filled in as for several). Several inputs: a folder or a pattern."""
    given = {"json": json, "csv": csv, "html": html, "video": video}
    plans = [Outputs() for _ in inputs]
    for kind, value in given.items():
        if value is None:
            continue
        text = str(value)
        pattern = "{stem}" in text
        if text == "-":
            if len(inputs) > 1:
                raise InputError(f"--{kind} - (standard output) takes one video, not {len(inputs)}")
            continue
        if len(inputs) == 1 and not pattern and not value.is_dir():
            plans[0] = _with(plans[0], kind, value)
            continue
        if not pattern and value.suffix and not value.is_dir():
            raise InputError(f"--{kind} {value} names one file but {len(inputs)} videos were given: "
                             f"give a folder or a name pattern with {{stem}}")
        for i, stem in enumerate(_stems(inputs)):
            path = Path(text.format(stem=stem)) if pattern else value / f"{stem}{OUTPUT_SUFFIX[kind]}"
            plans[i] = _with(plans[i], kind, path)
    for src, plan in zip(inputs, plans):
        paths = [p.resolve() for p in plan.paths()]
        if src.resolve() in paths:
            raise InputError(f"An output would overwrite the input {src}: choose another name")
        if len(set(paths)) < len(paths):
            raise InputError(f"Two outputs for {src.name} have the same name: give each its own")
    return plans


def _with(plan: Outputs, kind: str, path: Path) -> Outputs:
    setattr(plan, kind, path)
    return plan


# ------------------------------------------------------------------------------- one job


@dataclass
class JobResult:
    """What a worker sends back (picklable, small)."""

    path: str
    ok: bool
    exit_code: int = 0
    message: str = ""
    frames: int = 0
    fps: float = 0.0
    written: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None
    interrupted: bool = False


def _job(req: SessionRequest, progress=None, on_start=None) -> JobResult:
    path = str(req.source)
    try:
        run = run_session(req, progress=progress, on_start=on_start)
        return JobResult(path, True, 0, "", run.frames, run.fps, [str(p) for p in run.written],
                         run.result.to_report())
    except KeyboardInterrupt as exc:
        run = getattr(exc, "partial_run", None)
        return _failed(path, 130, "interrupted", run, interrupted=True)
    except FormcheckError as exc:
        return _failed(path, exc.exit_code, str(exc), getattr(exc, "partial_run", None))


def _failed(path: str, code: int, message: str, run: SessionRun | None, interrupted: bool = False) -> JobResult:
    if run is None:
        return JobResult(path, False, code, message, interrupted=interrupted)
    return JobResult(path, False, code, message, run.frames, run.fps, [str(p) for p in run.written],
                     run.result.to_report(), interrupted=interrupted)


# Set in each pool worker by _init_worker: a queue for progress messages to the parent.
_PROGRESS_QUEUE = None
# Set in a pool worker once Ctrl-C reached it: the jobs it still holds are not started.
_STOPPED = False


def _init_worker(q) -> None:
    global _PROGRESS_QUEUE
    _PROGRESS_QUEUE = q
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _pool_job(i: int, req: SessionRequest) -> JobResult:
    global _STOPPED
    q = _PROGRESS_QUEUE
    last = [0]
    if _STOPPED:
        return JobResult(str(req.source), False, 130, "interrupted", interrupted=True)

    def on_start(info) -> None:
        if q is not None:
            q.put((i, "start", info.frames))

    def progress(n: int, t_s: float) -> None:
        # Batch the messages: a queue put per frame would cost more than it tells.
        if q is not None and n - last[0] >= 10:
            q.put((i, "advance", n - last[0]))
            last[0] = n

    try:
        res = _job(req, progress, on_start)
    except KeyboardInterrupt:  # Ctrl-C outside the frame loop (starting up, writing)
        res = JobResult(str(req.source), False, 130, "interrupted", interrupted=True)
    _STOPPED = _STOPPED or res.interrupted
    if q is not None:
        q.put((i, "done", res.frames - last[0]))
    return res


# ------------------------------------------------------------------------------- display


class FpsColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:5.1f} fps" if speed else "  ... fps", style="cyan")


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("frames"), FpsColumn(), TimeRemainingColumn(), console=console,
                    transient=False)


def summary_tables(report: dict[str, Any]) -> list[Table]:
    """The readable summary printed for one file (and for each of several, when no output file
    was asked for)."""
    src = report["source"]
    head = Table(title=f"{report['drill']}: {Path(src.get('path') or src['kind']).name}", show_header=False)
    head.add_column("", style="bold")
    head.add_column("")
    head.add_row("length", f"{src['duration_s']:.1f} s, {src['frames']} frames at {src['fps']:.3g} fps")
    head.add_row("pose model", str(report["model"]))
    head.add_row("person found", f"{report['pose_coverage']:.0%} of frames")
    if report.get("interrupted"):
        head.add_row("note", "interrupted: partial results")
    summary = report.get("summary") or {}
    for k, v in summary.items():
        if k != "sets" and isinstance(v, (int, float, str)) and not isinstance(v, bool):
            head.add_row(k, f"{v:.3g}" if isinstance(v, float) else str(v))
    tables = [head]
    sets = summary.get("sets") or []
    if sets:
        keys: list[str] = []
        for s in sets:
            # Scalars only: nested figures (each hold of a set, say) are in the JSON and HTML.
            keys += [k for k, v in s.items() if k not in keys and k not in ("side", "t_s", "t_end_s")
                     and not isinstance(v, (list, dict))]
        t = Table(title="sets")
        if len(keys) <= 6:
            for col in ("#", "side", "from", "to", *keys):
                t.add_column(col, justify="left" if col == "side" else "right")
            for i, s in enumerate(sets, 1):
                t.add_row(str(i), str(s.get("side") or "-"), _num(s.get("t_s")), _num(s.get("t_end_s")),
                          *[_num(s.get(k)) for k in keys])
        else:  # many figures: one column per set, so the table fits a terminal
            t.add_column("")
            for i, s in enumerate(sets, 1):
                t.add_column(f"set {i}" + (f" {s['side']}" if s.get("side") else ""), justify="right")
            for k in ("t_s", "t_end_s", *keys):
                t.add_row({"t_s": "from (s)", "t_end_s": "to (s)"}.get(k, k), *[_num(s.get(k)) for s in sets])
        tables.append(t)
    faults: dict[tuple[str, str], list[float]] = {}
    for e in report.get("events") or []:
        if e["kind"] == "fault":
            faults.setdefault((e["code"], e.get("side") or "-"), []).append(e.get("value"))
    if faults:
        t = Table(title="cues given")
        for col in ("cue", "side", "times", "worst"):
            t.add_column(col, justify="right" if col in ("times", "worst") else "left")
        for (code, side), vals in sorted(faults.items()):
            nums = [v for v in vals if isinstance(v, (int, float))]
            t.add_row(code, side, str(len(vals)), _num(max(nums, key=abs)) if nums else "-")
        tables.append(t)
    return tables


def _num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    if isinstance(v, (list, dict)):
        return str(v)[:40]
    return str(v)


# ------------------------------------------------------------------------------- command


@app.command("analyze")
def analyze_command(
    inputs: Annotated[list[Path], typer.Argument(
        help="Video file(s), a folder of videos, an image folder or a .jsonl landmark recording.",
        show_default=False)],
    drill: Annotated[str, typer.Option("--drill", "-d", help="Which drill the footage shows (formcheck drills).")],
    model: Annotated[str, typer.Option("--model", "-m", help="Pose model: lite, full, heavy or a .task file.")
                     ] = "full",
    side: Annotated[str | None, typer.Option("--side", help="The working side (left/right), if not detected.")
                    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="Drill variant (formcheck drills lists them).")
                       ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file of threshold overrides.")] = None,
    preset: Annotated[str | None, typer.Option("--preset", help="gentle, standard or strict.")] = None,
    video: Annotated[Path | None, typer.Option("--video", help="Write the annotated video here (.mp4).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here ('-' = print it).")
                        ] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write one CSV row per frame here.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or 'wrote' lines.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Parallel processes for several videos "
                                                           "(0 = one per core).")] = 0,
    no_history: Annotated[bool, typer.Option("--no-history", help="Do not store the sessions in the history.")
                          ] = False,
) -> None:
    """Analyse recorded drills: counts, holds, cues, and reports.

    With no output option a summary table is printed. Several videos (or a folder of them)
    run in parallel, one process per core; each output option then names a folder
    (--json reports/ writes reports/VIDEO.json, --video writes VIDEO-annotated.mp4) or a
    pattern with {stem} (--html out/{stem}-report.html). Every finished session is also
    stored in the history (formcheck history, formcheck progress).
    """
    err = Console(stderr=True)
    files = expand_inputs(inputs)
    to_stdout = json_out is not None and str(json_out) == "-"
    plans = plan_outputs(files, json_out, csv_out, html_out, video)
    reqs = [SessionRequest(source=f, drill=drill, model=model, side=side, variant=variant, config=config,
                           preset=preset, outputs=plan, history=not no_history) for f, plan in zip(files, plans)]
    # Fail fast on a bad drill, variant, side or config, before any model loads.
    from formcheck.runner import build_analyser

    build_analyser(drill, side, variant, config, preset)

    # A bar only animates on a terminal; piped into a log it is one stale line (or, after an
    # error, a blank one before the error's line).
    show_progress = not quiet and not to_stdout and err.is_terminal
    if len(reqs) == 1:
        results = [_run_one(reqs[0], err, show_progress)]
    else:
        results = _run_pool(reqs, err, show_progress, jobs)

    any_output = to_stdout or any(p.paths() for p in plans)
    out = Console()
    for res in results:
        if to_stdout and res.report is not None:
            import json

            sys.stdout.write(json.dumps(res.report, indent=1, ensure_ascii=False) + "\n")
        elif res.report is not None and (not any_output or (len(results) == 1 and not quiet)):
            # One file: what it found, also when reports were written. Several written to files:
            # the files say it, and a table per file would scroll the errors away.
            for t in summary_tables(res.report):
                out.print(t)
        if not quiet and res.written:
            err.print(f"Wrote {', '.join(res.written)}", highlight=False)
    failed = [r for r in results if not r.ok]
    if not failed:
        return
    if any(r.interrupted for r in failed):
        saved = [w for r in failed for w in r.written]
        err.print("formcheck: interrupted" + (f"; partial results saved to {', '.join(saved)}" if saved else ""),
                  highlight=False)
        raise typer.Exit(130)
    if len(results) == 1:
        r = failed[0]
        partial = f" (partial results written: {', '.join(r.written)})" if r.written else ""
        raise _Failure(r.message + partial, r.exit_code)
    for r in failed:
        err.print(f"[bold red]formcheck:[/] {Path(r.path).name}: {r.message}", highlight=False, soft_wrap=True)
    raise typer.Exit(failed[0].exit_code)


class _Failure(FormcheckError):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.exit_code = code


def _run_one(req: SessionRequest, err: Console, show_progress: bool) -> JobResult:
    if not show_progress:
        return _job(req)
    with _progress(err) as prog:
        task = prog.add_task(Path(str(req.source)).name, total=None)

        def on_start(info) -> None:
            prog.update(task, total=info.frames or None)

        def progress(n: int, t_s: float) -> None:
            prog.update(task, completed=n)

        res = _job(req, progress, on_start)
        if res.ok:
            prog.update(task, total=res.frames or None, completed=res.frames)
        else:
            prog.remove_task(task)  # the error line says it all; a half bar adds nothing
    return res


def _run_pool(reqs: list[SessionRequest], err: Console, show_progress: bool, jobs: int) -> list[JobResult]:
    import multiprocessing as mp
    import queue as queue_mod

    workers = max(1, min(jobs or os.cpu_count() or 1, len(reqs)))
    # spawn, not fork: the parent runs rich's refresh thread, and forking a threaded process
    # can deadlock the child; each worker loads its own model anyway.
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    results: list[JobResult | None] = [None] * len(reqs)
    prog = _progress(err) if show_progress else None
    tasks: dict[int, Any] = {}
    if prog is not None:
        prog.start()
        for i, r in enumerate(reqs):
            tasks[i] = prog.add_task(Path(str(r.source)).name, total=None, start=False)

    def drain() -> None:
        while True:
            try:
                i, kind, n = q.get_nowait()
            except queue_mod.Empty:
                return
            if prog is None:
                continue
            if kind == "start":
                prog.start_task(tasks[i])
                prog.update(tasks[i], total=n or None)
            else:
                prog.advance(tasks[i], n)

    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(q,)) as pool:
            # Each worker keeps its model in-process: the cores are busy with files already.
            futures = {pool.submit(_pool_job, i, dataclasses.replace(r, model_process=False)): i
                       for i, r in enumerate(reqs)}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    drain()
                    for f in done:
                        results[futures[f]] = _result_of(f, reqs[futures[f]])
            except KeyboardInterrupt:
                # The workers got the same Ctrl-C: each saves what it measured and returns,
                # and starts none of the jobs it still holds.
                for f in pending:
                    f.cancel()
                for f, i in futures.items():
                    if results[i] is None:
                        results[i] = _result_of(f, reqs[i], interrupted=True)
        drain()
    finally:
        if prog is not None:
            prog.stop()
    return [r for r in results if r is not None]


def _result_of(future, req: SessionRequest, interrupted: bool = False) -> JobResult:
    try:
        return future.result()
    except BaseException as exc:  # noqa: BLE001 - a worker that died (killed, out of memory) or was cancelled
        msg = "interrupted" if interrupted else f"the analysis process failed: {type(exc).__name__}: {exc}"
        return JobResult(str(req.source), False, 130 if interrupted else 1, msg, interrupted=interrupted)
