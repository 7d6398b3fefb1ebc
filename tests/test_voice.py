"""Voice: off by default, never blocks, one utterance at a time, silent without an engine."""

import shutil
import sys
import time

import pytest

from formcheck.voice import Voice, find_engine

SLOW_ENGINE = [sys.executable, "-c", "import sys, time; time.sleep(0.6)"]  # speaks for 0.6 s


def test_off_by_default_does_nothing():
    v = Voice()
    assert not v.available
    assert v.say("Keep your hips level") is False
    assert v.spoken == []


def test_absent_engine_is_silently_skipped(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng, say or spd-say here
    monkeypatch.delenv("FORMCHECK_TTS", raising=False)
    assert find_engine() is None
    v = Voice(enabled=True)
    assert not v.available
    assert v.say("Keep your hips level") is False


def test_custom_engine_that_is_not_installed(monkeypatch):
    monkeypatch.setenv("FORMCHECK_TTS", "no-such-tts-program --fast")
    assert find_engine() is None


def test_engine_that_fails_to_start_turns_speech_off(tmp_path):
    v = Voice(enabled=True, command=[str(tmp_path / "missing-engine")])
    assert v.say("hello") is False
    assert not v.available


def test_say_returns_at_once_and_one_utterance_at_a_time():
    v = Voice(enabled=True, command=SLOW_ENGINE, cooldown_s=0.2)
    t0 = time.monotonic()
    assert v.say("Keep your left heel on the floor") is True
    assert time.monotonic() - t0 < 0.3  # the frame loop never waits for speech
    assert v.busy
    assert v.say("Roll slower") is False  # skipped, not queued
    deadline = time.monotonic() + 5
    while v.busy and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not v.busy  # finished and cooled down
    assert v.say("Roll slower") is True
    assert v.spoken == ["Keep your left heel on the floor", "Roll slower"]
    v.close()
    assert not v.busy or v._proc is None


def test_close_stops_a_long_utterance():
    v = Voice(enabled=True, command=[sys.executable, "-c", "import time; time.sleep(30)"])
    assert v.say("x")
    proc = v._proc
    t0 = time.monotonic()
    v.close()
    assert time.monotonic() - t0 < 3
    assert proc.poll() is not None


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_espeak_ng_speaks_the_cue(tmp_path):
    wav = tmp_path / "cue.wav"
    with Voice(enabled=True, command=["espeak-ng", "-w", str(wav)]) as v:
        assert v.say("Keep your left heel on the floor")
        v.close(wait_s=10)
    data = wav.read_bytes()
    assert data[:4] == b"RIFF" and len(data) > 10_000  # about 2 s of speech
