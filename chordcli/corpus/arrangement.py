"""Arrangements: notes per instrument part with their chord labels, beats and key.

An :class:`Arrangement` is everything a render needs: General MIDI parts (notes in seconds),
the chord segments that label them, the beat grid and the key. It is written as a Standard
MIDI File with :func:`arrangement_to_midi` at a fixed tempo, so that a time in seconds maps to
a whole number of ticks (:data:`TICKS_PER_SECOND`); every time in an arrangement is already on
that grid (:func:`quantize_s`), so the LAB boundaries equal the MIDI note times exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chordcli.segments import ChordSegment

__all__ = [
    "DRUM_CHANNEL",
    "TICKS_PER_BEAT",
    "TICKS_PER_SECOND",
    "TEMPO_US",
    "Arrangement",
    "Beat",
    "Control",
    "Note",
    "Part",
    "arrangement_to_midi",
    "quantize_s",
    "read_midi_notes",
    "write_midi",
]

#: Ticks per quarter note of the written MIDI files.
TICKS_PER_BEAT = 960
#: Tempo of the written MIDI files in microseconds per quarter note (120 bpm).
TEMPO_US = 500_000
#: MIDI ticks per second of the written files (1920: a grid of about 0.52 ms).
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 // TEMPO_US
#: The General MIDI percussion channel (0-based).
DRUM_CHANNEL = 9


def quantize_s(time_s: float) -> float:
    """Round a time in seconds to the MIDI tick grid.

    Parameters
    ----------
    time_s : float
        Time in seconds.

    Returns
    -------
    float
        ``round(time_s * TICKS_PER_SECOND) / TICKS_PER_SECOND``.
    """
    return round(time_s * TICKS_PER_SECOND) / TICKS_PER_SECOND


@dataclass(frozen=True, slots=True)
class Note:
    """One note.

    Attributes
    ----------
    start_s, end_s : float
        Note-on and note-off times in seconds.
    pitch : int
        MIDI note number 0..127 (a GM drum sound on the percussion channel).
    velocity : int
        MIDI velocity 1..127.
    """

    start_s: float
    end_s: float
    pitch: int
    velocity: int


@dataclass(frozen=True, slots=True)
class Control:
    """A controller or pitch-bend event of a part.

    Attributes
    ----------
    time_s : float
        Time in seconds.
    control : int
        MIDI controller number 0..127, or -1 for a pitch bend.
    value : int
        Controller value 0..127, or pitch bend -8192..8191 (0 = no bend).
    """

    time_s: float
    control: int
    value: int


@dataclass(frozen=True)
class Part:
    """One instrument of an arrangement.

    Attributes
    ----------
    name : str
        Role of the part (``'melody'``, ``'piano'``, ``'bass'``, ``'drums'``, ...).
    program : int
        General MIDI program 0..127 (ignored for drums).
    notes : tuple of Note
        The notes in any order.
    is_drum : bool
        Whether the part plays on the percussion channel.
    pan : int
        MIDI pan 0 (left) .. 127 (right), 64 centre.
    volume : int
        MIDI channel volume 0..127.
    reverb, chorus : int
        MIDI reverb and chorus send levels 0..127.
    controls : tuple of Control
        Controller and pitch-bend events (vibrato, slides, portamento), in any order.
    tuning_cents : float
        Channel fine tuning in cents (-100..100, MIDI RPN 1), for songs played off A = 440 Hz.
    bend_range : int
        Pitch-bend range in semitones (MIDI RPN 0); 0 leaves the synthesiser's default (2).
    """

    name: str
    program: int
    notes: tuple[Note, ...]
    is_drum: bool = False
    pan: int = 64
    volume: int = 100
    reverb: int = 40
    chorus: int = 0
    controls: tuple[Control, ...] = ()
    tuning_cents: float = 0.0
    bend_range: int = 0


@dataclass(frozen=True, slots=True)
class Beat:
    """One beat of the metrical grid.

    Attributes
    ----------
    time_s : float
        Time of the beat in seconds.
    beat_in_bar : int
        Position in the bar, 1 for the downbeat.
    """

    time_s: float
    beat_in_bar: int


@dataclass(frozen=True)
class Arrangement:
    """A piece ready to render, with its exact annotations.

    Attributes
    ----------
    parts : tuple of Part
        Instrument parts (at most 15 melodic parts plus drums).
    chords : tuple of ChordSegment
        Contiguous chord segments from 0 to `duration_s` (``N`` where nothing is labelled).
    beats : tuple of Beat
        The beat grid.
    keys : tuple of (float, float, int)
        Key segments ``(start_s, end_s, key class of theory.keys)`` covering the piece.
    duration_s : float
        Length of the audio to render, in seconds.
    tempo_bpm : float or None
        Tempo of the beat grid, if it has one.
    info : dict
        Provenance written to the manifest (title, artist, style choices).
    """

    parts: tuple[Part, ...]
    chords: tuple[ChordSegment, ...]
    beats: tuple[Beat, ...]
    keys: tuple[tuple[float, float, int], ...]
    duration_s: float
    tempo_bpm: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def key(self) -> int:
        """The key that lasts longest (24 if there is none)."""
        if not self.keys:
            return 24
        return max(self.keys, key=lambda k: k[1] - k[0])[2]

    def programs(self) -> dict[str, int]:
        """Return the GM program of each part by name (drums as -1)."""
        return {p.name: (-1 if p.is_drum else p.program) for p in self.parts}


def arrangement_to_midi(arrangement: Arrangement):
    """Build a type-1 Standard MIDI File of an arrangement.

    Parameters
    ----------
    arrangement : Arrangement
        The arrangement; note times are rounded to the tick grid.

    Returns
    -------
    mido.MidiFile
        One track for the tempo, one per part. Each part gets its own channel (drums on
        channel 10) with program, volume, pan, reverb and chorus set at time 0. The file ends
        at `arrangement.duration_s`.
    """
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    end_tick = round(arrangement.duration_s * TICKS_PER_SECOND)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0))
    meta.append(mido.MetaMessage("end_of_track", time=end_tick))
    midi.tracks.append(meta)
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    next_channel = 0
    for part in arrangement.parts:
        if part.is_drum:
            channel = DRUM_CHANNEL
        else:
            if next_channel >= len(melodic):
                raise ValueError("an arrangement has at most 15 melodic parts")
            channel = melodic[next_channel]
            next_channel += 1
        midi.tracks.append(_part_track(part, channel, end_tick))
    return midi


def _part_track(part: Part, channel: int, end_tick: int):
    """Return the MIDI track of one part on `channel`."""
    import mido

    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=part.name, time=0))
    head = [
        mido.Message("control_change", channel=channel, control=7, value=part.volume),
        mido.Message("control_change", channel=channel, control=10, value=part.pan),
        mido.Message("control_change", channel=channel, control=91, value=part.reverb),
        mido.Message("control_change", channel=channel, control=93, value=part.chorus),
    ]
    if not part.is_drum or part.program:  # a drum part's program is its GM drum kit
        head.insert(0, mido.Message("program_change", channel=channel, program=part.program))
    head.extend(_rpn_messages(part, channel))
    track.extend(head)
    # (tick, order, pitch, kind, velocity or control index): controls, then note-offs, then
    # note-ons at the same tick
    events: list[tuple[int, int, int, str, int]] = []
    for note in part.notes:
        on = round(note.start_s * TICKS_PER_SECOND)
        off = max(on + 1, round(note.end_s * TICKS_PER_SECOND))
        events.append((on, 1, note.pitch, "note_on", note.velocity))
        events.append((off, 0, note.pitch, "note_off", 0))
    for i, control in enumerate(part.controls):
        events.append((round(control.time_s * TICKS_PER_SECOND), -1, -1, "control", i))
    events.sort()
    now = 0
    for tick, _, pitch, kind, velocity in events:
        if kind == "control":
            control = part.controls[velocity]
            if control.control < 0:
                message = mido.Message("pitchwheel", channel=channel, pitch=control.value)
            else:
                message = mido.Message(
                    "control_change", channel=channel, control=control.control, value=control.value
                )
            track.append(message.copy(time=tick - now))
        else:
            track.append(
                mido.Message(kind, channel=channel, note=pitch, velocity=velocity, time=tick - now)
            )
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    return track


def _rpn_messages(part: Part, channel: int) -> list:
    """Return the messages setting a part's pitch-bend range (RPN 0) and fine tuning (RPN 1)."""
    import mido

    settings = []
    if part.bend_range:
        settings.append((0, part.bend_range, 0))
    if part.tuning_cents and not part.is_drum:
        value = int(round(8192 + part.tuning_cents / 100 * 8192))
        value = min(max(value, 0), 16383)
        settings.append((1, value >> 7, value & 127))
    messages = []
    for rpn, msb, lsb in settings:
        for control, value in ((101, 0), (100, rpn), (6, msb), (38, lsb)):
            messages.append(
                mido.Message("control_change", channel=channel, control=control, value=value)
            )
    if settings:  # RPN null: later data entry changes nothing
        for control in (101, 100):
            messages.append(
                mido.Message("control_change", channel=channel, control=control, value=127)
            )
    return messages


