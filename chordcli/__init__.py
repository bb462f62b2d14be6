"""chordcli: chord transcription from audio recordings.

The package holds the application layer: the command line interface
(:mod:`chordcli.cli`), audio input (:mod:`chordcli.audio`), chord segment
files (:mod:`chordcli.lab`), atomic output writing (:mod:`chordcli.atomic`)
and the project's exception types (:mod:`chordcli.errors`).

Importing the package is cheap: heavy dependencies (TensorFlow, music21,
jams, matplotlib, mir_eval) are imported only inside the functions that
need them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("chordcli")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
