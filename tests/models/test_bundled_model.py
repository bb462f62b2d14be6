"""The bundled default model: its files, checksum, settings, and that it loads and predicts."""

import hashlib
import json
import re

import numpy as np
import pytest
from conftest import REPO

from models.backend import DEFAULT_MODEL, WEIGHTS_DIR
from models.cqt import DEFAULT_CQT
from theory.vocabulary import N_CLASSES, vocabulary_fingerprint

BUNDLED = WEIGHTS_DIR / DEFAULT_MODEL


def _config() -> dict:
    return json.loads((BUNDLED / "config.json").read_text())


def test_bundled_model_files_and_checksum():
    assert BUNDLED == REPO / "models" / "weights" / "chordnet-v1"
    config = _config()
    weights = BUNDLED / config["weights_file"]
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == config["weights_sha256"]
    assert weights.stat().st_size == config["weights_bytes"] <= 25_000_000
    assert config["vocabulary"] == vocabulary_fingerprint()
    assert config["cqt"] == DEFAULT_CQT.to_dict()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", config["git_commit"])
    card = (BUNDLED / "MODEL_CARD.md").read_text()
    assert (BUNDLED / "confusion.png").stat().st_size > 10_000
    # the card's figures are the config's: the dev majmin score appears in its table
    majmin = config["dev_metrics"]["weighted"]["majmin"]
    assert f"{100 * majmin:.1f}" in card
    assert all(command in card for command in config["dev_metrics"]["command"])


@pytest.mark.tf
def test_bundled_model_loads_by_default_and_predicts():
    from models.backend import load_backend

    backend = load_backend()  # the default model
    assert backend.name == DEFAULT_MODEL
    rng = np.random.default_rng(0)
    features = rng.uniform(0, 3, size=(700, DEFAULT_CQT.n_bins, 2)).astype(np.float32)
    out = backend.predict(features)
    assert out.chord.shape == (700, N_CLASSES)
    np.testing.assert_allclose(out.chord.sum(axis=1), 1.0, atol=1e-4)


@pytest.mark.tf
def test_a_damaged_bundled_file_is_refused(tmp_path):
    import shutil

    from models.backend import ModelError, load_backend

    copy = tmp_path / DEFAULT_MODEL
    shutil.copytree(BUNDLED, copy)
    weights = copy / _config()["weights_file"]
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        load_backend(copy, runtime="keras")
