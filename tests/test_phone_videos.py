"""The videos runners actually have: portrait phone clips with a rotation tag, 24/25/30/60
fps and NTSC rates, variable frame rate with dropped frames, clips trimmed without
re-encoding, and the containers phones, browsers and desktop tools write (.mov, .mp4,
.webm, .mkv, .avi). Each either decodes with the right size and times or gives the one-line
error, never a traceback.

Clips are made in the test: OpenCV's writer for what it can encode (MPEG-4 part 2, MJPG,
VP8, VP9), a rotation tag patched into the MP4 track header as phones write it, and Debian's
`ffmpeg` (skipped when absent) for H.264, HEVC, variable rate and trims. One real-model test
takes a portrait-tagged copy of a sample clip through `formcheck analyze`.
"""

from __future__ import annotations

import itertools
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.cli import main
from formcheck.errors import InputError
from formcheck.sources import VideoFileSource, mp4_video_duration_s, open_source

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="Debian's ffmpeg is not installed")
SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"


def pattern(i: int, size: tuple[int, int]) -> np.ndarray:
    """Frame i: grey level 4 i, with a white block in the top-left quarter and a black one
    in the top-right (so any turn or flip of the picture shows)."""
    w, h = size
    img = np.full((h, w, 3), min(255, 4 * i + 40), np.uint8)
    img[: h // 4, : w // 4] = 255
    img[: h // 4, -w // 4:] = 0
    return img


def write_clip(path: Path, frames: int = 20, size: tuple[int, int] = (96, 64), fps: float = 30.0,
               fourcc: str = "mp4v", images: list[np.ndarray] | None = None) -> Path:
    """A clip through OpenCV's own writer; skips the test if this build cannot encode it."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        pytest.skip(f"this OpenCV build cannot write {fourcc} into {path.suffix}")
    for img in images if images is not None else (pattern(i, size) for i in range(frames)):
        writer.write(img)
    writer.release()
    return path


# A track header's display matrix (a, b, u, c, d, v, x, y, w; 16.16 fixed point, w 2.30) by
# the degrees the stored picture is turned clockwise for display. 90 is an iPhone held upright
# (its preferredTransform a=0 b=1 c=-1 d=0); the translation, which players ignore, is left 0.
_ROTATIONS = {90: (0, 1, 0, -1, 0, 0), 180: (-1, 0, 0, 0, -1, 0), 270: (0, -1, 0, 1, 0, 0)}


def tag_rotation(path: Path, degrees: int) -> Path:
    """Set the video track's display matrix in an MP4/MOV written by OpenCV (one track)."""
    data = bytearray(path.read_bytes())
    at = data.rfind(b"tkhd")  # 4 bytes after the box's size field
    assert at > 0, "no track header"
    version = data[at + 4]
    matrix = at + 8 + (32 if version == 1 else 20) + 16  # after times, track id, duration, layer...
    values = [v * 0x10000 for v in _ROTATIONS[degrees]] + [0, 0, 0x40000000]
    struct.pack_into(">9i", data, matrix, *values)
    path.write_bytes(bytes(data))
    return path


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *map(str, args)], check=True, timeout=120)


def decode(path: Path) -> tuple[VideoFileSource, list]:
    with open_source(path) as source:
        frames = list(source)
    assert isinstance(source, VideoFileSource)
    return source, frames


def assert_clock(ts: list[float]) -> None:
    assert ts[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(ts)), "timestamps must strictly increase"


# ------------------------------------------------------------------------------ rotation


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
@pytest.mark.parametrize(("degrees", "turns"), [(90, -1), (180, 2), (270, 1)])
def test_rotation_tag_gives_upright_frames_and_the_displayed_size(tmp_path, suffix, degrees, turns):
    size = (128, 72)  # a landscape stream, as a phone held upright stores it
    clip = tag_rotation(write_clip(tmp_path / f"phone{suffix}", frames=6, size=size), degrees)
    source, frames = decode(clip)
    shown = (72, 128) if degrees in (90, 270) else (128, 72)
    assert (source.info.width, source.info.height) == shown
    assert source.rotation_deg != 0
    for i, f in enumerate(frames):
        assert f.size == shown
        # The frame as a player shows it: the stored picture turned by the tag.
        want = np.rot90(pattern(i, size), turns)
        assert np.abs(f.image_bgr.astype(int) - want).mean() < 6
    assert [f.t_s for f in frames] == pytest.approx(np.arange(6) / 30.0, abs=1e-6)


