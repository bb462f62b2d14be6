"""LAB chord files: ``start end label`` per line, times in seconds.

The format read here is the one of MIREX, Isophonics, the McGill Billboard
set and :func:`mir_eval.io.load_labeled_intervals`:

* one segment per line, three fields separated by tabs or spaces:
  start time, end time (seconds, decimal or exponent notation) and a Harte
  chord label (``N`` for no chord, ``X`` for unknown);
* blank lines and lines starting with ``#`` are ignored;
* every segment must end after it starts, and segments must be in time order.
  Gaps between segments are allowed (nothing is annotated there). A segment
  may start up to :data:`OVERLAP_TOLERANCE_S` before the previous one ends:
  annotation tools write times that differ by float rounding (the Billboard
  set has overlaps of ~1e-12 s), and 1 ms is far below the precision of any
  chord boundary. Times are kept as written; nothing is clipped.

Files are written tab-separated with six decimals (microseconds), UTF-8,
newline line endings and no header, which every LAB reader accepts.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

from chordcli.atomic import write_text_atomic
from chordcli.errors import LabError
from chordcli.segments import ChordSegment, time_problem
from theory import ChordLabelError, parse_chord

__all__ = [
    "OVERLAP_TOLERANCE_S",
    "ChordSegment",
    "format_lab",
    "parse_lab",
    "read_lab",
    "write_lab",
]

#: How far, in seconds, a segment may start before the previous segment ends.
OVERLAP_TOLERANCE_S: float = 1e-3

_TIME_FORMAT = "{:.6f}"


def read_lab(path: str | os.PathLike[str]) -> list[ChordSegment]:
    """Read a LAB chord file.

    Parameters
    ----------
    path : str or os.PathLike
        LAB file (UTF-8, a byte-order mark is accepted).

    Returns
    -------
    list of ChordSegment
        Segments in file order, with ``confidence`` None. Empty if the file
        holds no segments.

    Raises
    ------
    LabError
        If the file cannot be read or is malformed; the message names the
        file and, for content errors, the line number.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LabError(f"cannot read '{path}': file not found") from None
    except IsADirectoryError:
        raise LabError(f"cannot read '{path}': it is a directory") from None
    except OSError as exc:
        raise LabError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabError(
            f"cannot read '{path}': not a text file (invalid UTF-8 at byte {exc.start})",
            hint="a LAB file has lines 'start end label'",
        ) from None
    return parse_lab(text, source=str(path))


def parse_lab(text: str, *, source: str = "<string>") -> list[ChordSegment]:
    """Parse the content of a LAB chord file.

    Parameters
    ----------
    text : str
        File content.
    source : str, optional
        Name used for the file in error messages.

    Returns
    -------
    list of ChordSegment
        Segments in order of appearance, with ``confidence`` None.

    Raises
    ------
    LabError
        If a line is malformed, a time is not a finite number in 0..24 h,
        a segment does not end after it starts, segments overlap or are out
        of order, or a label is not valid Harte syntax. The message reads
        ``'<source>' line <n>: <problem>``.
    """
    segments: list[ChordSegment] = []
    prev_end = -math.inf
    prev_end_text = ""
    prev_line = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        where = f"'{source}' line {line_no}"
        if len(fields) != 3:
            raise LabError(
                f"{where}: expected 3 fields (start end label), found {len(fields)}",
                hint="LAB lines read 'start end label', e.g. '0.0 2.5 C:maj'",
            )
        start_text, end_text, label = fields
        start_s = _parse_time(start_text, what="start", where=where)
        end_s = _parse_time(end_text, what="end", where=where)
        if not start_s < end_s:
            raise LabError(f"{where}: start {start_text} is not before end {end_text}")
        if start_s < prev_end - OVERLAP_TOLERANCE_S:
            raise LabError(
                f"{where}: start {start_text} is before the end {prev_end_text} of the "
                f"previous segment (line {prev_line})",
                hint="segments must be in time order and must not overlap",
            )
        try:
            parse_chord(label)
        except ChordLabelError as exc:
            raise LabError(f"{where}: {exc}") from None
        segments.append(ChordSegment(start_s=start_s, end_s=end_s, label=label))
        prev_end, prev_end_text, prev_line = end_s, end_text, line_no
    return segments


def format_lab(segments: Iterable[ChordSegment]) -> str:
    """Format chord segments as LAB text.

    Parameters
    ----------
    segments : iterable of ChordSegment
        Segments in time order. Confidences are not written (LAB has no
        column for them).

    Returns
    -------
    str
        One ``start<TAB>end<TAB>label`` line per segment, each ending in a
        newline, times with six decimals. Empty for no segments.

    Raises
    ------
    ValueError
        If a segment would make an invalid LAB file: a time that is not a
        finite non-negative number, an end not after its start once rounded
        to microseconds, segments out of order or overlapping (beyond
        :data:`OVERLAP_TOLERANCE_S`), or a label that is not Harte syntax.
    """
    lines = []
    prev_end = -math.inf
    for index, seg in enumerate(segments):
        start_text = _format_time(seg.start_s, what="start", index=index)
        end_text = _format_time(seg.end_s, what="end", index=index)
        if not float(start_text) < float(end_text):
            raise ValueError(
                f"segment {index}: start {seg.start_s!r} is not before end {seg.end_s!r} "
                "at microsecond precision"
            )
        if seg.start_s < prev_end - OVERLAP_TOLERANCE_S:
            raise ValueError(
                f"segment {index}: start {seg.start_s!r} is before the end {prev_end!r} "
                "of the previous segment"
            )
        try:
            parse_chord(seg.label)
        except ChordLabelError as exc:
            raise ValueError(f"segment {index}: {exc}") from None
        if seg.label != seg.label.strip() or any(ch.isspace() for ch in seg.label):
            raise ValueError(f"segment {index}: label {seg.label!r} contains white space")
        lines.append(f"{start_text}\t{end_text}\t{seg.label}\n")
        prev_end = seg.end_s
    return "".join(lines)


def write_lab(
    segments: Iterable[ChordSegment],
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write chord segments to a LAB file atomically.

    Parameters
    ----------
    segments : iterable of ChordSegment
        Segments in time order (see :func:`format_lab`).
    path : str or os.PathLike
        Destination; its directory must exist.
    overwrite : bool, optional
        Whether an existing file at `path` may be replaced.

    Returns
    -------
    Path
        The destination path.

    Raises
    ------
    OutputExistsError
        If `path` exists and `overwrite` is false.
    OutputError
        If the file cannot be written.
    ValueError
        If the segments are invalid (see :func:`format_lab`).
    """
    return write_text_atomic(path, format_lab(segments), overwrite=overwrite)


def _parse_time(text: str, *, what: str, where: str) -> float:
    """Parse one time field of a LAB line, in seconds."""
    try:
        value = float(text)
    except ValueError:
        raise LabError(f"{where}: {what} time {text[:40]!r} is not a number") from None
    problem = time_problem(value)
    if problem is not None:
        shown = repr(text[:40]) if not math.isfinite(value) else text[:40]
        raise LabError(f"{where}: {what} time {shown} {problem}")
    return value


def _format_time(value: float, *, what: str, index: int) -> str:
    """Format a time in seconds for a LAB file, rejecting invalid values."""
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"segment {index}: {what} time {value!r} is not a finite time >= 0")
    return _TIME_FORMAT.format(value + 0.0)  # + 0.0 turns -0.0 into 0.0
