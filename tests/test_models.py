"""Pose model bundles: layout, metadata, reproducible bytes, where models are found, fetch."""

from __future__ import annotations

import hashlib
import http.server
import re
import struct
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formcheck import models_build as mb
from formcheck.commands.models_cmd import download
from formcheck.errors import ModelError
from formcheck.pose import models as pm

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
COMMITTED = ("lite", "full")


def bundle(name: str) -> Path:
    return MODELS / f"pose_landmarker_{name}.task"


@pytest.mark.parametrize("name", COMMITTED)
def test_bundle_layout_is_stored_aligned_and_dated(name):
    path = bundle(name)
    assert mb.check_bundle(path) == []
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [mb.DETECTOR_NAME, mb.LANDMARKER_NAME]
        for info in infos:
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            fh.seek(info.header_offset + 26)
            n_name, n_extra = struct.unpack("<HH", fh.read(4))
            start = info.header_offset + 30 + n_name + n_extra
            assert start % 16 == 0
            fh.seek(start)
            assert fh.read(8)[4:8] == b"TFL3"  # the data really starts there


def test_check_bundle_reports_compressed_and_missing_members(tmp_path):
    bad = tmp_path / "bad.task"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(mb.DETECTOR_NAME, b"x" * 100)
    problems = mb.check_bundle(bad)
    assert any("compressed" in p for p in problems)
    assert any(mb.LANDMARKER_NAME in p and "missing" in p for p in problems)
    (tmp_path / "junk.task").write_bytes(b"not a zip")
    assert mb.check_bundle(tmp_path / "junk.task")[0].startswith("not a readable zip")


@pytest.mark.parametrize("name", COMMITTED)
def test_each_model_carries_image_normalisation_metadata(name):
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md

    with zipfile.ZipFile(bundle(name)) as zf:
        members = {n: zf.read(n) for n in (mb.DETECTOR_NAME, mb.LANDMARKER_NAME)}
    expected = {mb.DETECTOR_NAME: (127.5, 127.5, -1.0, 1.0), mb.LANDMARKER_NAME: (0.0, 255.0, 0.0, 1.0)}
    for member, (mean, std, lo, hi) in expected.items():
        meta = mb.read_metadata(members[member])
        assert meta is not None, member
        tensor = meta.subgraphMetadata[0].inputTensorMetadata[0]
        opts = tensor.processUnits[0].options
        assert list(opts.mean) == [mean] and list(opts.std) == [std]
        assert tensor.content.contentPropertiesType == md.ContentProperties.ImageProperties
        assert tensor.content.contentProperties.colorSpace == md.ColorSpaceType.RGB
        assert list(tensor.stats.min) == [lo] and list(tensor.stats.max) == [hi]
        assert b"Apache" in meta.license
    # The detector's face-detector metadata was replaced, not kept beside ours.
    assert mb.read_metadata(members[mb.DETECTOR_NAME]).name == b"BlazePose detector"


@pytest.mark.parametrize("name", COMMITTED)
def test_rebuilding_from_the_bundles_own_models_gives_the_same_bytes(name):
    """The build is deterministic and adding metadata is idempotent: re-running the last two
    steps on the committed members reproduces the committed file byte for byte."""
    with zipfile.ZipFile(bundle(name)) as zf:
        det, lmk = zf.read(mb.DETECTOR_NAME), zf.read(mb.LANDMARKER_NAME)
    again = mb.bundle_bytes(mb.add_metadata(det, mb.DETECTOR_INFO),
                            mb.add_metadata(lmk, mb.landmarker_info(name)))
    assert again == bundle(name).read_bytes()


def test_readme_sha256_matches_the_committed_bundles():
    readme = (MODELS / "README.md").read_text()
    for name in COMMITTED:
        m = re.search(rf"`pose_landmarker_{name}\.task` \| [\d,]+ B \| `([0-9a-f]{{64}})`", readme)
        assert m, f"README lists no sha256 for {name}"
        assert m.group(1) == hashlib.sha256(bundle(name).read_bytes()).hexdigest()


def _unpacked_sources() -> Path | None:
    """Where the registry packages are already unpacked: $FORMCHECK_MODEL_SOURCES or the build cache."""
    import os

    for folder in (os.environ.get("FORMCHECK_MODEL_SOURCES"), mb.default_cache_dir()):
        if folder and Path(folder).is_dir():
            root = Path(folder)
            if next(root.rglob("pose_detection.tflite"), None) and next(root.rglob("pose_landmark_lite.tflite"), None):
                return root
    return None


def test_build_from_sources_matches_committed(tmp_path):
    """The full build from the registry packages, when they are on this machine (no downloads in tests)."""
    src = _unpacked_sources()
    if src is None:
        pytest.skip("registry packages not unpacked here (set FORMCHECK_MODEL_SOURCES)")
    out = mb.build(["lite"], tmp_path, from_dir=src)
    assert out[0].read_bytes() == bundle("lite").read_bytes()


