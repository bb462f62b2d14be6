"""ChordNet: the chord recognition network (Keras 3), its configuration and its loader.

Architecture (see ``docs/model.md`` for the parameter counts)::

    CQT (B, T, 252, 2)
      -> fold: channels concatenated on the frequency axis, octaves folded into channels
         (B, T, 36, 14)
      -> stem Conv2D(24, kernel (3, 3), stride (1, 3)) -> (B, T, 12, 24), EvoNorm-S0
      -> 8 conv blocks (filters, time dilation):
         (24,1) (24,1) (48,4) (48,4) (48,4) (64,4) (64,4) (64,1); each block is
         conv-EvoNorm-conv-EvoNorm, a CBAM-style channel gate, a per-frame squeeze-excite,
         and a stochastic-depth residual
      -> flatten pitch x channels (B, T, 12 * 64), weight-normalised Dense 512
      -> dual-path RNN: BiLSTM within chunks of 256 frames, then BiLSTM across the whole
         sequence; each followed by Dense, LayerNorm and a residual
      -> Dense 512 -> heads chroma (25), change (2), bass (13), key (25)
      -> second, smaller stack on [trunk, head probabilities]: Dense, BiLSTM across the
         sequence, LayerNorm, residual -> heads smooth_chroma (25), chord (529)

Convolutions pad the pitch-class axis circularly (a C row neighbours B), so a shift of the
input by whole semitones shifts the conv features the same way. Every layer takes a frame
mask: padded frames are zeroed after each block, excluded from normalisation statistics and
skipped by the LSTMs, so the network accepts any batch size and any sequence length (the
chunked LSTM pads to a multiple of the chunk internally and crops back).

The network returns logits; :func:`head_probabilities` turns them into the probabilities
of :class:`models.base.ModelOutput`. Weights are stored with ``save_weights`` and the
architecture is rebuilt in code from :class:`ChordNetConfig` (:func:`load_chordnet_backend`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from models.base import ModelError
from models.cqt import CQTConfig
from models.dataset import replace_atomically
from models.inference import (
    CONFIG_FILE,
    HEADS,
    INFERENCE_BATCH_WINDOWS,
    INFERENCE_HOP_FRAMES,
    INFERENCE_WINDOW_FRAMES,
    WEIGHTS_FILE,
    WindowedBackend,
    checked_file,
    read_inference_settings,
    read_model_config,
    sha256_file,
)
from theory.targets import N_TARGET
from theory.vocabulary import N_CLASSES, vocabulary_fingerprint

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_CHORDNET",
    "HEADS",
    "INFERENCE_BATCH_WINDOWS",
    "INFERENCE_HOP_FRAMES",
    "INFERENCE_WINDOW_FRAMES",
    "SLIM_CHORDNET",
    "WEIGHTS_FILE",
    "ChordNet",
    "ChordNetBackend",
    "ChordNetConfig",
    "build_chordnet",
    "count_parameters",
    "gelu_erf",
    "head_probabilities",
    "load_chordnet_backend",
    "read_model_config",
    "save_chordnet",
    "sha256_file",
]

_SEED_BLOCKS = ((24, 1), (24, 1), (48, 4), (48, 4), (48, 4), (64, 4), (64, 4), (64, 1))


@dataclass(frozen=True)
class ChordNetConfig:
    """Architecture and loss weights of ChordNet.

    Parameters
    ----------
    n_octaves, bins_per_octave, n_channels : int
        Input layout; must match the CQT (7 x 36 bins, 2 channels).
    stem_filters : int
        Filters of the stem convolution (stride 3 on frequency: 36 bins -> 12 pitch classes).
    blocks : tuple of (int, int)
        Conv blocks as ``(filters, time dilation)``; kernels are 3 x 3.
    norm_groups : int
        Groups of EvoNorm-S0; must divide every block's filters.
    attention_reduction : int
        Reduction ratio of the channel gate and squeeze-excite MLPs.
    stochastic_depth : float
        Drop rate of the last residual block; earlier blocks scale linearly from 0.
    dense_units : int
        Width of the trunk (weight-normalised dense, dual-path RNN, final dense).
    rnn_units : int
        LSTM units per direction of the dual-path RNN.
    chunk_frames : int
        Chunk length of the intra-chunk BiLSTM, in frames.
    smooth_units : int
        LSTM units per direction (and half the dense width) of the second stack.
    dropout : float
        Dropout after the dense layers.
    loss_weights : tuple of (str, float)
        Weight of each head's loss (heads as :data:`HEADS`).
    focal_gamma : float
        Focusing parameter of the focal losses (change, bass, key, chord).
    tversky_alpha, tversky_beta : float
        Weights of false positives and false negatives in the Tversky losses.
    focal_tversky_gamma : float
        Exponent of the focal-Tversky loss (smooth_chroma).
    label_smoothing : float
        Label smoothing of the categorical focal losses.
    """

    n_octaves: int = 7
    bins_per_octave: int = 36
    n_channels: int = 2
    stem_filters: int = 24
    blocks: tuple[tuple[int, int], ...] = _SEED_BLOCKS
    norm_groups: int = 8
    attention_reduction: int = 4
    stochastic_depth: float = 0.1
    dense_units: int = 512
    rnn_units: int = 256
    chunk_frames: int = 256
    smooth_units: int = 128
    dropout: float = 0.1
    loss_weights: tuple[tuple[str, float], ...] = (
        ("chroma", 1.0),
        ("change", 0.5),
        ("bass", 0.5),
        ("key", 0.2),
        ("smooth_chroma", 1.0),
        ("chord", 1.0),
    )
    focal_gamma: float = 2.0
    tversky_alpha: float = 0.5
    tversky_beta: float = 0.5
    focal_tversky_gamma: float = 0.75
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        blocks = tuple((int(f), int(d)) for f, d in self.blocks)
        object.__setattr__(self, "blocks", blocks)
        weights = tuple((str(k), float(v)) for k, v in dict(self.loss_weights).items())
        object.__setattr__(self, "loss_weights", weights)
        if self.bins_per_octave % 12:
            raise ValueError(
                f"bins_per_octave must be a multiple of 12, got {self.bins_per_octave}"
            )
        for filters, dilation in (*blocks, (self.stem_filters, 1)):
            if filters < 1 or dilation < 1 or filters % self.norm_groups:
                raise ValueError(
                    f"block ({filters}, {dilation}): filters must be a positive multiple of "
                    f"norm_groups={self.norm_groups} and the dilation positive"
                )
        unknown = sorted(set(dict(weights)) - set(HEADS))
        if unknown:
            raise ValueError(f"unknown heads in loss_weights: {unknown} (known: {list(HEADS)})")
        for name in ("dense_units", "rnn_units", "chunk_frames", "smooth_units"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.stochastic_depth < 1.0 or not 0.0 <= self.dropout < 1.0:
            raise ValueError("stochastic_depth and dropout must lie in [0, 1)")

    @property
    def n_bins(self) -> int:
        """Number of CQT bins the network expects."""
        return self.n_octaves * self.bins_per_octave

    def loss_weight(self, head: str) -> float:
        """Return the loss weight of a head (0 if not listed)."""
        return dict(self.loss_weights).get(head, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-ready dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["blocks"] = [list(b) for b in self.blocks]
        out["loss_weights"] = dict(self.loss_weights)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChordNetConfig:
        """Build a config from :meth:`to_dict` output; missing keys take the defaults.

        Raises
        ------
        ValueError
            If a key is unknown or a value invalid.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown ChordNet parameter(s) {unknown} (known: {sorted(names)})")
        values = dict(data)
        if "blocks" in values:
            values["blocks"] = tuple(tuple(b) for b in values["blocks"])
        if "loss_weights" in values:
            lw = values["loss_weights"]
            values["loss_weights"] = tuple((lw if isinstance(lw, Mapping) else dict(lw)).items())
        return cls(**values)


