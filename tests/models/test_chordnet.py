"""ChordNet: config, any batch size and length, masks, serialization, save/load, inference."""

import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf

keras = pytest.importorskip("keras")

from models import chordnet as cn  # noqa: E402
from models.backend import ModelError, load_backend  # noqa: E402
from models.cqt import DEFAULT_CQT  # noqa: E402
from theory.decode import DEFAULT_VECTOR_WEIGHT, quality_log_prior  # noqa: E402
from theory.vocabulary import N_CLASSES  # noqa: E402

TINY = cn.ChordNetConfig(
    stem_filters=8,
    blocks=((8, 1), (8, 2)),
    norm_groups=4,
    dense_units=16,
    rnn_units=8,
    chunk_frames=16,
    smooth_units=8,
)


@pytest.fixture(scope="module")
def tiny_model():
    return cn.build_chordnet(TINY, seed=1)


def _features(rng, batch, frames):
    return rng.uniform(0, 3, size=(batch, frames, 252, 2)).astype("float32")


def test_config_roundtrip_through_json():
    for config in (cn.DEFAULT_CHORDNET, cn.SLIM_CHORDNET, TINY):
        data = json.loads(json.dumps(config.to_dict()))
        assert cn.ChordNetConfig.from_dict(data) == config
    with pytest.raises(ValueError, match="unknown"):
        cn.ChordNetConfig.from_dict({"widht": 3})
    with pytest.raises(ValueError, match="norm_groups"):
        cn.ChordNetConfig(blocks=((12, 1),), norm_groups=8)


@pytest.mark.slow
def test_default_architecture_size():
    # the seed design has about 5 M parameters; the slim one about a quarter
    n_default = cn.count_parameters(cn.build_chordnet(cn.DEFAULT_CHORDNET))
    n_slim = cn.count_parameters(cn.build_chordnet(cn.SLIM_CHORDNET))
    assert 4_500_000 < n_default < 6_000_000
    assert n_slim < n_default / 3


@pytest.mark.parametrize(("batch", "frames"), [(1, 1), (3, 37), (2, 16), (1, 50)])
def test_any_batch_size_and_length(tiny_model, batch, frames):
    out = tiny_model({"features": _features(np.random.default_rng(0), batch, frames)})
    assert set(out) == set(cn.HEADS)
    for name, size in cn.HEADS.items():
        assert tuple(out[name].shape) == (batch, frames, size)
        assert np.isfinite(np.asarray(out[name])).all()


def test_padding_is_invisible(tiny_model):
    rng = np.random.default_rng(2)
    x = _features(rng, 2, 40)
    mask = np.ones((2, 40), dtype="float32")
    mask[1, 29:] = 0.0
    noisy = x.copy()
    noisy[1, 29:] = 100.0  # whatever sits in padded frames must not matter
    a = tiny_model({"features": x, "mask": mask})
    b = tiny_model({"features": noisy, "mask": mask})
    alone = tiny_model({"features": x[1:, :29]})  # the same song without padding, batch of one
    for name in cn.HEADS:
        np.testing.assert_allclose(
            np.asarray(a[name])[1, :29], np.asarray(b[name])[1, :29], atol=1e-5
        )
        np.testing.assert_allclose(
            np.asarray(a[name])[1, :29], np.asarray(alone[name])[0], atol=1e-4
        )
        # the other example in the batch is unaffected
        np.testing.assert_allclose(np.asarray(a[name])[0], np.asarray(b[name])[0], atol=1e-5)


