"""The v2 corpus variant: styles, sung leads, power chords, the mixing chain, its SoundFonts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from chordcli.corpus.arrangement import Arrangement, arrangement_to_midi
from chordcli.corpus.build import arrange_job, plan_corpus, render_corpus
from chordcli.corpus.mixing import apply_chain, draw_chain
from chordcli.corpus.rare import arrange_rare
from chordcli.corpus.render import (
    SoundFont,
    find_soundfonts,
    split_soundfonts,
    v2_soundfonts,
)
from chordcli.corpus.styles import (
    STYLES,
    VOICE_PROGRAMS,
    VOICE_RANGES,
    gm_family,
    power_voicing,
    v2_arrangement,
)
from tests.chordcli.test_corpus import BILLBOARD_FIXTURE, assert_contiguous, chord_at
from theory import parse_chord

FONTS = [
    SoundFont(n, Path("/x") / n)
    for n in ("A.sf2", "B.sf3", "OPL-3_FM_128M.sf2", "sf_GMbank.sf2", "Black_Pearl_4_LV2.sf2")
]
HARMONIC = ("comp", "pad", "bass", "power")


def _songs() -> list[Arrangement]:
    """Source arrangements: the Billboard fixture and rare pieces with slash chords."""
    job = plan_corpus(
        soundfonts=FONTS, sources=["billboard"], split="all", billboard_dir=BILLBOARD_FIXTURE
    )[0]
    rng = np.random.default_rng(3)
    rare = [arrange_rare(q, r, rng=rng) for q, r in (("maj", 2), ("min7", 9), ("7(#9)", 4))]
    return [arrange_job(job), *rare]


@pytest.fixture(scope="module")
def arranged() -> list[tuple[Arrangement, Arrangement]]:
    return [
        (song, v2_arrangement(song, rng=np.random.default_rng(seed)))
        for song in _songs()
        for seed in range(8)
    ]


def test_v2_keeps_the_labels_beats_and_length(arranged):
    for song, v2 in arranged:
        assert v2.chords == song.chords and v2.beats == song.beats
        assert v2.duration_s == song.duration_s
        assert_contiguous(v2.chords, v2.duration_s)
        assert v2.info["v2"]["style"] in STYLES


def test_harmonic_parts_play_only_label_tones_and_the_bass_plays_the_written_bass(arranged):
    for _, v2 in arranged:
        for part in v2.parts:
            if part.name not in HARMONIC:
                continue
            for note in part.notes:
                chord = parse_chord(chord_at(v2.chords, note.start_s).label)
                assert note.pitch % 12 in chord.pitch_classes, (part.name, note)
                assert note.end_s <= chord_at(v2.chords, note.start_s).end_s + 1e-9
                if part.name == "bass":
                    assert note.pitch % 12 == chord.bass_pc


def test_chord_tones_cover_every_label(arranged):
    for _, v2 in arranged:
        parts = [p for p in v2.parts if p.name in ("comp", "pad", "bass")]
        for segment in v2.chords:
            if segment.label in ("N", "X") or segment.duration_s < 0.2:
                continue
            heard = {
                n.pitch % 12
                for p in parts
                for n in p.notes
                if segment.start_s <= n.start_s < segment.end_s
            }
            assert parse_chord(segment.label).pitch_classes <= heard, segment


def test_slash_chords_are_voiced_over_their_bass(arranged):
    seen = 0
    for _, v2 in arranged:
        comp = next((p for p in v2.parts if p.name == "comp"), None)
        for segment in v2.chords if comp else ():
            chord = parse_chord(segment.label) if segment.label not in ("N", "X") else None
            if chord is None or chord.bass_pc == chord.root_pc:
                continue
            first = [n for n in comp.notes if segment.start_s <= n.start_s < segment.start_s + 0.05]
            if first:
                seen += 1
                assert min(n.pitch for n in first) % 12 == chord.bass_pc, segment
    assert seen > 0


@pytest.mark.parametrize(
    "label, pcs",
    [("E:min", {4, 11}), ("C:maj/3", {0, 7}), ("A:5", {9, 4}), ("G:7", {7, 2})],
)
def test_power_chords_where_the_label_has_root_and_fifth(label, pcs):
    notes = power_voicing(label, low=40)
    assert {n % 12 for n in notes} == pcs and len(notes) == 3 and min(notes) >= 40


@pytest.mark.parametrize("label", ["B:dim", "C:aug", "F#:hdim7"])
def test_no_power_chord_without_a_perfect_fifth(label):
    notes = power_voicing(label, low=40)
    assert {n % 12 for n in notes} == parse_chord(label).pitch_classes


def test_power_guitar_plays_beside_full_voicings():
    song = _songs()[1]
    found = 0
    for seed in range(60):
        v2 = v2_arrangement(song, rng=np.random.default_rng(seed))
        names = {p.name for p in v2.parts}
        if "power" in names:
            found += 1
            assert "comp" in names
            power = next(p for p in v2.parts if p.name == "power")
            assert gm_family(power.program) == "guitar"
    assert found >= 3


def test_sung_leads_stay_in_their_range_and_bend(arranged):
    sung = 0
    for _, v2 in arranged:
        voice = v2.info["v2"].get("voice")
        lead = next((p for p in v2.parts if p.name == "melody"), None)
        if voice is None or lead is None:
            continue
        sung += 1
        low, high = VOICE_RANGES[voice]
        assert lead.program in VOICE_PROGRAMS and lead.bend_range == 2
        assert all(low <= n.pitch < high for n in lead.notes)
        bends = [c.value for c in lead.controls if c.control < 0]
        assert bends and max(abs(b) for b in bends) <= 8191
    assert sung >= 5


def test_tuning_offsets_are_within_50_cents_and_written_as_fine_tuning(arranged):
    import mido

    offsets = [v2.info["v2"]["tuning_cents"] for _, v2 in arranged]
    assert all(abs(c) <= 50 for c in offsets) and any(offsets) and 0.0 in offsets
    song = next(v2 for _, v2 in arranged if v2.info["v2"]["tuning_cents"])
    buffer = io.BytesIO()
    arrangement_to_midi(song).save(file=buffer)
    midi = mido.MidiFile(file=io.BytesIO(buffer.getvalue()))
    rpn = [(m.control, m.value) for t in midi.tracks for m in t if m.type == "control_change"]
    assert (100, 1) in rpn  # RPN 1: channel fine tuning


def test_same_seed_same_midi_and_effects():
    song = _songs()[0]

    def midi_bytes(seed: int) -> bytes:
        buffer = io.BytesIO()
        arrangement_to_midi(v2_arrangement(song, rng=np.random.default_rng(seed))).save(file=buffer)
        return buffer.getvalue()

    assert midi_bytes(5) == midi_bytes(5) != midi_bytes(6)
    assert draw_chain(np.random.default_rng(5)) == draw_chain(np.random.default_rng(5))


def test_v2_soundfonts_leave_out_dev_and_cross_sets():
    melodic, kits = v2_soundfonts(FONTS)
    assert [s.name for s in melodic] == ["A.sf2", "B.sf3"]
    assert [s.name for s in kits] == ["Black_Pearl_4_LV2.sf2"]
    # the v1 split is unchanged by drum kits being installed
    train, dev = split_soundfonts(FONTS)
    assert [s.name for s in train] == ["A.sf2", "B.sf3"] and dev.name == "sf_GMbank.sf2"


def test_v2_plan_writes_its_own_folder_and_dev_uses_the_dev_soundfont():
    jobs = plan_corpus(soundfonts=FONTS, sources=["rare"], split="all", variant="v2")
    for job in jobs:
        assert job.stem.startswith(f"{job.split}-v2/rare/")
        names = {s.name for s in job.soundfont_pool}
        if job.split == "dev":
            assert names == {"sf_GMbank.sf2"} and not job.drum_kits
        else:
            assert "OPL-3_FM_128M.sf2" not in names and "sf_GMbank.sf2" not in names


def test_mixing_chain_gives_a_limited_stereo_mix():
    pytest.importorskip("pedalboard", reason="pedalboard (the corpus extra) is not installed")
    rng = np.random.default_rng(0)
    t = np.arange(44100) / 44100
    tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    stems = {name: np.stack([tone, tone], axis=1) for name in ("band", "guitar", "lead")}
    audio = apply_chain(stems, chain=draw_chain(rng), sample_rate_hz=44100)
    assert audio.shape == (44100, 2) and np.isfinite(audio).all()
    assert 0 < np.abs(audio).max() <= 0.99


@pytest.mark.fluidsynth
def test_v2_render_of_one_piece_is_resumable_and_recorded(tmp_path):
    pytest.importorskip("pedalboard", reason="pedalboard (the corpus extra) is not installed")
    fonts = [s for s in find_soundfonts() if s.name == "TimGM6mb.sf2"]
    jobs = plan_corpus(
        soundfonts=fonts, sources=["billboard"], split="all", billboard_dir=BILLBOARD_FIXTURE,
        variant="v2",
    )  # fmt: skip
    results = list(render_corpus(jobs, tmp_path))
    assert [r.status for r in results] == ["rendered"], results[0].error
    base = tmp_path / jobs[0].stem
    entry = json.loads(base.with_suffix(".json").read_text())
    assert entry["variant"] == "v2" and entry["info"]["v2"]["style"] in STYLES
    assert set(entry["stems"].values()) == {"TimGM6mb.sf2"} and "room_size" in entry["effects"]
    audio, rate = soundfile.read(str(base.with_suffix(".flac")))
    assert rate == 44100 and audio.shape[1] == 2
    assert len(audio) == pytest.approx(entry["duration_s"] * rate, abs=2)
    assert np.isfinite(audio).all() and 0.01 < np.abs(audio).max() <= 0.99
    assert [r.status for r in render_corpus(jobs, tmp_path)] == ["skipped"]
