"""Session history: storing, listing, metrics over sessions, atomic writes, bad databases."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from formcheck.events import Event
from formcheck.history import History, HistoryError, default_db_path, flatten_metrics
from formcheck.report.session import SessionResult, SourceInfo


def session(drill: str = "soleus-stretch", dorsi: tuple[float, float] = (32.0, 30.0), n_faults: int = 2,
            interrupted: bool = False) -> SessionResult:
    src = SourceInfo("file", "clip.mp4", 30.0, 900, 30.0, 1280, 720)
    sets = [{"side": "left", "t_s": 0.0, "t_end_s": 10.0, "reps": 0, "hold_s": 29.5, "max_dorsiflexion_deg": dorsi[0]},
            {"side": "right", "t_s": 12.0, "t_end_s": 22.0, "reps": 0, "hold_s": 27.0,
             "max_dorsiflexion_deg": dorsi[1]},
            {"side": "left", "t_s": 24.0, "t_end_s": 30.0, "reps": 0, "hold_s": 30.5,
             "max_dorsiflexion_deg": dorsi[0] + 2}]
    summary = {"sets": sets, "heel_lift": {"left": {"max_cm": 1.5}, "right": {"max_cm": 0.5}},
               "holds_total_s": 87.0, "label": "text is skipped"}
    events = [Event(1.0 + i, "heel_lift", "fault", "Keep your left heel on the floor", "left", 1.5 + i, 1.0 + i)
              for i in range(n_faults)]
    events.append(Event(0.0, "hold", "hold", "Held", "left", 10.0, 29.5))
    return SessionResult(drill, src, "full", 0.97, summary, events, interrupted=interrupted)


def test_flatten_metrics_names_sides_sets_and_faults():
    m = {(n, s): v for n, s, v in flatten_metrics(session().to_report())}
    assert m[("holds_total_s", None)] == 87.0
    assert m[("heel_lift.max_cm", "left")] == 1.5 and m[("heel_lift.max_cm", "right")] == 0.5
    assert m[("sets", "left")] == 2 and m[("sets", "right")] == 1
    assert m[("hold_s", "left")] == pytest.approx(60.0)  # totals add up
    assert m[("max_dorsiflexion_deg", "left")] == pytest.approx(33.0)  # figures average
    assert m[("faults.heel_lift", "left")] == 2
    assert m[("peak.heel_lift", "left")] == 2.0
    assert not any(n == "label" for n, _ in m)


def test_store_list_and_read_back(tmp_path):
    db = tmp_path / "h.db"
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    with History.open(db) as h:
        ids = [h.add_session(session(dorsi=(30.0 + i, 28.0 + i)), recorded_at=t0 + timedelta(days=7 * i))
               for i in range(3)]
        h.add_session(session("deep-squat"), recorded_at=t0 - timedelta(days=1))
    with History.open(db, create=False) as h:
        rows = h.sessions()
        assert [r.id for r in rows][:3] == ids[::-1]  # newest first
        assert {r.drill for r in rows} == {"soleus-stretch", "deep-squat"}
        assert len(h.sessions(drill="deep-squat")) == 1
        assert h.report(ids[0])["summary"]["holds_total_s"] == 87.0
        ev = h.events(ids[0])
        assert [e.code for e in ev] == ["hold", "heel_lift", "heel_lift"]
        series = h.series("max_dorsiflexion_deg", drill="soleus-stretch", side="left")
        assert [p.value for p in series] == pytest.approx([31.0, 32.0, 33.0])
        assert series[0].recorded_at < series[-1].recorded_at
        assert "peak.heel_lift" in h.metric_names("soleus-stretch")
        assert len(h.series("sets", side="right")) == 4


def test_data_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "fc"))
    assert default_db_path() == tmp_path / "fc" / "history.db"
    monkeypatch.delenv("FORMCHECK_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "formcheck" / "history.db"


def test_missing_history_is_a_clear_message(tmp_path):
    with pytest.raises(HistoryError, match="No session history yet"):
        History.open(tmp_path / "none.db", create=False)


def test_corrupt_database_is_a_clear_one_line_message(tmp_path):
    db = tmp_path / "history.db"
    db.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(HistoryError) as err:
        History.open(db)
    msg = str(err.value)
    assert "unreadable" in msg and str(db) in msg and "\n" not in msg


def test_failed_write_leaves_no_half_session(tmp_path):
    db = tmp_path / "h.db"
    with History.open(db) as h:
        h.add_session(session())
        bad = session().to_report()
        bad["events"].append({"t_s": 1.0, "code": None, "kind": "fault"})  # NOT NULL violation mid-write
        with pytest.raises(sqlite3.IntegrityError):
            h.add_session(bad)
        assert len(h.sessions()) == 1
        (n_metrics,) = h.conn.execute("SELECT COUNT(*) FROM metrics").fetchone()
        assert n_metrics == len(flatten_metrics(session().to_report()))


WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_history import session
    from formcheck.history import History
    h = History.open({db!r})
    big = session(n_faults=20000)
    print("ready", flush=True)
    while True:
        h.add_session(big)
        print("committed", flush=True)
""")