def test_custom_layers_are_serializable(tiny_model):
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(tiny_model)
    )
    restored.build()
    restored.set_weights(tiny_model.get_weights())
    x = _features(np.random.default_rng(3), 1, 20)
    np.testing.assert_allclose(
        np.asarray(restored({"features": x})["chord"]),
        np.asarray(tiny_model({"features": x})["chord"]),
        atol=1e-6,
    )
    for layer in (
        cn.EvoNormS0(4),
        cn.StochasticDepth(0.2),
        cn.PitchConv(8, (3, 3), dilation=2),
        cn.ConvBlock(16, 4, groups=4, drop_rate=0.1),
        cn.WeightNormDense(5, activation="gelu"),
        cn.RecurrentPath(4, 8, chunk_frames=16),
        cn.ChannelGate(2),
        cn.SqueezeExcite(2),
        cn.FoldOctaves(36),
    ):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_evonorm_matches_the_paper_formula_over_unmasked_frames():
    rng = np.random.default_rng(5)
    x = rng.normal(0.5, 2.0, size=(2, 9, 6, 8)).astype("float32")
    mask = np.ones((2, 9), dtype="float32")
    mask[1, 6:] = 0.0  # the second example has three frames of padding
    layer = cn.EvoNormS0(groups=4)
    layer.build(x.shape)
    for weight, value in zip(
        (layer.gamma, layer.beta, layer.v), rng.normal(1.0, 0.3, size=(3, 8)), strict=True
    ):
        weight.assign(value.astype("float32"))
    got = np.asarray(layer(x, mask))
    gamma, beta, v = (np.asarray(w) for w in (layer.gamma, layer.beta, layer.v))
    for i, frames in enumerate((9, 6)):
        real = x[i, :frames].astype("float64")
        grouped = real.reshape(frames, 6, 4, 2)
        std = np.sqrt(grouped.var(axis=(0, 1, 3)) + 1e-5)  # per group, real frames only
        want = real * (1 / (1 + np.exp(-v * real))) / np.repeat(std, 2) * gamma + beta
        np.testing.assert_allclose(got[i, :frames], want, rtol=2e-5, atol=2e-5)
    # padding does not reach the real frames: the same frames without it give the same output
    alone = np.asarray(layer(x[1:, :6], mask[1:, :6]))
    np.testing.assert_allclose(alone[0], got[1, :6], rtol=1e-5, atol=1e-6)


def test_stochastic_depth_drops_whole_examples():
    layer = cn.StochasticDepth(0.5, seed=0)
    shortcut = np.zeros((64, 3, 2), dtype="float32")
    branch = np.ones((64, 3, 2), dtype="float32")
    out = np.asarray(layer([shortcut, branch], training=True))
    per_example = out.reshape(64, -1)
    assert set(np.unique(per_example)) <= {0.0, 2.0}  # dropped, or kept and scaled by 1 / 0.5
    assert (per_example.min(axis=1) == per_example.max(axis=1)).all()
    assert 0 < (per_example[:, 0] == 0).sum() < 64
    np.testing.assert_array_equal(np.asarray(layer([shortcut, branch], training=False)), branch)


def test_weight_norm_dense_scales_with_g():
    layer = cn.WeightNormDense(3)
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    y1 = np.asarray(layer(x))
    layer.g.assign(2.0 * np.ones(3, dtype="float32"))
    np.testing.assert_allclose(np.asarray(layer(x)), 2.0 * y1, rtol=1e-5, atol=1e-6)
    v = np.asarray(layer.v)
    np.testing.assert_allclose(
        np.asarray(layer(x)), 2 * x @ (v / np.linalg.norm(v, axis=0)), rtol=1e-4, atol=1e-5
    )


@pytest.mark.slow
def test_save_load_gives_identical_outputs(tiny_model, tmp_path):
    cn.save_chordnet(
        tiny_model, tmp_path / "w", cqt_config=DEFAULT_CQT, extra={"metrics": {"x": 1}}
    )
    backend = load_backend(tmp_path / "w")
    assert backend.cqt_config == DEFAULT_CQT and backend.name == "w"
    x = _features(np.random.default_rng(4), 1, 100)[0]
    out = backend.predict(x)
    direct = cn.head_probabilities(tiny_model({"features": x[None]}))
    np.testing.assert_allclose(out.chord, direct["chord"][0], atol=1e-5)
    np.testing.assert_allclose(out.change, direct["change"][0, :, 1], atol=1e-5)
    np.testing.assert_allclose(out.chord.sum(axis=1), 1.0, atol=1e-4)
    assert out.n_frames == 100 and out.frames_per_second == DEFAULT_CQT.frames_per_second


