"""Dataset: data folder scanning, frame targets, feature cache, split, examples, augmentation."""

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from _chordnet_synth import SAMPLE_RATE_HZ, write_dataset, write_song
from hypothesis import given, settings
from hypothesis import strategies as st

import models.dataset as dataset
from models.augment import (
    PITCH_SHIFTS,
    AugmentConfig,
    augment_example,
    frequency_mask,
    pitch_shift_features,
    random_eq,
    time_mask,
    transpose_targets,
)
from models.cqt import DEFAULT_CQT, CQTConfig
from models.dataset import (
    DatasetError,
    example_starts,
    example_weights,
    find_songs,
    frame_quality_weights,
    frame_targets,
    inverted_frames,
    load_song,
    load_songs,
    load_songs_labels,
    quality_shares,
    quality_weights,
    slice_example,
    split_songs,
)
from theory import chord_class, chord_target, parse_chord, transpose_key, transpose_label
from theory.vocabulary import N_CLASS

FPS = 10.0  # one frame per 0.1 s keeps the tables readable


def test_imports_stay_light():
    code = (
        "import sys, models, models.dataset, models.augment, models.train; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_frame_targets_table():
    segments = [
        (0.0, 0.5, "N"),
        (0.5, 1.0, "C:maj"),
        (1.0, 1.5, "C:maj"),
        (1.5, 2.0, "X"),
        (2.2, 3.0, "A:min/b3"),
    ]
    keys = [(0.0, 2.0, 0), (2.0, 3.0, 21)]  # C major, then A minor
    t = frame_targets(segments, n_frames=32, frames_per_second=FPS, keys=keys)
    assert t.chord[0] == chord_class("N") == 528
    assert t.chord[5] == t.chord[14] == chord_class("C:maj")
    assert (t.chord[15:20] == -1).all() and not t.vector_mask[15:20].any()  # X
    assert (t.chord[20:22] == -1).all() and (t.bass[20:22] == -1).all()  # gap
    assert t.chord[22] == chord_class("A:min")
    assert t.bass[22] == 0  # A:min/b3: bass C
    assert t.bass[0] == 12  # N: no bass
    assert (t.chord[30:] == -1).all()  # past the last segment
    np.testing.assert_array_equal(t.vector[22], chord_target("A:min/b3"))
    # a change on N -> C (0.5 s); C:maj -> C:maj is none; whether the chord changes is unknown
    # in X (1.5 s), the gap and past the end, and where a chord follows them (A:min at 2.2 s)
    assert np.flatnonzero(t.change == 1).tolist() == [5]
    assert (t.change[:15] >= 0).all()
    assert (t.change[15:23] == -1).all() and (t.change[23:30] == 0).all()
    assert (t.change[30:] == -1).all()
    assert t.key[0] == 0 and t.key[25] == 21 and t.key[31] == -1


def test_frame_targets_without_key_mask_the_key():
    t = frame_targets([(0.0, 1.0, "C:maj")], n_frames=10, frames_per_second=FPS)
    assert (t.key == -1).all()


def test_find_songs_reports_audio_without_labels(tmp_path):
    write_dataset(tmp_path / "a", n_songs=1, n_chords=2)
    soundfile.write(tmp_path / "lonely.wav", np.zeros((100, 2)), SAMPLE_RATE_HZ)
    songs, problems = find_songs(tmp_path)
    assert [s.audio.name for s in songs] == ["song00.flac"]
    assert songs[0].key is not None and songs[0].lab.name == "song00.lab"
    assert len(problems) == 1 and "lonely.lab" in problems[0].message
    # a hidden file (an interrupted atomic write) is neither a song nor a problem
    soundfile.write(tmp_path / "a" / ".song00.x1.tmp.flac", np.zeros((100, 2)), SAMPLE_RATE_HZ)
    assert find_songs(tmp_path) == (songs, problems)
    with pytest.raises(DatasetError, match="not a directory"):
        find_songs(tmp_path / "missing")


def test_feature_cache_is_reused_and_keyed_by_config(tmp_path, monkeypatch):
    write_dataset(tmp_path / "data", n_songs=1, n_chords=3)
    (files,), _ = find_songs(tmp_path / "data")
    calls = []
    real = dataset.cqt
    monkeypatch.setattr(dataset, "cqt", lambda *a, **k: calls.append(1) or real(*a, **k))
    cache = tmp_path / "cache"
    first = load_song(files, cache_dir=cache)
    second = load_song(files, cache_dir=cache)
    assert len(calls) == 1
    assert first.features.dtype == np.float16 and first.features.shape[1:] == (252, 2)
    np.testing.assert_array_equal(first.features, second.features)
    assert len(list(cache.rglob("*.npz"))) == 1 and not list(cache.rglob(".tmp-*"))
    other = CQTConfig(hop_length=1024)
    third = load_song(files, cqt_config=other, cache_dir=cache)
    assert len(calls) == 2 and len(list(cache.rglob("*.npz"))) == 2
    assert third.n_frames > first.n_frames
    # the same bytes under another name hit the cache
    copy = tmp_path / "copy"
    copy.mkdir()
    for suffix in (".flac", ".lab"):
        (copy / f"x{suffix}").write_bytes(files.audio.with_suffix(suffix).read_bytes())
    (files2,), _ = find_songs(copy)
    load_song(files2, cache_dir=cache)
    assert len(calls) == 2
    # a damaged cache entry is recomputed
    next(cache.rglob("*.npz")).write_bytes(b"garbage")
    load_song(files, cache_dir=cache)
    load_song(files, cqt_config=other, cache_dir=cache)
    assert len(calls) == 3
    # an unchanged file is not hashed again; a changed one (size or mtime differ) is
    hashes = []
    real_hash = dataset.audio_sha256
    monkeypatch.setattr(dataset, "audio_sha256", lambda p: hashes.append(p) or real_hash(p))
    load_song(files, cache_dir=cache)
    assert hashes == [] and len(calls) == 3
    original = files.audio.read_bytes()
    samples, rate = soundfile.read(files.audio)
    soundfile.write(files.audio, samples * 0.5, rate)
    os.utime(files.audio, ns=(0, 123_456_789))
    changed = load_song(files, cache_dir=cache)
    assert hashes == [files.audio] and len(calls) == 4
    assert not np.array_equal(changed.features, first.features)
    files.audio.write_bytes(original)
    np.testing.assert_array_equal(load_song(files, cache_dir=cache).features, first.features)
    assert len(calls) == 4  # the original bytes are still cached under their digest


def test_features_are_centred_on_the_recordings_tuning(tmp_path):
    from models.dataset import cached_features

    rate = 22050
    t = np.arange(int(rate * 4.0)) / rate

    def chord(cents):  # C major triad of harmonic tones, `cents` off A = 440 Hz
        freqs = 261.63 * 2.0 ** (np.array([0, 4, 7, 12]) / 12 + cents / 1200)
        x = sum(np.sin(2 * np.pi * k * f * t) / k for f in freqs for k in (1, 2, 3))
        return np.stack([x, x], axis=1) * 0.05

    peaks = {}
    for cents in (0.0, 40.0):
        path = tmp_path / f"c{int(cents)}.wav"
        soundfile.write(path, chord(cents), rate)
        features, _ = cached_features(path, cache_dir=tmp_path / "cache")
        spectrum = features[10:-10, :, 0].astype(np.float32).mean(axis=0)
        peaks[cents] = set(np.argsort(spectrum)[-4:].tolist())
    # 40 cents is more than a bin (33 cents): untuned, every peak would move by one bin
    assert peaks[40.0] == peaks[0.0]
    stored = {float(np.load(e)["tuning_cents"]) for e in (tmp_path / "cache").rglob("*.npz")}
    assert any(abs(c - 40.0) < 5 for c in stored) and any(abs(c) < 5 for c in stored)


def test_targets_match_the_feature_frames(tmp_path):
    _, segments = write_song(tmp_path, "s", rng=np.random.default_rng(1), n_chords=4)
    (files,), _ = find_songs(tmp_path)
    song = load_song(files, cache_dir=tmp_path / "cache")
    assert song.targets.n_frames == song.n_frames
    fps = DEFAULT_CQT.frames_per_second
    for start, _end, label in segments[1:]:
        assert round(start * fps) in song.onsets
        assert song.targets.change[round(start * fps)] == 1
        assert song.targets.chord[round(start * fps) + 2] == chord_class(label)


def test_bad_files_are_reported_and_skipped(tmp_path):
    rng = np.random.default_rng(2)
    write_song(tmp_path, "good", rng=rng, n_chords=3)
    write_song(tmp_path, "late", rng=rng, n_chords=3)
    (tmp_path / "late.lab").write_text("0\t1\tC:maj\n1\t99\tG:maj\n")
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wave file")
    (tmp_path / "broken.lab").write_text("0\t1\tC:maj\n")
    write_song(tmp_path, "badlabel", rng=rng, n_chords=2)
    (tmp_path / "badlabel.lab").write_text("0\t1\tC:nonsense\n")
    files, problems = find_songs(tmp_path)
    reported = []
    songs = load_songs(files, cache_dir=tmp_path / "cache", on_problem=reported.append)
    assert [s.name.rsplit("/", 1)[-1] for s in songs] == ["good"]
    text = " | ".join(p.message for p in reported)
    assert "past the end of the audio" in text and "late.lab" in text
    assert "broken.wav" in text
    assert "badlabel.lab' line 1" in text
    assert len(reported) == 3


def test_parallel_feature_workers_fill_the_cache_and_report_the_same_problems(
    tmp_path, monkeypatch
):
    rng = np.random.default_rng(3)
    for name in ("a", "b", "c"):
        write_song(tmp_path, name, rng=rng, n_chords=3)
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wave file")
    (tmp_path / "broken.lab").write_text("0\t1\tC:maj\n")
    files, _ = find_songs(tmp_path)
    serial_problems, parallel_problems = [], []
    serial = load_songs(files, cache_dir=tmp_path / "c1", on_problem=serial_problems.append)
    parallel = load_songs(
        files, cache_dir=tmp_path / "c2", on_problem=parallel_problems.append, jobs=2
    )
    assert [s.name for s in parallel] == [s.name for s in serial]
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a.features, b.features)
    assert [p.message for p in parallel_problems] == [p.message for p in serial_problems]
    assert len(list((tmp_path / "c2").rglob("*.npz"))) == 3
    # the workers did the CQT: loading in this process only reads the cache
    monkeypatch.setattr(dataset, "cqt", lambda *a, **k: pytest.fail("CQT recomputed"))
    load_songs(files, cache_dir=tmp_path / "c2")


