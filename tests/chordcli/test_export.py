import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chordcli.bars import chart_bars
from chordcli.cli import app
from chordcli.writers import read_transcription

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def handmade(tmp_path):
    path = tmp_path / "handmade.lab"
    shutil.copy(GOLDEN / "handmade.lab", path)
    return path


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "example.json"
    shutil.copy(GOLDEN / "example.json", path)
    return path


def errors(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(
    ("flag", "golden"),
    [("--leadsheet", "handmade.md"), ("--chordpro", "handmade.cho"), ("--lab", "handmade.out.lab")],
)
def test_lab_to_text_formats_on_stdout(runner, handmade, flag, golden):
    result = runner.invoke(app, ["export", str(handmade), flag])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (GOLDEN / golden).read_text(encoding="utf-8")
    assert "key G major" in result.stderr


@pytest.mark.parametrize(
    "name", ["out.musicxml", "out.mxl", "out.md", "out.txt", "out.cho", "out.mid", "out.jams"]
)
def test_format_from_the_output_suffix(runner, handmade, tmp_path, name):
    out = tmp_path / name
    result = runner.invoke(app, ["export", str(handmade), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert out.stat().st_size > 0
    assert str(out) in result.stderr


def test_hand_corrected_lab_becomes_a_score(runner, handmade, tmp_path):
    from music21 import converter, harmony

    out = tmp_path / "score.musicxml"
    result = runner.invoke(
        app, ["export", str(handmade), "--musicxml", "-o", str(out), "--tempo", "60"]
    )
    assert result.exit_code == 0, result.stderr
    score = converter.parse(str(out))
    transcription = read_transcription(handmade)
    _, bars, _ = chart_bars(dataclasses.replace(transcription, tempo_bpm=60.0))
    assert len(score.parts[0].getElementsByClass("Measure")) == len(bars)
    figures = [
        h
        for h in score.recurse().getElementsByClass(harmony.ChordSymbol)
        if not isinstance(h, harmony.NoChord)
    ]
    assert [f.root().name for f in figures][:4] == ["G", "E", "C", "D"]


def test_tempo_and_metre_options(runner, handmade, example):
    result = runner.invoke(
        app, ["export", str(handmade), "--leadsheet", "--tempo", "90", "--beats-per-bar", "3"]
    )
    assert result.exit_code == 0
    assert "Tempo: 90 bpm · Time: 3/4" in result.stdout
    # --tempo replaces the beats of a transcription with a constant grid
    plain = runner.invoke(app, ["export", str(example), "--leadsheet"]).stdout
    fast = runner.invoke(app, ["export", str(example), "--leadsheet", "--tempo", "200"]).stdout
    assert "Tempo: 96 bpm" in plain and "Tempo: 200 bpm" in fast
    assert fast.count("|") > plain.count("|")


def test_json_to_jams_and_back(runner, example, tmp_path):
    out = tmp_path / "example.jams"
    result = runner.invoke(app, ["export", str(example), "--jams", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert read_transcription(out) == read_transcription(example)
    back = tmp_path / "back.json"
    assert runner.invoke(app, ["export", str(out), "-o", str(back)]).exit_code == 0
    assert read_transcription(back) == read_transcription(example)


def test_missing_input_exits_1_naming_the_file(runner, tmp_path):
    missing = tmp_path / "nope.lab"
    result = runner.invoke(app, ["export", str(missing), "--leadsheet"])
    assert result.exit_code == 1
    assert errors(result) == [f"error: cannot read '{missing}': file not found"]
    assert result.stdout == ""


def test_bad_lab_line_exits_1_naming_file_and_line(runner, tmp_path):
    bad = tmp_path / "bad.lab"
    bad.write_text("0 1 C:maj\n1 2 C:major7\n")
    out = tmp_path / "bad.md"
    result = runner.invoke(app, ["export", str(bad), "-o", str(out)])
    assert result.exit_code == 1
    (line,) = errors(result)
    assert line.startswith(f"error: '{bad}' line 2:")
    assert "Traceback" not in result.stderr and not out.exists()


def test_never_overwrites_without_overwrite(runner, handmade, tmp_path):
    out = tmp_path / "song.cho"
    out.write_text("mine")
    result = runner.invoke(app, ["export", str(handmade), "-o", str(out)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "--overwrite" in result.stderr
    assert out.read_text() == "mine"
    result = runner.invoke(app, ["export", str(handmade), "-o", str(out), "--overwrite"])
    assert result.exit_code == 0
    assert out.read_text().startswith("{title: handmade}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handmade.lab", "song.cho"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--midi"], "midi output needs a file"),
        (["--lab", "--json"], "choose one output format"),
        (["-o", "x.wav"], "give a format option"),
        (["--leadsheet", "--tempo", "0"], "--tempo"),
        (["--leadsheet", "--beats-per-bar", "0"], "--beats-per-bar"),
    ],
)
def test_usage_errors_exit_2(runner, handmade, args, fragment):
    result = runner.invoke(app, ["export", str(handmade), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert fragment in result.stderr


def test_real_process(handmade):
    result = subprocess.run(
        [sys.executable, "-m", "chordcli", "export", str(handmade), "--chordpro"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (GOLDEN / "handmade.cho").read_text(encoding="utf-8")


def test_a_lab_gets_the_tempo_of_its_changes_for_charts_only_and_it_is_said(runner, handmade):
    import json

    chart = runner.invoke(app, ["export", str(handmade), "--chordpro"])
    assert f"{handmade}: tempo 120 bpm estimated from the chord changes" in chart.stderr
    as_json = runner.invoke(app, ["export", str(handmade), "--json"])
    assert "bpm" not in as_json.stderr  # JSON keeps the LAB's (absent) tempo
    assert json.loads(as_json.stdout)["tempo_bpm"] is None
    given = runner.invoke(app, ["export", str(handmade), "--chordpro", "--tempo", "90"])
    assert "estimated" not in given.stderr and "{tempo: 90}" in given.stdout


def test_api_export_into_a_new_directory_never_over_the_source(handmade, tmp_path):
    import chordcli
    from chordcli.errors import UsageError

    written = chordcli.export(handmade, f"{tmp_path}/charts/", format="chordpro")
    assert written == tmp_path / "charts" / "handmade.cho" and written.is_file()
    with pytest.raises(UsageError, match="never writes over an input"):
        chordcli.export(handmade, tmp_path, format="lab", overwrite=True)
    with pytest.raises(UsageError, match="selects no output format"):
        chordcli.export(handmade, tmp_path / "x.wav")
    assert handmade.read_text() == (GOLDEN / "handmade.lab").read_text()