def write_midi(arrangement: Arrangement, path: str | Path) -> Path:
    """Write an arrangement as a Standard MIDI File (see :func:`arrangement_to_midi`).

    Parameters
    ----------
    arrangement : Arrangement
        What to write.
    path : str or Path
        Destination ``.mid`` file (overwritten).

    Returns
    -------
    Path
        `path`.
    """
    path = Path(path)
    arrangement_to_midi(arrangement).save(str(path))
    return path


def read_midi_notes(path: str | Path) -> dict[str, list[Note]]:
    """Read the notes of a MIDI file, in seconds, grouped by track name.

    Parameters
    ----------
    path : str or Path
        A Standard MIDI File; its tempo map is respected.

    Returns
    -------
    dict of str to list of Note
        Notes of each named track (``'track<i>'`` for unnamed ones), sorted by start. A
        note-on without its note-off ends at the end of the file.
    """
    import mido

    midi = mido.MidiFile(str(path))
    # absolute seconds per message, per track, through the merged tempo map
    tempo_changes: list[tuple[int, int]] = []
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempo_changes.append((tick, msg.tempo))
    tempo_changes.sort()

    def seconds(tick: int) -> float:
        time_s, last_tick, tempo = 0.0, 0, 500_000
        for change_tick, change_tempo in tempo_changes:
            if change_tick >= tick:
                break
            time_s += (change_tick - last_tick) * tempo / (1e6 * midi.ticks_per_beat)
            last_tick, tempo = change_tick, change_tempo
        return time_s + (tick - last_tick) * tempo / (1e6 * midi.ticks_per_beat)

    result: dict[str, list[Note]] = {}
    for index, track in enumerate(midi.tracks):
        name = f"track{index}"
        tick = 0
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
        notes: list[Note] = []
        for msg in track:
            tick += msg.time
            if msg.type == "track_name" and msg.name:
                name = msg.name
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                stack = open_notes.get((msg.channel, msg.note))
                if stack:
                    on_tick, velocity = stack.pop(0)
                    notes.append(Note(seconds(on_tick), seconds(tick), msg.note, velocity))
        for (_, pitch), stack in open_notes.items():
            for on_tick, velocity in stack:
                notes.append(Note(seconds(on_tick), seconds(tick), pitch, velocity))
        if notes:
            notes.sort(key=lambda n: (n.start_s, n.pitch))
            result[name] = notes
    return result