def test_labels_only_loading_matches_full_loading_without_reading_features(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    for name in ("a", "b"):
        write_song(tmp_path, name, rng=rng, n_chords=4)
    write_song(tmp_path, "late", rng=rng, n_chords=3)
    (tmp_path / "late.lab").write_text("0\t1\tC:maj\n1\t99\tG:maj\n")
    files, _ = find_songs(tmp_path)
    cache = tmp_path / "cache"
    full_problems, label_problems = [], []
    full = load_songs(files, cache_dir=cache, on_problem=full_problems.append)
    # from the cache: only array headers are read, never the feature arrays
    monkeypatch.setattr(dataset, "cqt", lambda *a, **k: pytest.fail("CQT recomputed"))
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("features read"))
    labels = load_songs_labels(files, cache_dir=cache, on_problem=label_problems.append)
    monkeypatch.undo()
    assert [s.name for s in labels] == [s.name for s in full]
    assert [p.message for p in label_problems] == [p.message for p in full_problems]
    for a, b in zip(full, labels, strict=True):
        assert not hasattr(b, "features") and b.n_frames == a.n_frames
        np.testing.assert_array_equal(b.onsets, a.onsets)
        for field in dataclasses.fields(a.targets):
            np.testing.assert_array_equal(
                getattr(b.targets, field.name), getattr(a.targets, field.name)
            )
    assert split_songs(labels, validation_fraction=0.5)[1][0].name == (
        split_songs(full, validation_fraction=0.5)[1][0].name
    )
    # without a cache entry (or with a damaged one) the features are computed and cached
    fresh = tmp_path / "fresh"
    assert [s.n_frames for s in load_songs_labels(files, cache_dir=fresh)] == [
        s.n_frames for s in full
    ]
    assert len(list(fresh.rglob("*.npz"))) == 3  # "late" too: its labels are checked after
    for entry in fresh.rglob("*.npz"):
        entry.write_bytes(b"garbage")
    assert dataset.cached_frame_count(files[0].audio, cache_dir=fresh)[0] == full[0].n_frames


