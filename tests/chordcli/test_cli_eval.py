"""``chordcli eval`` through Typer's CliRunner: outputs, problems, exit codes, --audio."""

import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from chordcli.cli import app


@pytest.fixture
def runner():
    return CliRunner()


def write_lab(path, *items):
    path.write_text("".join(f"{a}\t{b}\t{label}\n" for a, b, label in items))
    return path


@pytest.fixture
def pair(tmp_path):
    ref = write_lab(tmp_path / "ref.lab", (0, 2, "C:maj"), (2, 4, "A:min"))
    est = write_lab(tmp_path / "est.lab", (0, 4, "C:maj"))
    return ref, est


@pytest.fixture
def folders(tmp_path):
    ref, est = tmp_path / "ref", tmp_path / "est"
    ref.mkdir()
    est.mkdir()
    write_lab(ref / "a.lab", (0, 2, "C:maj"), (2, 4, "A:min"))  # root 0.5 over 4 s
    write_lab(ref / "b.lab", (0, 2, "G:7"))  # root 1, sevenths 0 over 2 s
    write_lab(ref / "c.lab", (0, 2, "D:maj"))  # no estimate
    write_lab(est / "a.lab", (0, 4, "C:maj"))
    write_lab(est / "b.lab", (0, 2, "G:maj"))
    return ref, est


def test_two_files_table(runner, pair):
    ref, est = pair
    result = runner.invoke(app, ["eval", str(ref), str(est)])
    assert result.exit_code == 0, result.stderr
    lines = {
        line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.split()
    }
    assert lines["root"] == ["50.0", "50.0"]
    assert lines["overseg"] == ["100.0", "100.0"]
    assert "1 song scored" in result.stderr


