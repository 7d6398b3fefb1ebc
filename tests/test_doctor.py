"""`formcheck doctor`: every check gives OK/FAIL (or NOTE) with a fix, and the exit code says
whether videos can be analysed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.commands import doctor_cmd as doc
from formcheck.pose import models as pm


def test_checks_cover_versions_models_camera_and_display():
    checks = doc.run_checks(load_models=False, camera_timeout_s=3.0)
    names = [c.name for c in checks]
    for want in ("python", "mediapipe", "opencv", "numpy", "model lite", "model full", "model heavy",
                 "camera 0", "display"):
        assert want in names
    for c in checks:
        assert c.status in (doc.OK, doc.FAIL, doc.NOTE)
        if c.status != doc.OK:
            assert c.fix, f"{c.name} fails without saying how to fix it"
    by = {c.name: c for c in checks}
    assert by["python"].status == doc.OK
    assert by["mediapipe"].status == doc.OK and by["mediapipe"].detail.startswith("1.2.")
    assert by["opencv"].status == doc.OK  # exactly one package owns cv2
    assert by["model lite"].status == doc.OK and by["model full"].status == doc.OK
    assert not by["camera 0"].essential and not by["display"].essential


def test_a_missing_camera_is_reported_cleanly():
    c = doc.check_camera(index=97, timeout_s=3.0)  # no machine has a camera at index 97
    assert c.status == doc.FAIL and c.name == "camera 97"
    assert "formcheck analyze" in c.fix


def test_no_display_says_how_to_work_without_one(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    c = doc.check_display()
    assert c.status == doc.FAIL and "formcheck analyze" in c.fix


@pytest.mark.model
def test_doctor_command_runs_and_loads_the_models():
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "model lite" in result.output and "loads" in result.output
    assert "Ready to analyse videos" in result.output


def test_doctor_fails_when_the_models_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(pm, "repo_models_dir", lambda: tmp_path / "repo-models")
    monkeypatch.setenv("FORMCHECK_MODELS_DIR", str(tmp_path / "user-models"))
    result = CliRunner().invoke(app, ["doctor", "--no-load"])
    assert result.exit_code == 1
    assert "FAIL model lite" in result.output
    assert "fix: formcheck models build lite" in result.output
    assert "NOTE model heavy" in result.output  # optional: noted, not a failure


def test_a_broken_model_file_fails_the_load_check(tmp_path, monkeypatch):
    repo = tmp_path / "repo-models"
    repo.mkdir()
    (repo / "pose_landmarker_lite.task").write_bytes(b"PK\x03\x04 not really")
    monkeypatch.setattr(pm, "repo_models_dir", lambda: repo)
    monkeypatch.setenv("FORMCHECK_MODELS_DIR", str(tmp_path / "user-models"))
    lite = next(c for c in doc.check_models(load=True) if c.name == "model lite")
    assert lite.status == doc.FAIL and "does not load" in lite.detail
    assert lite.fix == "formcheck models build lite"