def test_untagged_clip_is_left_as_it_is(tmp_path):
    source, frames = decode(write_clip(tmp_path / "plain.mp4", frames=3, size=(128, 72)))
    assert source.rotation_deg == 0 and (source.info.width, source.info.height) == (128, 72)
    assert np.abs(frames[0].image_bgr.astype(int) - pattern(0, (128, 72))).mean() < 6


@needs_ffmpeg
def test_iphone_style_h264_mov_tagged_portrait(tmp_path):
    """An H.264 .mov (B-frames, an edit list for their delay) tagged portrait as an iPhone
    tags it. The tag is patched in: FFmpeg 5's `-metadata rotate` writes the turn the other way."""
    stored = tmp_path / "stored.mp4"
    write_clip(stored, frames=10, size=(160, 90), fourcc="mp4v")
    clip = tmp_path / "IMG_0042.MOV"
    ffmpeg("-i", stored, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", "-qp", "10", clip)
    tag_rotation(clip, 90)
    source, frames = decode(clip)
    assert (source.info.width, source.info.height) == (90, 160)
    assert source.info.frames == 10 and source.info.fps == pytest.approx(30.0)
    assert np.abs(frames[4].image_bgr.astype(int) - np.rot90(pattern(4, (160, 90)), -1)).mean() < 8


# ---------------------------------------------------------------------------- frame rates


@pytest.mark.parametrize("fps", [23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 60.0])
@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".avi"])
def test_frame_rates(tmp_path, fps, suffix):
    n = round(1.5 * fps)  # a second and a half
    fourcc = "MJPG" if suffix == ".avi" else "mp4v"
    source, frames = decode(write_clip(tmp_path / f"clip{suffix}", frames=n, size=(64, 48), fps=fps, fourcc=fourcc))
    assert source.info.fps == pytest.approx(fps, rel=2e-3)
    assert source.info.frames == n and len(frames) == n
    assert source.info.duration_s == pytest.approx(n / fps, abs=2e-3)
    ts = [f.t_s for f in frames]
    assert_clock(ts)
    # The container's clock (MKV keeps milliseconds), never a frame counter's rounding drift.
    np.testing.assert_allclose(ts, np.arange(n) / fps, atol=1.5e-3)


# ------------------------------------------------------------------------------ containers


@pytest.mark.parametrize(("name", "fourcc"), [
    ("clip.mov", "mp4v"), ("clip.mov", "MJPG"), ("clip.webm", "VP80"), ("clip.webm", "VP90"),
    ("clip.avi", "MJPG"), ("clip.avi", "mp4v"), ("clip.mkv", "mp4v"), ("clip.mkv", "VP80"), ("clip.mkv", "MJPG"),
])
def test_containers_and_codecs_decode_in_order(tmp_path, name, fourcc):
    clip = write_clip(tmp_path / name, frames=25, size=(96, 64), fps=25.0, fourcc=fourcc)
    source, frames = decode(clip)
    assert (source.info.width, source.info.height, source.info.frames) == (96, 64, 25)
    assert_clock([f.t_s for f in frames])
    np.testing.assert_allclose([f.t_s for f in frames], np.arange(25) / 25.0, atol=1.5e-3)
    # Frame i was written with grey level 4 i + 40 below its marker blocks.
    np.testing.assert_allclose([f.image_bgr[-8:, :, :].mean() for f in frames], 4 * np.arange(25) + 40, atol=4)


@needs_ffmpeg
@pytest.mark.parametrize(("name", "codec"), [
    ("h264.mov", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]),
    ("h264.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", "-movflags", "+faststart"]),
    ("hevc.mov", ["-c:v", "libx265", "-pix_fmt", "yuv420p", "-preset", "ultrafast", "-tag:v", "hvc1",
                  "-x265-params", "log-level=none"]),
    ("hevc10.mov", ["-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-preset", "ultrafast", "-tag:v", "hvc1",
                    "-x265-params", "log-level=none"]),
    ("vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]),
    ("h264.mkv", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]),
])
def test_phone_and_browser_codecs(tmp_path, name, codec):
    """H.264 (every phone), HEVC 8 and 10 bit (iPhone's "High Efficiency" and HDR), VP9 WebM
    (browser recordings); B-frames included, so decode order differs from display order."""
    clip = tmp_path / name
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "1", *codec, clip)
    source, frames = decode(clip)
    assert (source.info.width, source.info.height, source.info.frames) == (160, 120, 30)
    np.testing.assert_allclose([f.t_s for f in frames], np.arange(30) / 30.0, atol=1.5e-3)


