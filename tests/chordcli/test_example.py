"""The README's example runs as a real subprocess on the bundled clip with the bundled model."""

import subprocess
import sys

from conftest import REPO

from chordcli.audio import load_audio
from chordcli.lab import read_lab

EXAMPLE = REPO / "examples" / "example.flac"


def test_example_clip_and_reference_are_valid():
    audio = load_audio(EXAMPLE)
    reference = read_lab(REPO / "examples" / "example.lab")
    assert 20.0 <= audio.duration_s <= 30.0
    assert abs(reference[-1].end_s - audio.duration_s) < 0.05
    assert reference[0].start_s == 0.0


GOLDEN = REPO / "tests" / "data" / "golden" / "example-chordnet-v1.lab"
FRAME_S = 2048 / 22050  # one ChordNet frame


def test_readme_example_command_reproduces_the_golden_transcription(tmp_path):
    """``chordcli transcribe examples/example.flac -o example.lab`` with the default model.

    The golden file was written by the same command (``chordcli transcribe
    examples/example.flac -o tests/data/golden/example-chordnet-v1.lab --overwrite`` when the
    bundled model changes); the chords must be the same and every boundary within one frame
    (other CPUs may round the network's arithmetic differently).
    """
    out = tmp_path / "example.lab"
    result = subprocess.run(
        [sys.executable, "-m", "chordcli", "transcribe", str(EXAMPLE), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the LAB went to the file, stdout carries data only
    assert "key" in result.stderr
    got, golden = read_lab(out), read_lab(GOLDEN)
    assert [s.label for s in got] == [s.label for s in golden]
    for a, b in zip(got, golden, strict=True):
        assert abs(a.start_s - b.start_s) <= FRAME_S + 1e-6
        assert abs(a.end_s - b.end_s) <= FRAME_S + 1e-6
    assert got[0].start_s == 0.0
    assert abs(got[-1].end_s - load_audio(EXAMPLE).duration_s) < 0.2


def test_template_model_runs_on_the_example(tmp_path):
    out = tmp_path / "example.lab"
    result = subprocess.run(
        [sys.executable, "-m", "chordcli", "transcribe", str(EXAMPLE), "--model", "template"]
        + ["-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert read_lab(out)[0].start_s == 0.0


def test_beat_sync_keeps_every_chord_change_of_the_example():
    """The beat grid reaches the last chord change (25.91 s), so --beat-sync keeps it."""
    from chordcli.pipeline import analyse_file
    from models.backend import load_backend

    backend = load_backend(None)
    plain = analyse_file(EXAMPLE, backend=backend).transcription
    synced = analyse_file(EXAMPLE, backend=backend, beat_sync=True).transcription
    assert [s.label for s in synced.segments] == [s.label for s in plain.segments]
    half_beat = 30.0 / synced.tempo_bpm
    for a, b in zip(plain.segments, synced.segments, strict=True):
        assert abs(a.start_s - b.start_s) <= half_beat + 1e-6
    reference = read_lab(REPO / "examples" / "example.lab")
    assert abs(synced.segments[-1].start_s - reference[-1].start_s) <= half_beat
