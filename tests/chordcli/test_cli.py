import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

import chordcli
from chordcli.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def good_wav(tmp_path):
    path = tmp_path / "good.wav"
    t = np.arange(22050) / 22050
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)
    return path


@pytest.fixture
def song_lab(tmp_path):
    path = tmp_path / "song.lab"
    path.write_text("0.0\t1.5\tC:maj\n1.5\t3.0\tG:7\n")
    return path


def _error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"chordcli {chordcli.__version__}\n"


def test_help_lists_the_commands(runner):
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("transcribe", "export", "train", "eval"):
        assert command in result.stdout


HELP_OPTIONS = {
    "transcribe": [
        "--output",
        "--format",
        "--vocab",
        "--transpose",
        "--capo",
        "--model",
        "--plot",
        "--beat-sync",
        "--overwrite",
        "musicxml",
        "majmin",
    ],
    "export": ["--output", "--musicxml", "--leadsheet", "--chordpro", "--midi", "--jams"],
    "train": ["--out", "--epochs", "--config", "--resume", "--seed"],
    "eval": ["--json", "--csv", "--confusion", "--audio", "--model"],
}


@pytest.mark.parametrize(("command", "options"), HELP_OPTIONS.items())
def test_command_help_mentions_its_options(runner, command, options):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in options:
        assert option in result.stdout, option


def test_transcribe_reports_each_bad_file_and_goes_on(runner, tmp_path, good_wav):
    missing = tmp_path / "missing.wav"
    out = tmp_path / "out"
    out.mkdir()
    args = ["transcribe", str(missing), str(good_wav), "-o", str(out), "--model", "template"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stdout == ""  # stdout carries data only
    errors = _error_lines(result)
    assert errors[0] == f"error: cannot read '{missing}': file not found"
    assert sum(str(missing) in line for line in errors) == 1
    assert not any(str(good_wav) in line for line in errors)
    assert "1 of 2 files transcribed, 1 failed" in result.stderr
    assert (out / "good.lab").is_file()
    assert "Traceback" not in result.output


def test_transcribe_one_error_line_per_bad_file(runner, tmp_path, good_wav):
    (tmp_path / "text.wav").write_text("not audio\n" * 10)
    (tmp_path / "empty.flac").write_bytes(b"")
    bad = [tmp_path / "text.wav", tmp_path / "empty.flac", tmp_path]
    args = ["transcribe", *map(str, bad), str(good_wav), "-o", str(tmp_path), "--model", "template"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    errors = _error_lines(result)
    for path in bad:
        assert sum(f"'{path}'" in line for line in errors) == 1
    assert "1 of 4 files transcribed, 3 failed" in result.stderr


def test_transcribe_never_replaces_outputs_without_overwrite(runner, tmp_path, good_wav):
    existing = tmp_path / "good.lab"
    existing.write_text("mine")
    args = ["transcribe", str(good_wav), "-o", str(tmp_path), "--model", "template"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert f"error: '{existing}' already exists (hint: use --overwrite" in result.stderr
    assert "0 of 1 file transcribed, 1 failed" in result.stderr
    assert existing.read_text() == "mine"
    result = runner.invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 0
    assert "already exists" not in result.stderr
    assert existing.read_text() != "mine"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["transcribe"], "Missing argument"),
        (["transcribe", "a.wav", "b.wav"], "several inputs need an output directory"),
        (["transcribe", "a.wav", "b.wav", "-o", "x.lab"], "is not a directory"),
        (["transcribe", "a.wav", "--format", "mp4"], "--format"),
        (["transcribe", "a.wav", "--capo", "12"], "--capo"),
        (["transcribe", "a.wav", "--transpose", "-12"], "--transpose"),
        (["transcribe", "a.wav", "--format", "midi"], "midi output needs a file"),
        (["transcribe", "a.wav", "b.wav", "-o", ".", "--plot", "p.png"], "one input file only"),
        (["export", "a.lab"], "give a format option"),
        (["export", "a.lab", "--midi", "--jams", "-o", "a.mid"], "choose one output format"),
        (["train", "data", "--resume"], "--resume needs the run directory"),
        (["train", "data", "--epochs", "0"], "--epochs"),
        (["eval", "r.lab", "e.lab", "--json", "--csv"], "choose one of --json and --csv"),
        (["eval", "r.lab", "e.lab", "--model", "m"], "--model is used with --audio only"),
        (["nonsense"], "No such command"),
    ],
)
def test_usage_errors_exit_2(runner, args, fragment):
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert fragment in result.stderr


def test_export_validates_its_input(runner, tmp_path, song_lab):
    bad = tmp_path / "bad.lab"
    bad.write_text("0 1 C:maj\n2 1 G:maj\n")
    result = runner.invoke(app, ["export", str(bad), "--leadsheet"])
    assert result.exit_code == 1
    assert _error_lines(result) == [f"error: '{bad}' line 2: start 2 is not before end 1"]

    result = runner.invoke(app, ["export", str(tmp_path / "none.lab"), "--jams"])
    assert result.exit_code == 1
    assert "file not found" in result.stderr

    result = runner.invoke(app, ["export", str(song_lab), "-o", str(tmp_path / "song.md")])
    assert result.exit_code == 0
    assert "2 chord segments" in result.stderr
    assert (tmp_path / "song.md").read_text().startswith("# song")


def test_export_refuses_existing_output(runner, tmp_path, song_lab):
    out = tmp_path / "song.cho"
    out.write_text("mine")
    result = runner.invoke(app, ["export", str(song_lab), "-o", str(out)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert out.read_text() == "mine"


def test_train_validates_its_inputs(runner, tmp_path):
    result = runner.invoke(app, ["train", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "directory not found" in result.stderr
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.txt").write_text("")
    result = runner.invoke(app, ["train", str(tmp_path), "--out", str(run)])
    assert result.exit_code == 1
    assert "already exists and is not empty (hint: use --resume" in result.stderr
    result = runner.invoke(app, ["train", str(tmp_path), "--out", str(run), "--resume"])
    assert result.exit_code == 1
    assert f"cannot resume '{run}': it holds no checkpoint.npz" in result.stderr


def test_eval_validates_its_inputs(runner, tmp_path, song_lab):
    result = runner.invoke(app, ["eval", str(song_lab), str(tmp_path / "est.lab")])
    assert result.exit_code == 1
    assert f"cannot read '{tmp_path / 'est.lab'}': file not found" in result.stderr
    png = tmp_path / "c.png"
    result = runner.invoke(app, ["eval", str(song_lab), str(song_lab), "--confusion", str(png)])
    assert result.exit_code == 0
    assert png.is_file()


def test_cli_in_a_subprocess_imports_nothing_heavy(tmp_path):
    script = textwrap.dedent(
        """
        import sys

        import models
        import theory

        heavy = ("tensorflow", "music21", "jams", "matplotlib", "mir_eval")
        assert not [m for m in heavy if m in sys.modules], "import theory/models"

        from chordcli.cli import main

        sys.argv = ["chordcli", "--help"]
        try:
            main()
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        loaded = [m for m in heavy if m in sys.modules]
        assert not loaded, f"chordcli --help imported {loaded}"
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "transcribe" in result.stdout

    version = subprocess.run(
        [sys.executable, "-m", "chordcli", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert version.returncode == 0
    assert version.stdout.startswith("chordcli ")