#: The seed-size network (about 5.1 M parameters).
DEFAULT_CHORDNET = ChordNetConfig()
#: A half-width network (about 1.3 M parameters, roughly 3 x faster to train).
SLIM_CHORDNET = ChordNetConfig(
    stem_filters=16,
    blocks=((16, 1), (16, 1), (32, 4), (32, 4), (32, 4), (48, 4), (48, 4), (48, 1)),
    dense_units=256,
    rnn_units=128,
    smooth_units=64,
)


# ---------------------------------------------------------------------------------------
# Layers. Masks are float tensors of shape (batch, time): 1 for real frames, 0 for padding.


@keras.saving.register_keras_serializable(package="chordnet")
def gelu_erf(x: Any) -> Any:
    """GELU written with ``erf``: ``0.5 * x * (1 + erf(x / sqrt(2)))``.

    The same function as Keras's exact ``"gelu"`` (which TensorFlow computes with ``erfc``, an
    operation ONNX lacks), so the network exports to ONNX as it is trained.
    """
    return 0.5 * x * (1.0 + ops.erf(x * 0.7071067811865476))


def _masked_mean(x: Any, mask4: Any, axes: tuple[int, ...]) -> Any:
    """Mean of x over `axes` counting only frames where mask4 (B, T, 1, 1) is 1."""
    total = ops.sum(x * mask4, axis=axes, keepdims=True)
    count = ops.sum(ops.broadcast_to(mask4, ops.shape(x)), axis=axes, keepdims=True)
    return total / ops.maximum(count, 1.0)