def test_load_rejects_damaged_or_foreign_weights(tiny_model, tmp_path):
    cn.save_chordnet(tiny_model, tmp_path / "w", cqt_config=DEFAULT_CQT)
    weights = tmp_path / "w" / cn.WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="sha256"):
        cn.load_chordnet_backend(tmp_path / "w")
    config = json.loads((tmp_path / "w" / "config.json").read_text())
    config["vocabulary"] = "other"
    config.pop("weights_sha256")
    (tmp_path / "w" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="vocabulary"):
        cn.load_chordnet_backend(tmp_path / "w")
    with pytest.raises(ModelError, match="config.json"):
        cn.load_chordnet_backend(tmp_path)


def test_decoder_section_gives_the_backend_its_quality_prior(tiny_model, tmp_path):
    share = [0.5] + [0.5 / 44] * 44
    decoder = {"quality_share": share, "prior_strength": 0.5}
    cn.save_chordnet(tiny_model, tmp_path / "w", cqt_config=DEFAULT_CQT, extra={"decoder": decoder})
    backend = cn.load_chordnet_backend(tmp_path / "w")
    np.testing.assert_allclose(
        backend.decoder.class_log_prior, quality_log_prior(np.array(share), 0.5)
    )
    assert backend.decoder.vector_weight == DEFAULT_VECTOR_WEIGHT
    cn.save_chordnet(tiny_model, tmp_path / "plain", cqt_config=DEFAULT_CQT)
    assert cn.load_chordnet_backend(tmp_path / "plain").decoder.class_log_prior is None
    weights = {"bass_weight": 1.5, "vector_weight": 0.25}
    cn.save_chordnet(
        tiny_model, tmp_path / "vw", cqt_config=DEFAULT_CQT, extra={"decoder": weights}
    )
    loaded = cn.load_chordnet_backend(tmp_path / "vw")
    got = loaded.decoder
    assert (got.bass_weight, got.vector_weight, got.class_log_prior) == (1.5, 0.25, None)
    decoder["quality_share"] = share[:10]
    cn.save_chordnet(
        tiny_model, tmp_path / "bad", cqt_config=DEFAULT_CQT, extra={"decoder": decoder}
    )
    with pytest.raises(ModelError, match="decoder"):
        cn.load_chordnet_backend(tmp_path / "bad")


@pytest.mark.slow
def test_long_input_is_windowed_and_centre_stitched(tiny_model):
    backend = cn.ChordNetBackend(
        tiny_model,
        cqt_config=DEFAULT_CQT,
        name="t",
        window_frames=32,
        hop_frames=16,
        batch_windows=3,
    )
    x = _features(np.random.default_rng(5), 1, 101)[0]
    out = backend.predict(x)
    assert out.chord.shape == (101, N_CLASSES) and out.key.shape == (101, 25)
    np.testing.assert_allclose(out.chord.sum(axis=1), 1.0, atol=1e-4)

    def window(start):
        seg = x[start : start + 32]
        return cn.head_probabilities(tiny_model({"features": seg[None]}))["chord"][0]

    # windows start at 0, 16, 32, ..., 80; window k keeps frames [16k + 8, 16k + 24)
    np.testing.assert_allclose(out.chord[:24], window(0)[:24], atol=1e-5)
    np.testing.assert_allclose(out.chord[40:56], window(32)[8:24], atol=1e-5)
    np.testing.assert_allclose(out.chord[88:], window(80)[8:21], atol=1e-5)
    with pytest.raises(ModelError, match="expects features"):
        backend.predict(np.zeros((10, 84, 2), dtype="float32"))
