"""A small band that plays chord labels: voicings, comping, bass, drums and melody.

Every generator is driven by the chord segments and the beat grid and sounds exactly the pitch
classes of the current label: comping voicings contain every tone of
``theory.parse_chord(label).pitch_classes``, the bass plays the label's bass pitch class, and a
new chord is always struck at its segment's start (notes are cut at the segment's end). Only the
melody may add short passing tones between beats, as real melodies do. ``N`` segments are silent
except for the tracks taken over from a source MIDI file.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from chordcli.corpus.arrangement import Beat, Note, Part, quantize_s
from chordcli.segments import ChordSegment
from theory import parse_chord
from theory.keys import key_is_minor, key_tonic

__all__ = [
    "BASS_PROGRAMS",
    "COMP_PATTERNS",
    "COMP_PROGRAMS",
    "DRUM_PATTERNS",
    "LEAD_PROGRAMS",
    "MORE_BASS_PATTERNS",
    "MORE_COMP_PATTERNS",
    "MORE_DRUM_PATTERNS",
    "PAD_PROGRAMS",
    "BandStyle",
    "band_parts",
    "bass_part",
    "beat_grid",
    "choose_style",
    "comp_part",
    "drum_part",
    "melody_part",
    "voicing",
]

#: General MIDI programs (0-based) for comping: pianos, electric pianos, organs, guitars.
COMP_PROGRAMS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 24, 25, 26, 27, 28, 46)
#: Sustained programs for a second, held layer: strings, synth strings, choir, pads.
PAD_PROGRAMS: tuple[int, ...] = (48, 49, 50, 51, 52, 61, 88, 89, 90, 91, 92, 94, 95)
#: Bass programs: acoustic, finger, pick, fretless, slap, synth basses.
BASS_PROGRAMS: tuple[int, ...] = (32, 33, 34, 35, 36, 37, 38, 39)
#: Melody programs: pianos, mallets, guitars, strings, brass, reeds, pipes, synth leads.
LEAD_PROGRAMS: tuple[int, ...] = (
    0, 4, 11, 12, 24, 26, 27, 40, 41, 56, 57, 64, 65, 66, 68, 71, 73, 80, 81, 85,
)  # fmt: skip
#: Comping rhythms (see :func:`comp_part`).
COMP_PATTERNS: tuple[str, ...] = ("whole", "half", "quarter", "eighth", "push", "arpeggio", "strum")
#: Bass rhythms (see :func:`bass_part`).
BASS_PATTERNS: tuple[str, ...] = ("whole", "half", "quarter", "eighth", "push", "octave")
#: Drum grooves (see :func:`drum_part`).
DRUM_PATTERNS: tuple[str, ...] = ("rock", "halftime", "ballad", "disco", "sparse")
#: Further bass rhythms (the ``v2`` corpus): 3-3-2 eighths.
MORE_BASS_PATTERNS: tuple[str, ...] = ("dotted",)
#: Further drum grooves (the ``v2`` corpus): jazz ride, dance, driving rock, folk train beat.
MORE_DRUM_PATTERNS: tuple[str, ...] = ("swing", "dance", "double", "train")
#: Further comping rhythms (the ``v2`` corpus; see :func:`comp_part`).
MORE_COMP_PATTERNS: tuple[str, ...] = ("anticipation", "backbeat")

_KICK, _SNARE, _STICK, _HAT, _OPEN_HAT, _RIDE, _CRASH, _PEDAL_HAT = 36, 38, 37, 42, 46, 51, 49, 44
_CLAP, _RIDE_BELL = 39, 53


@dataclass(frozen=True)
class BandStyle:
    """The instrumentation and rhythms of one arrangement.

    Attributes
    ----------
    comp_program, pad_program, bass_program, lead_program : int or None
        GM programs; ``None`` leaves the part out.
    comp_pattern, bass_pattern, drum_pattern : str or None
        Rhythms from :data:`COMP_PATTERNS`, :data:`BASS_PATTERNS`, :data:`DRUM_PATTERNS`;
        ``None`` for drums means no drums.
    comp_low : int
        Lowest MIDI note of comping voicings.
    swing : float
        Delay of off-beat eighths as a fraction of a beat (0 = straight).
    subdivisions : int
        Eighth notes per beat: 2, or 3 for compound metres (6/8, 12/8: dotted-quarter beats).
    """

    comp_program: int | None
    pad_program: int | None
    bass_program: int | None
    lead_program: int | None
    comp_pattern: str
    bass_pattern: str
    drum_pattern: str | None
    comp_low: int = 52
    swing: float = 0.0
    subdivisions: int = 2

    def to_dict(self) -> dict:
        """Return the style as a JSON-ready dict."""
        return dict(self.__dict__)


def choose_style(
    rng: np.random.Generator,
    *,
    comp: bool = True,
    lead: bool = True,
    drums_probability: float = 0.85,
    subdivisions: int = 2,
) -> BandStyle:
    """Draw a band style.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    comp : bool, optional
        Whether the band has a comping instrument.
    lead : bool, optional
        Whether a melody may be added (it is, with probability 0.6).
    drums_probability : float, optional
        Probability of a drum part.
    subdivisions : int, optional
        Eighth notes per beat (3 for compound metres, which are not swung).

    Returns
    -------
    BandStyle
        The drawn style.
    """
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    return BandStyle(
        comp_program=pick(COMP_PROGRAMS) if comp else None,
        pad_program=pick(PAD_PROGRAMS) if rng.random() < 0.45 else None,
        bass_program=pick(BASS_PROGRAMS) if rng.random() < 0.92 else None,
        lead_program=pick(LEAD_PROGRAMS) if lead and rng.random() < 0.6 else None,
        comp_pattern=pick(COMP_PATTERNS),
        bass_pattern=pick(BASS_PATTERNS),
        drum_pattern=pick(DRUM_PATTERNS) if rng.random() < drums_probability else None,
        comp_low=int(rng.integers(48, 57)),
        swing=float(pick((0.0, 0.0, 0.0, 0.08, 0.16))) if subdivisions == 2 else 0.0,
        subdivisions=subdivisions,
    )


def voicing(
    label: str,
    *,
    low: int,
    previous: Sequence[int] | None = None,
    rng: np.random.Generator | None = None,
    open_voicing: bool = False,
    lowest_pc: int | None = None,
) -> list[int]:
    """Voice a chord label: every pitch class of the label once, near the previous voicing.

    Parameters
    ----------
    label : str
        Harte chord label (not ``N``/``X``).
    low : int
        Lowest allowed MIDI note.
    previous : sequence of int, optional
        The previous voicing; the inversion whose mean pitch is nearest to it is chosen.
    rng : numpy.random.Generator, optional
        Chooses the inversion when there is no previous voicing.
    open_voicing : bool, optional
        Move the second-lowest note up an octave (a spread voicing).
    lowest_pc : int, optional
        Keep only the inversions with this pitch class lowest (a slash chord's bass).

    Returns
    -------
    list of int
        Ascending MIDI notes, one per pitch class of the label.
    """
    pcs = sorted(parse_chord(label).pitch_classes)
    candidates = []
    for start in range(len(pcs)):
        order = pcs[start:] + pcs[:start]
        first = low + (order[0] - low) % 12
        notes = [first]
        for pc in order[1:]:
            notes.append(notes[-1] + 1 + (pc - notes[-1] - 1) % 12)
        if open_voicing and len(notes) >= 3:
            notes = sorted([notes[0], *notes[2:], notes[1] + 12])
        candidates.append(notes)
    if lowest_pc is not None:
        candidates = [n for n in candidates if n[0] % 12 == lowest_pc] or candidates
    if previous:
        centre = float(np.mean(previous))
        return min(candidates, key=lambda n: (abs(float(np.mean(n)) - centre), n[0]))
    if rng is None:
        return candidates[0]
    return candidates[int(rng.integers(len(candidates)))]


def beat_grid(beats: Sequence[Beat], *, end_s: float, subdivisions: int) -> list[tuple[float, int]]:
    """Subdivide the beat grid.

    Parameters
    ----------
    beats : sequence of Beat
        Beats in time order (at least two).
    end_s : float
        Extend the grid (at the last beat period) up to this time.
    subdivisions : int
        Grid points per beat (2 for eighths).

    Returns
    -------
    list of (float, int)
        ``(time_s, position)`` with ``position = (beat_in_bar - 1) * subdivisions + sub``.
    """
    times = [b.time_s for b in beats]
    positions = [b.beat_in_bar for b in beats]
    period = times[-1] - times[-2] if len(times) > 1 else 0.5
    while times[-1] + period < end_s:
        times.append(times[-1] + period)
        positions.append(1)  # position is irrelevant past the annotated grid
    grid = []
    for i, t in enumerate(times):
        step = (times[i + 1] - t) if i + 1 < len(times) else period
        for sub in range(subdivisions):
            grid.append((t + step * sub / subdivisions, (positions[i] - 1) * subdivisions + sub))
    return grid


class _ChordIndex:
    """Find the chord segment sounding at a time."""

    def __init__(self, chords: Sequence[ChordSegment]) -> None:
        self.chords = list(chords)
        self.starts = [c.start_s for c in self.chords]

    def at(self, time_s: float) -> int:
        return max(0, bisect.bisect_right(self.starts, time_s + 1e-9) - 1)


def _bar_length(beats: Sequence[Beat]) -> int:
    """Most common number of beats per bar."""
    lengths = [b.beat_in_bar for b in beats]
    return max(4 if not lengths else max(lengths), 1)


def _hits(
    grid: list[tuple[float, int]],
    chords: Sequence[ChordSegment],
    wanted: set[int],
    *,
    swing_s: float,
    subdivisions: int = 2,
) -> list[float]:
    """Grid times whose position is wanted, plus every chord start (on the tick grid)."""
    times = set()
    for t, pos in grid:
        if pos in wanted:
            swung = subdivisions == 2 and pos % 2
            times.add(quantize_s(t + (swing_s if swung else 0.0)))
    times.update(c.start_s for c in chords if c.label != "N")
    return sorted(times)


def _comp_positions(pattern: str, bar: int, sub: int = 2) -> set[int]:
    """Eighth-note positions (0-based, `sub` per beat) where a comping pattern strikes."""
    n = sub * bar
    if pattern == "whole":
        return {0}
    if pattern == "half":
        return set(range(0, n, 2 * sub)) if bar >= 4 else {0}
    if pattern == "quarter" or pattern == "strum":
        return set(range(0, n, sub))
    if pattern == "push":
        return {p for p in (0, sub + 1, 2 * sub + 2) if p < n and (bar >= 4 or p < 2 * sub)}
    if pattern == "anticipation":  # 1, the last eighth of beat 2, 4
        return {p for p in (0, 2 * sub - 1, 3 * sub) if p < n}
    if pattern == "backbeat":
        return {p for p in (sub, 3 * sub) if p < n} or {0}
    return set(range(n))  # eighth, arpeggio


def comp_part(
    chords: Sequence[ChordSegment],
    beats: Sequence[Beat],
    *,
    program: int,
    pattern: str,
    rng: np.random.Generator,
    low: int = 52,
    swing: float = 0.0,
    name: str = "comp",
    held: bool = False,
    subdivisions: int = 2,
    slash_lowest: bool = False,
    voicer: Callable[[str], list[int]] | None = None,
) -> Part:
    """Comp the chords: every pitch class of each label, struck at its start and in rhythm.

    Parameters
    ----------
    chords : sequence of ChordSegment
        Contiguous chord segments in time order.
    beats : sequence of Beat
        The beat grid.
    program : int
        GM program.
    pattern : str
        One of :data:`COMP_PATTERNS`.
    rng : numpy.random.Generator
        Velocities and voicing choices.
    low : int, optional
        Lowest MIDI note of the voicings.
    swing : float, optional
        Delay of off-beat eighths, as a fraction of a beat.
    name : str, optional
        Part name.
    held : bool, optional
        Hold each chord for its whole segment (a pad), ignoring `pattern`.
    subdivisions : int, optional
        Eighth notes per beat (3 in compound metres).
    slash_lowest : bool, optional
        Voice a slash chord with its written bass lowest (an inversion heard in the chord).
    voicer : callable, optional
        ``voicer(label) -> MIDI notes`` replaces :func:`voicing` (e.g. power chords).

    Returns
    -------
    Part
        The comping part.
    """
    index = _ChordIndex(chords)
    bar = _bar_length(beats)
    end_s = chords[-1].end_s
    sub = subdivisions
    grid = beat_grid(beats, end_s=end_s, subdivisions=sub)
    period = float(np.median(np.diff([b.time_s for b in beats]))) if len(beats) > 1 else 0.5
    hits = (
        [c.start_s for c in chords if c.label != "N"]
        if held
        else _hits(
            grid,
            chords,
            _comp_positions(pattern, bar, sub),
            swing_s=swing * period,
            subdivisions=sub,
        )  # fmt: skip
    )
    voicings: dict[int, list[int]] = {}
    previous: list[int] | None = None
    for i, chord in enumerate(chords):
        if chord.label in ("N", "X"):
            continue
        if voicer is not None:
            voicings[i] = voicer(chord.label)
            continue
        lowest = parse_chord(chord.label).bass_pc if slash_lowest else None
        previous = voicing(
            chord.label,
            low=low,
            previous=previous,
            rng=rng,
            open_voicing=rng.random() < 0.3,
            lowest_pc=lowest,
        )
        voicings[i] = previous
    notes: list[Note] = []
    base_velocity = int(rng.integers(55, 95))
    for h, t in enumerate(hits):
        i = index.at(t)
        if i not in voicings:
            continue
        chord_end = chords[i].end_s
        next_hit = hits[h + 1] if h + 1 < len(hits) else chord_end
        if held or pattern == "arpeggio":
            end = chord_end
        elif pattern in ("whole", "half"):
            end = min(chord_end, next_hit)
        else:
            end = min(chord_end, t + 0.9 * (next_hit - t))
        end = quantize_s(end)
        if end <= t:
            continue
        accent = 10 if t == chords[i].start_s else 0
        velocity = int(np.clip(base_velocity + accent + rng.integers(-8, 9), 20, 127))
        chord_notes = voicings[i]
        if pattern == "arpeggio" and not held and t != chords[i].start_s:
            k = int(round((t - chords[i].start_s) / max(period / sub, 1e-3)))
            chord_notes = [chord_notes[k % len(chord_notes)]]
        for j, pitch in enumerate(chord_notes):
            offset = quantize_s(0.012 * j) if pattern == "strum" else 0.0
            start = t + offset if t + offset < end else t
            notes.append(Note(start, end, pitch, max(1, velocity - 4 * j * (pattern == "strum"))))
    return Part(name, program, tuple(notes))


def bass_part(
    chords: Sequence[ChordSegment],
    beats: Sequence[Beat],
    *,
    program: int,
    pattern: str,
    rng: np.random.Generator,
    swing: float = 0.0,
    subdivisions: int = 2,
) -> Part:
    """Play the bass pitch class of each label (root, or the slash bass) in a rhythm.

    Parameters
    ----------
    chords : sequence of ChordSegment
        Contiguous chord segments.
    beats : sequence of Beat
        The beat grid.
    program : int
        GM bass program.
    pattern : str
        One of :data:`BASS_PATTERNS`; ``'octave'`` jumps an octave on off-beats.
    rng : numpy.random.Generator
        Velocities and register.
    swing : float, optional
        Delay of off-beat eighths, as a fraction of a beat.
    subdivisions : int, optional
        Eighth notes per beat (3 in compound metres).

    Returns
    -------
    Part
        The bass part (MIDI notes 28..51).
    """
    index = _ChordIndex(chords)
    bar = _bar_length(beats)
    sub = subdivisions
    grid = beat_grid(beats, end_s=chords[-1].end_s, subdivisions=sub)
    period = float(np.median(np.diff([b.time_s for b in beats]))) if len(beats) > 1 else 0.5
    n = sub * bar
    positions = {
        "whole": {0},
        "half": set(range(0, n, 2 * sub)) if bar >= 4 else {0},
        "quarter": set(range(0, n, sub)),
        "eighth": set(range(n)),
        "push": {p for p in (0, sub + 1, 2 * sub) if p < n},
        "octave": set(range(n)),
        "dotted": {p for p in (0, 3, 6) if p < n},
    }[pattern]
    hits = _hits(grid, chords, positions, swing_s=swing * period, subdivisions=sub)
    low = int(rng.integers(28, 36))
    base_velocity = int(rng.integers(70, 105))
    notes = []
    for h, t in enumerate(hits):
        i = index.at(t)
        chord = parse_chord(chords[i].label)
        if chord.bass_pc is None:
            continue
        pitch = low + (chord.bass_pc - low) % 12
        if pattern == "octave" and round((t - chords[i].start_s) / max(period / sub, 1e-3)) % 2:
            pitch += 12
        next_hit = hits[h + 1] if h + 1 < len(hits) else chords[i].end_s
        end = quantize_s(min(chords[i].end_s, t + 0.92 * (next_hit - t)))
        if end <= t:
            continue
        velocity = int(np.clip(base_velocity + rng.integers(-10, 11), 30, 127))
        notes.append(Note(t, end, pitch, velocity))
    return Part("bass", program, tuple(notes), pan=64)


def _groove(pattern: str, beat: int, off: int, back: set[int], bar: int) -> list[tuple[int, int]]:
    """Return the (drum sound, velocity) pairs of a groove at one eighth (`off` > 0: off-beat)."""
    on = not off
    if pattern == "rock":
        hits = [(_KICK, 100)] if on and (beat == 1 or (beat == 3 and bar >= 4)) else []
        hits += [(_SNARE, 95)] if on and beat in back else []
        return hits + [(_HAT, 70 if on else 55)]
    if pattern == "halftime":
        hits = [(_KICK, 100)] if on and beat == 1 else []
        hits += [(_SNARE, 95)] if on and beat == 3 else []
        return hits + [(_HAT, 65 if on else 50)]
    if pattern == "ballad":
        hits = [(_KICK, 80)] if on and beat == 1 else []
        hits += [(_STICK, 70)] if on and beat in back else []
        return hits + [(_RIDE, 50 if on else 40)]
    if pattern == "disco":
        hits = [(_KICK, 100)] if on else []
        hits += [(_SNARE, 90)] if on and beat in back else []
        return hits + [(_OPEN_HAT if off else _HAT, 65)]
    if pattern == "swing":  # ride pattern, hi-hat pedal on 2 and 4, feathered kick
        hits = [(_RIDE, 70 if on else 50)] if on or beat in back else []
        hits += [(_PEDAL_HAT, 60)] if on and beat in back else []
        return hits + ([(_KICK, 45)] if on else [])
    if pattern == "dance":  # kick on every beat, clap on the backbeat, open hat off the beat
        hits = [(_KICK, 105)] if on else [(_OPEN_HAT, 70)]
        return hits + ([(_CLAP, 90)] if on and beat in back else []) + [(_HAT, 45)]
    if pattern == "double":  # driving rock: kick on the eighths before 1 and 3, crash-ride
        hits = [(_KICK, 100)] if (on and beat in (1, 3)) or (off and beat in (2, 4)) else []
        hits += [(_SNARE, 100)] if on and beat in back else []
        return hits + [(_RIDE_BELL if on else _RIDE, 65)]
    if pattern == "train":  # folk: brushed snare on every eighth, kick on 1 and 3
        hits = [(_KICK, 75)] if on and beat in (1, 3) else []
        return hits + [(_SNARE, 70 if beat in back and on else 40)]
    # sparse
    return ([(_KICK, 85)] if on and beat == 1 else []) + ([(_PEDAL_HAT, 55)] if on else [])


def drum_part(
    chords: Sequence[ChordSegment],
    beats: Sequence[Beat],
    *,
    pattern: str,
    rng: np.random.Generator,
    swing: float = 0.0,
    subdivisions: int = 2,
    kit: int = 0,
) -> Part:
    """Play a drum groove on the beats, with a crash on every eighth downbeat.

    Parameters
    ----------
    chords : sequence of ChordSegment
        Chord segments; the drums rest where the label is ``N``.
    beats : sequence of Beat
        The beat grid (downbeats have ``beat_in_bar == 1``).
    pattern : str
        One of :data:`DRUM_PATTERNS` or :data:`MORE_DRUM_PATTERNS`.
    rng : numpy.random.Generator
        Velocities.
    swing : float, optional
        Delay of off-beat eighths, as a fraction of a beat.
    subdivisions : int, optional
        Eighth notes per beat (3 in compound metres).
    kit : int, optional
        GM drum kit (the part's program on the percussion channel; 0 = standard).

    Returns
    -------
    Part
        The drum part (GM percussion channel).
    """
    index = _ChordIndex(chords)
    bar = _bar_length(beats)
    period = float(np.median(np.diff([b.time_s for b in beats]))) if len(beats) > 1 else 0.5
    sub = subdivisions
    grid = beat_grid(beats, end_s=chords[-1].end_s, subdivisions=sub)
    back = {2, 4} if bar >= 4 else ({2} if bar >= 2 else set())
    notes = []
    bars_seen = 0
    for t, pos in grid:
        if t >= chords[-1].end_s or chords[index.at(t)].label == "N":
            continue
        beat, off = pos // sub + 1, pos % sub
        t = quantize_s(t + (swing * period if off and sub == 2 else 0.0))
        sounds = _groove(pattern, beat, off, back, bar)
        if not off and beat == 1:
            if bars_seen % 8 == 0:
                sounds.append((_CRASH, 85))
            bars_seen += 1
        for pitch, velocity in sounds:
            v = int(np.clip(velocity + rng.integers(-12, 8), 20, 127))
            notes.append(Note(t, quantize_s(t + 0.1), pitch, v))
    return Part("drums", kit, tuple(notes), is_drum=True, reverb=30)


def melody_part(
    chords: Sequence[ChordSegment],
    beats: Sequence[Beat],
    *,
    program: int,
    key: int,
    rng: np.random.Generator,
    subdivisions: int = 2,
    low: int = 60,
    high: int = 85,
    name: str = "melody",
) -> Part:
    """Improvise a simple melody: chord tones on beats, short scale steps between them.

    Parameters
    ----------
    chords : sequence of ChordSegment
        Contiguous chord segments.
    beats : sequence of Beat
        The beat grid.
    program : int
        GM program.
    key : int
        Key class (:mod:`theory.keys`); passing tones come from its scale (chord tones only for
        key 24, none).
    rng : numpy.random.Generator
        Note choices.
    subdivisions : int, optional
        Eighth notes per beat (3 in compound metres).
    low, high : int, optional
        The melody's range: MIDI notes ``low .. high - 1`` (at least 14 semitones).
    name : str, optional
        Part name.

    Returns
    -------
    Part
        The melody (MIDI notes `low` .. `high` - 1).
    """
    index = _ChordIndex(chords)
    grid = beat_grid(beats, end_s=chords[-1].end_s, subdivisions=subdivisions)
    tonic = key_tonic(key)
    if tonic is None:
        scale = None
    else:
        steps = (0, 2, 3, 5, 7, 8, 10) if key_is_minor(key) else (0, 2, 4, 5, 7, 9, 11)
        scale = {(tonic + s) % 12 for s in steps}
    current = int(rng.integers(low + 4, high - 9))
    notes = []
    phrase_rest = False
    for g, (t, pos) in enumerate(grid):
        t = quantize_s(t)
        i = index.at(t)
        if t >= chords[-1].end_s or chords[i].label in ("N", "X"):
            continue
        if pos == 0:
            phrase_rest = rng.random() < 0.25
        if phrase_rest or rng.random() < 0.35:
            continue
        pcs = parse_chord(chords[i].label).pitch_classes
        off = pos % subdivisions != 0
        allowed = pcs | (scale or set()) if off else pcs
        candidates = [p for p in range(low, high) if p % 12 in allowed and abs(p - current) <= 5]
        if not candidates:
            candidates = [p for p in range(low, high) if p % 12 in pcs]
        current = candidates[int(rng.integers(len(candidates)))]
        next_t = grid[g + 1][0] if g + 1 < len(grid) else chords[i].end_s
        length = (next_t - t) * (0.5 if off and current % 12 not in pcs else 0.95)
        end = quantize_s(min(chords[i].end_s, t + length))
        if end > t:
            notes.append(Note(t, end, current, int(rng.integers(70, 110))))
    return Part(name, program, tuple(notes))


def band_parts(
    chords: Sequence[ChordSegment],
    beats: Sequence[Beat],
    *,
    style: BandStyle,
    key: int,
    rng: np.random.Generator,
) -> list[Part]:
    """Generate the parts of a style, with pan, reverb and chorus drawn per part.

    Parameters
    ----------
    chords : sequence of ChordSegment
        Contiguous chord segments.
    beats : sequence of Beat
        The beat grid.
    style : BandStyle
        Instrumentation and rhythms.
    key : int
        Key class for the melody.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    list of Part
        Comping, pad, bass, drums and melody parts as the style asks.
    """
    parts = []
    side = 1 if rng.random() < 0.5 else -1

    def mix(part: Part, pan: int, volume: int) -> Part:
        return Part(
            part.name,
            part.program,
            part.notes,
            is_drum=part.is_drum,
            pan=int(np.clip(pan, 0, 127)),
            volume=int(np.clip(volume, 0, 127)),
            reverb=int(rng.integers(10, 90)),
            chorus=int(rng.integers(0, 60)),
        )

    if style.comp_program is not None:
        part = comp_part(
            chords,
            beats,
            program=style.comp_program,
            pattern=style.comp_pattern,
            rng=rng,
            low=style.comp_low,
            swing=style.swing,
            subdivisions=style.subdivisions,
        )
        parts.append(mix(part, 64 + side * int(rng.integers(0, 40)), int(rng.integers(85, 115))))
    if style.pad_program is not None:
        part = comp_part(
            chords,
            beats,
            program=style.pad_program,
            pattern="whole",
            rng=rng,
            low=style.comp_low + 7,
            name="pad",
            held=True,
        )
        parts.append(mix(part, 64 - side * int(rng.integers(10, 50)), int(rng.integers(60, 95))))
    if style.bass_program is not None:
        part = bass_part(
            chords,
            beats,
            program=style.bass_program,
            pattern=style.bass_pattern,
            rng=rng,
            swing=style.swing,
            subdivisions=style.subdivisions,
        )
        parts.append(mix(part, 64, int(rng.integers(90, 120))))
    if style.drum_pattern is not None:
        part = drum_part(
            chords,
            beats,
            pattern=style.drum_pattern,
            rng=rng,
            swing=style.swing,
            subdivisions=style.subdivisions,
        )
        parts.append(mix(part, 64, int(rng.integers(70, 105))))
    if style.lead_program is not None:
        part = melody_part(
            chords,
            beats,
            program=style.lead_program,
            key=key,
            rng=rng,
            subdivisions=style.subdivisions,
        )
        parts.append(mix(part, 64 + int(rng.integers(-15, 16)), int(rng.integers(80, 110))))
    return parts
