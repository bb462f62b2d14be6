"""How a chord model is found by name or path and loaded: the registry of backends.

A *backend* turns CQT features of a whole song into per-frame posteriors
(:class:`~models.base.ModelOutput`). Two kinds exist: built-in models that need no weights
(``template``, a chroma-template baseline, :mod:`models.template`) and ChordNet weights
directories (``models/weights/<name>-v<N>/`` or any run folder holding a ``config.json``), run
by a *runtime*: ONNX Runtime (``onnx``, :mod:`models.onnx_runtime`, no TensorFlow) when the
directory holds an ONNX export, else Keras (``keras``, :mod:`models.chordnet`, the ``train``
extra).

The registry names every backend by a ``"module:callable"`` string and imports the module only
when that backend is loaded, so importing this module imports no backend (and no TensorFlow),
and backends import the shared types from :mod:`models.base`, never from here. Registering a new
backend is one entry: a built-in model in :data:`BUILTIN_BACKENDS`, a new way to run a weights
directory in :data:`RUNTIMES`.

The shared types are re-exported here for callers that import them with the loader.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.base import ChordBackend, ModelError, ModelOutput

__all__ = [
    "BUILTIN_BACKENDS",
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

#: Models without a weights directory, by name: ``"module:callable"``, called with no argument.
BUILTIN_BACKENDS: dict[str, str] = {
    "template": "models.template:TemplateBackend",
}
#: Names of the built-in models.
BUILTIN_MODELS: tuple[str, ...] = tuple(BUILTIN_BACKENDS)

#: Runtimes of a weights directory, by name: ``"module:callable"``, called with the directory.
RUNTIMES: dict[str, str] = {
    "onnx": "models.onnx_runtime:load_onnx_backend",
    "keras": "models.chordnet:load_chordnet_backend",
}


def _entry(target: str) -> Callable[..., Any]:
    """Import and return the callable a registry entry ``"module:callable"`` names."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def load_backend(
    name_or_path: str | Path | None = None,
    *,
    runtime: str | None = None,
    background: bool = False,
    views: int | None = None,
) -> ChordBackend:
    """Load a chord model by name (``'template'``, ``'chordnet-v1'``) or weights directory.

    Parameters
    ----------
    name_or_path : str or Path or None
        ``None`` loads :data:`DEFAULT_MODEL`.
    runtime : str or None, optional
        The :data:`RUNTIMES` entry that runs a weights directory; None picks ``onnx`` when
        the directory holds an ONNX export, else ``keras``. Built-in models ignore it.
    background : bool
        With the ``onnx`` runtime: check the files now and make the session in a thread while
        the caller goes on (:func:`models.onnx_runtime.load_onnx_backend`); a graph that
        cannot be loaded raises at the first inference. Other runtimes ignore it.
    views : int or None, optional
        Hear each song at this many pitches and average the posteriors (an odd number:
        shifts of ``-(views // 2) .. views // 2`` semitones, :func:`models.inference.
        centred_views`; ``views`` times the network's time). None keeps the model's own
        ``inference.pitch_views`` (one view for the shipped models).

    Returns
    -------
    ChordBackend
        The loaded model.

    Raises
    ------
    ModelError
        If no model of that name or path exists, its files cannot be loaded, or the runtime
        is unknown or not installed.
    """
    name = DEFAULT_MODEL if name_or_path is None else str(name_or_path)
    if name in BUILTIN_BACKENDS:
        if views not in (None, 1):
            raise ModelError(
                f"model '{name}' hears one pitch only (hint: pitch views need a ChordNet model)"
            )
        return _entry(BUILTIN_BACKENDS[name])()
    backend = _load_network(name, runtime=runtime, background=background)
    if views is not None:
        from models.inference import centred_views

        try:
            backend.pitch_views = centred_views(views)
        except ValueError as exc:
            raise ModelError(f"cannot load model '{name}': {exc}") from None
    return backend


def _load_network(name: str, *, runtime: str | None, background: bool) -> ChordBackend:
    """Load a weights directory with its runtime (see :func:`load_backend`)."""
    directory = model_dir(name)
    if runtime is None:
        runtime = "onnx" if _has_onnx_export(directory) else "keras"
    if runtime not in RUNTIMES:
        raise ModelError(
            f"unknown model runtime {runtime!r} (hint: one of {', '.join(sorted(RUNTIMES))})"
        )
    try:
        loader = _entry(RUNTIMES[runtime])
    except ImportError as exc:
        raise ModelError(
            f"cannot load model '{name}' with the {runtime} runtime: {exc.name} is not "
            "installed (hint: pip install 'chordcli[train]', or export it to ONNX)"
        ) from None
    if background and runtime == "onnx":
        return loader(directory, background=True)
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