def _fake_song(name, n_frames=100, onsets=(0, 30, 60, 90)):
    t = frame_targets([(0.0, 1000.0, "C:maj")], n_frames=n_frames, frames_per_second=FPS)
    feats = np.ones((n_frames, 252, 2), dtype=np.float16)
    return dataset.Song(name=name, features=feats, targets=t, onsets=np.array(onsets))


def test_split_is_by_song_stable_and_never_empty():
    songs = [_fake_song(f"/d/song{i}") for i in range(20)]
    train, val = split_songs(songs, validation_fraction=0.2, seed=3)
    assert {s.name for s in train}.isdisjoint(s.name for s in val)
    assert len(train) + len(val) == 20 and 1 <= len(val) < 20
    again_train, again_val = split_songs(songs[::-1], validation_fraction=0.2, seed=3)
    assert {s.name for s in again_val} == {s.name for s in val}
    two = songs[:2]
    t2, v2 = split_songs(two, validation_fraction=0.01)
    assert len(t2) == len(v2) == 1
    t0, v0 = split_songs(songs, validation_fraction=0.0)
    assert len(t0) == 20 and not v0


def test_a_recording_without_chord_labels_stays_in_training():
    labelled = [_fake_song(f"/d/song{i}") for i in range(20)]
    gated = frame_targets(
        [(0.0, 2.0, "N"), (2.0, 1000.0, "X")], n_frames=100, frames_per_second=FPS
    )
    unlabelled = [
        dataset.Song(name=f"/d/real{i}", features=labelled[0].features, targets=gated,
                     onsets=np.array([0]))
        for i in range(20)
    ]  # fmt: skip
    train, val = split_songs(labelled + unlabelled, validation_fraction=0.5, seed=3)
    assert {s.name for s in val} == {
        s.name for s in split_songs(labelled, validation_fraction=0.5, seed=3)[1]
    }
    assert {s.name for s in unlabelled} <= {s.name for s in train}
    # with nothing labelled the hash decides as before
    t, v = split_songs(unlabelled, validation_fraction=0.5, seed=3)
    assert v and len(t) + len(v) == 20


