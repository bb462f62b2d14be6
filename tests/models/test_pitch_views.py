"""Pitch views: posteriors averaged over semitone-shifted features, mapped back to the pitch."""

import json

import numpy as np
import pytest
from conftest import REPO

from models.base import ModelError
from models.cqt import CQTConfig
from models.inference import HEADS, WindowedBackend, read_inference_settings
from theory.keys import N_KEYS
from theory.vocabulary import N_QUALITIES

BUNDLED_CONFIG = REPO / "models" / "weights" / "chordnet-v1" / "config.json"


class LoudestBin(WindowedBackend):
    """A stand-in network that hears the loudest bin's pitch class as a major chord's root."""

    def run_batch(self, features, mask):
        batch, frames = features.shape[:2]
        pc = (features.sum(axis=-1).argmax(axis=-1) // 3) % 12  # (batch, frames)
        out = {n: np.full((batch, frames, size), 1e-3, np.float32) for n, size in HEADS.items()}
        b, f = np.meshgrid(np.arange(batch), np.arange(frames), indexing="ij")
        out["chord"][b, f, pc * N_QUALITIES] = 1.0
        out["chroma"][b, f, pc] = 1.0
        out["chroma"][b, f, 12 + pc] = 1.0
        out["smooth_chroma"][b, f, pc] = 1.0
        out["bass"][b, f, pc] = 1.0
        out["key"][b, f, pc] = 1.0
        out["key"][:, :, N_KEYS - 1] = 0.5  # no key: must stay where it is
        out["chord"][:, :, -1] = 0.25  # N: must stay where it is
        out["change"][..., 1] = np.linspace(0, 1, frames)[None]
        return out


def _backend(views):
    return LoudestBin(
        cqt_config=CQTConfig(),
        name="loudest",
        n_bins=CQTConfig().n_bins,
        n_channels=2,
        window_frames=64,
        hop_frames=32,
        pitch_views=views,
    )


@pytest.fixture
def features():
    rng = np.random.default_rng(3)
    n_bins = CQTConfig().n_bins
    x = rng.uniform(0, 0.1, (150, n_bins, 2)).astype(np.float32)
    bins = rng.integers(40, n_bins - 40, size=150)  # far from the edges a shift empties
    x[np.arange(150), bins] = 5.0
    return x


@pytest.mark.parametrize("views", [(2,), (-3,), (-1, 0, 1), (0, 5)])
def test_views_of_a_pitch_equivariant_network_map_back_to_the_same_posteriors(features, views):
    plain = _backend((0,)).predict(features)
    viewed = _backend(views).predict(features)
    for head in ("chord", "chroma", "smooth_chroma", "bass", "key", "change"):
        np.testing.assert_allclose(getattr(viewed, head), getattr(plain, head), atol=1e-6)


def test_a_single_shifted_view_is_not_the_plain_posteriors_before_mapping_back(features):
    # the stand-in really moves with the features: shifted by 2 semitones, its roots are 2 up
    from models.augment import pitch_shift_features

    plain = _backend((0,)).predict(features).chord.argmax(axis=1)
    moved = _backend((0,)).predict(pitch_shift_features(features, 2)).chord.argmax(axis=1)
    np.testing.assert_array_equal(moved // N_QUALITIES, (plain // N_QUALITIES + 2) % 12)


def test_views_average_the_posteriors(features):
    one, three = _backend((0,)), _backend((-1, 0, 1))
    a = features.copy()
    a[:, :3] = 9.0  # the lowest semitone is loudest: shifted down by 1 it falls off the edge
    got = three.predict(a).chord
    np.testing.assert_allclose(got.sum(axis=1), one.predict(a).chord.sum(axis=1), rtol=1e-5)
    assert not np.allclose(got, one.predict(a).chord)


def _config_with(tmp_path, views):
    config = json.loads(BUNDLED_CONFIG.read_text())
    config["inference"]["pitch_views"] = views
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_pitch_views_are_read_from_the_config(tmp_path):
    assert read_inference_settings(_config_with(tmp_path, [-1, 0, 1])).pitch_views == (-1, 0, 1)
    assert read_inference_settings(BUNDLED_CONFIG.parent).pitch_views == (0,)


@pytest.mark.parametrize("views", [[], [0, 0], [7], ["1"], [0.5], [True], 1])
def test_bad_pitch_views_are_refused(tmp_path, views):
    with pytest.raises(ModelError, match="pitch_views"):
        read_inference_settings(_config_with(tmp_path, views))
