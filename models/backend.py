"""What every chord model gives the decoder, and how a model is found by name or path.

A *backend* turns CQT features of a whole song into per-frame posteriors (:class:`ModelOutput`).
Two kinds exist: ``template`` (a chroma-template baseline without learning, :mod:`models.template`)
and ChordNet weights directories (``models/weights/<name>-v<N>/`` or any run folder holding a
``config.json``), run by a *runtime*: ONNX Runtime (``onnx``, :mod:`models.onnx_runtime`, no
TensorFlow) when the directory holds an ONNX export, else Keras (``keras``,
:mod:`models.chordnet`, the ``train`` extra).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from models.cqt import CQTConfig
from theory.decode import DecoderSettings

__all__ = [
    "BUILTIN_MODELS",
    "DEFAULT_MODEL",
    "RUNTIMES",
    "WEIGHTS_DIR",
    "ChordBackend",
    "ModelError",
    "ModelOutput",
    "load_backend",
    "model_dir",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_MODEL = "chordnet-v1"
BUILTIN_MODELS = ("template",)
#: Runtimes of a weights directory, by name: ``"module:callable"``, called with the directory.
RUNTIMES: dict[str, str] = {
    "onnx": "models.onnx_runtime:load_onnx_backend",
    "keras": "models.chordnet:load_chordnet_backend",
}


class ModelError(Exception):
    """A model that cannot be found or loaded; the message names it and gives a hint."""


@dataclass(frozen=True)
class ModelOutput:
    """Per-frame posteriors of a song, all time-major with ``n_frames`` rows.

    Attributes
    ----------
    chroma : ndarray, shape (n_frames, 25), float32
        Chord-tone probabilities ``[:, :12]`` and bass distribution ``[:, 12:]``
        (see :mod:`theory.targets`).
    smooth_chroma : ndarray, shape (n_frames, 25), float32
        The smoothed 25-dim vector (second recurrent stack); same layout.
    chord : ndarray, shape (n_frames, 529), float32
        Chord-class probabilities (rows sum to 1).
    change : ndarray, shape (n_frames,), float32
        Probability that a chord change happens at the frame.
    bass : ndarray, shape (n_frames, 13), float32
        Bass pitch-class distribution (12 = no bass).
    key : ndarray, shape (n_frames, 25), float32
        Key distribution (see :mod:`theory.keys`).
    frames_per_second : float
        Frame rate of all arrays.
    """

    chroma: np.ndarray
    smooth_chroma: np.ndarray
    chord: np.ndarray
    change: np.ndarray
    bass: np.ndarray
    key: np.ndarray
    frames_per_second: float

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.chord.shape[0])


class ChordBackend(Protocol):
    """A loaded chord model."""

    name: str
    cqt_config: CQTConfig
    #: The decoder settings that go with this model's posteriors.
    decoder: DecoderSettings

    def predict(self, features: np.ndarray) -> ModelOutput:
        """Return posteriors for CQT features of shape (n_frames, 252, 2) of one song."""
        ...


def load_backend(
    name_or_path: str | Path | None = None, *, runtime: str | None = None
) -> ChordBackend:
    """Load a chord model by name (``'template'``, ``'chordnet-v1'``) or weights directory.

    Parameters
    ----------
    name_or_path : str or Path or None
        ``None`` loads :data:`DEFAULT_MODEL`.
    runtime : str or None, optional
        The :data:`RUNTIMES` entry that runs a weights directory; None picks ``onnx`` when
        the directory holds an ONNX export, else ``keras``. Built-in models ignore it.

    Returns
    -------
    ChordBackend
        The loaded model.

    Raises
    ------
    ModelError
        If no model of that name or path exists, its files cannot be loaded, or the runtime
        is unknown.
    """
    name = DEFAULT_MODEL if name_or_path is None else str(name_or_path)
    if name == "template":
        from models.template import TemplateBackend

        return TemplateBackend()
    directory = model_dir(name)
    if runtime is None:
        runtime = "onnx" if _has_onnx_export(directory) else "keras"
    if runtime not in RUNTIMES:
        raise ModelError(
            f"unknown model runtime {runtime!r} (hint: one of {', '.join(sorted(RUNTIMES))})"
        )
    module, _, attribute = RUNTIMES[runtime].partition(":")
    try:
        loader = getattr(importlib.import_module(module), attribute)
    except ImportError as exc:
        raise ModelError(
            f"cannot load model '{name}' with the {runtime} runtime: {exc.name} is not "
            "installed (hint: pip install 'chordcli[train]', or export it to ONNX)"
        ) from None
    return loader(directory)


def _has_onnx_export(directory: Path) -> bool:
    """Whether a weights directory holds an ONNX export (recorded in its config.json).

    An unreadable config.json counts as yes: the ONNX loader then reports what is wrong
    without importing TensorFlow.
    """
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return True
    return not isinstance(config, dict) or "onnx" in config


def model_dir(name_or_path: str | Path) -> Path:
    """Return the weights directory of a trained model: a path, or a bundled model's name.

    Raises
    ------
    ModelError
        If neither a directory with a ``config.json`` nor a bundled model has that name.
    """
    name = str(name_or_path)
    path = Path(name)
    if not path.exists() and (WEIGHTS_DIR / name).is_dir():
        path = WEIGHTS_DIR / name
    if not (path / "config.json").is_file():
        available = (
            sorted(p.parent.name for p in WEIGHTS_DIR.glob("*/config.json"))
            if WEIGHTS_DIR.is_dir()
            else []
        )
        raise ModelError(
            f"model {name!r} not found (hint: --model template, a weights directory with a "
            f"config.json, or one of: {', '.join(list(BUILTIN_MODELS) + available)})"
        )
    return path