def test_every_x_segment_starts_an_example_but_a_held_chord_does_not():
    segments = [(0.0, 1.0, "C:maj"), (1.0, 2.0, "C:maj"), (2.0, 3.0, "X"), (3.0, 4.0, "X")]
    onsets = dataset._onsets(segments, n_frames=40, frames_per_second=10.0)
    assert onsets.tolist() == [0, 20, 30]
    # an unlabelled recording in X segments: examples over its whole length, no change targets
    unlabelled = [(10.0 * i, 10.0 * (i + 1), "X") for i in range(3)]
    assert dataset._onsets(unlabelled, n_frames=300, frames_per_second=10.0).tolist() == [
        0,
        100,
        200,
    ]
    t = frame_targets(unlabelled, n_frames=300, frames_per_second=10.0)
    assert (t.change == -1).all() and not t.vector_mask.any()


def test_examples_start_at_onsets_and_pad_the_tail():
    song = _fake_song("s", n_frames=100, onsets=(0, 30, 60, 90))
    starts = example_starts(song, length_frames=32)
    assert starts.tolist() == [0, 30, 60, 68]
    features, mask, targets = slice_example(song, 90, length_frames=32)
    assert mask.sum() == 10 and (features[10:] == 0).all()
    assert (targets.chord[10:] == -1).all() and (targets.chord[:10] >= 0).all()
    short = _fake_song("t", n_frames=20, onsets=(0, 5))
    assert example_starts(short, length_frames=32).tolist() == [0]


def _labelled_song(name, labels, frames_each=10):
    segments = [
        (i * frames_each / FPS, (i + 1) * frames_each / FPS, lab) for i, lab in enumerate(labels)
    ]
    n = frames_each * len(labels)
    t = frame_targets(segments, n_frames=n, frames_per_second=FPS)
    feats = np.zeros((n, 1, 2), dtype=np.float16)
    return dataset.Song(name=name, features=feats, targets=t, onsets=np.arange(0, n, frames_each))


