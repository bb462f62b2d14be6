"""Export a ChordNet weights directory to ONNX, so inference needs no TensorFlow.

:func:`export_onnx` converts the Keras network (with its head probabilities, exactly the
function :class:`models.chordnet.ChordNetBackend` runs) with ``tf2onnx`` into
:data:`~models.inference.ONNX_FILE` beside the weights, checks on random features that ONNX
Runtime gives the same probabilities as Keras, and records the file's sha256 in
``config.json``. ``scripts/ship_model.py`` calls it for every shipped model. TensorFlow,
``tf2onnx`` and ONNX Runtime are imported here only inside the functions (the ``train`` extra).

The masked bidirectional LSTMs of ChordNet would convert to ONNX ``Loop`` nodes (one step of
the cell per iteration), slow in ONNX Runtime. Inference masks are always a prefix of ones
(a window's real frames, then padding), so each BiLSTM is traced for export as what it then
computes (:func:`_prefix_bilstm`): the forward LSTM without a mask, and the backward LSTM
run forward over each sequence's real frames in reverse order (a gather by indices computed
from the mask's lengths). ``tf.reverse_sequence`` would be the natural op, but tf2onnx folds
a forward LSTM and a ReverseSequence-LSTM-ReverseSequence pair into one bidirectional ONNX
``LSTM`` without sequence lengths, whose backward direction then starts in the padding: that
changed the real frames of a padded window, most visibly in smooth_chroma (the only recurrent
path whose input is not zero at padded frames in an untrained network, since it reads the
head probabilities). Outputs at padded frames differ from Keras's, but every layer after an LSTM
works per frame until the output is multiplied by the mask, so the real frames are the same;
tf2onnx turns these plain LSTMs into ONNX ``LSTM`` operators, and the parity check below
compares the result with the masked Keras network.

Inputs of the exported graph: ``features`` (batch, window_frames, n_bins, n_channels) and
``mask`` (batch, window_frames), float32; outputs: one array per head of
:data:`~models.inference.HEADS`, named after it, (batch, window_frames, size).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from models.dataset import replace_atomically
from models.inference import CONFIG_FILE, HEADS, ONNX_FILE, sha256_file

__all__ = ["ONNX_OPSET", "PARITY_TOLERANCE", "ExportError", "export_onnx", "max_head_difference"]

#: ONNX opset of the exported graphs (ONNX Runtime has supported it since 1.14).
ONNX_OPSET = 17
#: Largest difference of any head probability between Keras and ONNX Runtime that an export
#: accepts (float32 arithmetic in another order differs by about 1e-5).
PARITY_TOLERANCE = 1e-4


class ExportError(Exception):
    """An export that failed or whose ONNX graph does not reproduce the Keras network."""


def max_head_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    """Return the largest absolute difference per head of two probability dicts.

    The heads are matched by name (three heads have 25 values per frame, so matching by
    position or shape would compare different heads).
    """
    return {name: float(np.max(np.abs(a[name] - b[name]))) for name in HEADS}


def export_onnx(path: str | Path, *, opset: int = ONNX_OPSET, seed: int = 0) -> dict[str, Any]:
    """Export the Keras weights of a directory to ONNX and record it in its ``config.json``.

    Parameters
    ----------
    path : str or Path
        Weights directory or run folder (``config.json`` + Keras weights).
    opset : int, optional
        ONNX opset.
    seed : int, optional
        Seed of the random features of the parity check.

    Returns
    -------
    dict
        The ``onnx`` section written to ``config.json``: file name, sha256, opset, the
        converter's version and the largest head difference measured.

    Raises
    ------
    ExportError
        If the converted graph differs from Keras by more than :data:`PARITY_TOLERANCE`.
    models.backend.ModelError
        If the weights directory cannot be loaded.
    """
    import onnxruntime
    import tf2onnx

    from models.chordnet import load_chordnet_backend

    path = Path(path)
    keras_backend = load_chordnet_backend(path)
    spec = keras_backend._function().input_signature
    function = _export_function(keras_backend.model, spec)
    out = path / ONNX_FILE

    def convert(tmp: Path) -> None:
        tf2onnx.convert.from_function(
            function, input_signature=spec, opset=opset, output_path=str(tmp)
        )

    replace_atomically(out, convert, suffix=".onnx")
    rng = np.random.default_rng(seed)
    features = rng.uniform(
        0, 3, size=(2, keras_backend.window_frames, keras_backend.n_bins, keras_backend.n_channels)
    ).astype(np.float32)
    mask = np.ones((2, keras_backend.window_frames), dtype=np.float32)
    mask[1, keras_backend.window_frames // 3 :] = 0.0  # a padded window, as at a song's end
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(None, {"features": features, "mask": mask}), strict=True))
    diff = max_head_difference(keras_backend.run_batch(features, mask), got)
    if max(diff.values()) > PARITY_TOLERANCE:
        out.unlink()
        raise ExportError(
            f"ONNX export of '{path}' differs from Keras by up to {max(diff.values()):.2g} "
            f"(heads: {diff})"
        )
    section = {
        "file": ONNX_FILE,
        "sha256": sha256_file(out),
        "opset": opset,
        "converter": f"tf2onnx {tf2onnx.__version__}",
        "max_head_difference": max(diff.values()),
    }
    config_file = path / CONFIG_FILE
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["onnx"] = section
    text = json.dumps(config, indent=2) + "\n"
    replace_atomically(
        config_file, lambda tmp: tmp.write_text(text, encoding="utf-8"), suffix=".json"
    )
    return section


def _export_function(model: Any, spec: Any) -> Any:
    """Return the inference function of `model`, each BiLSTM traced by :func:`_prefix_bilstm`."""
    import tensorflow as tf

    from models.chordnet import RecurrentPath, head_probabilities

    paths = [layer for layer in model._flatten_layers() if isinstance(layer, RecurrentPath)]
    replacements = [_prefix_bilstm(path.rnn) for path in paths]

    @tf.function(input_signature=spec)
    def run(features: Any, mask: Any) -> Any:
        saved = [path.rnn for path in paths]
        try:
            for path, replacement in zip(paths, replacements, strict=True):
                object.__setattr__(path, "rnn", replacement)
            logits = model({"features": features, "mask": mask}, training=False)
        finally:
            for path, rnn in zip(paths, saved, strict=True):
                object.__setattr__(path, "rnn", rnn)
        return head_probabilities(logits, backend=True)

    return run


def _prefix_bilstm(bidirectional: Any) -> Any:
    """Return ``f(x, mask, training)`` equal to `bidirectional` on the unmasked frames.

    Valid for masks that are a prefix of ones in every sequence (see the module notes).
    """
    import keras
    import tensorflow as tf

    forward, backward = bidirectional.forward_layer, bidirectional.backward_layer
    reverse = keras.layers.LSTM(backward.units, return_sequences=True)
    reverse.build((None, None, backward.cell.kernel.shape[0]))
    reverse.set_weights(backward.get_weights())  # the backward weights, run forward

    def call(x: Any, mask: Any = None, training: Any = None) -> Any:
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1, keepdims=True)  # (B, 1)
        steps = tf.range(tf.shape(x)[1])[None, :]  # (1, T)
        # Each sequence's real frames reversed, its padding left in place: a gather, not
        # ReverseSequence, which tf2onnx would fold into a bidirectional ONNX LSTM that
        # reverses whole sequences (padding first) and so changes the real frames.
        order = tf.where(steps < lengths, lengths - 1 - steps, steps)
        ahead = forward(x)
        behind = tf.gather(reverse(tf.gather(x, order, batch_dims=1)), order, batch_dims=1)
        return tf.concat([ahead, behind], axis=-1)

    return call
