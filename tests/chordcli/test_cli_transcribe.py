"""``chordcli transcribe`` end to end with the template model, through CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

from chordcli.cli import app
from chordcli.lab import parse_lab, read_lab
from models.backend import DEFAULT_MODEL
from tests.synth_audio import chord_progression

LABELS = ["C:maj", "G:maj", "A:min", "F:maj"]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    paths = []
    for i, shift_labels in enumerate([LABELS, LABELS[::-1]]):
        path = folder / f"song{i}.wav"
        soundfile.write(path, chord_progression(shift_labels, chord_s=2.0), 22050)
        paths.append(path)
    return paths


def _errors(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_single_input_prints_lab_on_stdout_only(runner, songs):
    result = runner.invoke(app, ["transcribe", str(songs[0]), "--model", "template"])
    assert result.exit_code == 0, result.stderr
    segments = parse_lab(result.stdout)  # stdout is a valid LAB and nothing else
    labels = [s.label for s in segments if s.duration_s > 0.5]
    assert labels == LABELS
    assert "key " in result.stderr and "bpm" in result.stderr


def test_format_follows_the_output_suffix(runner, songs, tmp_path):
    out = tmp_path / "song.json"
    result = runner.invoke(
        app, ["transcribe", str(songs[0]), "-o", str(out), "--model", "template"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    data = json.loads(out.read_text())
    assert data["model"] == "template" and data["segments"][0]["label"] == "C:maj"
    assert data["key"] in {"C:major", "A:minor"} and data["tempo_bpm"] > 0
    # --format wins over the suffix.
    out2 = tmp_path / "other.json"
    args = ["transcribe", str(songs[0]), "-o", str(out2), "--format", "lab", "--model", "template"]
    assert runner.invoke(app, args).exit_code == 0
    assert read_lab(out2)[0].label == "C:maj"


def test_batch_with_a_corrupt_file_writes_all_good_outputs_and_exits_1(runner, songs, tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage garbage")
    out = tmp_path / "out"
    out.mkdir()
    args = ["transcribe", str(songs[0]), str(corrupt), str(songs[1]), "-o", str(out)]
    result = runner.invoke(app, [*args, "--model", "template"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(_errors(result)) == 1 and "corrupt.wav" in _errors(result)[0]
    assert (out / "song0.lab").is_file() and (out / "song1.lab").is_file()
    assert not (out / "corrupt.lab").exists()
    assert "2 of 3 files transcribed, 1 failed" in result.stderr
    assert "Traceback" not in result.output


def test_vocab_transpose_capo_options(runner, songs):
    args = ["transcribe", str(songs[0]), "--model", "template", "--vocab", "majmin"]
    result = runner.invoke(app, [*args, "--transpose", "2", "--capo", "2"])
    assert result.exit_code == 0
    assert [s.label for s in parse_lab(result.stdout) if s.duration_s > 0.5] == LABELS
    result = runner.invoke(app, [*args, "--capo", "5"])
    assert [s.label for s in parse_lab(result.stdout) if s.duration_s > 0.5] == [
        "G:maj",
        "D:maj",
        "E:min",
        "C:maj",
    ]


def test_beat_sync_and_plot(runner, songs, tmp_path):
    png = tmp_path / "song.png"
    out = tmp_path / "song.json"
    args = ["transcribe", str(songs[0]), "-o", str(out), "--plot", str(png), "--beat-sync"]
    result = runner.invoke(app, [*args, "--model", "template"])
    assert result.exit_code == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(out.read_text())
    beats = np.array(data["beats_s"])
    for seg in data["segments"][1:]:
        assert np.min(np.abs(beats - seg["start_s"])) < 1e-3
    # The figure is not replaced without --overwrite.
    again = runner.invoke(app, [*args, "--model", "template"])
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_unknown_model_is_one_error_line(runner, songs):
    result = runner.invoke(app, ["transcribe", str(songs[0]), "--model", "no/such/model"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert _errors(result) == [
        line for line in _errors(result) if "no/such/model" in line and "--model template" in line
    ]
    assert len(_errors(result)) == 1


def test_missing_bundled_weights_suggest_the_template(runner, songs, tmp_path, monkeypatch):
    import models.backend

    monkeypatch.setattr(models.backend, "WEIGHTS_DIR", tmp_path / "no-weights")
    result = runner.invoke(app, ["transcribe", str(songs[0])])
    assert result.exit_code == 1
    assert DEFAULT_MODEL in result.stderr and "--model template" in result.stderr


def test_tuning_option(runner, songs, tmp_path):
    """--tuning auto reports the estimate, CENTS is used as given, junk is a usage error."""
    auto = runner.invoke(app, ["transcribe", str(songs[0]), "--model", "template", "-f", "json"])
    assert auto.exit_code == 0, auto.stderr
    assert abs(json.loads(auto.stdout)["tuning_cents"]) <= 2.0
    given = runner.invoke(
        app, ["transcribe", str(songs[0]), "--model", "template", "-f", "json", "--tuning", "-7"]
    )
    assert given.exit_code == 0, given.stderr
    assert json.loads(given.stdout)["tuning_cents"] == -7.0
    for bad in ("sharp", "60"):
        result = runner.invoke(app, ["transcribe", str(songs[0]), "--tuning", bad])
        assert result.exit_code == 2
        assert "tuning" in result.stderr and "Traceback" not in result.stderr


def test_inputs_and_outputs_are_checked_before_the_model_loads(runner, songs, tmp_path):
    # A model that cannot load is never reached when no input can be transcribed: the
    # only error is the input's (so a bad call fails at --help speed).
    missing = tmp_path / "missing.wav"
    result = runner.invoke(app, ["transcribe", str(missing), "--model", "no/such/model"])
    assert result.exit_code == 1
    assert _errors(result) == [f"error: cannot read '{missing}': file not found"]
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("not audio")
    taken = tmp_path / "taken.lab"
    taken.write_text("0 1 N\n")
    result = runner.invoke(
        app,
        ["transcribe", str(not_audio), str(songs[0]), "-o", str(tmp_path), "--model", "no/model"],
    )
    assert result.exit_code == 1
    errors = _errors(result)
    assert "unknown audio format" in errors[0] and "no/model" in errors[1]
    result = runner.invoke(
        app, ["transcribe", str(songs[0]), "-o", str(taken), "--model", "no/such/model"]
    )
    assert result.exit_code == 1
    assert len(_errors(result)) == 1 and "already exists" in _errors(result)[0]


def test_alternatives_option(runner, songs):
    args = ["transcribe", str(songs[0]), "--model", "template"]
    sheet = runner.invoke(app, [*args, "-f", "leadsheet", "--alternatives"])
    assert sheet.exit_code == 0, sheet.stderr
    chart, listing = sheet.stdout.split("## Alternatives\n\n")
    assert chart.count("```") == 2  # the chart comes first, complete
    lines = listing.splitlines()
    assert lines[0].startswith("- 0:00.0 ") and all(line.count("%") >= 3 for line in lines)
    plain = runner.invoke(app, [*args, "-f", "leadsheet"])
    assert "Alternatives" not in plain.stdout
    data = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    assert all(len(seg["alternatives"]) >= 3 for seg in data["segments"])
    refused = runner.invoke(app, [*args, "--alternatives"])
    assert refused.exit_code == 2 and "lead sheet" in refused.stderr


def test_batch_plan_refuses_what_would_lose_data_or_be_ignored(songs, tmp_path):
    from chordcli.batch import plan_batch
    from chordcli.errors import UsageError

    with pytest.raises(UsageError, match="never writes over an input"):
        plan_batch([songs[0]], output=songs[0], format="lab", overwrite=True)
    with pytest.raises(UsageError, match="selects no output format"):
        plan_batch([songs[0]], output=tmp_path / "out.wav")
    with pytest.raises(UsageError, match="HTML page") as error:
        plan_batch([songs[0]], output=tmp_path / "out.lab", link_audio=True)
    assert error.value.param_hint == "'--link-audio'"
    with pytest.raises(UsageError, match="not a figure file"):
        plan_batch([songs[0]], output=tmp_path / "out.lab", plot=tmp_path / "fig.jpg")
    plan = plan_batch(songs, output=f"{tmp_path}/new/")
    assert plan.new_directory == tmp_path / "new" and not plan.new_directory.exists()
    assert plan.targets == (tmp_path / "new" / "song0.lab", tmp_path / "new" / "song1.lab")


def test_transcribe_batch_creates_a_new_directory_when_it_writes(songs, tmp_path):
    import chordcli

    results = chordcli.transcribe_batch([songs[0]], f"{tmp_path}/out/", model="template")
    assert results[0].error is None and (tmp_path / "out" / "song0.lab").is_file()
    failed = chordcli.transcribe_batch(
        [tmp_path / "nope.wav"], f"{tmp_path}/none/", model="template"
    )
    assert failed[0].error is not None and not (tmp_path / "none").exists()


def test_a_batch_read_ahead_keeps_each_file_with_its_own_result(songs, tmp_path):
    # the next file is read while this one is transcribed: skipped and failed inputs must not
    # shift the results, and every stage of every file is reported
    from chordcli.batch import TranscribeOptions, plan_batch, run_batch
    from models.backend import load_backend

    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage garbage")
    out = tmp_path / "out"
    out.mkdir()
    (out / "song0.lab").write_text("kept\n")
    backend = load_backend("template")
    inputs = [songs[0], corrupt, songs[1]]
    plan = plan_batch(inputs, output=out, format="lab")
    stages = []
    results = list(
        run_batch(
            plan,
            backend=backend,
            options=TranscribeOptions(vocab="majmin"),
            on_stage=lambda path, stage: stages.append((path.name, stage)),
        )
    )
    assert [r.path for r in results] == inputs
    assert [r.error is None for r in results] == [False, False, True]
    assert "exists" in str(results[0].error) and "corrupt.wav" in str(results[1].error)
    assert (out / "song0.lab").read_text() == "kept\n"
    labels = [s.label for s in results[2].transcription.segments if s.label != "N"]
    assert labels == LABELS[::-1]
    for stage in ("reading", "CQT", "beats", "network", "decoding"):
        assert ("song1.wav", stage) in stages


def test_views_option_is_checked_and_reaches_the_model(runner, songs, tmp_path):
    import chordcli

    even = runner.invoke(app, ["transcribe", str(songs[0]), "--views", "2"])
    assert even.exit_code == 2 and "--views" in even.stderr
    template = runner.invoke(
        app, ["transcribe", str(songs[0]), "--views", "3", "--model", "template"]
    )
    assert template.exit_code == 1 and len(_errors(template)) == 1
    assert "template" in _errors(template)[0] and "Traceback" not in template.output
    backend = chordcli.load_model(DEFAULT_MODEL, views=3)
    assert backend.pitch_views == (-1, 0, 1)
    assert chordcli.load_model(DEFAULT_MODEL).pitch_views == (0,)
    with pytest.raises(ValueError, match="views"):
        chordcli.load_model(backend, views=5)
    out = tmp_path / "three.lab"
    result = runner.invoke(app, ["transcribe", str(songs[1]), "--views", "3", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    labels = [s.label for s in read_lab(out) if s.duration_s > 0.5]
    assert [label.split(":")[0] for label in labels] == ["F", "A", "G", "C"]
