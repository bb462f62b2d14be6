"""Run a ChordNet weights directory with ONNX Runtime: inference without TensorFlow.

The directory's :data:`~models.inference.ONNX_FILE` (written by :mod:`models.export`) holds the
network with its head probabilities; the windowing of long songs and every configuration
check are those of the Keras runtime (:mod:`models.inference`), so both give the same
posteriors (within float32 rounding, see ``tests/models/test_onnx_parity.py``).

Session options (measured in ``docs/benchmarks.md``, ``benchmarks/bench_onnx.py``): all graph
optimisations, one intra-op thread per core up to :data:`MAX_INTRA_OP_THREADS` without
spin-waiting (idle threads that spin slow everything down on a busy machine), sequential
execution (the graph is a chain), and ONNX Runtime's own log limited to errors so that normal
runs write nothing to stderr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from models.base import ModelError
from models.inference import (
    CONFIG_FILE,
    HEADS,
    ONNX_FILE,
    WindowedBackend,
    checked_file,
    read_inference_settings,
)

__all__ = ["MAX_INTRA_OP_THREADS", "OnnxBackend", "load_onnx_backend", "session_options"]

#: Most threads one inference uses (the machine's cores, up to this).
MAX_INTRA_OP_THREADS = 4
_LOG_ERRORS_ONLY = 3


def session_options(*, intra_op_threads: int | None = None) -> Any:
    """Return the ONNX Runtime session options chordcli uses.

    Parameters
    ----------
    intra_op_threads : int or None, optional
        Threads per operator; None takes the usable cores, at most :data:`MAX_INTRA_OP_THREADS`.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    if intra_op_threads is None:
        intra_op_threads = min(MAX_INTRA_OP_THREADS, len(os.sched_getaffinity(0)))
    options.intra_op_num_threads = int(intra_op_threads)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = _LOG_ERRORS_ONLY
    return options


class OnnxBackend(WindowedBackend):
    """A ChordNet run by ONNX Runtime: CQT features of a whole song -> posteriors.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The loaded graph (inputs ``features`` and ``mask``, one output per head).
    **kwargs
        Passed to :class:`~models.inference.WindowedBackend`.
    """

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self._outputs = [o.name for o in session.get_outputs()]

    def run_batch(self, features: np.ndarray, mask: np.ndarray) -> Mapping[str, np.ndarray]:
        """Return the head probabilities of one batch of windows, keyed by head name."""
        values = self.session.run(self._outputs, {"features": features, "mask": mask})
        return dict(zip(self._outputs, values, strict=True))


def load_onnx_backend(path: str | Path) -> OnnxBackend:
    """Load a weights directory's ONNX export (``config.json`` + :data:`ONNX_FILE`).

    Parameters
    ----------
    path : str or Path
        Weights directory (a shipped model, or a run folder after
        :func:`models.export.export_onnx`).

    Returns
    -------
    OnnxBackend
        The model.

    Raises
    ------
    ModelError
        If ONNX Runtime is not installed, a file is missing or damaged (sha256), the graph
        lacks a head, or the model was trained on another chord vocabulary.
    """
    path = Path(path)
    settings = read_inference_settings(path)
    section = settings.config.get("onnx") or {}
    file = checked_file(
        path,
        section.get("file", ONNX_FILE),
        section.get("sha256"),
        hint=" (hint: export it with scripts/ship_model.py --onnx-only, or run it with Keras: "
        "install chordcli[train] and pass --runtime keras)",
    )
    try:
        import onnxruntime
    except ImportError:
        raise ModelError(
            f"cannot load model '{path}': onnxruntime is not installed "
            "(hint: pip install onnxruntime)"
        ) from None
    try:
        session = onnxruntime.InferenceSession(
            str(file), sess_options=session_options(), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ONNX Runtime raises its own types for damaged graphs
        raise ModelError(f"cannot load model '{path}': {file.name}: {exc}") from exc
    outputs = {o.name for o in session.get_outputs()}
    inputs = {i.name: i.shape for i in session.get_inputs()}
    if not set(HEADS) <= outputs or set(inputs) != {"features", "mask"}:
        raise ModelError(
            f"cannot load model '{path}': {file.name} is not a ChordNet export (inputs "
            f"{sorted(inputs)}, outputs {sorted(outputs)})"
        )
    _, window, n_bins, n_channels = inputs["features"]
    if window != settings.window_frames or n_bins != settings.cqt_config.n_bins:
        raise ModelError(
            f"cannot load model '{path}': {file.name} takes windows of {window} frames x "
            f"{n_bins} bins, {CONFIG_FILE} says {settings.window_frames} x "
            f"{settings.cqt_config.n_bins} (hint: re-export it)"
        )
    backend = OnnxBackend(
        session,
        cqt_config=settings.cqt_config,
        name=path.name,
        n_bins=int(n_bins),
        n_channels=int(n_channels),
        window_frames=settings.window_frames,
        hop_frames=settings.hop_frames,
        decoder=settings.decoder,
    )
    backend.confidence_temperature = settings.confidence_temperature
    return backend