def test_example_weights_favour_rare_qualities_by_the_power():
    common = _labelled_song("a", ["C:maj", "F:maj", "G:maj", "D:maj"] * 2)  # 80 maj frames
    rare = _labelled_song("b", ["C:maj", "E:sus2"])  # 10 maj + 10 sus2 frames
    songs = [common, rare]
    examples = [(0, 0), (0, 40), (1, 0), (1, 10)]
    flat = example_weights(songs, examples, length_frames=20, power=0.0)
    np.testing.assert_allclose(flat, 0.25)
    # maj: 90 frames (weight 1), sus2: 10 frames (weight (90 / 10) ** 1 = 9)
    w = example_weights(songs, examples, length_frames=20, power=1.0)
    raw = np.array([1.0, 1.0, (1 + 9) / 2, 9.0])  # (1, 10) holds 10 sus2 frames + 10 past the end
    np.testing.assert_allclose(w, raw / raw.sum())
    half = example_weights(songs, examples, length_frames=20, power=0.5)
    assert half[3] / half[0] == pytest.approx(3.0)
    # roots do not matter, masked frames do not count, an all-masked example weighs 1
    masked = _labelled_song("c", ["X", "X"])
    w = example_weights([*songs, masked], [*examples, (2, 0)], length_frames=20, power=1.0)
    assert w[4] / w[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="power"):
        example_weights(songs, examples, length_frames=20, power=-1.0)


def test_unlabelled_examples_get_their_share_and_the_others_keep_their_proportions():
    common = _labelled_song("a", ["C:maj", "F:maj", "G:maj", "D:maj"] * 2)
    rare = _labelled_song("b", ["C:maj", "E:sus2"])
    masked = _labelled_song("c", ["X"] * 4)
    songs = [common, rare, masked]
    examples = [(0, 0), (1, 10), (2, 0), (2, 20)]
    base = example_weights(songs, examples, length_frames=20, power=1.0)
    w = example_weights(songs, examples, length_frames=20, power=1.0, unlabelled_share=0.3)
    assert w.sum() == pytest.approx(1.0) and w[2] == w[3] == pytest.approx(0.15)
    assert w[1] / w[0] == pytest.approx(base[1] / base[0])  # 9 to 1, as without the share
    none = example_weights(songs, examples, length_frames=20, power=1.0, unlabelled_share=0.0)
    assert none[2] == none[3] == 0.0
    # all labelled (or all unlabelled): nothing to share
    np.testing.assert_allclose(
        example_weights(songs, examples[:2], length_frames=20, power=1.0, unlabelled_share=0.3),
        example_weights(songs, examples[:2], length_frames=20, power=1.0),
    )
    with pytest.raises(ValueError, match="unlabelled_share"):
        example_weights(songs, examples, length_frames=20, power=1.0, unlabelled_share=1.0)


def test_inversion_power_favours_slash_chords_over_root_position_ones():
    song = _labelled_song("a", ["C:maj", "F:maj", "G:maj", "C:maj/3", "A:min/b3", "N", "X"])
    inverted = inverted_frames(song.targets)  # C/E and Am/C: 20 of 50 chord frames
    np.testing.assert_array_equal(inverted, np.repeat([0, 0, 0, 1, 1, 0, 0], 10).astype(bool))
    last = _labelled_song("b", ["B:(3,b5,b7)/3", "B:(3,b5,b7)"])  # the last chord class
    assert last.targets.chord[0] == N_CLASS - 1
    np.testing.assert_array_equal(inverted_frames(last.targets), np.repeat([1, 0], 10) > 0)
    examples = [(0, 0), (0, 30), (0, 50)]
    plain = example_weights([song], examples, length_frames=10, power=1.0)
    assert plain[1] / plain[0] == pytest.approx(1.0)  # C/E is a maj frame like C
    boosted = example_weights([song], examples, length_frames=10, power=1.0, inversion_power=1.0)
    assert boosted[1] / boosted[0] == pytest.approx(30 / 20)  # root position 30, inverted 20
    assert boosted[2] / boosted[0] == pytest.approx(plain[2] / plain[0])  # N is never inverted
    with pytest.raises(ValueError, match="inversion_power"):
        example_weights([song], examples, length_frames=10, power=1.0, inversion_power=-1)


