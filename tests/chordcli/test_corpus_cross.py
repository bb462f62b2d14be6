"""The dev-cross variants of the corpus: the second arranger, its SoundFonts, degraded copies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

from chordcli.cli import app
from chordcli.corpus.band import BASS_PROGRAMS, COMP_PROGRAMS, LEAD_PROGRAMS, PAD_PROGRAMS
from chordcli.corpus.build import arrange_job, plan_corpus, render_corpus
from chordcli.corpus.cross import (
    CROSS_BASS_PATTERNS,
    CROSS_COMP_PATTERNS,
    CROSS_COMP_PROGRAMS,
    CROSS_LEAD_PROGRAMS,
    cross_bass_part,
    cross_comp_part,
    inverted_voicing,
    stretch_arrangement,
)
from chordcli.corpus.render import SoundFont, cross_soundfonts, find_soundfonts, split_soundfonts
from chordcli.lab import read_lab
from tests.chordcli.test_corpus import (
    BILLBOARD_FIXTURE,
    _grid,
    assert_contiguous,
    assert_parts_realise_labels,
)
from theory import parse_chord

FONTS = [SoundFont(n, Path("/x") / n) for n in ("A.sf2", "OPL-3_FM_128M.sf2", "sf_GMbank.sf2")]


def test_cross_soundfonts_are_never_training_fonts():
    train, dev = split_soundfonts(FONTS)
    assert [s.name for s in train] == ["A.sf2"] and dev.name == "sf_GMbank.sf2"
    assert [s.name for s in cross_soundfonts(FONTS)] == ["OPL-3_FM_128M.sf2", "sf_GMbank.sf2"]
    jobs = plan_corpus(soundfonts=FONTS, sources=["rare"], split="dev", variant="cross")
    assert {j.soundfont.name for j in jobs} == {"OPL-3_FM_128M.sf2", "sf_GMbank.sf2"}
    assert all(j.stem == f"dev-cross/rare/{j.song_id}" for j in jobs)
    train_jobs = plan_corpus(soundfonts=FONTS, sources=["rare"], split="train")
    assert {j.soundfont.name for j in train_jobs} == {"A.sf2"}


def test_every_kth_song_is_a_deterministic_subset():
    everything = plan_corpus(soundfonts=FONTS, sources=["rare"], split="dev")
    subset = plan_corpus(soundfonts=FONTS, sources=["rare"], split="dev", every=4)
    assert [j.song_id for j in subset] == [j.song_id for j in everything][::4]


def test_unknown_variant_is_refused():
    from chordcli.errors import ChordcliError

    with pytest.raises(ChordcliError, match="unknown variant"):
        plan_corpus(soundfonts=FONTS, sources=["rare"], variant="wobbly")


@pytest.mark.parametrize("label", ["C:maj/3", "A:min7/b7", "F:maj7/5", "G:7/3", "D:min/5"])
def test_inverted_voicing_puts_the_slash_bass_lowest(label):
    chord = parse_chord(label)
    for seed in range(5):
        notes = inverted_voicing(label, low=48, rng=np.random.default_rng(seed))
        assert notes[0] % 12 == chord.bass_pc and notes[0] >= 48
        assert {n % 12 for n in notes} == set(chord.pitch_classes)


def test_root_position_voicings_use_every_inversion():
    lowest = {inverted_voicing("C:maj7", low=48, rng=np.random.default_rng(s))[0] % 12
              for s in range(40)}  # fmt: skip
    assert lowest == {0, 4, 7, 11}


@pytest.mark.parametrize("pattern", CROSS_COMP_PATTERNS)
def test_cross_comp_and_bass_play_only_label_tones(pattern):
    from chordcli.corpus.arrangement import Arrangement

    chords, beats = _grid(["C:maj", "A:min7/b7", "D:9", "G:sus4(b7)", "F:maj/3"], chord_s=1.75)
    rng = np.random.default_rng(2)
    parts = [cross_comp_part(chords, beats, program=21, pattern=pattern, rng=rng)]
    parts += [
        cross_bass_part(chords, beats, program=43, pattern=p, rng=rng) for p in CROSS_BASS_PATTERNS
    ]
    for part in parts:
        song = Arrangement(parts=(part,), chords=tuple(chords), beats=tuple(beats), keys=(),
                           duration_s=chords[-1].end_s)  # fmt: skip
        names = ("comp",) if part.name == "comp" else ()
        assert_parts_realise_labels(song, names=names)
        for note in part.notes:
            chord = next(c for c in chords if c.start_s <= note.start_s + 1e-9 < c.end_s)
            pcs = parse_chord(chord.label).pitch_classes
            assert note.pitch % 12 in pcs and note.end_s <= chord.end_s + 1e-9
            if part.name == "bass" and note.start_s == chord.start_s:
                assert note.pitch % 12 == parse_chord(chord.label).bass_pc


def test_stretch_scales_every_time_and_keeps_the_labels():
    job = plan_corpus(
        soundfonts=FONTS, sources=["billboard"], split="all", billboard_dir=BILLBOARD_FIXTURE
    )[0]
    song = arrange_job(job)
    fast = stretch_arrangement(song, 1.25)
    assert fast.duration_s == pytest.approx(song.duration_s / 1.25, abs=1e-3)
    assert [c.label for c in fast.chords] == [c.label for c in song.chords]
    assert fast.chords[3].start_s == pytest.approx(song.chords[3].start_s / 1.25, abs=1e-3)
    assert_contiguous(fast.chords, fast.duration_s)


def test_cross_arrangement_changes_instruments_and_tempo_but_not_labels():
    plan = lambda variant: plan_corpus(  # noqa: E731
        soundfonts=FONTS, sources=["billboard"], split="all", billboard_dir=BILLBOARD_FIXTURE,
        variant=variant,
    )  # fmt: skip
    same, cross = arrange_job(plan("same")[0]), arrange_job(plan("cross")[0])
    assert [c.label for c in cross.chords] == [c.label for c in same.chords]
    factor = cross.info["cross"]["tempo_factor"]
    assert 0.7 <= factor <= 1.3 and abs(factor - 1) >= 0.12
    assert cross.duration_s == pytest.approx(same.duration_s / factor, abs=1e-2)
    training = set(COMP_PROGRAMS + BASS_PROGRAMS + LEAD_PROGRAMS + PAD_PROGRAMS)
    for part in cross.parts:
        if not part.is_drum:
            assert part.program not in training, part
    assert any(p.program in CROSS_COMP_PROGRAMS + CROSS_LEAD_PROGRAMS for p in cross.parts)
    assert_parts_realise_labels(cross, names=("comp", "pad"))


def test_degraded_render_reuses_the_cross_audio_and_stretches_its_labels(tmp_path):
    pytest.importorskip("pedalboard", reason="pedalboard (the corpus extra) is not installed")
    fonts = [s for s in find_soundfonts() if s.name == "TimGM6mb.sf2"]
    plan = lambda variant: plan_corpus(  # noqa: E731
        soundfonts=fonts, sources=["billboard"], split="all", billboard_dir=BILLBOARD_FIXTURE,
        variant=variant,
    )  # fmt: skip
    list(render_corpus(plan("cross"), tmp_path))
    list(render_corpus(plan("degraded"), tmp_path))
    cross = tmp_path / plan("cross")[0].stem
    degraded = tmp_path / plan("degraded")[0].stem
    assert degraded.parts[-3] == "train-degraded"  # 9001 is a training song
    entry = json.loads(degraded.with_suffix(".json").read_text())
    speed = 2 ** (entry["degradation"]["cents"] / 1200)
    assert entry["variant"] == "degraded" and abs(entry["degradation"]["cents"]) <= 50
    a, rate = soundfile.read(str(cross.with_suffix(".flac")))
    b, _ = soundfile.read(str(degraded.with_suffix(".flac")))
    assert len(b) == pytest.approx(len(a) / speed, abs=2)
    assert np.isfinite(b).all() and np.abs(b).max() <= 0.99 and not np.allclose(b[: len(a)], 0)
    la, lb = read_lab(cross.with_suffix(".lab")), read_lab(degraded.with_suffix(".lab"))
    assert [s.label for s in la] == [s.label for s in lb]
    assert lb[-1].end_s == pytest.approx(la[-1].end_s / speed, abs=2e-3)


def test_cli_render_variant_option(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["data", "render", "--variant", "wobbly", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown variant" in bad.output
    args = ["data", "render", "--sources", "billboard", "--billboard", str(BILLBOARD_FIXTURE),
            "--split", "all", "--soundfonts", "TimGM6mb", "--out", str(tmp_path),
            "--variant", "cross"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "train-cross" / "billboard" / "9001.lab").is_file()
