"""A second way to play the corpus's songs, for validation that predicts unseen audio ("dev-cross").

The training and dev renders share one arranger (:mod:`chordcli.corpus.band`): its instrument
programs, comping and bass rhythms, drum grooves and voicings. A network can learn those habits
as well as harmony, and then a dev set played the same way overstates its accuracy on music
played otherwise. :func:`cross_arrangement` re-arranges a song with none of them:

* **tempo**: every time is stretched so the song plays 12-30 % faster or slower;
* **instruments**: the song's own tracks (POP909 melody, bridge and piano; the band's melody)
  move to program families the training arranger never uses (:data:`CROSS_COMP_PROGRAMS`,
  :data:`CROSS_BASS_PROGRAMS`, :data:`CROSS_LEAD_PROGRAMS`, :data:`CROSS_PAD_PROGRAMS`:
  accordions, distorted guitars, brass, reeds, pipes, plucked ethnic instruments, voices ...);
* **accompaniment**: the generated comping, pad, bass and drums are replaced by other rhythms
  (:data:`CROSS_COMP_PATTERNS`: off-beat skank, Alberti figures, 3-3-2 stabs, charleston,
  tremolo; :data:`CROSS_BASS_PATTERNS`: root-fifth, bossa, pedal eighths;
  :data:`CROSS_DRUM_PATTERNS`: shuffle, four-on-the-floor, bossa, latin percussion);
* **voicings that really are inverted**: a slash label's comping voicing has the slash bass as
  its lowest note, and root-position labels are voiced in any inversion (drawn per chord, not
  the one nearest the previous chord).

The labels do not change except for the time stretch: every generated part sounds exactly the
pitch classes of its label (the bass plays the label's bass on strong beats and the fifth of the
root only on weak beats of root-position chords, as bass players do).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from chordcli.corpus.arrangement import Arrangement, Beat, Note, Part, quantize_s
from chordcli.corpus.band import _bar_length, _ChordIndex, _hits, beat_grid
from chordcli.segments import ChordSegment
from theory import parse_chord

__all__ = [
    "CROSS_BASS_PATTERNS",
    "CROSS_BASS_PROGRAMS",
    "CROSS_COMP_PATTERNS",
    "CROSS_COMP_PROGRAMS",
    "CROSS_DRUM_PATTERNS",
    "CROSS_LEAD_PROGRAMS",
    "CROSS_PAD_PROGRAMS",
    "cross_arrangement",
    "cross_bass_part",
    "cross_comp_part",
    "cross_drum_part",
    "inverted_voicing",
    "stretch_arrangement",
]

#: Comping programs the training arranger never uses: dulcimer, reed organ, accordions,
#: overdriven and distortion guitars, pizzicato and tremolo strings, synth brass, banjo, koto,
#: kalimba, celesta, xylophone.
CROSS_COMP_PROGRAMS: tuple[int, ...] = (
    8,
    13,
    15,
    20,
    21,
    23,
    29,
    30,
    44,
    45,
    62,
    63,
    105,
    107,
    108,
)
#: Bass programs: cello, contrabass, tuba, baritone sax, bassoon, bass + lead synth.
CROSS_BASS_PROGRAMS: tuple[int, ...] = (42, 43, 58, 67, 70, 87)
#: Melody programs: harmonica, muted trumpet, horn, english horn, piccolo, recorder, pan flute,
#: whistle, ocarina, synth leads, sitar, shamisen, fiddle.
CROSS_LEAD_PROGRAMS: tuple[int, ...] = (
    22, 59, 60, 69, 72, 74, 75, 78, 79, 82, 83, 84, 86, 104, 106, 110,
)  # fmt: skip
#: Held layers: voice oohs, synth voice, brass section, bowed and metallic pads, sweep pad.
CROSS_PAD_PROGRAMS: tuple[int, ...] = (53, 54, 61, 92, 93, 95)
#: Comping rhythms of :func:`cross_comp_part`.
CROSS_COMP_PATTERNS: tuple[str, ...] = ("offbeat", "alberti", "stabs", "charleston", "tremolo")
#: Bass rhythms of :func:`cross_bass_part`.
CROSS_BASS_PATTERNS: tuple[str, ...] = ("root-fifth", "bossa", "pedal")
#: Drum grooves of :func:`cross_drum_part`.
CROSS_DRUM_PATTERNS: tuple[str, ...] = ("shuffle", "four-floor", "bossa", "latin")
#: Parts taken over from the song (re-programmed); every other part is replaced.
_KEPT_PARTS = ("melody", "bridge", "piano")


def stretch_arrangement(arrangement: Arrangement, factor: float) -> Arrangement:
    """Return the arrangement played `factor` times faster (every time divided by `factor`).

    Times stay on the MIDI tick grid (:func:`~chordcli.corpus.arrangement.quantize_s`); chord
    segments stay contiguous.
    """
    k = 1.0 / float(factor)

    def t(x: float) -> float:
        return quantize_s(x * k)

    parts = tuple(
        dataclasses.replace(
            p,
            notes=tuple(
                Note(t(n.start_s), max(t(n.end_s), t(n.start_s) + 1e-3), n.pitch, n.velocity)
                for n in p.notes
            ),
        )
        for p in arrangement.parts
    )
    chords = tuple(ChordSegment(t(c.start_s), t(c.end_s), c.label) for c in arrangement.chords)
    return dataclasses.replace(
        arrangement,
        parts=parts,
        chords=chords,
        beats=tuple(Beat(t(b.time_s), b.beat_in_bar) for b in arrangement.beats),
        keys=tuple((t(a), t(b), key) for a, b, key in arrangement.keys),
        duration_s=t(arrangement.duration_s),
        tempo_bpm=None
        if arrangement.tempo_bpm is None
        else round(arrangement.tempo_bpm * factor, 2),
    )


def inverted_voicing(label: str, *, low: int, rng: np.random.Generator) -> list[int]:
    """Voice a label with its slash bass lowest, or in a random inversion in root position.

    Every pitch class of the label sounds once, in ascending order from the lowest note, which
    is at or above `low`; a spread voicing (second note up an octave) is drawn 30 % of the time.
    """
    chord = parse_chord(label)
    pcs = sorted(chord.pitch_classes)
    if chord.bass_pc is not None and chord.bass_pc != chord.root_pc and chord.bass_pc in pcs:
        start = pcs.index(chord.bass_pc)
    else:
        start = int(rng.integers(len(pcs)))
    order = pcs[start:] + pcs[:start]
    notes = [low + (order[0] - low) % 12]
    for pc in order[1:]:
        notes.append(notes[-1] + 1 + (pc - notes[-1] - 1) % 12)
    if len(notes) >= 3 and rng.random() < 0.3:
        notes = [notes[0], *notes[2:], notes[1] + 12]
    return sorted(notes)


def _positions(pattern: str, bar: int, sub: int) -> set[int]:
    n = sub * bar
    if pattern == "offbeat":
        return {p for p in range(n) if p % sub}
    if pattern == "stabs":  # 3-3-2 in eighths
        return {p for p in (0, 3, 6) if p < n}
    if pattern == "charleston":
        return {p for p in (0, 3) if p < n}
    return set(range(n))  # alberti, tremolo


def cross_comp_part(
    chords: Sequence[ChordSegment],
    beats: Sequence[Beat],
    *,
    program: int,
    pattern: str,
    rng: np.random.Generator,
    low: int = 50,
    name: str = "comp",
    held: bool = False,
) -> Part:
    """Comp the chords in one of :data:`CROSS_COMP_PATTERNS` with :func:`inverted_voicing`.

    Each chord is struck with all its tones at its start; ``'offbeat'``, ``'stabs'`` and
    ``'charleston'`` then strike short chords on their positions, ``'alberti'`` plays single
    notes low-high-middle-high on eighths, ``'tremolo'`` repeats the chord softly on every
    eighth. `held` holds each chord over its segment (a pad).
    """
    index = _ChordIndex(chords)
    bar = _bar_length(beats)
    grid = beat_grid(beats, end_s=chords[-1].end_s, subdivisions=2)
    hits = (
        [c.start_s for c in chords if c.label not in ("N", "X")]
        if held
        else _hits(grid, chords, _positions(pattern, bar, 2), swing_s=0.0)
    )
    voicings = {
        i: inverted_voicing(c.label, low=low, rng=rng)
        for i, c in enumerate(chords)
        if c.label not in ("N", "X")
    }
    base = int(rng.integers(55, 90))
    notes: list[Note] = []
    step_s = float(np.median(np.diff([b.time_s for b in beats]))) / 2 if len(beats) > 1 else 0.25
    for h, t in enumerate(hits):
        i = index.at(t)
        if i not in voicings:
            continue
        chord_end = chords[i].end_s
        next_hit = hits[h + 1] if h + 1 < len(hits) else chord_end
        at_start = t == chords[i].start_s
        if held:
            end = chord_end
        elif pattern in ("offbeat", "stabs", "charleston") and not at_start:
            end = min(chord_end, t + 0.4 * (next_hit - t))
        else:
            end = min(chord_end, t + 0.95 * (next_hit - t))
        end = quantize_s(end)
        if end <= t:
            continue
        voiced = voicings[i]
        velocity = base + (12 if at_start else 0) + int(rng.integers(-6, 7))
        if pattern == "tremolo" and not at_start:
            velocity -= 15
        if pattern == "alberti" and not at_start and not held:
            k = int(round((t - chords[i].start_s) / max(step_s, 1e-3)))
            order = [0, len(voiced) - 1, len(voiced) // 2, len(voiced) - 1]
            voiced = [voiced[order[k % 4]]]
        for pitch in voiced:
            notes.append(Note(t, end, pitch, int(np.clip(velocity, 20, 127))))
    return Part(name, program, tuple(notes))


def cross_bass_part(
    chords: Sequence[ChordSegment],
    beats: Sequence[Beat],
    *,
    program: int,
    pattern: str,
    rng: np.random.Generator,
) -> Part:
    """Play a bass line in one of :data:`CROSS_BASS_PATTERNS`.

    The label's bass (root or slash bass) sounds at every chord start and on strong beats;
    ``'root-fifth'`` and ``'bossa'`` play the fifth above the root on weak beats of
    root-position chords that contain it; ``'pedal'`` repeats the bass in eighths.
    """
    index = _ChordIndex(chords)
    bar = _bar_length(beats)
    grid = beat_grid(beats, end_s=chords[-1].end_s, subdivisions=2)
    n = 2 * bar
    positions, weak = {
        "root-fifth": (set(range(0, n, 2)), {p for p in range(0, n, 2) if (p // 2) % 2}),
        "bossa": ({p for p in (0, 3, 4, 7) if p < n}, {3, 7}),
        "pedal": (set(range(n)), set()),
    }[pattern]
    position_at = {quantize_s(t): pos for t, pos in grid}
    hits = _hits(grid, chords, positions, swing_s=0.0)
    low = int(rng.integers(28, 36))
    base = int(rng.integers(75, 105))
    notes = []
    for h, t in enumerate(hits):
        i = index.at(t)
        chord = parse_chord(chords[i].label)
        if chord.bass_pc is None:
            continue
        pc = chord.bass_pc
        fifth = None if chord.root_pc is None else (chord.root_pc + 7) % 12
        in_root = chord.bass_pc == chord.root_pc
        if (
            t != chords[i].start_s
            and position_at.get(t) in weak
            and in_root
            and fifth in chord.pitch_classes
        ):
            pc = fifth
        pitch = low + (pc - low) % 12
        next_hit = hits[h + 1] if h + 1 < len(hits) else chords[i].end_s
        end = quantize_s(min(chords[i].end_s, t + 0.9 * (next_hit - t)))
        if end > t:
            notes.append(Note(t, end, pitch, int(np.clip(base + rng.integers(-8, 9), 30, 127))))
    return Part("bass", program, tuple(notes), pan=64)


_KICK, _SNARE, _RIM, _CLAP, _HAT, _OPEN_HAT = 36, 38, 37, 39, 42, 46
_TAMB, _COWBELL, _CONGA_HI, _CONGA_LO, _SHAKER, _CLAVES = 54, 56, 62, 64, 70, 75


def cross_drum_part(
    chords: Sequence[ChordSegment],
    beats: Sequence[Beat],
    *,
    pattern: str,
    rng: np.random.Generator,
) -> Part:
    """Play one of :data:`CROSS_DRUM_PATTERNS`; silent where the label is ``N``."""
    index = _ChordIndex(chords)
    grid = beat_grid(beats, end_s=chords[-1].end_s, subdivisions=2)
    period = float(np.median(np.diff([b.time_s for b in beats]))) if len(beats) > 1 else 0.5
    notes = []
    for t, pos in grid:
        if t >= chords[-1].end_s or chords[index.at(t)].label == "N":
            continue
        beat, off = pos // 2 + 1, pos % 2
        sounds: list[tuple[int, int]] = []
        if pattern == "shuffle":
            t = t + (period / 6 if off else 0.0)  # triplet feel
            if not off and beat in (1, 3):
                sounds.append((_KICK, 95))
            if not off and beat in (2, 4):
                sounds.append((_SNARE, 90))
            sounds.append((_HAT, 60 if off else 75))
        elif pattern == "four-floor":
            if not off:
                sounds.append((_KICK, 105))
            if not off and beat in (2, 4):
                sounds.append((_CLAP, 90))
            if off:
                sounds.append((_OPEN_HAT, 70))
            sounds.append((_TAMB, 45))
        elif pattern == "bossa":
            if pos in (0, 3, 4, 7):
                sounds.append((_KICK, 80))
            if pos in (0, 3, 6, 10, 13):
                sounds.append((_RIM, 75))
            sounds.append((_SHAKER, 50))
        else:  # latin
            if pos in (0, 3, 6):
                sounds.append((_CLAVES, 80))
            sounds.append((_CONGA_HI if off else _CONGA_LO, 75))
            if not off:
                sounds.append((_COWBELL, 55))
        t = quantize_s(t)
        for pitch, velocity in sounds:
            v = int(np.clip(velocity + rng.integers(-12, 8), 20, 127))
            notes.append(Note(t, quantize_s(t + 0.08), pitch, v))
    return Part("drums", 0, tuple(notes), is_drum=True, reverb=25)


def cross_arrangement(arrangement: Arrangement, *, rng: np.random.Generator) -> Arrangement:
    """Re-arrange a song the second way (see the module docstring); labels are kept.

    Parameters
    ----------
    arrangement : Arrangement
        The song as the corpus arranges it (POP909, Billboard or rare-quality piece).
    rng : numpy.random.Generator
        Every choice.

    Returns
    -------
    Arrangement
        The stretched song with its own tracks re-programmed and a new accompaniment;
        ``info['cross']`` records the choices.
    """
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    slower = rng.random() < 0.5
    tempo = arrangement.tempo_bpm
    if tempo is not None and (tempo < 85 or tempo > 150):
        slower = tempo > 150  # keep slow songs from crawling and fast ones from racing
    factor = float(rng.uniform(0.7, 0.88) if slower else rng.uniform(1.12, 1.3))
    song = stretch_arrangement(arrangement, factor)
    chords, beats = song.chords, song.beats
    programs = {"melody": pick(CROSS_LEAD_PROGRAMS),
                "bridge": pick(CROSS_LEAD_PROGRAMS + CROSS_PAD_PROGRAMS),
                "piano": pick(CROSS_COMP_PROGRAMS)}  # fmt: skip
    kept = [
        dataclasses.replace(p, program=programs[p.name], reverb=int(rng.integers(10, 70)))
        for p in song.parts
        if p.name in _KEPT_PARTS
    ]
    choices: dict[str, object] = {"tempo_factor": round(factor, 4)}
    parts = list(kept)
    side = 1 if rng.random() < 0.5 else -1
    if len(beats) > 1:
        if not any(p.name == "piano" for p in kept) or rng.random() < 0.6:
            choices["comp"] = pattern = pick(CROSS_COMP_PATTERNS)
            comp = cross_comp_part(
                chords, beats, program=pick(CROSS_COMP_PROGRAMS), pattern=pattern, rng=rng,
                low=int(rng.integers(45, 58)),
            )  # fmt: skip
            parts.append(
                dataclasses.replace(comp, pan=64 + side * 30, volume=int(rng.integers(85, 115)))
            )
        if rng.random() < 0.35:
            pad = cross_comp_part(
                chords, beats, program=pick(CROSS_PAD_PROGRAMS), pattern="offbeat", rng=rng,
                low=int(rng.integers(52, 62)), name="pad", held=True,
            )  # fmt: skip
            parts.append(dataclasses.replace(pad, pan=64 - side * 30, volume=70))
            choices["pad"] = pad.program
        if rng.random() < 0.9:
            choices["bass"] = pattern = pick(CROSS_BASS_PATTERNS)
            bass = cross_bass_part(
                chords, beats, program=pick(CROSS_BASS_PROGRAMS), pattern=pattern, rng=rng
            )
            parts.append(dataclasses.replace(bass, volume=int(rng.integers(90, 115))))
        if rng.random() < 0.8:
            choices["drums"] = pattern = pick(CROSS_DRUM_PATTERNS)
            drums = cross_drum_part(chords, beats, pattern=pattern, rng=rng)
            parts.append(dataclasses.replace(drums, volume=int(rng.integers(70, 100))))
    info = dict(song.info)
    info["cross"] = choices
    return dataclasses.replace(song, parts=tuple(parts), info=info)