@keras.saving.register_keras_serializable(package="chordnet")
class FoldOctaves(keras.layers.Layer):
    """Fold (B, T, n_bins, C) into (B, T, bins_per_octave, n_octaves * C).

    The channels are concatenated on the frequency axis, then the octaves become channels.
    """

    def __init__(self, bins_per_octave: int = 36, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bins_per_octave = bins_per_octave

    def call(self, x: Any) -> Any:  # noqa: D102
        shape = ops.shape(x)
        batch, time = shape[0], shape[1]
        # A static channel count matters: a convolution whose input channels are unknown at
        # trace time takes Keras's grouped-convolution path, which XLA-compiles it (2-3x slower
        # training on CPU).
        bins, channels = x.shape[2], x.shape[3]
        folded = bins * channels // self.bins_per_octave if bins and channels else -1
        x = ops.transpose(x, (0, 1, 3, 2))  # (B, T, C, F): channel 0's bins, then channel 1's
        x = ops.reshape(x, (batch, time, folded, self.bins_per_octave))  # (B, T, C * oct, bpo)
        return ops.transpose(x, (0, 1, 3, 2))

    def compute_output_shape(self, input_shape: tuple) -> tuple:  # noqa: D102
        b, t, f, c = input_shape
        return (b, t, self.bins_per_octave, f * c // self.bins_per_octave)

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {**super().get_config(), "bins_per_octave": self.bins_per_octave}


@keras.saving.register_keras_serializable(package="chordnet")
class PitchConv(keras.layers.Layer):
    """Conv2D over (time, pitch) with zero padding in time and circular padding in pitch.

    Parameters
    ----------
    filters : int
        Output channels.
    kernel_size : tuple of int
        (time, pitch) kernel.
    dilation : int
        Time dilation.
    pitch_stride : int
        Stride on the pitch axis (3 in the stem: 36 bins -> 12 rows).
    use_bias : bool
        Add a bias.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: tuple[int, int] = (3, 3),
        dilation: int = 1,
        pitch_stride: int = 1,
        use_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.dilation = int(dilation)
        self.pitch_stride = int(pitch_stride)
        self.use_bias = bool(use_bias)
        self.conv = keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            strides=(1, self.pitch_stride),
            dilation_rate=(self.dilation, 1),
            padding="valid",
            use_bias=self.use_bias,
            name="conv",
        )

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        b, t, p, c = input_shape
        pad_p = self.kernel_size[1] - 1
        self.conv.build((b, None, p + pad_p, c))

    def call(self, x: Any) -> Any:  # noqa: D102
        kt, kp = self.kernel_size
        reach = self.dilation * (kt - 1)
        if reach:
            x = ops.pad(x, ((0, 0), (reach // 2, reach - reach // 2), (0, 0), (0, 0)))
        left = (kp - 1) // 2
        right = kp - 1 - left
        parts = []
        if left:
            parts.append(x[:, :, -left:, :])
        parts.append(x)
        if right:
            parts.append(x[:, :, :right, :])
        if len(parts) > 1:
            x = ops.concatenate(parts, axis=2)
        return self.conv(x)

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "dilation": self.dilation,
            "pitch_stride": self.pitch_stride,
            "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="chordnet")
class EvoNormS0(keras.layers.Layer):
    """EvoNorm-S0 (Liu et al. 2020): ``x * sigmoid(v * x) / group_std(x) * gamma + beta``.

    The group standard deviation is taken per example over time, pitch and the channels of a
    group, counting only unmasked frames. Call as ``layer(x, frame_mask)`` with x of shape
    (B, T, P, C) and frame_mask (B, T).
    """

    def __init__(self, groups: int = 8, epsilon: float = 1e-5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups = int(groups)
        self.epsilon = float(epsilon)

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        channels = input_shape[-1]
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")
        self.v = self.add_weight(shape=(channels,), initializer="ones", name="v")

    def call(self, x: Any, frame_mask: Any) -> Any:  # noqa: D102
        # Every full-size operation broadcasts along the trailing channel axis only (the
        # statistics are per example and group, spread to their channels), and gamma is folded
        # into the reciprocal standard deviation: an exported graph then makes fewer and
        # faster passes over the activations (docs/benchmarks.md).
        shape = ops.shape(x)
        b, t = shape[0], shape[1]
        p = x.shape[2] if x.shape[2] is not None else shape[2]
        c, g = x.shape[3], self.groups
        m = ops.reshape(ops.cast(frame_mask, x.dtype), (b, t, 1, 1))
        values_per_frame = ops.cast(p * (c // g), x.dtype)
        count = ops.sum(ops.reshape(m, (b, t)), axis=1, keepdims=True) * values_per_frame
        count = ops.maximum(count, 1.0)  # (B, 1)

        def per_channel(group_sums: Any) -> Any:  # (B, C) sums -> (B, 1, 1, C) group means
            means = ops.sum(ops.reshape(group_sums, (b, g, c // g)), axis=2) / count
            spread = ops.expand_dims(means, -1) * ops.ones((1, 1, c // g), dtype=x.dtype)
            return ops.reshape(spread, (b, 1, 1, c))

        mean = per_channel(ops.sum(x * m, axis=(1, 2)))
        centred = (x - mean) * m
        var = per_channel(ops.sum(ops.square(centred), axis=(1, 2)))
        scale = self.gamma * ops.rsqrt(var + self.epsilon)
        return x * ops.sigmoid(self.v * x) * scale + self.beta

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {**super().get_config(), "groups": self.groups, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="chordnet")
class StochasticDepth(keras.layers.Layer):
    """Residual with stochastic depth: ``shortcut + branch``, the branch dropped per example.

    During training each example keeps its branch with probability ``1 - rate`` (scaled by
    ``1 / (1 - rate)``); at inference the branch is always added. Call as ``layer([shortcut,
    branch])``.
    """

    def __init__(self, rate: float = 0.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: list[Any], training: bool | None = None) -> Any:  # noqa: D102
        shortcut, branch = inputs
        if not training or self.rate == 0.0:
            return shortcut + branch
        keep = 1.0 - self.rate
        shape = (ops.shape(branch)[0],) + (1,) * (len(branch.shape) - 1)
        noise = keras.random.uniform(shape, seed=self.seed_generator, dtype=branch.dtype)
        gate = ops.cast(noise < keep, branch.dtype) / keep
        return shortcut + branch * gate

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="chordnet")
class ChannelGate(keras.layers.Layer):
    """CBAM channel attention: masked average and max pooling, shared MLP, sigmoid gate."""

    def __init__(self, reduction: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reduction = int(reduction)

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        channels = input_shape[-1]
        hidden = max(1, channels // self.reduction)
        self.hidden = keras.layers.Dense(hidden, activation="relu", name="hidden")
        self.out = keras.layers.Dense(channels, name="out")
        self.hidden.build((None, channels))
        self.out.build((None, hidden))

    def call(self, x: Any, frame_mask: Any) -> Any:  # noqa: D102
        m = ops.cast(frame_mask, x.dtype)[:, :, None, None]
        avg = _masked_mean(x, m, (1, 2))
        mx = ops.max(x * m + (m - 1.0) * 1e4, axis=(1, 2), keepdims=True)
        gate = ops.sigmoid(self.out(self.hidden(avg)) + self.out(self.hidden(mx)))
        return x * gate

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {**super().get_config(), "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="chordnet")
class SqueezeExcite(keras.layers.Layer):
    """Per-frame squeeze-excite: mean over pitch, MLP, sigmoid channel scales for each frame."""

    def __init__(self, reduction: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reduction = int(reduction)

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        channels = input_shape[-1]
        hidden = max(1, channels // self.reduction)
        self.hidden = keras.layers.Dense(hidden, activation="relu", name="hidden")
        self.out = keras.layers.Dense(channels, activation="sigmoid", name="out")
        self.hidden.build((None, channels))
        self.out.build((None, hidden))

    def call(self, x: Any) -> Any:  # noqa: D102
        squeezed = ops.mean(x, axis=2, keepdims=True)
        return x * self.out(self.hidden(squeezed))

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {**super().get_config(), "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="chordnet")
class ConvBlock(keras.layers.Layer):
    """Residual block: conv-EvoNorm-conv-EvoNorm, channel gate, squeeze-excite, stochastic depth.

    Parameters
    ----------
    filters : int
        Output channels (a 1 x 1 projection adapts the shortcut if the input differs).
    dilation : int
        Time dilation of both 3 x 3 convolutions.
    groups : int
        EvoNorm groups.
    reduction : int
        Attention MLP reduction.
    drop_rate : float
        Stochastic-depth rate.
    """

    def __init__(
        self,
        filters: int,
        dilation: int = 1,
        groups: int = 8,
        reduction: int = 4,
        drop_rate: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.dilation = int(dilation)
        self.groups = int(groups)
        self.reduction = int(reduction)
        self.drop_rate = float(drop_rate)
        self.conv1 = PitchConv(self.filters, (3, 3), dilation=self.dilation, name="conv1")
        self.norm1 = EvoNormS0(self.groups, name="norm1")
        self.conv2 = PitchConv(self.filters, (3, 3), dilation=self.dilation, name="conv2")
        self.norm2 = EvoNormS0(self.groups, name="norm2")
        self.gate = ChannelGate(self.reduction, name="gate")
        self.excite = SqueezeExcite(self.reduction, name="excite")
        self.residual = StochasticDepth(self.drop_rate, name="residual")
        self.project: keras.layers.Layer | None = None

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        b, t, p, c = input_shape
        out_shape = (b, t, p, self.filters)
        self.conv1.build(input_shape)
        self.norm1.build(out_shape)
        self.conv2.build(out_shape)
        self.norm2.build(out_shape)
        self.gate.build(out_shape)
        self.excite.build(out_shape)
        if c != self.filters:
            self.project = keras.layers.Dense(self.filters, use_bias=False, name="project")
            self.project.build(input_shape)

    def call(self, x: Any, frame_mask: Any, training: bool | None = None) -> Any:  # noqa: D102
        m = ops.cast(frame_mask, x.dtype)[:, :, None, None]
        y = self.norm1(self.conv1(x), frame_mask) * m
        y = self.norm2(self.conv2(y), frame_mask) * m
        y = self.excite(self.gate(y, frame_mask))
        shortcut = x if self.project is None else self.project(x)
        return self.residual([shortcut, y], training=training) * m

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {
            **super().get_config(),
            "filters": self.filters,
            "dilation": self.dilation,
            "groups": self.groups,
            "reduction": self.reduction,
            "drop_rate": self.drop_rate,
        }


@keras.saving.register_keras_serializable(package="chordnet")
class WeightNormDense(keras.layers.Layer):
    """Dense layer with weight normalisation (Salimans & Kingma 2016): ``w = g * v / ||v||``."""

    def __init__(self, units: int, activation: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        fan_in = input_shape[-1]
        self.v = self.add_weight(shape=(fan_in, self.units), initializer="glorot_uniform", name="v")
        self.g = self.add_weight(shape=(self.units,), initializer="ones", name="g")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x: Any) -> Any:  # noqa: D102
        norm = ops.sqrt(ops.sum(ops.square(self.v), axis=0, keepdims=True) + 1e-12)
        kernel = self.v * (self.g / norm)
        return self.activation(ops.matmul(x, kernel) + self.bias)

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
        }


@keras.saving.register_keras_serializable(package="chordnet")
class RecurrentPath(keras.layers.Layer):
    """BiLSTM, Dense, LayerNorm and a residual, over chunks or over the whole sequence.

    Parameters
    ----------
    units : int
        LSTM units per direction.
    width : int
        Output width (equals the input width, for the residual).
    chunk_frames : int or None
        Run the BiLSTM within chunks of this many frames (the sequence is padded to a multiple
        of it and cropped back); None runs it across the whole sequence.
    dropout : float
        Dropout after the dense layer.
    """

    def __init__(
        self,
        units: int,
        width: int,
        chunk_frames: int | None = None,
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.width = int(width)
        self.chunk_frames = None if chunk_frames is None else int(chunk_frames)
        self.dropout = float(dropout)
        self.rnn = keras.layers.Bidirectional(
            keras.layers.LSTM(self.units, return_sequences=True), name="bilstm"
        )
        self.dense = keras.layers.Dense(self.width, name="dense")
        self.norm = keras.layers.LayerNormalization(name="norm")
        self.drop = keras.layers.Dropout(self.dropout, name="dropout")

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        b, t, d = input_shape
        self.rnn.build((None, None, d))
        self.dense.build((None, None, 2 * self.units))
        self.norm.build((None, None, self.width))

    def call(self, x: Any, frame_mask: Any, training: bool | None = None) -> Any:  # noqa: D102
        shape = ops.shape(x)
        batch, time, width = shape[0], shape[1], x.shape[-1]
        bool_mask = ops.cast(frame_mask, "bool")
        if self.chunk_frames is None:
            y = self.rnn(x, mask=bool_mask, training=training)
        else:
            c = self.chunk_frames
            padded = ((time + c - 1) // c) * c
            xp = ops.pad(x, ((0, 0), (0, padded - time), (0, 0)))
            mp = ops.pad(bool_mask, ((0, 0), (0, padded - time)))
            xs = ops.reshape(xp, (-1, c, width))
            ms = ops.reshape(mp, (-1, c))
            y = self.rnn(xs, mask=ms, training=training)
            y = ops.reshape(y, (batch, padded, 2 * self.units))[:, :time]
        y = self.drop(self.dense(y), training=training)
        m = ops.cast(frame_mask, x.dtype)[:, :, None]
        return self.norm(x + y) * m

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {
            **super().get_config(),
            "units": self.units,
            "width": self.width,
            "chunk_frames": self.chunk_frames,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="chordnet")
class ChordNet(keras.Model):
    """The full network; ``model({'features': (B, T, 252, 2), 'mask': (B, T)})`` -> logits.

    Parameters
    ----------
    config : dict
        :meth:`ChordNetConfig.to_dict` output (a dict keeps the model Keras-serializable).

    Notes
    -----
    Returns a dict of logits keyed by :data:`HEADS`, each of shape (B, T, size). ``'mask'``
    may be omitted (all frames valid). The chroma and smooth_chroma logits hold 12 sigmoid
    logits followed by 13 softmax logits (bass), see :func:`head_probabilities`.
    """

    def __init__(self, config: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cfg = ChordNetConfig.from_dict(config or {})
        self.config_dict = cfg.to_dict()
        self.cfg = cfg
        self.fold = FoldOctaves(cfg.bins_per_octave, name="fold")
        pcs = cfg.bins_per_octave // 12
        self.stem = PitchConv(cfg.stem_filters, (3, pcs), pitch_stride=pcs, name="stem")
        self.stem_norm = EvoNormS0(cfg.norm_groups, name="stem_norm")
        n = len(cfg.blocks)
        self.blocks_ = [
            ConvBlock(
                filters,
                dilation,
                groups=cfg.norm_groups,
                reduction=cfg.attention_reduction,
                drop_rate=cfg.stochastic_depth * (i + 1) / n,
                name=f"block{i}",
            )
            for i, (filters, dilation) in enumerate(cfg.blocks)
        ]
        self.project = WeightNormDense(cfg.dense_units, activation=gelu_erf, name="project")
        self.project_drop = keras.layers.Dropout(cfg.dropout, name="project_dropout")
        self.intra = RecurrentPath(
            cfg.rnn_units, cfg.dense_units, cfg.chunk_frames, cfg.dropout, name="intra"
        )
        self.inter = RecurrentPath(cfg.rnn_units, cfg.dense_units, None, cfg.dropout, name="inter")
        self.trunk = keras.layers.Dense(cfg.dense_units, activation=gelu_erf, name="trunk")
        self.trunk_drop = keras.layers.Dropout(cfg.dropout, name="trunk_dropout")
        self.head_layers = {
            name: keras.layers.Dense(size, name=f"head_{name}")
            for name, size in HEADS.items()
            if name not in ("smooth_chroma", "chord")
        }
        smooth_width = 2 * cfg.smooth_units
        self.smooth_in = keras.layers.Dense(smooth_width, activation=gelu_erf, name="smooth_in")
        self.smooth_rnn = RecurrentPath(
            cfg.smooth_units, smooth_width, None, cfg.dropout, name="smooth_rnn"
        )
        self.head_smooth = keras.layers.Dense(N_TARGET, name="head_smooth_chroma")
        self.head_chord = keras.layers.Dense(N_CLASSES, name="head_chord")

    def build(self, input_shape: Any = None) -> None:  # noqa: D102
        if self.built:
            return
        cfg = self.cfg
        features = np.zeros((1, 8, cfg.n_bins, cfg.n_channels), dtype="float32")
        self.call({"features": features, "mask": np.ones((1, 8), dtype="float32")})
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> dict[str, Any]:  # noqa: D102
        if isinstance(inputs, Mapping):
            features = inputs["features"]
            mask = inputs.get("mask")
        else:
            features, mask = inputs, None
        features = ops.convert_to_tensor(features, dtype="float32")
        if mask is None:
            mask = ops.ones(ops.shape(features)[:2], dtype="float32")
        mask = ops.cast(mask, "float32")
        m4 = mask[:, :, None, None]
        x = self.fold(features * m4)
        x = self.stem_norm(self.stem(x), mask) * m4
        for block in self.blocks_:
            x = block(x, mask, training=training)
        shape = ops.shape(x)
        x = ops.reshape(x, (shape[0], shape[1], x.shape[2] * x.shape[3]))
        x = self.project_drop(self.project(x), training=training)
        x = self.intra(x, mask, training=training)
        x = self.inter(x, mask, training=training)
        h = self.trunk_drop(self.trunk(x), training=training)
        out = {name: layer(h) for name, layer in self.head_layers.items()}
        probs = head_probabilities(out, backend=True)
        s = ops.concatenate([h, probs["chroma"], probs["change"], probs["bass"], probs["key"]], -1)
        s = self.smooth_rnn(self.smooth_in(s), mask, training=training)
        out["smooth_chroma"] = self.head_smooth(s)
        out["chord"] = self.head_chord(s)
        return out

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {"config": self.config_dict, "name": self.name}


def build_chordnet(
    config: ChordNetConfig = DEFAULT_CHORDNET, *, seed: int | None = None
) -> ChordNet:
    """Build ChordNet with its weights created.

    Parameters
    ----------
    config : ChordNetConfig, optional
        Architecture.
    seed : int or None, optional
        Seeds Keras' global RNG before the weights are created (reproducible initialisation).

    Returns
    -------
    ChordNet
        A built model; call it on ``{'features': (B, T, 252, 2), 'mask': (B, T)}``.
    """
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    model = ChordNet(config.to_dict(), name="chordnet")
    model.build()
    return model


def count_parameters(model: keras.Model) -> int:
    """Return the number of trainable parameters of a model."""
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


def head_probabilities(logits: Mapping[str, Any], *, backend: bool = False) -> dict[str, Any]:
    """Turn head logits into probabilities.

    Chroma vectors get a sigmoid on the 12 chord tones and a softmax on the 13 bass classes;
    change, bass, key and chord get a softmax.

    Parameters
    ----------
    logits : Mapping of str to array, shape (..., size)
        Output of :class:`ChordNet` (any subset of the heads).
    backend : bool, optional
        Compute with backend tensors (inside the graph) instead of numpy.

    Returns
    -------
    dict of str to array
        Probabilities per head, same shapes.
    """
    if not backend:
        return {k: _np_probabilities(k, np.asarray(v, dtype=np.float32)) for k, v in logits.items()}
    out = {}
    for name, value in logits.items():
        if name in ("chroma", "smooth_chroma"):
            out[name] = ops.concatenate(
                [ops.sigmoid(value[..., :12]), ops.softmax(value[..., 12:], axis=-1)], axis=-1
            )
        else:
            out[name] = ops.softmax(value, axis=-1)
    return out


def _np_probabilities(name: str, value: np.ndarray) -> np.ndarray:
    def softmax(z: np.ndarray) -> np.ndarray:
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    if name in ("chroma", "smooth_chroma"):
        tones = 1.0 / (1.0 + np.exp(-value[..., :12]))
        return np.concatenate([tones, softmax(value[..., 12:])], axis=-1).astype(np.float32)
    return softmax(value).astype(np.float32)


# ---------------------------------------------------------------------------------------
# Inference.


def save_chordnet(
    model: ChordNet,
    directory: str | Path,
    *,
    cqt_config: CQTConfig,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a weights directory: :data:`WEIGHTS_FILE` and :data:`CONFIG_FILE`, each atomically.

    Parameters
    ----------
    model : ChordNet
        The network.
    directory : str or Path
        Target folder (created if missing); existing files of these names are replaced.
    cqt_config : CQTConfig
        Features the network expects.
    extra : Mapping, optional
        More entries for ``config.json`` (training settings, git commit, metrics).

    Returns
    -------
    Path
        The folder.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    replace_atomically(weights, lambda tmp: model.save_weights(tmp), suffix=".weights.h5")
    data = {
        **(extra or {}),
        "cqt": cqt_config.to_dict(),
        "chordnet": model.cfg.to_dict(),
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": sha256_file(weights),
        "vocabulary": vocabulary_fingerprint(),
        "inference": {"window_frames": INFERENCE_WINDOW_FRAMES, "hop_frames": INFERENCE_HOP_FRAMES},
    }
    text = json.dumps(data, indent=2) + "\n"
    replace_atomically(
        directory / CONFIG_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"), suffix=".json"
    )
    return directory


class ChordNetBackend(WindowedBackend):
    """A ChordNet run by Keras (TensorFlow): CQT features of a whole song -> posteriors.

    The windows of :class:`~models.inference.WindowedBackend` run through one compiled
    ``tf.function``. Inference uses ONNX Runtime (:mod:`models.onnx_runtime`); this runtime
    serves training, export and the parity tests.

    Parameters
    ----------
    model : ChordNet
        The network with its weights.
    **kwargs
        Passed to :class:`~models.inference.WindowedBackend` (``cqt_config``, ``name``,
        windowing, ``decoder``).
    """

    def __init__(self, model: ChordNet, **kwargs: Any) -> None:
        super().__init__(n_bins=model.cfg.n_bins, n_channels=model.cfg.n_channels, **kwargs)
        self.model = model
        self._fn: Any = None

    def _function(self) -> Any:
        if self._fn is None:
            import tensorflow as tf

            cfg = self.model.cfg
            spec = (
                tf.TensorSpec(
                    (None, self.window_frames, cfg.n_bins, cfg.n_channels),
                    tf.float32,
                    name="features",
                ),
                tf.TensorSpec((None, self.window_frames), tf.float32, name="mask"),
            )

            @tf.function(input_signature=spec, reduce_retracing=True)
            def run(features: Any, mask: Any) -> Any:
                logits = self.model({"features": features, "mask": mask}, training=False)
                return head_probabilities(logits, backend=True)

            self._fn = run
        return self._fn

    def warm_up(self) -> None:
        """Trace the inference function once (a few seconds), so that the first song is fast.

        :func:`load_chordnet_backend` calls it: tracing is a start-up cost like loading the
        weights, paid once per process whatever the number of songs.
        """
        cfg = self.model.cfg
        self._function()(
            np.zeros((1, self.window_frames, cfg.n_bins, cfg.n_channels), dtype=np.float32),
            np.ones((1, self.window_frames), dtype=np.float32),
        )

    def run_batch(self, features: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Return the head probabilities of one batch of windows."""
        return {k: v.numpy() for k, v in self._function()(features, mask).items()}


def load_chordnet_backend(path: str | Path) -> ChordNetBackend:
    """Load a ChordNet weights directory (``config.json`` + :data:`WEIGHTS_FILE`) into Keras.

    Parameters
    ----------
    path : str or Path
        Weights directory or training run folder.

    Returns
    -------
    ChordNetBackend
        The model, its inference function already traced (:meth:`ChordNetBackend.warm_up`).

    Raises
    ------
    ModelError
        If a file is missing or damaged, the weights do not match their recorded sha256, or
        the model was trained on another chord vocabulary.
    """
    path = Path(path)
    settings = read_inference_settings(path)
    data = settings.config
    weights = checked_file(path, data.get("weights_file", WEIGHTS_FILE), data.get("weights_sha256"))
    try:
        net_config = ChordNetConfig.from_dict(data["chordnet"])
    except (ValueError, TypeError) as exc:
        raise ModelError(f"cannot load model '{path}': bad {CONFIG_FILE} ({exc})") from exc
    if net_config.n_bins != settings.cqt_config.n_bins:
        raise ModelError(
            f"cannot load model '{path}': the network expects {net_config.n_bins} bins, the CQT "
            f"config gives {settings.cqt_config.n_bins}"
        )
    model = build_chordnet(net_config)
    try:
        model.load_weights(weights)
    except Exception as exc:  # h5py and Keras raise many types for damaged files
        raise ModelError(f"cannot load model '{path}': {weights.name}: {exc}") from exc
    backend = ChordNetBackend(
        model,
        cqt_config=settings.cqt_config,
        name=path.name,
        window_frames=settings.window_frames,
        hop_frames=settings.hop_frames,
        decoder=settings.decoder,
        pitch_views=settings.pitch_views,
    )
    backend.confidence_temperature = settings.confidence_temperature
    backend.warm_up()
    return backend