def test_quality_weights_per_quality_and_per_frame():
    songs = [
        _labelled_song("a", ["C:maj", "F:maj", "G:maj", "D:maj"] * 2),
        _labelled_song("b", ["C:maj", "E:sus2", "X"]),
    ]
    w = quality_weights(songs, power=0.5)  # maj 90 frames, sus2 10
    assert w[0] == 1.0 and w[4] == pytest.approx(3.0) and w[1] == 0.0
    frames = frame_quality_weights(songs[1].targets.chord, w)
    assert frames.dtype == np.float32
    np.testing.assert_allclose(frames, [1.0] * 10 + [3.0] * 10 + [1.0] * 10)
    with pytest.raises(ValueError, match="power"):
        quality_weights(songs, power=-0.1)


def test_quality_shares_count_the_frames_training_draws():
    common = _labelled_song("a", ["C:maj", "F:maj", "G:maj", "D:maj"] * 2)
    rare = _labelled_song("b", ["C:maj", "E:sus2", "N"])
    songs = [common, rare]
    examples = [(0, 0), (1, 0), (1, 10)]
    share = quality_shares(songs, examples, length_frames=20)
    # (0, 0): 20 maj; (1, 0): 10 maj + 10 sus2; (1, 10): 10 sus2 + 10 N
    expected = np.zeros(45)
    expected[[0, 4, 44]] = [30, 20, 10]
    np.testing.assert_allclose(share, expected / 60)
    weighted = quality_shares(songs, examples, length_frames=20, weights=np.array([1, 0, 0]))
    assert weighted[0] == 1.0 and weighted.sum() == 1.0


# -- augmentation --------------------------------------------------------------------------

LABELS = ["C:maj", "A:min", "G:7", "F#:maj7/3", "Bb:min7", "D:sus4", "E:dim", "N", "X"]


def _render(label, shift=0, n_frames=4):
    """Idealised CQT of a chord at absolute pitch: a peak on the centre bin of every chord tone
    (root in octave 3, plus `shift` semitones), the bass two octaves lower."""
    features = np.zeros((n_frames, 252, 2), dtype=np.float32)
    chord = parse_chord(label)
    if chord.root_pc is None:
        return features
    root = 36 + chord.root_pc + shift
    for interval in chord.intervals:
        features[:, 3 * (root + interval)] = 1.0
    features[:, 3 * (root - 24 + chord.bass_interval)] = 0.5
    return features


def _targets(label, key=0, n_frames=4):
    keys = [(0.0, 100.0, key)]
    return frame_targets([(0.0, 100.0, label)], n_frames=n_frames, frames_per_second=FPS, keys=keys)


def test_every_transposition_is_reachable():
    assert sorted(k % 12 for k in PITCH_SHIFTS) == list(range(12))


@settings(max_examples=60, deadline=None)
@given(label=st.sampled_from(LABELS), k=st.sampled_from(PITCH_SHIFTS), key=st.integers(0, 24))
def test_pitch_shift_moves_features_and_labels_together(label, k, key):
    np.testing.assert_array_equal(pitch_shift_features(_render(label), k), _render(label, k))
    moved = transpose_targets(_targets(label, key), k)
    expected = _targets(transpose_label(label, k), key=transpose_key(key, k))
    for name in ("vector", "vector_mask", "change", "bass", "key", "chord"):
        np.testing.assert_array_equal(getattr(moved, name), getattr(expected, name), err_msg=name)


def test_pitch_shift_fills_instead_of_wrapping():
    features = np.arange(252, dtype=np.float32)[None, :, None].repeat(2, axis=2)
    up = pitch_shift_features(features, 2)
    assert (up[0, :6] == 0).all() and up[0, 6, 0] == 0 and up[0, 251, 0] == 245
    down = pitch_shift_features(features, -1, fill=-1.0)
    assert down[0, 0, 0] == 3 and (down[0, -3:] == -1).all()


def test_masks_stay_within_bounds():
    rng = np.random.default_rng(0)
    for _ in range(50):
        f = np.ones((40, 252, 2), dtype=np.float32)
        time_mask(f, rng=rng, n_masks=1, max_frames=8)
        masked_frames = np.flatnonzero((f == 0).all(axis=(1, 2)))
        assert len(masked_frames) <= 8 and (f[f != 0] == 1).all()
        if len(masked_frames):
            assert np.ptp(masked_frames) == len(masked_frames) - 1
        g = np.ones((40, 252, 2), dtype=np.float32)
        frequency_mask(g, rng=rng, n_masks=2, max_bins=10)
        assert ((g == 0).all(axis=(0, 2))).sum() <= 20