def test_json_weighted_and_mean(runner, folders):
    ref, est = folders
    result = runner.invoke(app, ["eval", str(ref), str(est), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["songs_scored"] == 2
    assert data["weighted"]["root"] == pytest.approx((0.5 * 4 + 1.0 * 2) / 6, abs=1e-6)
    assert data["mean"]["root"] == pytest.approx(0.75)
    assert data["weighted"]["sevenths"] == pytest.approx(2 / 6, abs=1e-6)
    assert data["mean"]["sevenths"] == pytest.approx(0.25)
    assert [p["kind"] for p in data["problems"]] == ["missing"]
    assert "skipped: no estimate named 'c'" in result.stderr


def test_csv(runner, folders):
    ref, est = folders
    result = runner.invoke(app, ["eval", str(ref), str(est), "--csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["song"] for r in rows] == ["a", "b", "ALL (weighted)", "ALL (mean)"]
    assert float(rows[2]["root"]) == pytest.approx(2 / 3, abs=1e-6)


def test_bad_file_is_listed_and_exits_1(runner, folders):
    ref, est = folders
    (est / "b.lab").write_text("0 2 G:maj\n2 1 C:maj\n")
    result = runner.invoke(app, ["eval", str(ref), str(est), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)  # the good pair is still scored and printed
    assert [s["name"] for s in data["songs"]] == ["a"]
    assert f"error: '{est / 'b.lab'}' line 2" in result.stderr
    assert "1 song scored (0:04.0), 1 skipped without a partner, 1 failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_scored_exits_1(runner, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "e").mkdir()
    write_lab(tmp_path / "r" / "x.lab", (0, 1, "C:maj"))
    result = runner.invoke(app, ["eval", str(tmp_path / "r"), str(tmp_path / "e")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "nothing was scored" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "give a reference and an estimate"),
        (["only-ref.lab"], "give a reference and an estimate"),
    ],
)
def test_usage_errors(runner, args, fragment):
    result = runner.invoke(app, ["eval", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert fragment in result.stderr


def test_file_against_directory_is_an_error(runner, folders):
    ref, est = folders
    result = runner.invoke(app, ["eval", str(ref / "a.lab"), str(est)])
    assert result.exit_code == 1
    assert "one is a directory and the other a file" in result.stderr


def test_confusion_outputs(runner, tmp_path):
    ref = write_lab(tmp_path / "ref.lab", (0, 2, "C:sus4(b7)"), (2, 3, "C:maj"))
    est = write_lab(tmp_path / "est.lab", (0, 2, "C:sus4(b7,9)"), (2, 3, "C:maj"))
    png = tmp_path / "conf.png"
    result = runner.invoke(app, ["eval", str(ref), str(est), "--confusion", str(png)])
    assert result.exit_code == 0, result.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"
    matrix = {row[0]: row[1:] for row in csv.reader((tmp_path / "conf.csv").open())}
    header = matrix.pop("reference")
    assert float(matrix["7sus4"][header.index("9sus4")]) == 2.0
    assert float(matrix["maj"][header.index("maj")]) == 1.0
    qualities = {r["quality"]: r for r in csv.DictReader((tmp_path / "conf-qualities.csv").open())}
    assert qualities["7sus4"]["recall"] == "0.0000"
    assert qualities["7sus4"]["top_confusion"] == "9sus4"
    assert "Chord qualities" in result.stdout and "9sus4" in result.stdout
    # existing outputs are kept without --overwrite, and nothing is scored
    result = runner.invoke(app, ["eval", str(ref), str(est), "--confusion", str(png)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr and result.stdout == ""
    result = runner.invoke(
        app, ["eval", str(ref), str(est), "--confusion", str(png), "--overwrite", "--json"]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["qualities"][0]["quality"] == "maj"


# ---------------------------------------------------------------------------------------------
# --audio: a tiny synthesised folder transcribed by the template baseline


def _synth_folder(folder):
    import soundfile

    sr = 22050

    def tone(midi, n):
        t = np.arange(n) / sr
        f = 440.0 * 2 ** ((midi - 69) / 12)
        return sum(np.sin(2 * np.pi * k * f * t) / k for k in (1, 2, 3))

    progression = [("C:maj", (48, 60, 64, 67)), ("A:min", (45, 57, 60, 64))]
    n = 2 * sr
    x = np.concatenate([sum(tone(m, n) for m in notes) for _, notes in progression])
    x = (0.08 * x).astype(np.float32)
    folder.mkdir()
    soundfile.write(folder / "song.wav", np.stack([x, x], axis=1), sr)
    write_lab(folder / "song.lab", (0, 2, "C:maj"), (2, 4, "A:min"))
    (folder / "song.key").write_text("0\t4\tC:major\n")
    soundfile.write(folder / "unlabelled.wav", np.stack([x, x], axis=1), sr)


def test_eval_audio_with_the_template_model(runner, tmp_path):
    pytest.importorskip("chordcli.pipeline")
    pytest.importorskip("models.template")
    data, out = tmp_path / "data", tmp_path / "out"
    _synth_folder(data)
    out.mkdir()
    args = ["eval", "--audio", str(data), "--model", "template", "--json"]
    result = runner.invoke(app, [*args, str(data), str(out)])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "template"
    assert [s["name"] for s in report["songs"]] == ["song"]
    song = report["songs"][0]
    assert song["ref_key"] == "C:major" and song["est_key"] is not None
    assert song["scores"]["root"] > 0.7  # two plain triads, 2 s each
    assert "skipped: no chord annotation for 'unlabelled.wav'" in result.stderr
    assert (out / "song.json").is_file()
    # the saved transcription scores the same when read back, key included
    again = json.loads(runner.invoke(app, ["eval", str(data), str(out), "--json"]).stdout)
    assert again["weighted"] == pytest.approx(report["weighted"], abs=1e-5)
    assert again["songs"][0]["key_score"] == song["key_score"]
    # transcriptions are not overwritten without --overwrite
    result = runner.invoke(app, [*args, str(data), str(out)])
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_eval_audio_unknown_model(runner, tmp_path):
    pytest.importorskip("chordcli.pipeline")
    data = tmp_path / "data"
    data.mkdir()
    result = runner.invoke(app, ["eval", "--audio", str(data), "--model", "no-such-model"])
    assert result.exit_code == 1
    assert "no-such-model" in result.stderr and "Traceback" not in result.stderr