def _readline(proc: subprocess.Popen, timeout: float = 60.0) -> bytes:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        pytest.fail(f"the writer said nothing for {timeout:.0f} s")
    return proc.stdout.readline().strip()


def test_session_survives_a_writer_killed_mid_write(tmp_path):
    """SIGKILL a process that keeps writing big sessions, in the middle of a write: every
    stored session is whole, and none is half there."""
    db = tmp_path / "h.db"
    code = WRITER.format(tests=str(Path(__file__).parent), db=str(db))
    for fraction in (0.3, 0.5, 0.7):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert _readline(proc) == b"ready", proc.stderr.read().decode()
        t0 = time.perf_counter()
        assert _readline(proc) == b"committed"
        one_write = time.perf_counter() - t0
        time.sleep(fraction * one_write)  # into the next session's transaction
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with History.open(db) as h:
        rows = h.sessions()
        assert len(rows) >= 3
        for r in rows:
            (n,) = h.conn.execute("SELECT COUNT(*) FROM events WHERE session_id = ?", (r.id,)).fetchone()
            assert n == r.n_events == 20001
            (m,) = h.conn.execute("SELECT COUNT(*) FROM metrics WHERE session_id = ?", (r.id,)).fetchone()
            assert m > 0
        orphans = h.conn.execute("SELECT COUNT(*) FROM events WHERE session_id NOT IN "
                                 "(SELECT id FROM sessions)").fetchone()[0]
        assert orphans == 0
        assert h.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from formcheck.cli import main

    monkeypatch.setattr(sys, "argv", ["formcheck", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def filled(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path))
    t0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
    with History.open() as h:
        for week in range(4):
            h.add_session(session(dorsi=(30.0 + week, 28.0 + 2 * week)), recorded_at=t0 + timedelta(days=7 * week))
        h.add_session(session("deep-squat", interrupted=True), recorded_at=t0 + timedelta(days=30))
    return tmp_path


def test_history_command_lists_sessions(filled, monkeypatch, capsys):
    code, out, _ = _cli(monkeypatch, capsys, "history")
    assert code == 0
    assert out.count("soleus-stretch") == 4 and "deep-squat" in out and "(stopped)" in out
    assert "clip.mp4" in out and "97%" in out
    code, out, _ = _cli(monkeypatch, capsys, "history", "--drill", "deep-squat")
    assert code == 0 and "soleus-stretch" not in out


def test_progress_table_and_png(filled, monkeypatch, capsys, tmp_path):
    code, out, _ = _cli(monkeypatch, capsys, "progress", "max_dorsiflexion_deg", "--side", "right")
    assert code == 0
    rows = [ln for ln in out.splitlines() if "soleus-stretch" in ln]
    assert len(rows) == 4
    assert [r.split("│")[5].strip() for r in rows] == ["28", "30", "32", "34"]
    png = tmp_path / "plots" / "dorsi.png"
    code, _, err = _cli(monkeypatch, capsys, "progress", "max_dorsiflexion_deg", "--drill", "soleus-stretch",
                        "--out", png)
    assert code == 0 and "Wrote" in err
    import cv2

    img = cv2.imread(str(png))
    assert img is not None and img.shape[1] > 400


def test_progress_unknown_metric_lists_the_stored_ones(filled, monkeypatch, capsys):
    code, _, err = _cli(monkeypatch, capsys, "progress", "dorsiflexion")
    assert code == 2
    assert "No sessions have 'dorsiflexion'" in err and "max_dorsiflexion_deg" in err


def test_history_cli_on_a_corrupt_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path))
    (tmp_path / "history.db").write_bytes(b"\x00garbage" * 1000)
    code, _, err = _cli(monkeypatch, capsys, "history")
    assert code == 6
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "is unreadable" in lines[0] and "Traceback" not in err
    code, _, err = _cli(monkeypatch, capsys, "progress", "hold_s")
    assert code == 6 and "is unreadable" in err


def test_history_cli_before_any_session(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "new"))
    code, out, _ = _cli(monkeypatch, capsys, "history")
    assert code == 0 and "No sessions stored yet" in out
    code, _, err = _cli(monkeypatch, capsys, "progress", "hold_s")
    assert code == 6 and "No session history yet" in err
