"""The Ray engine (chordcli.catalogue, ``transcribe --engine ray``) with the template model."""

from __future__ import annotations

import json
import sys

import pytest
import soundfile
from typer.testing import CliRunner

from chordcli.catalogue import INDEX_NAME, list_audio, plan_catalogue, transcribe_catalogue
from chordcli.cli import app
from chordcli.errors import ChordcliError
from tests.synth_audio import chord_progression


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    root = tmp_path_factory.mktemp("music")
    (root / "album").mkdir()
    soundfile.write(root / "a.wav", chord_progression(["C:maj", "G:maj", "A:min", "F:maj"]), 22050)
    soundfile.write(
        root / "album" / "b.wav", chord_progression(["D:min", "G:7", "C:maj", "A:min"]), 22050
    )
    (root / "album" / "broken.wav").write_text("not audio")
    (root / "notes.txt").write_text("not audio either, and not listed")
    return root


def _errors(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_directories_are_listed_recursively_and_mirrored(music, tmp_path):
    assert [p.relative_to(music).as_posix() for p, _ in list_audio([music])] == [
        "a.wav",
        "album/b.wav",
        "album/broken.wav",
    ]
    plan = plan_catalogue([music, music / "a.wav"], tmp_path, suffix=".lab")
    assert len(plan) == 3 and plan[1][1] == tmp_path / "album" / "b.lab"
    other = tmp_path / "other"
    other.mkdir()
    (other / "b.wav").write_bytes((music / "album" / "b.wav").read_bytes())
    with pytest.raises(ChordcliError, match="would both write"):
        plan_catalogue([music / "album" / "b.wav", other], tmp_path, suffix=".lab")
    with pytest.raises(ChordcliError, match="not found"):
        list_audio([tmp_path / "missing"])


def test_without_ray_the_engine_is_one_error_line(music, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import fails as if not installed
    result = CliRunner().invoke(
        app, ["transcribe", str(music), "-o", str(tmp_path), "--engine", "ray"]
    )
    assert result.exit_code == 1
    assert len(_errors(result)) == 1 and "chordcli[ray]" in _errors(result)[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("extra", "hint"),
    [
        ([], "-o DIR"),
        (["-o", "x.lab"], "-o DIR"),
        (["-o", "{tmp}", "-f", "html"], "HTML"),
        (["-o", "{tmp}", "--plot", "{tmp}/x.png"], "figures"),
        (["-o", "{tmp}", "--alternatives"], "lead sheet"),
        (["-o", "{tmp}", "--engine", "local", "--ray-address", "auto"], "--engine ray"),
    ],
)
def test_engine_usage_errors(music, tmp_path, extra, hint):
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    engine = [] if "--engine" in args else ["--engine", "ray"]
    result = CliRunner().invoke(app, ["transcribe", str(music), *engine, *args])
    assert result.exit_code == 2 and hint in result.stderr


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip(
        "ray", reason="the Ray engine needs Ray (pip install 'chordcli[ray]')"
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_writes_the_labs_of_the_local_engine_and_resumes(ray_local, music, tmp_path):
    out = tmp_path / "ray"
    out.mkdir()
    result = CliRunner().invoke(
        app, ["transcribe", str(music), "-o", str(out), "--engine", "ray", "--model", "template"]
    )
    assert result.exit_code == 1  # the broken file
    errors = _errors(result)
    assert len(errors) == 1 and "broken.wav" in errors[0]
    assert "2 transcribed, 0 skipped (output exists), 1 failed" in result.stderr
    local = tmp_path / "local"
    local.mkdir()
    files = [str(music / "a.wav"), str(music / "album" / "b.wav")]
    result = CliRunner().invoke(
        app, ["transcribe", *files, "-o", str(local), "--model", "template"]
    )
    assert result.exit_code == 0, result.stderr
    assert (out / "a.lab").read_text() == (local / "a.lab").read_text()
    assert (out / "album" / "b.lab").read_text() == (local / "b.lab").read_text()
    index = [json.loads(line) for line in (out / INDEX_NAME).read_text().splitlines()]
    assert [e["status"] for e in index] == ["done", "done", "failed"]
    assert index[0]["chords"] > 0 and index[0]["key"] and index[0]["tempo_bpm"] is not None
    assert index[0]["duration_s"] == pytest.approx(8.0, abs=0.01)
    assert index[2]["path"].endswith("broken.wav") and index[2]["error"]
    # A second run skips what exists (keeping what the index knew) and retries the failure.
    (out / "a.lab").write_text("0.0\t1.0\tN\n")
    again = transcribe_catalogue([music], out, model="template")
    assert [e.status for e in again] == ["skipped", "skipped", "failed"]
    assert again[0].chords == index[0]["chords"]
    assert (out / "a.lab").read_text() == "0.0\t1.0\tN\n"  # never overwritten without asking
