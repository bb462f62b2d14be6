"""Standard MIDI files of the chords, through mido.

A type 1 file with two tracks:

* the tempo track: track name, time signature (``beats_per_bar``/4), key signature and one
  tempo event per beat of the bar grid of :mod:`chordcli.bars`, so that MIDI beats fall on the
  recording's beats (one tempo for a constant grid);
* the chord track (piano, channel 1): for each segment other than ``N`` and ``X``, one note-on
  per chord tone at the segment's start and the note-offs at its end. Chord tones are voiced in
  close position upwards from the root in the octave of C3 (MIDI 48..59, root + interval), and
  the bass note (the root, or the inversion's bass) an octave lower (MIDI 36..47).

Time 0 of the file is 0 s of the recording, so the file lines up with the audio in a sequencer;
its bar lines line up with the grid's bars when the first bar starts at 0 s. Times are
converted at :data:`TICKS_PER_BEAT` ticks per beat, about 1 ms at 120 bpm.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from chordcli.bars import transcription_grid
from chordcli.segments import Transcription
from theory.harte import parse_chord
from theory.keys import KEY_NONE, key_is_minor, key_tonic_name

__all__ = [
    "BASS_OCTAVE_NOTE",
    "CHORD_OCTAVE_NOTE",
    "TICKS_PER_BEAT",
    "VELOCITY",
    "format_midi",
    "voicing",
]

#: MIDI resolution.
TICKS_PER_BEAT: int = 480
#: MIDI note of C in the octave of the chord's root (C3).
CHORD_OCTAVE_NOTE: int = 48
#: MIDI note of C in the octave of the bass (C2).
BASS_OCTAVE_NOTE: int = 36
#: Note-on velocity.
VELOCITY: int = 80


def format_midi(transcription: Transcription) -> bytes:
    """Render the chords of a transcription as a standard MIDI file.

    Parameters
    ----------
    transcription : Transcription
        The chords; the tempo map comes from its beats or tempo.

    Returns
    -------
    bytes
        The MIDI file (type 1, :data:`TICKS_PER_BEAT` ticks per beat).
    """
    import mido

    grid = transcription_grid(transcription)
    beats = np.asarray(grid.beats_s)
    origin = float(grid.beat_position(0.0))  # grid position of 0 s, in beats

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    title = "chords"
    if transcription.source:
        title = Path(transcription.source).stem
    meta.append(mido.MetaMessage("track_name", name=title, time=0))
    meta.append(
        mido.MetaMessage("time_signature", numerator=grid.beats_per_bar, denominator=4, time=0)
    )
    if transcription.key != KEY_NONE:
        minor = "m" if key_is_minor(transcription.key) else ""
        meta.append(
            mido.MetaMessage("key_signature", key=key_tonic_name(transcription.key) + minor, time=0)
        )
    # One tempo per grid beat (beat i lasts beats[i + 1] - beats[i] seconds), from the beat
    # that holds 0 s on.
    previous = None
    events: list[tuple[int, object]] = []
    first = int(np.floor(origin))
    for i in range(first, grid.n_beats):
        tempo = max(1, min(0xFFFFFF, round((beats[i + 1] - beats[i]) * 1e6)))
        if tempo != previous:
            tick = max(0, round((i - origin) * TICKS_PER_BEAT))
            events.append((tick, mido.MetaMessage("set_tempo", tempo=tempo)))
            previous = tempo
    _append_absolute(meta, events)
    midi.tracks.append(meta)

    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="Chords", time=0))
    track.append(mido.Message("program_change", program=0, channel=0, time=0))
    sounding = [seg for seg in transcription.segments if parse_chord(seg.label).root_pc is not None]
    times = np.array([[seg.start_s, seg.end_s] for seg in sounding], dtype=float).reshape(-1, 2)
    ticks = np.maximum(0, np.rint((grid.beat_position(times) - origin) * TICKS_PER_BEAT))
    notes: list[tuple[int, int, object]] = []  # (tick, 0 for offs before 1 for ons, message)
    for seg, (start, end) in zip(sounding, ticks.astype(int).tolist(), strict=True):
        if end <= start:
            continue
        for pitch in voicing(seg.label):
            notes.append((start, 1, mido.Message("note_on", note=pitch, velocity=VELOCITY)))
            notes.append((end, 0, mido.Message("note_off", note=pitch, velocity=0)))
    notes.sort(key=lambda item: (item[0], item[1], item[2].note))
    _append_absolute(track, [(tick, message) for tick, _, message in notes])
    midi.tracks.append(track)

    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def voicing(label: str) -> list[int]:
    """Return the MIDI notes of a chord: the bass, then the chord tones upwards from the root.

    Parameters
    ----------
    label : str
        Harte label.

    Returns
    -------
    list of int
        MIDI note numbers, lowest first; empty for ``N`` and ``X``.

    Examples
    --------
    >>> voicing("A:min/b3")
    [36, 57, 60, 64]
    """
    chord = parse_chord(label)
    if chord.root_pc is None:
        return []
    root = CHORD_OCTAVE_NOTE + chord.root_pc
    upper = sorted(root + interval for interval in chord.tones)
    return [BASS_OCTAVE_NOTE + chord.bass_pc, *upper]


def _append_absolute(track: object, events: list[tuple[int, object]]) -> None:
    """Append (absolute tick, message) pairs to a track as delta times."""
    now = 0
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