# ------------------------------------------------------------------ variable frame rate


def _vfr(path: Path, codec: list[str]) -> list[float]:
    """A 30 fps clip with frames 5, 6, 17 and 40 dropped (as a busy phone does): returns the
    presentation times the kept frames were written with."""
    dropped = (5, 6, 17, 40)
    keep = "+".join(f"eq(n\\,{i})" for i in dropped)
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "2", "-vf", f"select='not({keep})'",
           "-fps_mode", "passthrough", *codec, path)
    return [i / 30 for i in range(60) if i not in dropped]


@needs_ffmpeg
@pytest.mark.parametrize(("name", "codec"), [
    ("vfr.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]),
    ("vfr.mov", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]),
    ("vfr.mkv", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]),
    ("vfr.webm", ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"]),
])
def test_variable_frame_rate_keeps_the_gaps(tmp_path, name, codec):
    """Times are the container's: a dropped frame leaves a gap, later frames are not pulled
    earlier (a frame counter would put the last frame 0.13 s early). Not a truncated file:
    MKV and WebM count frames as duration x nominal rate, which such a clip never reaches."""
    truth = _vfr(tmp_path / name, codec)
    source, frames = decode(tmp_path / name)
    assert len(frames) == len(truth) == source.info.frames
    np.testing.assert_allclose([f.t_s for f in frames], truth, atol=1.5e-3)
    assert source.info.duration_s == pytest.approx(2.0, abs=0.05)


@needs_ffmpeg
def test_raw_stream_without_timestamps_steps_by_the_frame_rate(tmp_path):
    """A raw H.264 stream has no clock (OpenCV reports 0 ms for every frame)."""
    clip = tmp_path / "raw.h264"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "1", "-c:v", "libx264", "-pix_fmt",
           "yuv420p", "-preset", "ultrafast", clip)
    source, frames = decode(clip)
    assert len(frames) == 25
    ts = [f.t_s for f in frames]
    assert_clock(ts)
    np.testing.assert_allclose(np.diff(ts), 1 / source.info.fps)


@needs_ffmpeg
def test_avi_with_b_frames_starts_at_zero_and_never_repeats(tmp_path):
    """H.264 in AVI has decode times only: OpenCV's clock starts two frames late and reads 0
    for the frames flushed at the end. Times are from the first frame, always increasing."""
    clip = tmp_path / "camcorder.avi"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "1", "-c:v", "libx264", "-pix_fmt",
           "yuv420p", "-preset", "ultrafast", "-bf", "2", clip)
    source, frames = decode(clip)
    assert len(frames) == 30
    ts = [f.t_s for f in frames]
    assert_clock(ts)
    np.testing.assert_allclose(ts, np.arange(30) / 30, atol=2e-3)
    assert source.info.duration_s == pytest.approx(1.0, abs=0.01)


@needs_ffmpeg
def test_clip_trimmed_without_reencoding_is_not_called_truncated(tmp_path):
    """QuickTime's Trim and `ffmpeg -ss -c copy` keep the frames before the cut (up to the
    previous key frame) behind an edit list: the track lists 60 frames, a player shows 45."""
    full = tmp_path / "full.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "2", "-c:v", "libx264", "-pix_fmt",
           "yuv420p", "-preset", "ultrafast", "-g", "300", full)
    trimmed = tmp_path / "trimmed.mov"
    ffmpeg("-ss", "0.5", "-i", full, "-c", "copy", trimmed)
    assert mp4_video_duration_s(trimmed) == pytest.approx(1.5, abs=0.02)
    source, frames = decode(trimmed)
    assert len(frames) == source.info.frames == 45
    assert source.info.duration_s == pytest.approx(1.5, abs=0.02)
    assert_clock([f.t_s for f in frames])


# ------------------------------------------------------------------ damaged and unsupported


@needs_ffmpeg
def test_truncated_mp4_with_its_index_first_is_still_reported(tmp_path):
    """The index (moov) at the front, as web-optimised files have it: the header promises
    more than the cut file holds."""
    clip = tmp_path / "upload.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "2", "-c:v", "libx264", "-pix_fmt",
           "yuv420p", "-preset", "ultrafast", "-g", "10", "-movflags", "+faststart", clip)
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])
    with open_source(clip) as source, pytest.raises(InputError, match=r"^upload\.mp4 is truncated or damaged: "
                                                                       r"decoding stopped after \d+ of 60 frames$"):
        list(source)