def test_random_eq_is_an_exact_smooth_gain_under_the_log_compression():
    rng = np.random.default_rng(2)
    magnitude = rng.uniform(0.0, 50.0, size=(30, 252, 2)).astype(np.float32)
    magnitude[:, 100] = 0.0  # a silent bin
    features = np.log1p(magnitude)
    for _ in range(20):
        out = random_eq(features, rng=rng, max_db=9.0)
        assert out.dtype == np.float32 and out.shape == features.shape
        gain = np.expm1(out) / np.where(magnitude > 0, magnitude, 1.0)
        curve = gain[0, :, 0]
        # one gain per bin, the same in every frame and channel
        np.testing.assert_allclose(
            gain[:, np.arange(252) != 100],
            np.broadcast_to(curve[np.arange(252) != 100][None, :, None], (30, 251, 2)),
            rtol=1e-3,
        )
        db = 20 * np.log10(curve[np.arange(252) != 100])
        assert np.abs(db).max() <= 18.0 + 1e-3  # tilt + bell, each at most 9 dB
        assert np.abs(np.diff(db)).max() < 2.0  # smooth over neighbouring bins
        assert (out[:, 100] == 0).all()
    config = AugmentConfig(pitch_shift=False, time_masks=0, frequency_masks=0, eq_max_db=6.0)
    out, _, _ = augment_example(features, _targets("C:maj", n_frames=30), rng=rng, config=config)
    assert not np.allclose(out, features)
    off = dataclasses.replace(config, eq_max_db=0.0)
    out, _, _ = augment_example(features, _targets("C:maj", n_frames=30), rng=rng, config=off)
    np.testing.assert_array_equal(out, features)


def test_augment_example_transposes_targets_by_the_shift_it_applied():
    rng = np.random.default_rng(5)
    features = _render("D:min")
    seen = set()
    for _ in range(40):
        out, targets, k = augment_example(
            features,
            _targets("D:min"),
            rng=rng,
            config=AugmentConfig(time_masks=0, frequency_masks=0),
        )
        seen.add(k)
        assert targets.chord[0] == chord_class(transpose_label("D:min", k))
        np.testing.assert_array_equal(out, pitch_shift_features(features, k))
    assert len(seen) >= 8


def test_opus_files_are_found_and_read(tmp_path):
    from chordcli.audio import load_audio

    t = np.arange(48000) / 48000.0
    tone = 0.2 * np.sin(2 * np.pi * 440.0 * t)
    path = tmp_path / "song.opus"
    soundfile.write(path, np.stack([tone, tone], axis=1), 48000, format="OGG", subtype="OPUS")
    (tmp_path / "song.lab").write_text("0.0\t1.0\tA:maj\n")
    songs, problems = find_songs(tmp_path)
    assert [s.audio.name for s in songs] == ["song.opus"] and not problems
    audio = load_audio(path, sample_rate_hz=22050)
    assert audio.sample_rate_hz == 22050 and abs(audio.duration_s - 1.0) < 0.05


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_pool_workers_end_when_their_parent_is_killed(method, tmp_path):
    # a parent killed by a signal cannot shut its pool down; its workers must not linger
    pid_file = tmp_path / "pids"
    code = f"""
import concurrent.futures, multiprocessing, os, pathlib, signal, time
from models.dataset import exit_with_parent
if __name__ == "__main__":
    ctx = multiprocessing.get_context({method!r})
    pool = concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx, initializer=exit_with_parent)
    futures = [pool.submit(time.sleep, 60) for _ in range(2)]
    time.sleep(2.0)
    pids = " ".join(str(p.pid) for p in multiprocessing.active_children())
    pathlib.Path({str(pid_file)!r}).write_text(pids)
    os.kill(os.getpid(), signal.SIGKILL)
"""
    # no pipes: workers that outlive the parent must not keep this call waiting
    proc = subprocess.run(
        [sys.executable, "-c", code],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL
    pids = [int(p) for p in pid_file.read_text().split()]
    assert pids

    def running(pid):
        try:
            state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
        except (FileNotFoundError, IndexError):
            return False
        return state != "Z"  # a zombie has exited; only its parent's reaping is left

    deadline = time.monotonic() + 20.0
    while any(running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [p for p in pids if running(p)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive
