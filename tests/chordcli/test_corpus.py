"""Corpus building: arrangements realise their labels, splits, layout, manifest and balance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

from chordcli.cli import app
from chordcli.corpus.arrangement import (
    TICKS_PER_SECOND,
    Arrangement,
    Beat,
    Note,
    Part,
    arrangement_to_midi,
    quantize_s,
    read_midi_notes,
)
from chordcli.corpus.band import COMP_PATTERNS, bass_part, comp_part, voicing
from chordcli.corpus.billboard import (
    arrange_billboard,
    parse_salami,
    progression_timeline,
    read_salami,
)
from chordcli.corpus.build import (
    DEV_PERCENT,
    arrange_job,
    corpus_balance,
    draw_lead_db,
    plan_corpus,
    planned_balance,
    render_corpus,
    scale_lead,
    song_split,
    write_manifest,
)
from chordcli.corpus.pop909 import arrange_pop909, load_pop909
from chordcli.corpus.rare import CONTEXTS, TARGET_SECONDS, arrange_rare
from chordcli.corpus.render import (
    SoundFont,
    find_soundfonts,
    select_soundfonts,
    split_soundfonts,
)
from chordcli.errors import ChordcliError
from chordcli.lab import read_lab
from chordcli.segments import ChordSegment
from theory import parse_chord
from theory.vocabulary import QUALITIES

BILLBOARD_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "corpus" / "billboard"
HARMONIC_PARTS = ("comp", "pad", "bass", "piano_added")


def chord_at(chords, time_s: float) -> ChordSegment:
    return next(c for c in chords if c.start_s <= time_s + 1e-9 < c.end_s)


def assert_parts_realise_labels(arrangement: Arrangement, names=("comp", "pad", "bass")) -> None:
    """Every note of the harmonic parts is a tone of the label sounding at its start, and it
    ends by the end of that label; each labelled chord is struck at its start."""
    chords = arrangement.chords
    for part in arrangement.parts:
        if part.name not in names:
            continue
        starts = set()
        for note in part.notes:
            chord = chord_at(chords, note.start_s)
            assert note.pitch % 12 in parse_chord(chord.label).pitch_classes, (part.name, chord)
            assert note.end_s <= chord.end_s + 1e-9
            starts.add(note.start_s)
            if part.name == "bass":
                assert note.pitch % 12 == parse_chord(chord.label).bass_pc
        if part.name in ("comp", "bass"):
            for chord in chords:
                if chord.label != "N":
                    assert chord.start_s in starts, (part.name, chord)


def assert_contiguous(chords, duration_s: float) -> None:
    assert chords[0].start_s == 0.0
    assert chords[-1].end_s == pytest.approx(duration_s)
    for a, b in zip(chords, chords[1:], strict=False):
        assert a.end_s == b.start_s
        assert a.label != b.label


# -- voicings and band parts ----------------------------------------------------------------


@pytest.mark.parametrize(
    "label", ["C:maj", "A:min7", "F:maj7/3", "G:13", "Eb:minmaj7(9)", "B:(3,b5,b7)", "D:5"]
)
@pytest.mark.parametrize("low", [48, 55])
def test_voicing_has_every_pitch_class_once(label, low):
    rng = np.random.default_rng(0)
    notes = voicing(label, low=low, rng=rng)
    assert notes == sorted(notes) and notes[0] >= low
    assert sorted(n % 12 for n in notes) == sorted(parse_chord(label).pitch_classes)


def test_voicing_follows_previous_voicing():
    previous = [60, 64, 67]
    notes = voicing("F:maj", low=52, previous=previous)
    assert abs(np.mean(notes) - np.mean(previous)) < 4


def _grid(labels, *, chord_s=2.0, beat_s=0.5):
    chords = [ChordSegment(0.0, 0.5, "N")]
    for i, label in enumerate(labels):
        chords.append(
            ChordSegment(quantize_s(0.5 + i * chord_s), quantize_s(0.5 + (i + 1) * chord_s), label)
        )
    end = chords[-1].end_s
    chords.append(ChordSegment(end, end + 1.0, "N"))
    n_beats = int(len(labels) * chord_s / beat_s)
    beats = [Beat(quantize_s(0.5 + i * beat_s), i % 4 + 1) for i in range(n_beats)]
    return chords, beats


@pytest.mark.parametrize("pattern", COMP_PATTERNS)
@pytest.mark.parametrize("subdivisions", [2, 3])
def test_comp_and_bass_play_only_label_tones(pattern, subdivisions):
    chords, beats = _grid(["C:maj", "A:min7/b7", "D:9", "G:sus4(b7)"], chord_s=1.75)
    rng = np.random.default_rng(1)
    parts = (
        comp_part(chords, beats, program=0, pattern=pattern, rng=rng, subdivisions=subdivisions),
        bass_part(chords, beats, program=33, pattern="octave", rng=rng, subdivisions=subdivisions),
    )
    arrangement = Arrangement(parts, tuple(chords), tuple(beats), ((0.0, 10.0, 0),), 10.0)
    assert_parts_realise_labels(arrangement)


def test_compound_metre_plays_three_eighths_per_beat(shared_data):
    from chordcli.corpus.band import drum_part

    folder = shared_data / "billboard" / "billboard-2.0-salami_chords" / "0003"
    song = read_salami(folder / "salami_chords.txt")
    assert song.metre == "6/8"
    arrangement = arrange_billboard(song, rng=np.random.default_rng(0))
    assert arrangement.info["style"]["subdivisions"] == 3
    chords, beats = _grid(["C:maj", "G:7"], beat_s=0.6)
    drums = drum_part(chords, beats, pattern="rock", rng=np.random.default_rng(0), subdivisions=3)
    hats = sorted(n.start_s for n in drums.notes if n.pitch == 42)
    assert np.diff(hats) == pytest.approx(0.2, abs=1e-3)


def test_band_rests_on_unknown_and_no_chord():
    from chordcli.corpus.band import BandStyle, band_parts

    chords, beats = _grid(["C:maj", "X", "N", "G:7"])
    style = BandStyle(0, 48, 33, 73, "eighth", "quarter", "rock")
    parts = band_parts(chords, beats, style=style, key=0, rng=np.random.default_rng(3))
    assert {p.name for p in parts} == {"comp", "pad", "bass", "drums", "melody"}
    silent = [c for c in chords[1:-1] if c.label in ("X", "N")]
    for part in parts:
        if part.name != "drums":
            assert not any(c.start_s <= n.start_s < c.end_s for n in part.notes for c in silent)


# -- MIDI ----------------------------------------------------------------------------------


def test_midi_round_trip_keeps_times_on_the_tick_grid(tmp_path):
    notes = (Note(quantize_s(0.1234), quantize_s(0.9), 60, 90), Note(1.0, 1.5, 64, 80))
    drums = (Note(0.5, 0.6, 36, 100),)
    arrangement = Arrangement(
        (Part("comp", 4, notes), Part("drums", 0, drums, is_drum=True)),
        (ChordSegment(0.0, 2.0, "C:maj"),),
        (),
        (),
        2.0,
    )
    path = tmp_path / "a.mid"
    arrangement_to_midi(arrangement).save(str(path))
    back = read_midi_notes(path)
    # a 2-D array, not a list of tuples: pytest 9's approx refuses nested structures
    np.testing.assert_allclose(
        [(n.start_s, n.end_s, n.pitch) for n in back["comp"]],
        [(n.start_s, n.end_s, n.pitch) for n in notes],
        rtol=0,
        atol=1e-9,
    )
    assert back["drums"][0].start_s == pytest.approx(0.5, abs=1e-9)
    assert quantize_s(0.1234) * TICKS_PER_SECOND == pytest.approx(round(0.1234 * TICKS_PER_SECOND))


def test_pop909_midi_reader_respects_the_tempo_map(shared_data):
    # chord_midi.txt is in seconds of the MIDI: the first piano notes start at the first chord
    notes = read_midi_notes(shared_data / "pop909" / "001" / "001.mid")["PIANO"]
    chords = load_pop909(shared_data / "pop909" / "001").chords
    first_chord = next(c for c in chords if c.label != "N")
    assert min(abs(n.start_s - first_chord.start_s) for n in notes) < 0.01


# -- sources --------------------------------------------------------------------------------


def test_parse_salami_slots_metre_repeats_and_tonic():
    text = (
        "# title: T\n# artist: A\n# metre: 4/4\n# tonic: C\n\n0.0\tsilence\n"
        "1.0\tA, intro, | C:maj . G:maj . | (2/4) F:maj |, x2\n"
        "# tonic: D\n"
        "4.0\t| D:min7 | &pause |\n"
        "6.0\t| N |\n"
        "8.0\tend\n"
    )
    song = parse_salami(text, song_id="x")
    assert [b.slots for b in song.bars] == [
        ("C:maj", "C:maj", "G:maj", "G:maj"),
        ("F:maj",),
        ("C:maj", "C:maj", "G:maj", "G:maj"),
        ("F:maj",),
        ("D:min7",),
    ]  # trailing silence (&pause, N) dropped
    assert [b.beats for b in song.bars[:2]] == [4.0, 2.0]
    assert song.bars[0].tonic_pc == 0 and song.bars[4].tonic_pc == 2
    assert song.beat_s == pytest.approx(0.25)  # 12 beats in 3 s
    chords, beats, keys, end_s = progression_timeline(song, tempo_bpm=120.0)
    assert [c.label for c in chords] == ["N", "C:maj", "G:maj", "F:maj", "C:maj", "G:maj",
                                         "F:maj", "D:min7"]  # fmt: skip
    assert chords[1].start_s == 0.5 and chords[2].start_s == pytest.approx(1.5, abs=1e-3)
    assert end_s == pytest.approx(0.5 + 16 * 0.5) == chords[-1].end_s
    assert [b.beat_in_bar for b in beats[:7]] == [1, 2, 3, 4, 1, 2, 1]
    assert [k[2] for k in keys] == [0, 2]  # C major, then D major


def test_parse_salami_rejects_bad_labels():
    with pytest.raises(ChordcliError, match="line 2"):
        parse_salami("# metre: 4/4\n1.0\t| C:mja |\n", source="s.txt")


def test_every_billboard_file_parses_and_arranges(shared_data):
    from chordcli.corpus.billboard import billboard_song_dirs

    dirs = billboard_song_dirs(shared_data / "billboard")
    assert len(dirs) >= 500
    for d in dirs[::40]:
        song = read_salami(d / "salami_chords.txt")
        arrangement = arrange_billboard(song, rng=np.random.default_rng(0))
        assert 40 <= arrangement.tempo_bpm <= 180
        assert_contiguous(arrangement.chords, arrangement.duration_s)
        assert_parts_realise_labels(arrangement)


def test_pop909_arrangement_adds_bass_and_drums_on_the_labels(shared_data):
    song = load_pop909(shared_data / "pop909" / "001")
    assert set(song.tracks) == {"MELODY", "BRIDGE", "PIANO"}
    assert song.keys[0][2] == 6  # Gb major
    downbeats = [b.time_s for b in song.beats if b.beat_in_bar == 1]
    assert downbeats[:2] == [quantize_s(0.055333), quantize_s(2.721993)]
    for seed in range(4):
        arrangement = arrange_pop909(song, rng=np.random.default_rng(seed))
        assert_contiguous(arrangement.chords, arrangement.duration_s)
        assert_parts_realise_labels(arrangement, names=("pad", "bass"))
        original = {n.start_s for n in arrangement.parts[2].notes}
        assert original == {n.start_s for n in song.tracks["PIANO"]}


def test_rare_contexts_cover_every_quality():
    assert [c.quality for c in CONTEXTS] == [q.harte for q in QUALITIES]


@pytest.mark.parametrize("quality", ["minmaj7(9)", "7(#11)", "sus4(b7,9)", "(3,b5,b7)", "maj"])
@pytest.mark.parametrize("root", [0, 7, 10])
def test_rare_piece_gives_enough_target_time(quality, root):
    arrangement = arrange_rare(quality, root, rng=np.random.default_rng(root))
    target = 0.0
    for chord in arrangement.chords:
        parsed = parse_chord(chord.label)
        if parsed.root_pc == root and parsed.intervals == parse_chord("C:" + quality).intervals:
            target += chord.duration_s
    assert target >= TARGET_SECONDS
    assert_contiguous(arrangement.chords, arrangement.duration_s)
    assert_parts_realise_labels(arrangement)


# -- plan, split, SoundFonts ----------------------------------------------------------------


def test_song_split_is_fixed_and_holds_out_about_ten_percent():
    splits = [song_split("pop909", f"{i:03d}") for i in range(1, 910)]
    assert splits == [song_split("pop909", f"{i:03d}") for i in range(1, 910)]
    share = splits.count("dev") / len(splits)
    assert abs(share - DEV_PERCENT / 100) < 0.03


def test_rare_dev_split_holds_out_one_root_per_quality():
    from chordcli.corpus.rare import rare_piece_id, rare_pieces

    dev = [q for q, r in rare_pieces() if song_split("rare", rare_piece_id(q, r)) == "dev"]
    assert sorted(dev) == sorted(q.harte for q in QUALITIES)


FONTS = [SoundFont(n, Path("/x") / n) for n in ("A.sf2", "B.sf2", "sf_GMbank.sf2")]


def test_dev_soundfont_is_held_out():
    train, dev = split_soundfonts(FONTS)
    assert dev.name == "sf_GMbank.sf2" and dev not in train
    jobs = plan_corpus(soundfonts=FONTS, sources=["rare"], split="all")
    assert len(jobs) == 44 * 12
    for job in jobs:
        assert (job.soundfont == dev) == (job.split == "dev")
        assert job.stem == f"{job.split}/rare/{job.song_id}"
    assert {j.split for j in plan_corpus(soundfonts=FONTS, sources=["rare"], split="dev")} == {
        "dev"
    }
    seeds = [j.seed for j in jobs]
    assert seeds == [j.seed for j in plan_corpus(soundfonts=FONTS, sources=["rare"], split="all")]
    assert seeds != [
        j.seed for j in plan_corpus(soundfonts=FONTS, sources=["rare"], split="all", seed=1)
    ]


def test_single_soundfont_serves_both_splits():
    train, dev = split_soundfonts(FONTS[:1])
    assert train == [dev]


def test_select_soundfonts_by_name_and_errors():
    assert select_soundfonts(FONTS, ["b", "A.sf2"]) == [FONTS[1], FONTS[0]]
    with pytest.raises(ChordcliError, match="unknown SoundFont 'nope'"):
        select_soundfonts(FONTS, ["nope"])


def test_only_the_known_general_midi_sets_are_used_unless_named():
    """A SoundFont of unknown content (an evaluation set, say) renders nothing by default."""
    assert select_soundfonts(FONTS) == [FONTS[2]]  # sf_GMbank.sf2; A and B only when named
    with pytest.raises(ChordcliError, match="no General MIDI SoundFont the corpus knows"):
        select_soundfonts(FONTS[:2])
    with pytest.raises(ChordcliError, match="no General MIDI SoundFont the corpus knows"):
        select_soundfonts([])


def test_plan_rejects_unknown_source_and_missing_folder(tmp_path):
    with pytest.raises(ChordcliError, match="unknown source"):
        plan_corpus(soundfonts=FONTS, sources=["mp3s"])
    with pytest.raises(ChordcliError, match="not found"):
        plan_corpus(soundfonts=FONTS, sources=["pop909"], pop909_dir=tmp_path / "none")


def test_plan_keeps_only_the_listed_song_ids():
    plan = lambda ids: plan_corpus(  # noqa: E731
        soundfonts=FONTS, sources=["billboard", "rare"], split="all",
        billboard_dir=BILLBOARD_FIXTURE, song_ids=ids,
    )  # fmt: skip
    everything = plan(None)
    rare_id = next(j.song_id for j in everything if j.source == "rare")
    assert [j.song_id for j in plan(["9001", rare_id])] == ["9001", rare_id]
    assert plan(["nope"]) == []


def test_scale_lead_changes_only_the_lead_parts():
    note = Note(0.0, 1.0, 60, 90)
    parts = (Part("melody", 80, (note,), volume=100), Part("bridge", 80, (note,), volume=120),
             Part("piano", 0, (note,), volume=100))  # fmt: skip
    chords = (ChordSegment(0.0, 1.0, "C:maj"),)
    arrangement = Arrangement(parts=parts, chords=chords, beats=(), keys=(), duration_s=1.0)
    quiet = scale_lead(arrangement, -12.0)  # volume is 40 * log10(v / 127) dB
    assert [p.volume for p in quiet.parts] == [50, 60, 100]
    assert [p.volume for p in scale_lead(arrangement, 6.0).parts] == [127, 127, 100]
    assert quiet.chords == arrangement.chords and quiet.parts[0].notes == parts[0].notes
    assert scale_lead(arrangement, 0.0) == arrangement


def test_lead_gain_is_drawn_per_file_apart_from_the_arrangement():
    plan = lambda **kw: plan_corpus(  # noqa: E731
        soundfonts=FONTS, sources=["billboard", "rare"], split="all",
        billboard_dir=BILLBOARD_FIXTURE, seed=1, **kw,
    )  # fmt: skip
    plain, varied = plan()[:6], plan(lead_db=(-30.0, 0.0))[:6]
    gains = [draw_lead_db(j) for j in varied]
    assert all(-30.0 <= g <= 0.0 for g in gains) and len(set(gains)) == len(gains)
    assert gains == [draw_lead_db(j) for j in plan(lead_db=(-30.0, 0.0))[:6]]
    assert [draw_lead_db(j) for j in plain] == [None] * 6
    # the arrangement (programs, notes, labels) is the same with or without a range
    assert arrange_job(varied[0]) == arrange_job(plain[0])
    for bad in [(0.0, -5.0), (-10.0, 20.0), (float("nan"), 0.0)]:
        with pytest.raises(ChordcliError, match="bad lead gain range"):
            plan(lead_db=bad)


# -- rendering ------------------------------------------------------------------------------


def _render_fixture(out: Path, *, workers: int = 1) -> list:
    fonts = select_soundfonts(find_soundfonts(), ["TimGM6mb"])
    jobs = plan_corpus(
        soundfonts=fonts, sources=["billboard"], split="all", billboard_dir=BILLBOARD_FIXTURE
    )
    return jobs, list(render_corpus(jobs, out, workers=workers))


@pytest.mark.fluidsynth
def test_render_writes_the_data_folder_and_resumes(tmp_path):
    jobs, results = _render_fixture(tmp_path)
    assert [r.status for r in results] == ["rendered"]
    stem = tmp_path / jobs[0].stem
    audio, rate = soundfile.read(str(stem.with_suffix(".flac")), always_2d=True)
    info = soundfile.info(str(stem.with_suffix(".flac")))
    assert (rate, audio.shape[1], info.format) == (44100, 2, "FLAC")
    segments = read_lab(stem.with_suffix(".lab"))
    assert len(audio) == round(segments[-1].end_s * rate)
    assert 0.01 < np.sqrt(np.mean(audio**2)) and np.max(np.abs(audio)) <= 0.99
    assert [s.label for s in segments][1:5] == ["C:maj", "A:min7", "F:maj7/3", "G:7"]
    assert stem.with_suffix(".key").read_text().split("\t")[2].strip() == "C:major"
    beats = [line.split("\t") for line in stem.with_suffix(".beats").read_text().splitlines()]
    assert [int(b[1]) for b in beats[:6]] == [1, 2, 3, 4, 1, 2]
    entry = json.loads(stem.with_suffix(".json").read_text())
    assert entry["soundfont"] == "TimGM6mb.sf2" and entry["source"] == "billboard"
    assert {"programs", "seed", "tempo_bpm", "duration_s", "split"} <= set(entry)
    # resumable: a second run skips the finished file
    again = list(render_corpus(jobs, tmp_path))
    assert [r.status for r in again] == ["skipped"]
    manifest = write_manifest(jobs, tmp_path).read_text().splitlines()
    assert [json.loads(line)["song_id"] for line in manifest] == ["9001"]
    balance = corpus_balance(tmp_path)
    index = [q.harte for q in QUALITIES]
    row = 2  # all
    assert balance.quality_minutes[row, index.index("min9")] == pytest.approx(
        sum(s.duration_s for s in segments if s.label == "D:min9") / 60
    )
    assert balance.total_minutes[row] == pytest.approx(segments[-1].end_s / 60)
    planned = planned_balance(jobs)  # from the arrangements alone, as --dry-run prints it
    np.testing.assert_allclose(planned.quality_minutes, balance.quality_minutes, atol=1e-6)
    np.testing.assert_allclose(planned.root_minutes, balance.root_minutes, atol=1e-6)


@pytest.mark.fluidsynth
def test_render_with_a_lead_gain_records_it_and_changes_only_the_lead(tmp_path):
    fonts = select_soundfonts(find_soundfonts(), ["TimGM6mb"])
    plan = lambda **kw: plan_corpus(  # noqa: E731
        soundfonts=fonts, sources=["billboard"], split="all", billboard_dir=BILLBOARD_FIXTURE,
        seed=1, **kw,
    )  # fmt: skip
    assert "melody" in [p.name for p in arrange_job(plan()[0]).parts]  # seed 1 has a melody
    plain, quiet = plan(), plan(lead_db=(-30.0, -30.0))
    list(render_corpus(plain, tmp_path / "plain"))
    list(render_corpus(quiet, tmp_path / "quiet"))
    stem = plain[0].stem
    entry = json.loads((tmp_path / "quiet" / f"{stem}.json").read_text())
    assert entry["lead_db"] == -30.0
    assert "lead_db" not in json.loads((tmp_path / "plain" / f"{stem}.json").read_text())
    assert (tmp_path / "quiet" / f"{stem}.lab").read_text() == (
        tmp_path / "plain" / f"{stem}.lab"
    ).read_text()
    a = soundfile.read(str(tmp_path / "plain" / f"{stem}.flac"))[0]
    b = soundfile.read(str(tmp_path / "quiet" / f"{stem}.flac"))[0]
    assert a.shape == b.shape and not np.array_equal(a, b)


@pytest.mark.fluidsynth
def test_render_is_deterministic(tmp_path):
    jobs, _ = _render_fixture(tmp_path / "a")
    _render_fixture(tmp_path / "b")
    a = soundfile.read(str((tmp_path / "a" / jobs[0].stem).with_suffix(".flac")))[0]
    b = soundfile.read(str((tmp_path / "b" / jobs[0].stem).with_suffix(".flac")))[0]
    assert np.array_equal(a, b)


@pytest.mark.fluidsynth
def test_cli_data_render(tmp_path):
    runner = CliRunner()
    args = ["data", "render", "--sources", "billboard", "--billboard", str(BILLBOARD_FIXTURE),
            "--split", "all", "--soundfonts", "TimGM6mb", "--out", str(tmp_path),
            "--jobs", "2"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "balance.md").is_file() and (tmp_path / "balance.csv").is_file()
    assert "1 rendered" in result.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "1 already done" in again.output
    dry = runner.invoke(app, [*args, "--dry-run", "--out", str(tmp_path / "dry")])
    assert dry.exit_code == 0 and "1 files planned" in dry.output
    assert "min9" in dry.output and not (tmp_path / "dry").exists()
    bad = runner.invoke(app, ["data", "render", "--sources", "mp3", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    missing = runner.invoke(
        app, ["data", "render", "--soundfonts", "nope.sf2", "--out", str(tmp_path)]
    )
    assert missing.exit_code == 1 and "unknown SoundFont" in missing.output
    ids = tmp_path / "ids.txt"
    ids.write_text("0003\n")
    none = runner.invoke(app, [*args, "--ids", str(ids), "--dry-run", "--out", str(tmp_path / "d")])
    assert none.exit_code == 0 and "0 files planned" in none.output
    ids.write_text("9001\n")
    one = runner.invoke(app, [*args, "--ids", str(ids), "--dry-run", "--out", str(tmp_path / "d")])
    assert one.exit_code == 0 and "1 files planned" in one.output
    unreadable = runner.invoke(app, [*args, "--ids", str(tmp_path / "no.txt")])
    assert unreadable.exit_code == 1 and "cannot read id list" in unreadable.output
    not_range = runner.invoke(app, [*args, "--lead-db", "x,1"])
    assert not_range.exit_code == 2 and "LOW,HIGH" in not_range.output
    reversed_range = runner.invoke(app, [*args, "--lead-db", "0,-5"])
    assert reversed_range.exit_code == 1 and "bad lead gain range" in reversed_range.output