def test_truncated_mkv_is_still_reported(tmp_path):
    clip = write_clip(tmp_path / "cut.mkv", frames=60, size=(96, 64), fps=30.0, fourcc="MJPG")
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])
    with open_source(clip) as source, pytest.raises(InputError, match=r"^cut\.mkv is truncated or damaged"):
        list(source)


def test_mp4_header_reader_leaves_other_files_alone(tmp_path):
    assert mp4_video_duration_s(write_clip(tmp_path / "a.avi", frames=3, fourcc="MJPG")) is None
    assert mp4_video_duration_s(write_clip(tmp_path / "a.mkv", frames=3, fourcc="MJPG")) is None
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x10moov" + b"\xff" * 8)  # a box too short to hold a header
    assert mp4_video_duration_s(junk) is None
    assert mp4_video_duration_s(tmp_path / "missing.mp4") is None
    assert mp4_video_duration_s(write_clip(tmp_path / "a.mp4", frames=15, fps=30.0)) == pytest.approx(0.5)


def _analyze(monkeypatch, capfd, *args: str | Path) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["formcheck", "analyze", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as exc:
        main()
    out, err = capfd.readouterr()
    return exc.value.code, out, err


@needs_ffmpeg
def test_audio_only_file_is_one_line_not_a_traceback(monkeypatch, capfd, tmp_path):
    """A voice memo or a song picked by mistake."""
    memo = tmp_path / "memo.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", memo)
    code, _, err = _analyze(monkeypatch, capfd, memo, "--drill", "deep-squat")
    assert code == 2
    assert "Traceback" not in err
    assert [ln for ln in err.splitlines() if ln.strip()] == [
        "formcheck: memo.m4a is not a video formcheck can read (not a video file, or damaged)"]


# ------------------------------------------------------------------ through the real model


def _portrait_copy(sample: Path, out: Path, step: int = 2) -> tuple[int, int]:
    """A portrait crop of a sample clip stored the way a phone stores it: the picture turned
    a quarter anticlockwise into a landscape stream, tagged to be turned back for display.
    Every `step`-th frame (15 fps keeps the model's share short). Returns the shown size."""
    cap = cv2.VideoCapture(str(sample))
    fps = cap.get(cv2.CAP_PROP_FPS)
    stored = []
    i = 0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        if i % step == 0:
            w = img.shape[1]
            crop = img[:, w // 2 - 150: w // 2 + 150]  # 300 x 360: the runner and the strap
            stored.append(np.ascontiguousarray(np.rot90(crop, 1)))
        i += 1
    cap.release()
    sh, sw = stored[0].shape[:2]
    write_clip(out, size=(sw, sh), fps=fps / step, images=stored)
    tag_rotation(out, 90)
    return sh, sw


@pytest.mark.model
def test_portrait_phone_clip_through_analyze(monkeypatch, capfd, tmp_path):
    """lateral-hops.mp4 as a portrait phone clip: the model sees the runner upright and the
    hops come out at the sample's own times; the reports and annotated video are portrait."""
    sample = SAMPLES / "lateral-hops.mp4"
    if not sample.is_file():
        pytest.skip("sample_videos/lateral-hops.mp4 not rendered")
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "data"))
    clip = tmp_path / "IMG_1234.mov"
    width, height = _portrait_copy(sample, clip)
    assert (width, height) == (300, 360)
    report, video = tmp_path / "r.json", tmp_path / "annotated.mp4"
    code, _, err = _analyze(monkeypatch, capfd, clip, "--drill", "lateral-hops", "--model", "lite", "--quiet",
                            "--json", report, "--video", video)
    assert code == 0, err
    rep = json.loads(report.read_text())
    src = rep["source"]
    assert (src["width"], src["height"]) == (300, 360)
    assert src["fps"] == pytest.approx(15.0) and src["frames"] == 136
    assert src["duration_s"] == pytest.approx(136 / 15, abs=0.01)
    assert rep["pose_coverage"] >= 0.95
    # The sample's hops (sample_videos/README.md): 8, taking off 2.6 ... 7.4 s.
    hops = [e for e in rep["events"] if e["kind"] == "count"]
    assert len(hops) == 8
    np.testing.assert_allclose([e["t_s"] for e in hops], [2.6, 3.3, 4.0, 4.7, 5.4, 6.0, 6.7, 7.4], atol=0.25)
    out = cv2.VideoCapture(str(video))
    assert (out.get(cv2.CAP_PROP_FRAME_WIDTH), out.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (300, 360)
    assert out.get(cv2.CAP_PROP_FRAME_COUNT) == 136
    out.release()
