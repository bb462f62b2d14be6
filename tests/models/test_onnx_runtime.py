"""The ONNX Runtime backend: the default runtime of the bundled model, without TensorFlow."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from models.backend import DEFAULT_MODEL, WEIGHTS_DIR, ModelError, load_backend
from models.cqt import DEFAULT_CQT
from models.inference import HEADS, ONNX_FILE
from theory.vocabulary import N_CLASSES

pytest.importorskip("onnxruntime")

BUNDLED = WEIGHTS_DIR / DEFAULT_MODEL


def test_bundled_model_ships_its_onnx_export_with_a_checksum():
    import hashlib

    config = json.loads((BUNDLED / "config.json").read_text())
    onnx = BUNDLED / config["onnx"]["file"]
    assert onnx.name == ONNX_FILE
    assert hashlib.sha256(onnx.read_bytes()).hexdigest() == config["onnx"]["sha256"]
    assert config["onnx"]["max_head_difference"] <= 1e-4


def test_bundled_model_runs_with_onnx_runtime_by_default():
    from models.onnx_runtime import OnnxBackend

    backend = load_backend()
    assert isinstance(backend, OnnxBackend) and backend.name == DEFAULT_MODEL
    rng = np.random.default_rng(0)
    features = rng.uniform(0, 3, size=(700, DEFAULT_CQT.n_bins, 2)).astype(np.float32)
    out = backend.predict(features)  # two windows: the stitching is exercised
    assert out.chord.shape == (700, N_CLASSES) and out.change.shape == (700,)
    np.testing.assert_allclose(out.chord.sum(axis=1), 1.0, atol=1e-4)
    with pytest.raises(ModelError, match="expects features of shape"):
        backend.predict(features[:, :100])


def test_a_damaged_or_missing_onnx_file_is_refused(tmp_path):
    copy = tmp_path / DEFAULT_MODEL
    shutil.copytree(BUNDLED, copy)
    data = bytearray((copy / ONNX_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / ONNX_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        load_backend(copy)
    (copy / ONNX_FILE).unlink()
    with pytest.raises(ModelError, match="model.onnx is missing.*--onnx-only"):
        load_backend(copy, runtime="onnx")
    with pytest.raises(ModelError, match="unknown model runtime"):
        load_backend(copy, runtime="torch")


def test_a_session_made_in_the_background_gives_the_same_posteriors(tmp_path):
    features = np.random.default_rng(3).uniform(0, 3, (700, 252, 2)).astype(np.float32)
    now = load_backend(runtime="onnx").predict(features)
    later = load_backend(runtime="onnx", background=True)
    assert later.cqt_config == DEFAULT_CQT and later.n_channels == 2
    got = later.predict(features)
    for name in HEADS:
        np.testing.assert_array_equal(getattr(got, name), getattr(now, name))
    # a graph that cannot be loaded is refused at the first inference
    broken = tmp_path / "broken"
    shutil.copytree(BUNDLED, broken)
    onnx_file = broken / ONNX_FILE
    onnx_file.write_bytes(onnx_file.read_bytes()[:1000])
    config = json.loads((broken / "config.json").read_text())
    config["onnx"].pop("sha256")  # past the checksum, to the graph itself
    (broken / "config.json").write_text(json.dumps(config))
    backend = load_backend(broken, background=True)
    with pytest.raises(ModelError, match="cannot load model .*model.onnx"):
        backend.predict(features)
    with pytest.raises(ModelError, match="cannot load model .*model.onnx"):
        load_backend(broken)


def test_onnx_outputs_are_every_head_by_name():
    backend = load_backend(runtime="onnx")
    x = np.zeros((1, backend.window_frames, backend.n_bins, backend.n_channels), np.float32)
    probs = backend.run_batch(x, np.ones((1, backend.window_frames), np.float32))
    assert {name: v.shape[-1] for name, v in probs.items()} == HEADS


def test_a_transcription_never_imports_tensorflow_or_keras(tmp_path):
    """The whole command in a fresh interpreter, its modules listed afterwards."""
    out = tmp_path / "example.lab"
    code = (
        "import sys\n"
        "from chordcli.cli import app\n"
        f"argv = ['transcribe', {str(REPO / 'examples' / 'example.flac')!r}, '-o', {str(out)!r}]\n"
        "try:\n"
        "    app(argv)\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert out.read_text().strip()
    # stderr carries the summary line only: no TensorFlow, absl, oneDNN or ONNX Runtime log
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        line for line in result.stderr.splitlines() if "example.flac: key" in line
    ]


@pytest.mark.parametrize("n_frames", [300, 2584, 3000])
def test_one_or_two_threads_give_the_same_posteriors(n_frames):
    import onnxruntime

    from models.onnx_runtime import MAX_INTRA_OP_THREADS, session_options

    assert MAX_INTRA_OP_THREADS <= 2  # more threads change the posteriors
    backend = load_backend(DEFAULT_MODEL, runtime="onnx")
    features = np.random.default_rng(n_frames).uniform(0, 3, (n_frames, 252, 2))
    chords = []
    for threads in (1, 2):
        backend.session = onnxruntime.InferenceSession(
            backend.session._model_path,
            sess_options=session_options(intra_op_threads=threads),
            providers=["CPUExecutionProvider"],
        )
        chords.append(backend.predict(features.astype(np.float32)).chord)
    np.testing.assert_array_equal(chords[0], chords[1])


@pytest.mark.parametrize(
    ("cores", "busy", "threads"), [(2, 0.0, 2), (2, 1.0, 1), (2, 3.0, 1), (8, 0.0, 2), (1, 0.0, 1)]
)
def test_threads_are_the_idle_cores_up_to_two(monkeypatch, cores, busy, threads):
    import models.onnx_runtime as ort

    monkeypatch.setattr(ort.os, "sched_getaffinity", lambda _: set(range(cores)))
    monkeypatch.setattr(ort, "busy_cores", lambda: busy)
    assert ort.default_intra_op_threads() == threads


def test_busy_cores_counts_the_other_runnable_tasks(monkeypatch, tmp_path):
    import models.onnx_runtime as ort

    loadavg = tmp_path / "loadavg"
    loadavg.write_text("5.10 4.00 3.00 3/412 12345\n", encoding="ascii")
    real_path = ort.Path
    monkeypatch.setattr(
        ort, "Path", lambda p: loadavg if str(p) == "/proc/loadavg" else real_path(p)
    )
    assert ort.busy_cores() == 2.0  # three runnable, this process one of them
    loadavg.write_text("garbled\n", encoding="ascii")
    monkeypatch.setattr(ort.os, "getloadavg", lambda: (0.7, 0.5, 0.2))
    assert ort.busy_cores() == 0.7
