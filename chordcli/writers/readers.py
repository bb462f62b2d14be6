"""Read transcriptions back: LAB, chordcli JSON and JAMS files.

A LAB file holds chords only: the key is estimated from them
(:func:`theory.keys.key_from_chords`, pitch classes weighted by duration), and there are no
beats, so charts lay them on a constant-tempo grid (:mod:`chordcli.bars`).
"""

from __future__ import annotations

import os
from pathlib import Path

from chordcli.errors import ChordcliError
from chordcli.formats import OutputFormat, format_from_suffix
from chordcli.jsonio import read_json
from chordcli.lab import read_lab
from chordcli.segments import Transcription
from theory.keys import key_from_chords

__all__ = ["READ_FORMATS", "read_transcription", "transcription_from_lab"]

#: Formats that :func:`read_transcription` reads.
READ_FORMATS: tuple[OutputFormat, ...] = (OutputFormat.LAB, OutputFormat.JSON, OutputFormat.JAMS)


def read_transcription(
    path: str | os.PathLike[str], *, format: OutputFormat | str | None = None
) -> Transcription:
    """Read a transcription from a LAB, chordcli JSON or JAMS file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    format : OutputFormat or str, optional
        ``lab``, ``json`` or ``jams``; default: from the suffix of `path`. Files with another
        suffix (``.txt``) are read as JSON or JAMS if they start with ``{``, else as LAB.

    Returns
    -------
    Transcription
        The transcription. From a LAB file: segments as written, duration the end of the last
        segment, key estimated from the chords, no beats, ``source`` the LAB file.

    Raises
    ------
    ChordcliError
        If the file cannot be read or is malformed (:class:`~chordcli.errors.LabError` for LAB
        files); the message names the file.
    ValueError
        If `format` is not a format that can be read.
    """
    path = Path(path)
    fmt = _read_format(path, format)
    if fmt is OutputFormat.LAB:
        return transcription_from_lab(path)
    if fmt is OutputFormat.JSON:
        return read_json(path)
    from chordcli.writers.jamsfile import read_jams

    return read_jams(path)


def transcription_from_lab(path: str | os.PathLike[str]) -> Transcription:
    """Read a LAB file into a transcription with a key estimated from its chords.

    Parameters
    ----------
    path : str or os.PathLike
        The LAB file.

    Returns
    -------
    Transcription
        See :func:`read_transcription`.

    Raises
    ------
    LabError
        If the file cannot be read or is malformed.
    """
    segments = tuple(read_lab(path))
    key = key_from_chords(
        [s.label for s in segments], durations_s=[s.end_s - s.start_s for s in segments]
    )
    return Transcription(
        segments=segments,
        duration_s=segments[-1].end_s if segments else 0.0,
        key=key,
        source=str(path),
    )


def _read_format(path: Path, format: OutputFormat | str | None) -> OutputFormat:
    """Return the format to read `path` as."""
    if format is not None:
        fmt = OutputFormat(format)
        if fmt not in READ_FORMATS:
            names = ", ".join(f.value for f in READ_FORMATS)
            raise ValueError(f"cannot read {fmt.value} files; readable formats: {names}")
        return fmt
    fmt = format_from_suffix(path)
    if fmt in READ_FORMATS:
        return fmt
    if fmt is not None and path.suffix.lower() != ".txt":
        raise ChordcliError(
            f"cannot read '{path}': {fmt.value} files cannot be read back",
            hint="read a LAB, JSON or JAMS transcription",
        )
    try:
        with open(path, "rb") as f:
            head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return OutputFormat.LAB  # read_lab reports the problem
    if head.startswith(b"{"):
        return OutputFormat.JAMS if b'"annotations"' in head else OutputFormat.JSON
    return OutputFormat.LAB
