"""The chroma-template baseline: recovers a synthesised progression, finds the key."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile

from chordcli.audio import load_audio
from models.backend import ModelOutput, load_backend
from models.cqt import cqt
from models.template import TemplateBackend, key_distribution
from tests.synth_audio import chord_progression
from theory.decode import decode
from theory.keys import parse_key
from theory.vocabulary import chord_class

LABELS = [
    "C:maj", "A:min", "F:maj", "G:7", "E:min", "A:min7", "D:min", "G:maj",
    "C:maj7", "F:maj", "Bb:maj", "C:maj/3", "N", "D:maj", "B:min", "G:maj",
]  # fmt: skip


@pytest.fixture(scope="module")
def progression_output(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "progression.wav"
    soundfile.write(path, chord_progression(LABELS, chord_s=2.0), 22050, subtype="PCM_16")
    audio = load_audio(path)
    backend = load_backend("template")
    features = cqt(audio.samples, sample_rate_hz=audio.sample_rate_hz, config=backend.cqt_config)
    return backend.predict(features)


def test_output_shapes_and_probabilities(progression_output):
    out = progression_output
    assert isinstance(out, ModelOutput)
    n = out.n_frames
    assert out.chroma.shape == out.smooth_chroma.shape == (n, 25)
    assert out.chord.shape == (n, 529) and out.chord.dtype == np.float32
    assert out.change.shape == (n,) and out.bass.shape == (n, 13) and out.key.shape == (n, 25)
    np.testing.assert_allclose(out.chord.sum(axis=1), 1.0, rtol=1e-4)
    np.testing.assert_allclose(out.bass.sum(axis=1), 1.0, rtol=1e-4)
    np.testing.assert_allclose(out.key.sum(axis=1), 1.0, rtol=1e-4)
    assert np.all((out.change > 0) & (out.change < 1))
    assert np.all((out.chroma[:, :12] >= 0) & (out.chroma[:, :12] <= 1))


def test_template_and_decoder_recover_the_progression(progression_output):
    out = progression_output
    fps = out.frames_per_second
    truth = np.array(
        [chord_class(LABELS[min(int(i / fps / 2.0), len(LABELS) - 1)]) for i in range(out.n_frames)]
    )
    result = decode(
        out.chord, smooth_chroma=out.smooth_chroma, change=out.change, bass=out.bass, key=out.key
    )
    accuracy = np.mean(result.path == truth)
    assert accuracy >= 0.9, accuracy
    labels = [s.label for s in result.segments]
    assert "C:maj/3" in labels  # the bass head makes the inversion a slash chord
    assert int(np.argmax(out.key[0])) in {parse_key("C:maj"), parse_key("G:maj")}


def test_key_distribution_of_scales():
    c_major = np.zeros(12)
    c_major[[0, 2, 4, 5, 7, 9, 11]] = 1.0
    c_major[[0, 4, 7]] += 1.0  # tonic triad emphasised
    assert int(np.argmax(key_distribution(c_major))) == parse_key("C:maj")
    a_minor = np.zeros(12)
    a_minor[[9, 11, 0, 2, 4, 5, 7]] = 1.0
    a_minor[[9, 0, 4]] += 1.0
    assert int(np.argmax(key_distribution(a_minor))) == parse_key("A:min")
    flat = key_distribution(np.ones(12))
    assert flat[24] == 1.0


def test_transposed_audio_transposes_the_chords():
    labels = ["C:maj", "F:maj", "G:maj"]
    backend = TemplateBackend()
    paths = []
    for shift in (0, 2):
        from theory.transpose import transpose_label

        shifted = [transpose_label(label, shift) for label in labels]
        y = chord_progression(shifted, chord_s=1.5)
        out = backend.predict(cqt(y, sample_rate_hz=22050))
        result = decode(out.chord, smooth_chroma=out.smooth_chroma, change=out.change)
        paths.append([s.label for s in result.segments if s.end_frame - s.start_frame > 3])
    assert paths[0] == labels
    assert paths[1] == ["D:maj", "G:maj", "A:maj"]


def test_rejects_wrong_feature_shape():
    with pytest.raises(ValueError, match="features must have shape"):
        TemplateBackend().predict(np.zeros((10, 84, 2), dtype=np.float32))


def test_importing_the_template_does_not_import_tensorflow():
    code = "import sys, models.template, models.backend; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
