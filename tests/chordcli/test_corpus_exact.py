"""Label exactness of rendered audio: what sounds is what the LAB says, when it says it.

A short known progression (triads, sevenths, slash chords, diminished and augmented chords) is
played by the corpus band with a near-sinusoidal GM flute (so overtones do not pose as chord
tones), rendered with FluidSynth and TimGM6mb, and analysed with the project's CQT.
"""

from __future__ import annotations

import numpy as np
import pytest

from chordcli.corpus.arrangement import Arrangement, Beat, arrangement_to_midi, quantize_s
from chordcli.corpus.band import bass_part, comp_part
from chordcli.corpus.render import MixSettings, find_soundfonts, render_arrangement
from chordcli.lab import format_lab, parse_lab
from chordcli.segments import ChordSegment
from models.cqt import DEFAULT_CQT, cqt, frame_times_s
from theory import parse_chord

LABELS = ["C:maj", "A:min7", "F:maj7/3", "G:7", "E:min", "D:sus4", "Bb:maj/5", "Eb:dim7",
          "Ab:aug", "F#:hdim7", "B:min/b3", "Db:maj6"]  # fmt: skip
FLUTE = 73
DRY = MixSettings(
    reverb_room=0.2,
    reverb_damp=0.5,
    reverb_width=0.5,
    reverb_level=0.1,
    chorus_voices=2,
    chorus_level=0.0,
    chorus_speed_hz=0.3,
    chorus_depth_ms=2.0,
    low_shelf_db=0.0,
    high_shelf_db=0.0,
    width=1.0,
    loudness_dbfs=-18.0,
)


@pytest.fixture(scope="module")
def progression() -> Arrangement:
    chord_s, beat_s, start = 1.6, 0.4, 0.5
    chords = [ChordSegment(0.0, start, "N")]
    for i, label in enumerate(LABELS):
        t0, t1 = quantize_s(start + i * chord_s), quantize_s(start + (i + 1) * chord_s)
        chords.append(ChordSegment(t0, t1, label))
    end = chords[-1].end_s
    duration = quantize_s(end + 1.0)
    chords.append(ChordSegment(end, duration, "N"))
    n_beats = round(len(LABELS) * chord_s / beat_s)
    beats = [Beat(quantize_s(start + i * beat_s), i % 4 + 1) for i in range(n_beats)]
    rng = np.random.default_rng(0)
    parts = (
        comp_part(chords, beats, program=FLUTE, pattern="quarter", rng=rng, low=60),
        bass_part(chords, beats, program=FLUTE, pattern="half", rng=rng),
    )
    return Arrangement(parts, tuple(chords), tuple(beats), ((0.0, duration, 0),), duration)


@pytest.fixture(scope="module")
def rendered(progression):
    font = next(s for s in find_soundfonts() if s.name == "TimGM6mb.sf2")
    audio = render_arrangement(progression, font, mix=DRY)
    features = cqt(audio, sample_rate_hz=44100)
    magnitude = np.expm1(features.astype(np.float64).mean(axis=2)) / DEFAULT_CQT.log_gain
    return audio, magnitude


def _frames_inside_chords(chords, n_frames):
    """(frame index, label) of frames more than 1.5 frames away from any chord boundary."""
    times = frame_times_s(n_frames)
    margin = 1.5 / DEFAULT_CQT.frames_per_second
    boundaries = np.array([c.start_s for c in chords] + [chords[-1].end_s])
    for i, t in enumerate(times):
        chord = next((c for c in chords if c.start_s <= t < c.end_s), None)
        if chord is None or chord.label == "N" or np.min(np.abs(boundaries - t)) < margin:
            continue
        yield i, chord.label


@pytest.mark.fluidsynth
def test_sounding_pitch_classes_match_labels(progression, rendered):
    audio, magnitude = rendered
    assert len(audio) == round(progression.duration_s * 44100)
    bins_per_semitone = DEFAULT_CQT.bins_per_octave // 12
    pcs_of_bin = np.round(np.arange(magnitude.shape[1]) / bins_per_semitone).astype(int) % 12
    chroma = np.zeros((len(magnitude), 12))
    np.add.at(chroma.T, pcs_of_bin, magnitude.T)
    frames = list(_frames_inside_chords(progression.chords, len(magnitude)))
    assert len(frames) > 150
    hits = 0
    for i, label in frames:
        pcs = parse_chord(label).pitch_classes
        strongest = set(np.argsort(chroma[i])[::-1][: len(pcs)].tolist())
        hits += strongest == set(pcs)
    assert hits / len(frames) >= 0.95


@pytest.mark.fluidsynth
def test_bass_register_sounds_the_label_bass(progression, rendered):
    _, magnitude = rendered
    bins_per_semitone = DEFAULT_CQT.bins_per_octave // 12
    # MIDI 24 is the first bin (C1); the bass plays MIDI 28..51, the comping from 60
    low_bins = (51 - 24 + 1) * bins_per_semitone
    frames = list(_frames_inside_chords(progression.chords, len(magnitude)))
    hits = 0
    for i, label in frames:
        lowest = int(np.argmax(magnitude[i, :low_bins]))
        hits += round(lowest / bins_per_semitone) % 12 == parse_chord(label).bass_pc
    assert hits / len(frames) >= 0.95


def test_label_times_equal_midi_note_times(progression, tmp_path):
    from chordcli.corpus.arrangement import read_midi_notes

    path = tmp_path / "p.mid"
    arrangement_to_midi(progression).save(str(path))
    notes = read_midi_notes(path)
    segments = parse_lab(format_lab(progression.chords))  # the LAB text, read back
    labelled = [s for s in segments if s.label != "N"]
    assert len(labelled) == len(LABELS)
    for seg in labelled:
        first = min(
            n.start_s for part in ("comp", "bass") for n in notes[part] if n.start_s >= seg.start_s
        )
        assert first == pytest.approx(seg.start_s, abs=1e-6)  # struck exactly at the label
    # no note of a chord sounds past its end
    for part in ("comp", "bass"):
        for note in notes[part]:
            seg = next(s for s in segments if s.start_s - 1e-6 <= note.start_s < s.end_s)
            assert note.end_s <= seg.end_s + 1e-6
            assert note.pitch % 12 in parse_chord(seg.label).pitch_classes


@pytest.mark.fluidsynth
def test_audio_onsets_follow_midi_note_times():
    # a woodblock hit at known times: the rendered onset lags by the attack and FluidSynth's
    # 64-sample blocks only (a few ms, far below a CQT frame)
    from chordcli.corpus.arrangement import Note, Part

    font = next(s for s in find_soundfonts() if s.name == "TimGM6mb.sf2")
    for time_s in (0.5, 1.0, quantize_s(1.7371)):
        hit = Part("drums", 0, (Note(time_s, time_s + 0.1, 76, 127),), is_drum=True, reverb=0)
        arrangement = Arrangement((hit,), (ChordSegment(0.0, 3.0, "N"),), (), (), 3.0)
        audio = render_arrangement(arrangement, font, mix=DRY)
        envelope = np.abs(audio).max(axis=1)
        onset_s = np.argmax(envelope > 0.05 * envelope.max()) / 44100
        assert 0.0 <= onset_s - time_s < 0.010