def test_add_metadata_rejects_a_non_tflite_file():
    with pytest.raises(ModelError, match="not a TFLite model"):
        mb.add_metadata(b"\0" * 64, mb.DETECTOR_INFO)


def test_source_with_wrong_sha256_is_refused(tmp_path):
    fake = tmp_path / "pose_detection.tflite"
    fake.write_bytes(b"tampered")
    with pytest.raises(ModelError, match="published weights changed"):
        mb.Sources({"pose_detection.tflite": fake}).get("pose_detection.tflite")


def test_unknown_variant_is_refused(tmp_path):
    with pytest.raises(ModelError, match="unknown model 'huge'"):
        mb.build(["huge"], tmp_path)


# -- finding models ---------------------------------------------------------------------------


def test_names_resolve_to_the_committed_bundles():
    for name in COMMITTED:
        assert pm.resolve_model(name) == bundle(name).resolve()
    assert pm.resolve_model(str(bundle("lite"))) == bundle("lite")
    assert pm.model_label(bundle("full")) == "full"
    assert pm.model_label("lite") == "lite"


def test_missing_model_names_the_fix(tmp_path):
    with pytest.raises(ModelError) as exc:
        pm.resolve_model("heavy", dirs=[tmp_path])
    msg = str(exc.value)
    assert "'heavy' is not installed" in msg and "formcheck models build heavy" in msg
    assert "\n" not in msg


def test_bad_paths_and_names(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        pm.resolve_model(tmp_path / "nope.task")
    with pytest.raises(ModelError, match="is a folder"):
        pm.resolve_model(tmp_path)
    with pytest.raises(ModelError, match="unknown pose model 'medium'"):
        pm.resolve_model("medium")


def test_user_folder_is_searched_after_the_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMCHECK_MODELS_DIR", str(tmp_path))
    assert pm.user_models_dir() == tmp_path
    assert pm.search_dirs()[-1] == tmp_path.resolve()
    (tmp_path / "pose_landmarker_heavy.task").write_bytes(bundle("lite").read_bytes())
    (tmp_path / "pose_landmarker_lite.task").write_bytes(b"shadowed copy")
    found = {(m.name, m.shadowed): m for m in pm.installed_models()}
    # heavy is in the repo's folder only once someone has built it there (git-ignored)
    heavy_in_repo = (pm.repo_models_dir() / "pose_landmarker_heavy.task").exists()
    assert found[("heavy", heavy_in_repo)].path.parent == tmp_path.resolve()
    assert found[("lite", True)].size == len(b"shadowed copy")  # repo's lite wins
    assert pm.resolve_model("lite") == bundle("lite").resolve()


def test_xdg_data_home_is_the_default_user_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("FORMCHECK_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert pm.user_models_dir() == tmp_path / "formcheck" / "models"


def test_models_command_lists_what_is_installed(tmp_path, monkeypatch):
    from formcheck.cli import app

    monkeypatch.setenv("FORMCHECK_MODELS_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "lite" in result.output and "full" in result.output
    assert hashlib.sha256(bundle("lite").read_bytes()).hexdigest()[:12] in result.output


# -- fetch ------------------------------------------------------------------------------------


def test_fetch_offline_fails_with_one_clear_line(tmp_path):
    # Port 9 on loopback: nothing listens, like a machine with no network.
    dest = tmp_path / "pose_landmarker_heavy.task"
    with pytest.raises(ModelError) as exc:
        download("http://127.0.0.1:9/pose_landmarker_heavy.task", dest, timeout_s=5, name="heavy")
    msg = str(exc.value)
    assert msg.startswith("cannot download http://127.0.0.1:9/") and "\n" not in msg
    assert "formcheck models build heavy" in msg
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


@pytest.fixture
def local_server(tmp_path):
    """A loopback HTTP server over tmp_path/www (tests never touch the internet)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_downloads_a_bundle_and_refuses_other_files(local_server, tmp_path):
    root, base = local_server
    (root / "good.task").write_bytes(bundle("lite").read_bytes())
    (root / "page.html").write_text("<html>sign in</html>")
    out = tmp_path / "models"
    got = download(f"{base}/good.task", out / "pose_landmarker_lite.task")
    assert got.read_bytes() == bundle("lite").read_bytes()
    with pytest.raises(ModelError, match="not a zip file"):
        download(f"{base}/page.html", out / "pose_landmarker_full.task")
    with pytest.raises(ModelError, match="answered 404"):
        download(f"{base}/missing.task", out / "pose_landmarker_full.task")
    assert sorted(p.name for p in out.iterdir()) == ["pose_landmarker_lite.task"]


def test_fetch_command_exit_code_and_message(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "from formcheck.cli import main; main()", "models", "fetch",
                           "heavy", "--url", "http://127.0.0.1:9/x.task", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == ModelError.exit_code
    assert "cannot download" in proc.stderr and "Traceback" not in proc.stderr
