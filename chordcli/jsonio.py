"""The JSON form of a transcription: chords with confidences, key, tempo, beats, provenance.

Layout (UTF-8, indented; times in seconds)::

    {
      "format": "chordcli-transcription",
      "version": 1,
      "source": "song.wav",
      "model": "template",
      "tuning_cents": -12.3,       # tuning the features were centred on (null if unknown)
      "duration_s": 212.5,
      "key": "A:minor",            # JAMS key_mode value, "N" for no key
      "key_name": "A minor",
      "key_confidence": 0.81,
      "tempo_bpm": 96.1,
      "beats_per_bar": 4,
      "capo": 2,                   # only when the chords are written for a capo (shapes played)
      "beats_s": [0.52, 1.14, ...],
      "downbeats_s": [0.52, 2.98, ...],
      "segments": [
        {"start_s": 0.0, "end_s": 2.41, "label": "A:min", "symbol": "Am", "confidence": 0.62,
         "alternatives": [{"label": "A:min", "probability": 0.62},
                          {"label": "A:min7", "probability": 0.21}, ...]},
        ...
      ]
    }

``label`` is the Harte label; ``symbol`` is the key-aware lead-sheet spelling
(:func:`theory.keys.chord_symbol`), written for readers and ignored when reading back.
``alternatives`` are the most probable chords of the segment by the model
(:mod:`chordcli.alternatives`), most probable first, probabilities rounded down to four
decimals so that they still sum to at most 1; an empty list for annotations.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from chordcli.atomic import write_text_atomic
from chordcli.errors import ChordcliError
from chordcli.segments import (
    Alternative,
    ChordSegment,
    Transcription,
    capo_fret,
    grid_problem,
    time_problem,
)
from theory import ChordLabelError, chord_symbol, key_name, key_to_jams, parse_chord, parse_key
from theory.keys import KeyError_

__all__ = ["JSON_FORMAT", "JSON_VERSION", "format_json", "parse_json", "read_json", "write_json"]

#: Value of the ``format`` field.
JSON_FORMAT = "chordcli-transcription"
#: Version of the layout.
JSON_VERSION = 1


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def format_json(transcription: Transcription) -> str:
    """Format a transcription as JSON text (see the module docstring for the layout).

    Parameters
    ----------
    transcription : Transcription
        The transcription.

    Returns
    -------
    str
        JSON text ending in a newline.
    """
    t = transcription
    data: dict[str, Any] = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "source": t.source,
        "model": t.model,
        "tuning_cents": _round(t.tuning_cents, 1),
        "duration_s": _round(t.duration_s),
        "key": key_to_jams(t.key),
        "key_name": key_name(t.key),
        "key_confidence": _round(t.key_confidence, 4),
        "tempo_bpm": _round(t.tempo_bpm, 3),
        "beats_per_bar": t.beats_per_bar,
        **({"capo": t.capo} if t.capo else {}),
        "beats_s": [_round(b, 4) for b in t.beats_s],
        "downbeats_s": [_round(b, 4) for b in t.downbeats_s],
        "segments": [
            {
                "start_s": _round(s.start_s),
                "end_s": _round(s.end_s),
                "label": s.label,
                "symbol": chord_symbol(s.label, key=t.key),
                "confidence": _round(s.confidence, 4),
                "alternatives": [
                    {"label": a.label, "probability": _floor4(a.probability)}
                    for a in s.alternatives
                ],
            }
            for s in t.segments
        ],
    }
    return json.dumps(data, indent=1) + "\n"


def write_json(
    transcription: Transcription, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a transcription as JSON, atomically.

    Parameters
    ----------
    transcription : Transcription
        The transcription.
    path : str or os.PathLike
        Destination; its directory must exist.
    overwrite : bool, optional
        Whether an existing file may be replaced.

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    chordcli.errors.OutputExistsError
        If `path` exists and `overwrite` is false.
    chordcli.errors.OutputError
        If the file cannot be written.
    """
    return write_text_atomic(path, format_json(transcription), overwrite=overwrite)


def parse_json(text: str, *, source: str = "<string>") -> Transcription:
    """Parse the JSON text of :func:`format_json` back into a transcription.

    Parameters
    ----------
    text : str
        JSON text.
    source : str, optional
        Name of the file, for messages.

    Returns
    -------
    Transcription
        The transcription (``symbol`` fields are ignored).

    Raises
    ------
    ChordcliError
        If the text is not JSON of this layout, or a label, key or time is invalid; the message
        names `source`.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChordcliError(
            f"cannot read '{source}': not JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
        raise ChordcliError(
            f"cannot read '{source}': not a chordcli transcription",
            hint=f'the JSON needs "format": "{JSON_FORMAT}"',
        )
    try:
        segments = [_parse_segment(i, item) for i, item in enumerate(data.get("segments", []))]
        duration = data.get("duration_s")
        if duration is not None:
            _check_time(float(duration), "duration_s")
        key = parse_key(str(data.get("key", "N")))
        transcription = Transcription(
            segments=tuple(segments),
            duration_s=float(duration)
            if duration is not None
            else (segments[-1].end_s if segments else 0.0),
            key=key,
            key_confidence=_optional_float(data.get("key_confidence")),
            tempo_bpm=_optional_float(data.get("tempo_bpm")),
            beats_s=tuple(_check_time(float(b), "beat") for b in data.get("beats_s", [])),
            downbeats_s=tuple(_check_time(float(b), "beat") for b in data.get("downbeats_s", [])),
            beats_per_bar=int(data.get("beats_per_bar", 4)),
            source=data.get("source"),
            model=data.get("model"),
            tuning_cents=_optional_float(data.get("tuning_cents")),
            capo=capo_fret(data.get("capo")),
        )
        t = transcription
        if problem := grid_problem(
            tempo_bpm=t.tempo_bpm, beats_s=t.beats_s, beats_per_bar=t.beats_per_bar
        ):
            raise ValueError(problem)
        return transcription
    except (KeyError, TypeError, ValueError, ChordLabelError, KeyError_) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ChordcliError(f"cannot read '{source}': {what}") from None


def _parse_segment(i: int, item: Any) -> ChordSegment:
    """Read segment number `i` of a JSON transcription; ValueError, KeyError... if invalid."""
    start, end = float(item["start_s"]), float(item["end_s"])
    _check_time(start, f"segment {i}: start time")
    _check_time(end, f"segment {i}: end time")
    if not end > start:
        raise ValueError(f"segment {i}: invalid times {start}..{end}")
    label = parse_chord(str(item["label"])).label
    confidence = item.get("confidence")
    alternatives = tuple(
        Alternative(parse_chord(str(a["label"])).label, float(a["probability"]))
        for a in item.get("alternatives") or ()
    )
    confidence = None if confidence is None else float(confidence)
    return ChordSegment(start, end, label, confidence, alternatives)


def read_json(path: str | os.PathLike[str]) -> Transcription:
    """Read a transcription written by :func:`write_json`.

    Raises
    ------
    ChordcliError
        If the file is missing, unreadable or not a valid transcription.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else str(exc)
        raise ChordcliError(f"cannot read '{path}': {reason}") from None
    return parse_json(text, source=str(path))


def _floor4(value: float) -> float:
    """`value` rounded down to four decimals (a sum of such values never exceeds the sum)."""
    return math.floor(float(value) * 1e4 + 1e-9) / 1e4


def _check_time(value: float, what: str) -> float:
    """Return ``value`` if it is a usable time, else raise ValueError naming ``what``."""
    problem = time_problem(value)
    if problem is not None:
        raise ValueError(f"{what} {value} {problem}")
    return value


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
