"""`formcheck synth`: clips and recordings from the command line, one clear line per bad spec."""

from __future__ import annotations

import json
import sys

import pytest

from formcheck.cli import main


def formcheck(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["formcheck", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def test_synth_writes_a_video_and_its_truth(monkeypatch, capsys, tmp_path) -> None:
    out = tmp_path / "hops.mp4"
    code, _, err = formcheck(monkeypatch, capsys, "synth", "lateral-hops", "--variant", "single-leg",
                             "--side", "right", "--fault", "stiff_landing@2.9-3.2", "--duration", "3.5",
                             "--width", "320", "--height", "180", "--seed", "4", "--out", out)
    assert code == 0, err
    assert out.stat().st_size > 10_000
    truth = json.loads((tmp_path / "hops.truth.json").read_text())
    assert truth["spec"]["variant"] == "single-leg" and truth["spec"]["seed"] == 4
    assert {e["code"] for e in truth["events"]} == {"hop", "stiff_landing"}
    assert "expected:" in err


def test_synth_writes_a_landmark_recording_analyze_can_replay(monkeypatch, capsys, tmp_path) -> None:
    out = tmp_path / "squat.jsonl"
    code, _, err = formcheck(monkeypatch, capsys, "synth", "deep-squat", "--sets", "1", "--hold", "5",
                             "--fault", "heel_lift@4-6:3:right", "--noise-px", "1", "--out", out)
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert json.loads(lines[0])["formcheck_recording"] == 1
    assert len(lines) - 1 == len(json.loads((tmp_path / "squat.truth.json").read_text())["frames"])
    from formcheck.sources import open_source

    with open_source(out) as src:
        assert sum(1 for _ in src) == len(lines) - 1


@pytest.mark.parametrize(("args", "message"), [
    (["deep-squat", "--fault", "heel_lift@3"], "Bad fault 'heel_lift@3'"),
    (["squat"], "Unknown drill 'squat'"),
    (["deep-squat", "--fault", "short_hop@1-2"], "does not apply to deep-squat"),
    (["deep-squat", "--side", "middle"], "Side must be 'left' or 'right'"),
    (["star-balance", "--variant", "square"], "Unknown variant 'square'"),
    (["deep-squat", "--view", "top"], "View must be front, side or oblique"),
])
def test_bad_specs_give_one_clear_line(monkeypatch, capsys, tmp_path, args, message) -> None:
    code, _, err = formcheck(monkeypatch, capsys, "synth", *args, "--out", tmp_path / "x.mp4")
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0], err


def test_bad_output_name(monkeypatch, capsys, tmp_path) -> None:
    code, _, err = formcheck(monkeypatch, capsys, "synth", "deep-squat", "--out", tmp_path / "x.avi")
    assert code == 2 and "must end in .mp4" in err
