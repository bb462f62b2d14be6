"""JAMS files through the jams library: write a transcription, read chord annotations back.

A transcription becomes one JAMS file with

* ``file_metadata``: the duration and, as title, the name of the source file;
* a ``chord`` annotation: one observation per segment, the Harte label as value and the
  segment's confidence (null when unknown); the ranked alternatives of the segments are in
  the annotation's ``sandbox.alternatives``, one list per observation in time order
  (``[{"label": "A:min7", "probability": 0.21}, ...]``), since the observation's confidence
  stays the number that JAMS tools read;
* a ``key_mode`` annotation over the whole file (``A:minor``, ``N`` for no key) with the key
  confidence;
* a ``beat`` annotation when there are beats: the value is the position in the bar
  (1 = downbeat), or null when downbeats are unknown;
* ``annotation_metadata`` on each annotation: ``annotation_tools`` ``chordcli <version>``,
  ``data_source`` ``machine estimate`` and the model name in ``annotator``;
* ``sandbox.chordcli``: the source path, model, tempo, metre, tuning (``tuning_cents``) and,
  when the chords are written for a capo, ``capo``, which JAMS namespaces have no place for.

The file is validated against the JAMS schema before it is written.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from pathlib import Path
from typing import Any

from chordcli import __version__
from chordcli.errors import ChordcliError
from chordcli.segments import (
    Alternative,
    ChordSegment,
    Transcription,
    capo_fret,
    grid_problem,
    time_problem,
)
from theory.harte import ChordLabelError, parse_chord
from theory.keys import KEY_NONE, KeyError_, key_to_jams, parse_key

__all__ = ["DATA_SOURCE", "build_jams", "format_jams", "read_jams"]

#: ``annotation_metadata.data_source`` of the annotations chordcli writes.
DATA_SOURCE = "machine estimate"


def build_jams(transcription: Transcription) -> Any:
    """Build the JAMS object of a transcription (see the module docstring).

    Parameters
    ----------
    transcription : Transcription
        The transcription.

    Returns
    -------
    jams.JAMS
        The JAMS object, validated.

    Raises
    ------
    ValueError
        If the result does not validate against the JAMS schema (a bug: labels and keys of a
        Transcription are always valid).
    """
    import jams

    t = transcription
    duration = max(t.duration_s, t.segments[-1].end_s if t.segments else 0.0)
    jam = jams.JAMS()
    jam.file_metadata.duration = float(duration)
    if t.source:
        jam.file_metadata.title = Path(t.source).stem
    jam.sandbox.chordcli = {
        "source": t.source,
        "model": t.model,
        "tempo_bpm": _float(t.tempo_bpm),
        "beats_per_bar": t.beats_per_bar,
        "tuning_cents": _float(t.tuning_cents),
        **({"capo": t.capo} if t.capo else {}),
    }

    def metadata() -> Any:
        return jams.AnnotationMetadata(
            annotation_tools=f"chordcli {__version__}",
            data_source=DATA_SOURCE,
            annotator=jams.Sandbox(model=t.model) if t.model else jams.Sandbox(),
        )

    chords = jams.Annotation(
        namespace="chord", time=0, duration=duration, annotation_metadata=metadata()
    )
    for seg in t.segments:
        chords.append(
            time=float(seg.start_s),
            duration=float(seg.end_s - seg.start_s),
            value=seg.label,
            confidence=_float(seg.confidence),
        )
    if any(seg.alternatives for seg in t.segments):
        chords.sandbox.alternatives = [
            [{"label": a.label, "probability": float(a.probability)} for a in seg.alternatives]
            for seg in t.segments
        ]
    jam.annotations.append(chords)

    key = jams.Annotation(
        namespace="key_mode", time=0, duration=duration, annotation_metadata=metadata()
    )
    key.append(
        time=0, duration=duration, value=key_to_jams(t.key), confidence=_float(t.key_confidence)
    )
    jam.annotations.append(key)

    if t.beats_s:
        beats = jams.Annotation(
            namespace="beat", time=0, duration=duration, annotation_metadata=metadata()
        )
        for time_s, position in zip(t.beats_s, _bar_positions(t), strict=True):
            beats.append(time=float(time_s), duration=0.0, value=position, confidence=None)
        jam.annotations.append(beats)
    try:
        jam.validate(strict=True)
    except jams.SchemaError as exc:  # pragma: no cover - guarded by the tests
        raise ValueError(f"invalid JAMS: {exc}") from exc
    return jam


def format_jams(transcription: Transcription) -> str:
    """Format a transcription as JAMS (JSON) text.

    Parameters
    ----------
    transcription : Transcription
        The transcription.

    Returns
    -------
    str
        Indented JSON ending in a newline.
    """
    return build_jams(transcription).dumps(indent=2) + "\n"


def read_jams(path: str | os.PathLike[str]) -> Transcription:
    """Read a JAMS file into a transcription.

    The first ``chord`` annotation gives the segments (observations must not overlap), the
    first ``key_mode`` annotation the key (its longest observation), the first ``beat``
    annotation the beats (downbeats where the value is 1). Tempo and metre come from the
    ``sandbox.chordcli`` of files chordcli wrote, else from the beats.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.jams`` file.

    Returns
    -------
    Transcription
        The transcription; ``source`` is the recorded source file, else `path`.

    Raises
    ------
    ChordcliError
        If the file cannot be read, is not valid JAMS, or has no chord annotation; the message
        names the file.
    """
    import jams

    path = Path(path)
    if not path.is_file():
        reason = "it is a directory" if path.is_dir() else "file not found"
        raise ChordcliError(f"cannot read '{path}': {reason}")
    try:
        with warnings.catch_warnings():  # strict=False warns with the schema: the error says it
            warnings.simplefilter("ignore")
            jam = jams.load(str(path), validate=True, strict=False)
    except Exception as exc:  # noqa: BLE001 - jams raises anything on malformed files
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ChordcliError(
            f"cannot read '{path}': not a valid JAMS file ({message[:200]})"
        ) from None
    chord_annotations = jam.search(namespace="chord")
    if not chord_annotations:
        raise ChordcliError(
            f"cannot read '{path}': no 'chord' annotation",
            hint="the JAMS file needs an annotation in the chord namespace",
        )
    segments = []
    alternatives = _read_alternatives(chord_annotations[0])
    for i, obs in enumerate(sorted(chord_annotations[0].data, key=lambda o: o.time)):
        try:
            label = parse_chord(str(obs.value)).label
        except ChordLabelError as exc:
            raise ChordcliError(f"cannot read '{path}': {exc}") from None
        for what, value in (("time", obs.time), ("end", obs.time + obs.duration)):
            if (problem := time_problem(float(value))) is not None:
                raise ChordcliError(f"cannot read '{path}': chord {what} {value} {problem}")
        if obs.duration <= 0:
            continue
        if segments and obs.time < segments[-1].end_s - 1e-3:
            raise ChordcliError(
                f"cannot read '{path}': chord at {obs.time:.3f} s overlaps the one before",
                hint="chordcli reads chord annotations without overlaps",
            )
        segments.append(
            ChordSegment(
                float(obs.time),
                float(obs.time + obs.duration),
                label,
                _float(obs.confidence),
                alternatives.get(i, ()),
            )
        )

    key, key_confidence = KEY_NONE, None
    key_annotations = jam.search(namespace="key_mode")
    if key_annotations and len(key_annotations[0].data):
        longest = max(key_annotations[0].data, key=lambda o: o.duration)
        try:
            key = parse_key(str(longest.value))
        except KeyError_:
            key = KEY_NONE
        key_confidence = _float(longest.confidence)

    extra = getattr(jam.sandbox, "chordcli", None)
    extra = dict(extra) if isinstance(extra, dict) else {}
    beats_s, downbeats_s, beats_per_bar = _read_beats(jam, extra)
    tempo_bpm = _float(extra.get("tempo_bpm"))
    if problem := grid_problem(tempo_bpm=tempo_bpm, beats_s=beats_s, beats_per_bar=beats_per_bar):
        raise ChordcliError(f"cannot read '{path}': {problem}")
    try:
        capo = capo_fret(extra.get("capo"))
    except ValueError as exc:
        raise ChordcliError(f"cannot read '{path}': {exc}") from None

    duration = jam.file_metadata.duration
    if duration is not None and (problem := time_problem(float(duration))) is not None:
        raise ChordcliError(f"cannot read '{path}': duration {duration} {problem}")
    if duration is None:
        duration = segments[-1].end_s if segments else 0.0
    return Transcription(
        segments=tuple(segments),
        duration_s=float(duration),
        key=key,
        key_confidence=key_confidence,
        tempo_bpm=tempo_bpm,
        beats_s=beats_s,
        downbeats_s=downbeats_s,
        beats_per_bar=beats_per_bar,
        source=extra.get("source") or str(path),
        model=extra.get("model"),
        tuning_cents=_float(extra.get("tuning_cents")),
        capo=capo,
    )


def _read_beats(
    jam: Any, extra: dict[str, Any]
) -> tuple[tuple[float, ...], tuple[float, ...], int]:
    """Beats, downbeats and beats per bar of a JAMS file (its first ``beat`` annotation)."""
    beats_s: tuple[float, ...] = ()
    downbeats_s: tuple[float, ...] = ()
    beats_per_bar = _float(extra.get("beats_per_bar")) or 4
    beat_annotations = jam.search(namespace="beat")
    if beat_annotations:
        observations = sorted(beat_annotations[0].data, key=lambda o: o.time)
        beats_s = tuple(float(o.time) for o in observations)
        downbeats_s = tuple(float(o.time) for o in observations if o.value == 1)
        positions = [o.value for o in observations if isinstance(o.value, int | float)]
        if positions and "beats_per_bar" not in extra:
            beats_per_bar = max(positions)
    return beats_s, downbeats_s, int(beats_per_bar) if math.isfinite(beats_per_bar) else 0


def _read_alternatives(annotation: Any) -> dict[int, tuple[Alternative, ...]]:
    """Alternatives of the observations by position, from ``sandbox.alternatives``.

    Only lists chordcli wrote (one entry per observation, valid labels) are read; anything
    else gives no alternatives.
    """
    lists = getattr(annotation.sandbox, "alternatives", None)
    if not isinstance(lists, list) or len(lists) != len(annotation.data):
        return {}
    try:
        return {
            i: tuple(
                Alternative(parse_chord(str(a["label"])).label, float(a["probability"]))
                for a in items
            )
            for i, items in enumerate(lists)
        }
    except (KeyError, TypeError, ValueError, ChordLabelError):
        return {}


def _bar_positions(transcription: Transcription) -> list[int | None]:
    """Position in the bar (1 = downbeat) of each beat; None for all if no downbeats are known.

    Beats count up from each downbeat; beats before the first downbeat count back from it.
    """
    beats, downbeats = transcription.beats_s, transcription.downbeats_s
    if not downbeats:
        return [None] * len(beats)
    per_bar = transcription.beats_per_bar
    down = {min(range(len(beats)), key=lambda i: abs(beats[i] - d)) for d in downbeats}
    first = min(down)
    positions: list[int | None] = [(i - first) % per_bar + 1 for i in range(first)]
    count = 0
    for i in range(first, len(beats)):
        count = 1 if i in down else count + 1
        positions.append(count)
    return positions


def _float(value: Any) -> float | None:
    """`value` as a float, None if it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value) if math.isfinite(value) else None
