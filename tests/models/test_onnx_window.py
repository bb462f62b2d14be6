"""The bundled ChordNet on shorter windows (OnnxBackend.with_window, for live input)."""

import numpy as np
import pytest
from conftest import REPO

from chordcli.audio import load_audio
from models.backend import load_backend
from models.base import ModelError
from models.cqt import cqt
from models.export import PARITY_TOLERANCE

EXAMPLE = REPO / "examples" / "example.flac"


@pytest.fixture(scope="module")
def bundled():
    return load_backend(runtime="onnx")


@pytest.fixture(scope="module")
def features(bundled):
    audio = load_audio(EXAMPLE, sample_rate_hz=bundled.cqt_config.sample_rate_hz)
    return cqt(audio.samples, sample_rate_hz=audio.sample_rate_hz, config=bundled.cqt_config)


def test_a_shorter_window_gives_the_posteriors_of_the_padded_window(bundled, features):
    short = bundled.with_window(256)
    assert short.window_frames == 256 and bundled.window_frames == 512
    x = features[:256]
    got, want = short.predict(x), bundled.predict(x)  # bundled: one padded 512-frame window
    heads = ("chord", "chroma", "smooth_chroma", "bass", "key", "change")
    for head in heads:
        np.testing.assert_allclose(getattr(got, head), getattr(want, head), atol=PARITY_TOLERANCE)
    longer = short.predict(features)  # a whole song in overlapping 256-frame windows
    assert longer.chord.shape == (len(features), want.chord.shape[1])
    np.testing.assert_allclose(longer.chord.sum(axis=1), 1.0, atol=1e-3)


def test_a_window_the_network_cannot_take_is_refused(bundled):
    with pytest.raises(ModelError, match="windows of 100 frames"):
        bundled.with_window(100)
