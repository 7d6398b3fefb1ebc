"""Bad input through the real command line: one plain line on stderr, a non-zero exit
code, no traceback, and nothing from FFmpeg or OpenCV around it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from formcheck import cli


def run_cli(monkeypatch, capfd, *args: str) -> tuple[int, str, str]:
    """`formcheck ARGS` in-process through cli.main (its error handling included); fd-level
    capture, so native libraries writing to stderr would show up too."""
    monkeypatch.setattr(sys, "argv", ["formcheck", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    out, err = capfd.readouterr()
    return exc.value.code, out, err


def assert_one_line(err: str, message: str) -> None:
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err == f"formcheck: {message}\n"


def test_missing_file(monkeypatch, capfd, tmp_path):
    code, out, err = run_cli(monkeypatch, capfd, "pose", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "p.jsonl"))
    assert code == 2 and out == ""
    assert_one_line(err, f"File or folder not found: {tmp_path / 'nope.mp4'}")


def test_text_file_renamed_mp4(monkeypatch, capfd, tmp_path):
    bad = tmp_path / "holiday.mp4"
    bad.write_text("just some text, not a video\n" * 20)
    code, _, err = run_cli(monkeypatch, capfd, "pose", str(bad), "--out", str(tmp_path / "p.jsonl"))
    assert code == 2
    assert_one_line(err, "holiday.mp4 is not a video formcheck can read (not a video file, or damaged)")


def test_mp4_cut_short_before_its_index(monkeypatch, capfd, tmp_path, video_maker):
    path = video_maker("phone.mp4", frames=30, fourcc="mp4v")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # the index (moov) is written last: now missing
    code, _, err = run_cli(monkeypatch, capfd, "pose", str(path), "--out", str(tmp_path / "p.jsonl"))
    assert code == 2
    assert_one_line(err, "phone.mp4 is not a video formcheck can read (not a video file, or damaged)")


def test_zero_frames(monkeypatch, capfd, tmp_path, video_maker):
    path = video_maker("empty.avi", frames=0)
    code, _, err = run_cli(monkeypatch, capfd, "pose", str(path), "--out", str(tmp_path / "p.jsonl"))
    assert code == 2
    assert_one_line(err, "empty.avi has no video frames: it is empty or damaged")


@pytest.mark.model
def test_truncated_video_says_how_many_frames_were_read(monkeypatch, capfd, tmp_path, video_maker):
    path = video_maker("cut.avi", frames=40)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    out_path = tmp_path / "p.jsonl"
    code, _, err = run_cli(monkeypatch, capfd, "pose", str(path), "--out", str(out_path), "--model", "lite", "-q")
    assert code == 2
    assert "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("formcheck: cut.avi is truncated or damaged: decoding stopped after ")
    read = int(err.split("after ")[1].split(" of")[0])
    assert 0 < read < 40 and err.endswith(" of 40 frames\n")
    # The poses of the frames that were read are kept.
    assert len(out_path.read_text().splitlines()) == 1 + read


def test_camera_that_does_not_exist(monkeypatch, capfd, tmp_path):
    code, _, err = run_cli(monkeypatch, capfd, "pose", "7", "--out", str(tmp_path / "p.jsonl"))
    assert code == 3
    assert_one_line(err, "No camera at index 7: check it is plugged in, or try another index "
                         "(formcheck doctor lists cameras)")


def test_folder_without_images(monkeypatch, capfd, tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    code, _, err = run_cli(monkeypatch, capfd, "pose", str(folder), "--out", str(tmp_path / "p.jsonl"))
    assert code == 2
    assert_one_line(err, f"No images (.jpg, .png, ...) in folder {folder}")


def test_jsonl_that_is_not_a_recording(monkeypatch, capfd, tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text('{"todo": "buy shoes"}\n')
    code, _, err = run_cli(monkeypatch, capfd, "pose", str(path), "--out", str(tmp_path / "p.jsonl"))
    assert code == 2
    assert_one_line(err, "notes.jsonl line 1 is not a landmark frame: is it a formcheck recording?")


def test_out_must_be_jsonl(monkeypatch, capfd, tmp_path, video_maker):
    code, _, err = run_cli(monkeypatch, capfd, "pose", str(video_maker()), "--out", str(tmp_path / "p.json"))
    assert code == 2
    assert_one_line(err, "--out must be a .jsonl file, not p.json")


def test_model_file_that_does_not_exist(monkeypatch, capfd, tmp_path, video_maker):
    code, _, err = run_cli(monkeypatch, capfd, "pose", str(video_maker()), "--out", str(tmp_path / "p.jsonl"),
                           "--model", str(tmp_path / "missing.task"))
    assert code == 4
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("formcheck: ")
    assert "missing.task" in err


def test_real_process_prints_one_line_and_exits_non_zero(tmp_path):
    """The same through a real `formcheck` process (the console script's entry point)."""
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"\x00\x01 definitely not a video" * 100)
    proc = subprocess.run([sys.executable, "-c", "from formcheck.cli import main; main()", "pose", str(bad),
                           "--out", str(tmp_path / "p.jsonl")], check=False, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parent)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "formcheck: clip.mp4 is not a video formcheck can read (not a video file, or damaged)\n"
