"""chordcli: chord transcription from audio recordings.

The package holds the application layer: the Python API (:mod:`chordcli.api`, reachable
from here: ``chordcli.transcribe``, ``chordcli.transcribe_batch``, ``chordcli.evaluate``,
...), the command line (:mod:`chordcli.cli`), audio input (:mod:`chordcli.audio`), the
pipeline (:mod:`chordcli.pipeline`), writers and readers (:mod:`chordcli.writers`),
evaluation (:mod:`chordcli.evaluate`) and the project's exception types
(:mod:`chordcli.errors`). See docs/api.md and docs/architecture.md.

Importing the package is cheap: the API functions are imported on first use, and heavy
dependencies (TensorFlow, music21, jams, matplotlib, mir_eval) only inside the functions
that need them.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__: str = version("chordcli")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

#: Public names and the module that defines each, imported when first used.
_LAZY = {
    "transcribe": "chordcli.api",
    "transcribe_batch": "chordcli.api",
    "evaluate_files": "chordcli.api",
    "evaluate_audio": "chordcli.api",
    "export": "chordcli.api",
    "train": "chordcli.api",
    "load_model": "chordcli.api",
    "TranscribeOptions": "chordcli.batch",
    "ChordSegment": "chordcli.segments",
    "Transcription": "chordcli.segments",
    "read_transcription": "chordcli.writers",
    "write_transcription": "chordcli.writers",
    "ChordcliError": "chordcli.errors",
    "ChordcliWarning": "chordcli.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import a public name of :data:`_LAZY` from its module on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chordcli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
