"""The session history: every finished session (file or live) in a local SQLite database,
with its summary figures and events, so progress can be followed over weeks.

Where: `$FORMCHECK_DATA_DIR/history.db` if that is set, else
`$XDG_DATA_HOME/formcheck/history.db` (`~/.local/share/formcheck/history.db`).

Each session is written in ONE transaction (session row, its metrics, sets and events):
a process killed mid-write leaves either the whole session or nothing (SQLite's journal
rolls a half-written transaction back the next time the file is opened). A database that
is not readable raises HistoryError with a one-line message, never a traceback.

Metrics are the summary's numbers flattened to (name, side, value) rows, so that
`formcheck progress NAME` can follow any of them:
- every numeric leaf of the summary (except the per-set list), named by its key path
  (`contact_time_ms`, `reach.max_pct`); a "left"/"right" key in the path becomes the side;
- per side from the sets: `sets` (how many), `reps` and `hold_s` (totals), and every other
  numeric set figure averaged over that side's sets (`max_dorsiflexion_deg`);
- from the events: `faults.CODE` (how many cues of that code per side) and `peak.CODE`
  (the worst value any of them reached, e.g. `peak.pelvic_drop` in degrees).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from formcheck.errors import FormcheckError
from formcheck.events import Event
from formcheck.report.session import SessionResult

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SIDES = ("left", "right")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,          -- ISO 8601 UTC, when the session ended
    drill TEXT NOT NULL,
    source_kind TEXT, source_path TEXT,
    model TEXT,
    duration_s REAL, pose_coverage REAL,
    interrupted INTEGER NOT NULL DEFAULT 0,
    n_events INTEGER NOT NULL,          -- how many rows `events` must hold for it
    report TEXT NOT NULL                -- the full JSON report
);
CREATE TABLE IF NOT EXISTS metrics (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL, side TEXT, value REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL, t_end_s REAL, code TEXT NOT NULL, side TEXT, kind TEXT NOT NULL,
    message TEXT, value REAL
);
CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(name, side);
CREATE INDEX IF NOT EXISTS events_by_session ON events(session_id);
"""


class HistoryError(FormcheckError):
    """The history database cannot be read or written."""

    exit_code = 6


