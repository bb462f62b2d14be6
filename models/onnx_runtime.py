"""Run a ChordNet weights directory with ONNX Runtime: inference without TensorFlow.

The directory's :data:`~models.inference.ONNX_FILE` (written by :mod:`models.export`) holds the
network with its head probabilities; the windowing of long songs and every configuration
check are those of the Keras runtime (:mod:`models.inference`), so both give the same
posteriors (within float32 rounding, see ``tests/models/test_onnx_parity.py``).

Session options (measured in ``docs/benchmarks.md``, ``benchmarks/bench_onnx.py``): all graph
optimisations, sequential execution (the graph is a chain), intra-op threads without
spin-waiting, and ONNX Runtime's own log limited to errors so that normal runs write nothing
to stderr. Threads (:func:`default_intra_op_threads`): one per idle core at the moment the
session is made, at most :data:`MAX_INTRA_OP_THREADS` (on an idle 2-core machine two threads
run the network of a 4-minute song in 0.28 s against 0.44 s for one). A second thread that
has to wait for a busy core costs more than it gives (on the shared 2-core machine, 1.34 s
against 0.84 s for one thread); one and
two threads give the same posteriors bit for bit, three or more split some operators
differently (posteriors up to 5e-6 apart), so at most two are used and a song transcribes the
same on every machine whatever its load.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from models.base import ModelError
from models.inference import (
    CONFIG_FILE,
    HEADS,
    ONNX_FILE,
    InferenceSettings,
    WindowedBackend,
    checked_file,
    read_inference_settings,
)

__all__ = [
    "MAX_INTRA_OP_THREADS",
    "OnnxBackend",
    "busy_cores",
    "default_intra_op_threads",
    "load_onnx_backend",
    "rewindow_graph",
    "session_options",
]

#: Most threads one inference uses (the machine's idle cores, up to this): with more than
#: two, ONNX Runtime splits some operators differently and the posteriors change (by 5e-6).
MAX_INTRA_OP_THREADS = 2
_LOG_ERRORS_ONLY = 3


def default_intra_op_threads() -> int:
    """Return the idle cores: usable cores minus the busy ones (:func:`busy_cores`), rounded.

    At least 1, at most :data:`MAX_INTRA_OP_THREADS`; the count never changes the result.
    """
    cores = len(os.sched_getaffinity(0))
    return max(1, min(MAX_INTRA_OP_THREADS, cores, round(cores - busy_cores())))


def busy_cores() -> float:
    """Return how many cores other work keeps busy now.

    The tasks that are runnable at this moment besides this process (Linux ``/proc/loadavg``),
    else the 1-minute load average, else 0. The moment counts, not the last minute: a
    transcription started right after another one must not see the previous one's load.
    """
    try:
        fields = Path("/proc/loadavg").read_text(encoding="ascii").split()
        return float(max(0, int(fields[3].split("/")[0]) - 1))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0]
    except OSError:  # no load average on this system: assume the cores are free
        return 0.0


def session_options(*, intra_op_threads: int | None = None) -> Any:
    """Return the ONNX Runtime session options chordcli uses.

    Parameters
    ----------
    intra_op_threads : int or None, optional
        Threads per operator; None takes :func:`default_intra_op_threads`.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    if intra_op_threads is None:
        intra_op_threads = default_intra_op_threads()
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

    def __init__(self, session: Any, *, graph: Path | bytes | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.graph = graph

    @property
    def session(self) -> Any:
        """The ONNX Runtime session (waits for one that is still being made in the background).

        Raises
        ------
        ModelError
            If the session made in the background could not be made or checked.
        """
        if isinstance(self._session, Future):
            self._session = self._session.result()
        return self._session

    @session.setter
    def session(self, value: Any) -> None:
        self._session = value

    def run_batch(self, features: np.ndarray, mask: np.ndarray) -> Mapping[str, np.ndarray]:
        """Return the head probabilities of one batch of windows, keyed by head name."""
        session = self.session
        outputs = [o.name for o in session.get_outputs()]
        values = session.run(outputs, {"features": features, "mask": mask})
        return dict(zip(outputs, values, strict=True))

    def with_window(self, window_frames: int) -> OnnxBackend:
        """Return the same network on windows of `window_frames` frames (live input).

        The export fixes the window length in the graph (:func:`rewindow_graph` rewrites it).
        A shorter window costs proportionally less; since the network treats a window's
        padding as absent, a window of `window_frames` real frames gives the posteriors that
        this backend gives for them padded to its own window. That is checked here on random
        features (to :data:`models.export.PARITY_TOLERANCE`).

        Raises
        ------
        ModelError
            If the graph cannot be rewritten for that length (ChordNet needs a multiple of its
            chunk length, 256 frames for ``chordnet-v1``) or the check fails.
        """
        import onnx
        import onnxruntime

        from models.export import PARITY_TOLERANCE, max_head_difference

        if self.graph is None:
            raise ModelError(f"model '{self.name}' has no graph to rewrite")
        model = (
            onnx.load_from_string(self.graph)
            if isinstance(self.graph, bytes)
            else (onnx.load(str(self.graph)))
        )
        graph = rewindow_graph(model, old=self.window_frames, new=window_frames)
        rng = np.random.default_rng(0)
        shape = (1, self.window_frames, self.n_bins, self.n_channels)
        padded = np.zeros(shape, dtype=np.float32)
        padded[0, :window_frames] = rng.uniform(0, 3, padded[0, :window_frames].shape)
        mask = np.zeros(shape[:2], dtype=np.float32)
        mask[0, :window_frames] = 1.0
        try:
            session = onnxruntime.InferenceSession(
                graph, sess_options=session_options(), providers=["CPUExecutionProvider"]
            )
            short = OnnxBackend(
                session,
                graph=graph,
                cqt_config=self.cqt_config,
                name=self.name,
                n_bins=self.n_bins,
                n_channels=self.n_channels,
                window_frames=window_frames,
                hop_frames=max(1, window_frames // 2),
                batch_windows=self.batch_windows,
                decoder=self.decoder,
                pitch_views=self.pitch_views,
            )
            got = short.run_batch(padded[:, :window_frames], mask[:, :window_frames])
        except Exception as exc:  # ONNX Runtime raises its own types for graphs it refuses
            raise ModelError(
                f"model '{self.name}' cannot run on windows of {window_frames} frames "
                f"({str(exc).splitlines()[0][:200]})"
            ) from None
        want = {k: v[:, :window_frames] for k, v in self.run_batch(padded, mask).items()}
        worst = max(max_head_difference(dict(got), want).values())
        if worst > PARITY_TOLERANCE:
            raise ModelError(
                f"model '{self.name}' gives other posteriors on windows of {window_frames} "
                f"frames (largest difference {worst:.2g})"
            )
        short.confidence_temperature = self.confidence_temperature
        return short


def rewindow_graph(model: Any, *, old: int, new: int) -> bytes:
    """Return an exported ChordNet graph rewritten for windows of `new` frames instead of `old`.

    tf2onnx folds the window length into the graph: the inputs' and outputs' frame axis, the
    shapes of reshapes and slices (1-D integer constants holding `old`) and the frame indices
    ``0 .. old - 1`` that the masked recurrent layers compare with each sequence's length
    (constants of shape (1, old)). They are replaced by `new` and ``0 .. new - 1``; the weights
    are untouched.

    Parameters
    ----------
    model : onnx.ModelProto
        The loaded graph (modified in place).
    old, new : int
        Window lengths in frames.

    Returns
    -------
    bytes
        The serialised graph for ``onnxruntime.InferenceSession``.
    """
    from onnx import numpy_helper

    graph = model.graph
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) > 1 and dims[1].dim_value == old:
            dims[1].dim_value = new
    for init in graph.initializer:
        a = numpy_helper.to_array(init)
        if a.ndim == 1 and a.size <= 4 and a.dtype.kind in "iu" and np.any(a == old):
            a = np.where(a == old, new, a).astype(a.dtype)
        elif a.shape == (1, old) and np.array_equal(a[0], np.arange(old)):
            a = np.ascontiguousarray(a[:, :new])
        else:
            continue
        init.CopyFrom(numpy_helper.from_array(a, init.name))
    del graph.value_info[:]  # shapes inferred for the old length
    return model.SerializeToString()


def load_onnx_backend(path: str | Path, *, background: bool = False) -> OnnxBackend:
    """Load a weights directory's ONNX export (``config.json`` + :data:`ONNX_FILE`).

    Parameters
    ----------
    path : str or Path
        Weights directory (a shipped model, or a run folder after
        :func:`models.export.export_onnx`).
    background : bool
        Check the files now but import ONNX Runtime and make the session in a thread, so
        that the caller can read and analyse audio meanwhile (about 0.3 s); the first
        inference waits for it, and a graph that cannot be loaded raises there. The threads
        of the session are counted now (:func:`default_intra_op_threads`), before the
        caller's own work keeps a core busy.

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
    if importlib.util.find_spec("onnxruntime") is None:
        raise ModelError(
            f"cannot load model '{path}': onnxruntime is not installed "
            "(hint: pip install onnxruntime)"
        )
    n_channels = int((settings.config.get("chordnet") or {}).get("n_channels", 2))
    threads = default_intra_op_threads()

    def open_session() -> Any:
        return _open_session(path, file, settings, n_channels=n_channels, threads=threads)

    backend = OnnxBackend(
        _in_background(open_session) if background else open_session(),
        graph=file,
        cqt_config=settings.cqt_config,
        name=path.name,
        n_bins=settings.cqt_config.n_bins,
        n_channels=n_channels,
        window_frames=settings.window_frames,
        hop_frames=settings.hop_frames,
        decoder=settings.decoder,
        pitch_views=settings.pitch_views,
    )
    backend.confidence_temperature = settings.confidence_temperature
    return backend


def _open_session(
    path: Path, file: Path, settings: InferenceSettings, *, n_channels: int, threads: int
) -> Any:
    """Make the ONNX Runtime session of `file` and check that it is this ChordNet's graph."""
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(
            str(file),
            sess_options=session_options(intra_op_threads=threads),
            providers=["CPUExecutionProvider"],
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
    _, window, n_bins, channels = inputs["features"]
    expected = (settings.window_frames, settings.cqt_config.n_bins, n_channels)
    if (window, n_bins, channels) != expected:
        raise ModelError(
            f"cannot load model '{path}': {file.name} takes windows of {window} frames x "
            f"{n_bins} bins x {channels} channels, {CONFIG_FILE} says "
            f"{' x '.join(str(v) for v in expected)} (hint: re-export it)"
        )
    return session


def _in_background(make: Callable[[], Any]) -> Future:
    """Run `make` in a worker thread; the future gives its result or raises its error."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onnx-session")
    try:
        return executor.submit(make)
    finally:
        executor.shutdown(wait=False)
