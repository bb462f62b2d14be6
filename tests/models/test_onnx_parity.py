"""ONNX Runtime and Keras run the same network: every head, random and real features, the LAB."""

import json
import shutil

import numpy as np
import pytest
from conftest import REPO

pytestmark = pytest.mark.tf

pytest.importorskip("keras")
pytest.importorskip("onnxruntime")

from chordcli.audio import load_audio  # noqa: E402
from chordcli.pipeline import analyse_file  # noqa: E402
from models.backend import load_backend  # noqa: E402
from models.cqt import cqt  # noqa: E402
from models.export import PARITY_TOLERANCE, max_head_difference  # noqa: E402
from models.inference import HEADS  # noqa: E402

EXAMPLE = REPO / "examples" / "example.flac"


@pytest.fixture(scope="module")
def runtimes():
    return load_backend(runtime="keras"), load_backend(runtime="onnx")


def _batch(features, window):
    """Two windows: the song from its start, and its last third padded (a song's end)."""
    x = np.zeros((2, window, *features.shape[1:]), np.float32)
    mask = np.zeros((2, window), np.float32)
    n = min(window, len(features))
    x[0, :n], mask[0, :n] = features[:n], 1.0
    tail = features[-(window // 3) :]
    x[1, : len(tail)], mask[1, : len(tail)] = tail, 1.0
    return x, mask


def test_every_head_matches_on_random_features(runtimes):
    keras_backend, onnx_backend = runtimes
    rng = np.random.default_rng(3)
    features = rng.uniform(0, 3, size=(900, keras_backend.n_bins, 2)).astype(np.float32)
    x, mask = _batch(features, keras_backend.window_frames)
    diff = max_head_difference(keras_backend.run_batch(x, mask), onnx_backend.run_batch(x, mask))
    assert set(diff) == set(HEADS)
    assert max(diff.values()) <= PARITY_TOLERANCE, diff


def test_every_head_matches_on_real_features(runtimes):
    keras_backend, onnx_backend = runtimes
    config = keras_backend.cqt_config
    audio = load_audio(EXAMPLE, sample_rate_hz=config.sample_rate_hz)
    features = cqt(audio.samples, sample_rate_hz=audio.sample_rate_hz, config=config)
    x, mask = _batch(features, keras_backend.window_frames)
    diff = max_head_difference(keras_backend.run_batch(x, mask), onnx_backend.run_batch(x, mask))
    assert max(diff.values()) <= PARITY_TOLERANCE, diff
    # the whole song through the stitching of both runtimes
    a, b = keras_backend.predict(features), onnx_backend.predict(features)
    for name in ("chroma", "smooth_chroma", "chord", "change", "bass", "key"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=PARITY_TOLERANCE)


def test_the_example_transcribes_to_the_same_lab_with_both_runtimes(runtimes):
    keras_backend, onnx_backend = runtimes
    a = analyse_file(EXAMPLE, backend=keras_backend).transcription
    b = analyse_file(EXAMPLE, backend=onnx_backend).transcription
    # the LAB lines (times and labels) are equal; confidences differ by float32 rounding only
    assert [(s.start_s, s.end_s, s.label) for s in a.segments] == [
        (s.start_s, s.end_s, s.label) for s in b.segments
    ]
    assert a.key == b.key
    for x, y in zip(a.segments, b.segments, strict=True):
        assert x.confidence == pytest.approx(y.confidence, abs=1e-4)


@pytest.mark.slow
def test_export_writes_a_checked_onnx_file_and_its_sha256(tmp_path):
    pytest.importorskip("tf2onnx")
    from models import chordnet as cn
    from models.backend import ModelError
    from models.export import export_onnx
    from models.inference import ONNX_FILE, sha256_file
    from tests.models.test_chordnet import TINY

    run = tmp_path / "run"
    cqt_config = load_backend(runtime="keras").cqt_config
    cn.save_chordnet(cn.build_chordnet(TINY, seed=4), run, cqt_config=cqt_config)
    with pytest.raises(ModelError, match="model.onnx is missing"):
        load_backend(run, runtime="onnx")
    section = export_onnx(run)
    config = json.loads((run / "config.json").read_text())
    assert config["onnx"] == section and section["sha256"] == sha256_file(run / ONNX_FILE)
    assert section["max_head_difference"] <= PARITY_TOLERANCE
    rng = np.random.default_rng(5)
    features = rng.uniform(0, 3, size=(300, cqt_config.n_bins, 2)).astype(np.float32)
    a = load_backend(run, runtime="keras").predict(features)
    b = load_backend(run).predict(features)  # the export is now picked by default
    np.testing.assert_allclose(a.smooth_chroma, b.smooth_chroma, atol=PARITY_TOLERANCE)
    np.testing.assert_allclose(a.chord, b.chord, atol=PARITY_TOLERANCE)
    shutil.rmtree(run)