def data_dir() -> Path:
    env = os.environ.get("FORMCHECK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "formcheck"


def default_db_path() -> Path:
    return data_dir() / "history.db"


@dataclass(frozen=True)
class SessionRow:
    id: int
    recorded_at: str
    drill: str
    source_path: str | None
    model: str | None
    duration_s: float | None
    pose_coverage: float | None
    interrupted: bool
    n_events: int


@dataclass(frozen=True)
class MetricPoint:
    session_id: int
    recorded_at: str
    drill: str
    side: str | None
    value: float


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def flatten_metrics(report: dict[str, Any]) -> list[tuple[str, str | None, float]]:
    """(name, side, value) rows from a JSON report (see the module docstring)."""
    rows: dict[tuple[str, str | None], float] = {}
    summary = report.get("summary") or {}

    def walk(node: Any, path: list[str], side: str | None) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                k = str(k)
                if k in SIDES:
                    walk(v, path, k)
                else:
                    walk(v, [*path, k], side)
        elif _finite(node) and path:
            rows[(".".join(path), side)] = float(node)

    walk({k: v for k, v in summary.items() if k != "sets"}, [], None)

    per_side: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for s in summary.get("sets") or []:
        if isinstance(s, dict):
            per_side[s.get("side") if s.get("side") in SIDES else None].append(s)
    for side, sets in per_side.items():
        rows.setdefault(("sets", side), float(len(sets)))
        figures: dict[str, list[float]] = defaultdict(list)
        for s in sets:
            for k, v in s.items():
                if k not in ("t_s", "t_end_s") and _finite(v):
                    figures[k].append(float(v))
        for k, vals in figures.items():
            total = k in ("reps", "hold_s") or k.endswith("_count")
            rows.setdefault((k, side), sum(vals) if total else sum(vals) / len(vals))

    counts: dict[tuple[str, str | None], int] = defaultdict(int)
    peaks: dict[tuple[str, str | None], float] = {}
    for e in report.get("events") or []:
        if e.get("kind") != "fault":
            continue
        key = (e["code"], e.get("side"))
        counts[key] += 1
        v = e.get("value")
        if _finite(v) and (key not in peaks or abs(v) > abs(peaks[key])):
            peaks[key] = float(v)
    for (code, side), n in counts.items():
        rows[(f"faults.{code}", side)] = float(n)
    for (code, side), v in peaks.items():
        rows[(f"peak.{code}", side)] = v
    return [(name, side, value) for (name, side), value in rows.items()]


class History:
    """The history database. Open with `History.open()` (or as a context manager)."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn, self.path = conn, path

    @classmethod
    def open(cls, path: Path | None = None, create: bool = True) -> History:
        path = Path(path) if path is not None else default_db_path()
        if not create and not path.exists():
            raise HistoryError(f"No session history yet ({path} does not exist): analyse a video first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"Cannot open the session history at {path}: {exc}") from None
        hist = cls(conn, path)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            with hist._transaction():
                for stmt in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(stmt)
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                elif int(row[0]) > SCHEMA_VERSION:
                    raise HistoryError(f"The session history at {path} was written by a newer formcheck "
                                       f"(schema {row[0]}); upgrade formcheck to read it")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _unreadable(path, exc) from None
        except BaseException:
            conn.close()
            raise
        return hist

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # Explicit BEGIN IMMEDIATE: the write lock is taken up front, so two writers queue
        # instead of failing halfway; any exception rolls the whole session back.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def add_session(self, result: SessionResult | dict[str, Any], recorded_at: datetime | None = None) -> int:
        """Store one session (a SessionResult or its JSON report) atomically; returns its id."""
        report = result.to_report() if isinstance(result, SessionResult) else result
        events = [Event.from_dict(e) for e in report.get("events") or []]
        src = report.get("source") or {}
        when = (recorded_at or datetime.now(UTC)).astimezone(UTC)
        try:
            with self._transaction() as c:
                cur = c.execute(
                    "INSERT INTO sessions (recorded_at, drill, source_kind, source_path, model, duration_s,"
                    " pose_coverage, interrupted, n_events, report) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (when.isoformat(timespec="seconds"), report["drill"], src.get("kind"), src.get("path"),
                     report.get("model"), src.get("duration_s"), report.get("pose_coverage"),
                     int(bool(report.get("interrupted"))), len(events), json.dumps(report)))
                sid = int(cur.lastrowid)
                c.executemany("INSERT INTO metrics VALUES (?,?,?,?)",
                              [(sid, n, s, v) for n, s, v in flatten_metrics(report)])
                c.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?)",
                              [(sid, e.t_s, e.t_end_s, e.code, e.side, e.kind, e.message, e.value)
                               for e in events])
        except sqlite3.IntegrityError:
            raise  # a malformed report is a bug in the caller, not a broken database
        except sqlite3.DatabaseError as exc:
            raise _unreadable(self.path, exc) from None
        log.debug("stored session %d (%s, %d events)", sid, report["drill"], len(events))
        return sid

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _unreadable(self.path, exc) from None

    def sessions(self, drill: str | None = None, limit: int | None = None) -> list[SessionRow]:
        sql = ("SELECT id, recorded_at, drill, source_path, model, duration_s, pose_coverage, interrupted,"
               " n_events FROM sessions")
        args: tuple = ()
        if drill:
            sql, args = sql + " WHERE drill = ?", (drill,)
        sql += " ORDER BY recorded_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [SessionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8])
                for r in self._query(sql, args)]

    def report(self, session_id: int) -> dict[str, Any]:
        rows = self._query("SELECT report FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise HistoryError(f"No session {session_id} in the history")
        return json.loads(rows[0][0])

    def events(self, session_id: int) -> list[Event]:
        rows = self._query("SELECT t_s, t_end_s, code, side, kind, message, value FROM events"
                           " WHERE session_id = ? ORDER BY t_s", (session_id,))
        return [Event(t_s=r[0], t_end_s=r[1], code=r[2], side=r[3], kind=r[4], message=r[5] or "",
                      value=r[6]) for r in rows]

    def metrics(self, session_id: int) -> dict[tuple[str, str | None], float]:
        rows = self._query("SELECT name, side, value FROM metrics WHERE session_id = ?", (session_id,))
        return {(r[0], r[1]): r[2] for r in rows}

    def metric_names(self, drill: str | None = None) -> list[str]:
        sql = "SELECT DISTINCT m.name FROM metrics m JOIN sessions s ON s.id = m.session_id"
        args: tuple = ()
        if drill:
            sql, args = sql + " WHERE s.drill = ?", (drill,)
        return sorted(r[0] for r in self._query(sql, args))

    def series(self, metric: str, drill: str | None = None, side: str | None = None) -> list[MetricPoint]:
        """One metric over sessions, oldest first."""
        sql = ("SELECT s.id, s.recorded_at, s.drill, m.side, m.value FROM metrics m"
               " JOIN sessions s ON s.id = m.session_id WHERE m.name = ?")
        args: list[Any] = [metric]
        if drill:
            sql += " AND s.drill = ?"
            args.append(drill)
        if side:
            sql += " AND m.side = ?"
            args.append(side)
        sql += " ORDER BY s.recorded_at, s.id"
        return [MetricPoint(*r) for r in self._query(sql, tuple(args))]


def _unreadable(path: Path, exc: Exception) -> HistoryError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "locked" in text:
        return HistoryError(f"The session history at {path} is busy (another formcheck is writing it): "
                            "try again in a moment")
    return HistoryError(f"The session history at {path} is unreadable ({text}): move the file away or "
                        "delete it to start a new history")


def record_session(result: SessionResult, path: Path | None = None) -> int:
    """Store a finished session in the user's history (one transaction)."""
    with History.open(path) as hist:
        return hist.add_session(result)
