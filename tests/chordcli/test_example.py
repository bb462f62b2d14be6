"""The README's example runs as a real subprocess on the bundled clip."""

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


def test_readme_example_command(tmp_path):
    out = tmp_path / "example.lab"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "chordcli",
            "transcribe",
            str(EXAMPLE),
            "--model",
            "template",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the LAB went to the file, stdout carries data only
    segments = read_lab(out)
    assert segments[0].start_s == 0.0
    assert abs(segments[-1].end_s - load_audio(EXAMPLE).duration_s) < 0.2
    assert "key" in result.stderr
