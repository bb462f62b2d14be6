"""The transcription pipeline on synthetic audio with the template backend."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile

from chordcli import pipeline
from chordcli.audio import Audio
from chordcli.errors import AudioError, ChordcliError, OutputExistsError
from chordcli.jsonio import format_json, parse_json, read_json, write_json
from chordcli.pipeline import analyse_file, transcribe_audio, transcribe_file
from chordcli.segments import Transcription
from models.backend import load_backend
from tests.synth_audio import chord_progression
from theory.decode import DecoderSettings, decode
from theory.keys import parse_key
from theory.vocabulary import chord_class

LABELS = ["C:maj", "A:min", "F:maj", "G:maj"] * 2


@pytest.fixture(scope="module")
def backend():
    return load_backend("template")


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "song.wav"
    soundfile.write(path, chord_progression(LABELS, chord_s=2.0), 22050, subtype="PCM_16")
    return path


def _label_at(transcription: Transcription, time_s: float) -> str:
    for seg in transcription.segments:
        if seg.start_s <= time_s < seg.end_s:
            return seg.label
    raise AssertionError(f"no segment at {time_s}")


def test_transcribe_file(song, backend):
    result = analyse_file(song, backend=backend)
    t = result.transcription
    assert t.duration_s == pytest.approx(16.0, abs=0.01)
    assert t.model == "template" and t.source == str(song)
    assert [_label_at(t, 1.0 + 2 * i) for i in range(8)] == LABELS
    # Segments tile the recording and carry confidences.
    assert t.segments[0].start_s == 0.0 and t.segments[-1].end_s == pytest.approx(t.duration_s)
    for a, b in zip(t.segments, t.segments[1:], strict=False):
        assert a.end_s == pytest.approx(b.start_s)
    assert all(0.0 <= s.confidence <= 1.0 for s in t.segments)
    assert t.key in {parse_key("C:maj"), parse_key("A:min")}
    assert t.tempo_bpm is not None and t.beats_s
    assert set(t.downbeats_s) <= set(t.beats_s)
    times = result.times
    assert times.load_s > 0 and times.cqt_s > 0 and times.total_s >= times.model_s
    assert result.features is None and result.output is None


def test_vocab_transpose_and_capo(song, backend):
    t = transcribe_file(song, backend=backend, vocab="majmin", transpose=2)
    assert [_label_at(t, 1.0 + 2 * i) for i in range(4)] == ["D:maj", "B:min", "G:maj", "A:maj"]
    capo = transcribe_file(song, backend=backend, capo=3)
    # Capo 3: C sounds, the shape played is A.
    assert [_label_at(capo, 1.0 + 2 * i) for i in range(4)] == ["A:maj", "F#:min", "D:maj", "E:maj"]
    assert capo.key in {parse_key("A:maj"), parse_key("F#:min")}
    with pytest.raises(ValueError, match="vocabulary"):
        transcribe_file(song, backend=backend, vocab="triads")


def test_beat_sync_puts_changes_on_beats(song, backend):
    from chordcli.audio import load_audio

    audio = load_audio(song, sample_rate_hz=22050)
    t = transcribe_audio(audio, backend=backend, beat_sync=True)
    beats = np.array(t.beats_s)
    for seg in t.segments[1:]:
        assert np.min(np.abs(beats - seg.start_s)) < 1e-9


def test_keep_gives_features_and_posteriors(song, backend):
    result = analyse_file(song, backend=backend, keep=True)
    assert result.features.shape[1:] == (252, 2)
    assert result.output.chord.shape == (result.features.shape[0], 529)


def test_the_models_decoder_prior_is_applied(song, backend):
    prior = np.full(529, -50.0)
    prior[chord_class("A:min")] = 0.0
    biased = dataclasses.replace(backend, decoder=DecoderSettings(class_log_prior=prior))
    labels = {
        seg.label.split("/")[0] for seg in analyse_file(song, backend=biased).transcription.segments
    }
    assert labels == {"A:min"}
    plain = {seg.label for seg in analyse_file(song, backend=backend).transcription.segments}
    assert len(plain) > 1


def test_the_models_vector_weight_is_applied_unless_overridden(song, backend, monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs["vector_weight"])
        return decode(*args, **kwargs)

    weighted = dataclasses.replace(backend, decoder=DecoderSettings(vector_weight=0.125))
    monkeypatch.setattr(pipeline, "decode", spy)
    analyse_file(song, backend=weighted)
    analyse_file(song, backend=weighted, vector_weight=2.0)
    analyse_file(song, backend=backend)
    assert calls == [0.125, 2.0, backend.decoder.vector_weight]


def test_corrupt_file_raises_audio_error(tmp_path, backend):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    with pytest.raises(AudioError, match="bad.wav"):
        transcribe_file(bad, backend=backend)


def test_json_round_trip(song, backend, tmp_path):
    t = transcribe_file(song, backend=backend)
    path = write_json(t, tmp_path / "song.json")
    back = read_json(path)
    assert [s.label for s in back.segments] == [s.label for s in t.segments]
    assert back.key == t.key and back.beats_s == pytest.approx(t.beats_s, abs=1e-4)
    assert back.tempo_bpm == pytest.approx(t.tempo_bpm, abs=1e-3)
    assert back.segments[0].confidence == pytest.approx(t.segments[0].confidence, abs=1e-4)
    with pytest.raises(OutputExistsError):
        write_json(t, path)
    with pytest.raises(ChordcliError, match="not a chordcli transcription"):
        parse_json('{"a": 1}', source="x.json")
    with pytest.raises(ChordcliError, match="x.json"):
        parse_json(format_json(t).replace('"C:maj"', '"C:nope"'), source="x.json")


def test_a_clip_40_cents_sharp_transcribes_like_the_in_tune_one(backend):
    labels = ["C:maj", "A:min", "F:maj7", "G:7", "E:min", "D:min7", "Bb:maj", "C:maj"]

    def run(cents: float, tuning_cents: float | None) -> Transcription:
        mono = chord_progression(labels, tuning_cents=cents, seed=4)
        audio = Audio(samples=np.stack([mono, mono], axis=1), sample_rate_hz=22050)
        return pipeline.analyse_audio(
            audio, backend=backend, tuning_cents=tuning_cents
        ).transcription

    in_tune, sharp = run(0.0, None), run(40.0, None)
    assert abs(in_tune.tuning_cents) <= 2.0
    assert abs(sharp.tuning_cents - 40.0) <= 10.0
    assert [s.label for s in sharp.segments] == [s.label for s in in_tune.segments]
    assert [_label_at(in_tune, 1.0 + 2 * i) for i in range(8)] == labels
    # Without the correction the same clip reads wrong chords; a given tuning is used as is.
    uncorrected = run(40.0, 0.0)
    assert uncorrected.tuning_cents == 0.0
    assert [s.label for s in uncorrected.segments] != [s.label for s in in_tune.segments]


def test_each_stage_is_reported_as_it_starts(backend, song):
    stages = []
    analyse_file(song, backend=backend, on_stage=stages.append)
    assert tuple(stages) == pipeline.STAGES


@pytest.mark.parametrize("vocab", ["full", "majmin"])
def test_every_segment_has_ranked_alternatives(song, backend, vocab):
    t = transcribe_file(song, backend=backend, vocab=vocab, transpose=2)
    for seg in t.segments:
        probs = [a.probability for a in seg.alternatives]
        assert len(probs) >= 3 and probs == sorted(probs, reverse=True)
        assert sum(probs) <= 1.0 + 1e-9 and all(0 <= p <= 1 for p in probs)
        if vocab == "majmin":
            assert all(a.label == "N" or a.label.endswith(("maj", "min")) for a in seg.alternatives)
    # The chord of a clear segment leads its own alternatives.
    middle = max(t.segments, key=lambda s: s.duration_s)
    assert middle.alternatives[0].label == middle.label.split("/")[0]


@pytest.mark.parametrize("keep_samples", [0, 1 << 24])
def test_a_file_read_twice_block_by_block_transcribes_as_its_decoded_audio(
    tmp_path, backend, monkeypatch, keep_samples
):
    import chordcli.audio

    # 44.1 kHz stereo, longer than one block: resampled, and decoded again for the CQT when
    # nothing is kept in memory.
    mono = np.tile(chord_progression(LABELS, chord_s=2.0), 4)
    x = np.stack([mono, 0.7 * mono], axis=1)
    path = tmp_path / "long.wav"
    soundfile.write(path, np.repeat(x, 2, axis=0), 44100, subtype="FLOAT")
    monkeypatch.setattr(chordcli.audio, "KEEP_SAMPLES", keep_samples)
    streamed = analyse_file(path, backend=backend, keep=True)
    audio = chordcli.audio.load_audio(path, sample_rate_hz=22050)
    whole = pipeline.analyse_audio(audio, backend=backend, keep=True)
    np.testing.assert_array_equal(streamed.features, whole.features)
    assert streamed.transcription == whole.transcription


@pytest.mark.parametrize("batch", [False, True])
def test_the_features_are_freed_before_decoding(song, backend, monkeypatch, tmp_path, batch):
    # an hour of CQT is about 80 MB: neither a single file nor a batch may hold it past the network
    import gc
    import weakref

    from chordcli.batch import plan_batch, run_batch

    seen = {}
    gate = pipeline.gated_frames

    def remember(features, **kwargs):
        seen["features"] = weakref.ref(features)
        return gate(features, **kwargs)

    decode_segments = pipeline.decode_segments

    def check(*args, **kwargs):
        gc.collect()
        seen["alive"] = seen["features"]() is not None
        return decode_segments(*args, **kwargs)

    monkeypatch.setattr(pipeline, "gated_frames", remember)
    monkeypatch.setattr(pipeline, "decode_segments", check)
    if batch:
        plan = plan_batch([song], output=tmp_path / "out.lab")
        assert [r.error for r in run_batch(plan, backend=backend)] == [None]
    else:
        analyse_file(song, backend=backend)
    assert seen["alive"] is False
