"""`formcheck analyze` from the command line: every bad input gives one clear line and its
exit code; outputs for several inputs; the summary table; JSON to standard output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_analyze_runner import write_recording

from formcheck.cli import main
from formcheck.pose.frame import PoseFrame
from formcheck.synth import Fault, SynthSpec, landmark_clip


@pytest.fixture(autouse=True)
def _private_history(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "data"))


def formcheck(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the real entry point in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["formcheck", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at the terminal width: keep messages on one line
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def squat_rec(tmp_path_factory) -> Path:
    clip = landmark_clip(SynthSpec("deep-squat", sets=1, hold_s=10, faults=[Fault("heel_lift", 8, 10.5, 3.0)]),
                         noise_px=1.0)
    return write_recording(tmp_path_factory.mktemp("rec") / "squat.jsonl", clip.frames)


def test_missing_file(monkeypatch, capsys, tmp_path):
    code, _, err = formcheck(monkeypatch, capsys, "analyze", tmp_path / "nope.mp4", "--drill", "deep-squat")
    assert code == 2
    assert "Video not found" in one_line(err) and "nope.mp4" in err


def test_unsupported_format(monkeypatch, capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("squat 3x60s, felt fine\n")
    code, _, err = formcheck(monkeypatch, capsys, "analyze", notes, "--drill", "deep-squat")
    assert code == 2
    assert "notes.txt is not a video formcheck can read" in one_line(err)


def test_corrupt_video(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    code, _, err = formcheck(monkeypatch, capsys, "analyze", bad, "--drill", "deep-squat", "--json",
                             tmp_path / "r.json")
    assert code == 2
    assert "corrupt.mp4 is not a video formcheck can read" in one_line(err)
    assert not (tmp_path / "r.json").exists()  # nothing was measured: nothing to write


def test_zero_frames(monkeypatch, capsys, tmp_path):
    empty = tmp_path / "empty.avi"
    w = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 30, (320, 240))
    w.release()
    code, _, err = formcheck(monkeypatch, capsys, "analyze", empty, "--drill", "deep-squat")
    assert code == 2
    assert "empty.avi has no video frames" in one_line(err)


def test_unknown_drill_and_bad_options(monkeypatch, capsys, squat_rec):
    code, _, err = formcheck(monkeypatch, capsys, "analyze", squat_rec, "--drill", "squats")
    assert code == 2 and "Unknown drill 'squats'" in one_line(err)
    code, _, err = formcheck(monkeypatch, capsys, "analyze", squat_rec, "--drill", "deep-squat", "--side", "up")
    assert code == 2 and "--side must be left or right" in one_line(err)
    code, _, err = formcheck(monkeypatch, capsys, "analyze", squat_rec, "--drill", "deep-squat", "--preset",
                             "extreme")
    assert code == 2 and "Unknown preset 'extreme'" in one_line(err)


def test_no_person_in_any_frame(monkeypatch, capsys, tmp_path):
    rec = write_recording(tmp_path / "nobody.jsonl", [PoseFrame.empty(i / 30, 640, 480, i) for i in range(45)])
    code, _, err = formcheck(monkeypatch, capsys, "analyze", rec, "--drill", "deep-squat", "--json",
                             tmp_path / "r.json", "--quiet")
    assert code == 5
    line = one_line(err)
    assert "No person found in any of the 45 frames of nobody.jsonl" in line
    assert f"partial results written: {tmp_path / 'r.json'}" in line
    assert json.loads((tmp_path / "r.json").read_text())["pose_coverage"] == 0.0


def test_wrong_drill_for_the_footage(monkeypatch, capsys, tmp_path, squat_rec):
    code, _, err = formcheck(monkeypatch, capsys, "analyze", squat_rec, "--drill", "lateral-hops", "--json",
                             tmp_path / "r.json", "--quiet")
    assert code == 7
    assert "Nothing to count in squat.jsonl for lateral-hops" in one_line(err)
    assert json.loads((tmp_path / "r.json").read_text())["drill"] == "lateral-hops"


def test_summary_table_without_output_flags(monkeypatch, capsys, squat_rec):
    code, out, err = formcheck(monkeypatch, capsys, "analyze", squat_rec, "--drill", "deep-squat", "--quiet")
    assert code == 0, err
    assert "deep-squat: squat.jsonl" in out and "person found" in out and "100% of frames" in out
    assert "sets" in out and "hold_s" in out  # the sets table


def test_json_to_standard_output(monkeypatch, capsys, squat_rec):
    code, out, _ = formcheck(monkeypatch, capsys, "analyze", squat_rec, "--drill", "deep-squat", "--json", "-")
    assert code == 0
    rep = json.loads(out)
    assert rep["drill"] == "deep-squat" and rep["source"]["path"] == str(squat_rec)


def test_several_inputs_need_a_folder_or_pattern(monkeypatch, capsys, tmp_path, squat_rec):
    code, _, err = formcheck(monkeypatch, capsys, "analyze", squat_rec, squat_rec.parent, "--drill",
                             "deep-squat", "--json", tmp_path / "one.json")
    # The folder holds the same recording: duplicates collapse, so this is one input.
    assert code == 0, err
    other = tmp_path / "b.jsonl"
    other.write_bytes(squat_rec.read_bytes())
    code, _, err = formcheck(monkeypatch, capsys, "analyze", squat_rec, other, "--drill", "deep-squat", "--json",
                             tmp_path / "one.json")
    assert code == 2
    assert "--json" in one_line(err) and "names one file but 2 videos were given" in err


def test_several_inputs_run_in_a_process_pool(monkeypatch, capsys, tmp_path, squat_rec):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("monday.jsonl", "friday.jsonl"):
        (folder / name).write_bytes(squat_rec.read_bytes())
    code, _, err = formcheck(monkeypatch, capsys, "analyze", folder, "--drill", "deep-squat", "--json",
                             tmp_path / "reports", "--csv", tmp_path / "csv/{stem}-frames.csv", "--jobs", "2")
    assert code == 0, err
    for stem in ("monday", "friday"):
        rep = json.loads((tmp_path / "reports" / f"{stem}.json").read_text())
        assert rep["source"]["path"] == str(folder / f"{stem}.jsonl")
        assert (tmp_path / "csv" / f"{stem}-frames.csv").exists()
    from formcheck.history import History

    with History.open() as h:
        assert len(h.sessions()) == 2  # each worker stored its session


def test_output_planning(tmp_path):
    from formcheck.commands.analyze_cmd import plan_outputs
    from formcheck.errors import InputError

    a, b = tmp_path / "a.mp4", tmp_path / "sub" / "a.mp4"
    (plan,) = plan_outputs([a], tmp_path / "r.json", None, None, None)
    assert plan.json == tmp_path / "r.json"
    (plan,) = plan_outputs([a], tmp_path, None, tmp_path / "{stem}.html", tmp_path)  # a folder, a pattern
    assert (plan.json, plan.html, plan.video) == (tmp_path / "a.json", tmp_path / "a.html",
                                                  tmp_path / "a-annotated.mp4")
    p1, p2 = plan_outputs([a, b], tmp_path / "out", None, None, None)
    assert (p1.json, p2.json) == (tmp_path / "out" / "a.json", tmp_path / "out" / "a-2.json")  # same stem
    with pytest.raises(InputError, match="would overwrite the input"):
        plan_outputs([a], None, None, None, a)
    with pytest.raises(InputError, match="same name"):
        plan_outputs([a], tmp_path / "x.out", tmp_path / "x.out", None, None)
    with pytest.raises(InputError, match="standard output"):
        plan_outputs([a, b], Path("-"), None, None, None)
