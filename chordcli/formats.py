"""Output formats of chordcli and the file suffixes that select them.

This module is the single place that lists the formats; the command line
takes its choices from here and the writers register under these names.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

__all__ = ["DEFAULT_FORMAT", "SUFFIXES", "OutputFormat", "format_from_suffix"]


class OutputFormat(StrEnum):
    """A file format a transcription can be written in."""

    LAB = "lab"
    """MIREX LAB: ``start end label`` per line (:mod:`chordcli.lab`)."""
    JSON = "json"
    """The full transcription (chords, key, beats, provenance) as JSON."""
    JAMS = "jams"
    """JAMS with ``chord``, ``key_mode`` and ``beat`` annotations."""
    MUSICXML = "musicxml"
    """MusicXML lead sheet with chord symbols over bars."""
    LEADSHEET = "leadsheet"
    """Plain-text lead sheet (Markdown), one line of bars per system."""
    CHORDPRO = "chordpro"
    """ChordPro chord chart."""
    MIDI = "midi"
    """Standard MIDI file voicing the chords (binary)."""
    HTML = "html"
    """Self-contained HTML page: audio player and chord chart (binary: it embeds the audio)."""

    @property
    def suffix(self) -> str:
        """Default file suffix, with the dot (``".lab"``)."""
        return SUFFIXES[self][0]

    @property
    def has_bars(self) -> bool:
        """Whether the format lays the chords in bars (on the beats, else on a tempo)."""
        return self in _BAR_FORMATS

    @property
    def is_binary(self) -> bool:
        """Whether the format is binary (cannot go to a terminal)."""
        return self in (OutputFormat.MIDI, OutputFormat.HTML)


#: File suffixes of each format; the first is used when naming outputs.
SUFFIXES: dict[OutputFormat, tuple[str, ...]] = {
    OutputFormat.LAB: (".lab",),
    OutputFormat.JSON: (".json",),
    OutputFormat.JAMS: (".jams",),
    OutputFormat.MUSICXML: (".musicxml", ".xml", ".mxl"),
    OutputFormat.LEADSHEET: (".md", ".txt"),
    OutputFormat.CHORDPRO: (".cho", ".chordpro", ".chopro", ".crd"),
    OutputFormat.MIDI: (".mid", ".midi"),
    OutputFormat.HTML: (".html", ".htm"),
}

_BAR_FORMATS = frozenset({"musicxml", "leadsheet", "chordpro", "midi", "html"})

#: Format used when neither an option nor the output's suffix selects one.
DEFAULT_FORMAT: OutputFormat = OutputFormat.LAB


def format_from_suffix(path: str | os.PathLike[str]) -> OutputFormat | None:
    """Return the format selected by the suffix of `path`.

    Parameters
    ----------
    path : str or os.PathLike
        Output file name.

    Returns
    -------
    OutputFormat or None
        The format whose suffixes include that of `path` (case-insensitive),
        or None if the suffix selects none.

    Examples
    --------
    >>> format_from_suffix("song.musicxml")
    <OutputFormat.MUSICXML: 'musicxml'>
    >>> format_from_suffix("song.wav") is None
    True
    """
    suffix = Path(path).suffix.lower()
    for fmt, suffixes in SUFFIXES.items():
        if suffix in suffixes:
            return fmt
    return None
