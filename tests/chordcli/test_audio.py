import math

import numpy as np
import pytest
import soundfile
import soxr

import chordcli.audio
from chordcli.audio import MIN_DURATION_S, SILENCE_PEAK_DBFS, Audio, load_audio
from chordcli.errors import AudioError, ChordcliError

HAS_MP3 = "MP3" in soundfile.available_formats()


def _tone(n_frames, sample_rate_hz, *, freq_hz=440.0, amp=0.5, n_channels=1):
    t = np.arange(n_frames) / sample_rate_hz
    x = amp * np.sin(2 * np.pi * freq_hz * t)
    # channel k at amplitude amp / (k + 1), so channels are distinguishable
    return np.stack([x / (k + 1) for k in range(n_channels)], axis=1).astype(np.float32)


def _write(path, data, sample_rate_hz, **kwargs):
    soundfile.write(path, data, sample_rate_hz, **kwargs)
    return path


def _dominant_hz(x, sample_rate_hz):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spectrum) * sample_rate_hz / len(x)


FORMATS = [
    ("wav", {"subtype": "PCM_16"}, 1e-4),
    ("wav", {"subtype": "FLOAT"}, 1e-7),
    ("flac", {"subtype": "PCM_24"}, 1e-6),
    ("aiff", {"subtype": "PCM_16"}, 1e-4),
    ("ogg", {"format": "OGG", "subtype": "VORBIS"}, None),
    pytest.param(
        "mp3",
        {"format": "MP3", "subtype": "MPEG_LAYER_III"},
        None,
        marks=pytest.mark.skipif(not HAS_MP3, reason="libsndfile without MP3"),
    ),
]


@pytest.mark.parametrize(("suffix", "kwargs", "atol"), FORMATS)
def test_formats_decode_to_float32_stereo(tmp_path, suffix, kwargs, atol):
    sr = 22050
    data = _tone(sr, sr, n_channels=2)
    path = _write(tmp_path / f"a.{suffix}", data, sr, **kwargs)
    audio = load_audio(path)
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape[1] == 2
    assert audio.sample_rate_hz == sr
    assert audio.path == path
    if atol is not None:  # lossless
        np.testing.assert_allclose(audio.samples, data, atol=atol)
    else:  # lossy codecs pad and delay; the tone and the channel balance survive
        assert audio.duration_s == pytest.approx(1.0, abs=0.1)
        assert _dominant_hz(audio.samples[:, 0], sr) == pytest.approx(440, abs=3)
        peaks = np.abs(audio.samples).max(axis=0)
        assert peaks[0] == pytest.approx(0.5, abs=0.05)
        assert peaks[1] == pytest.approx(0.25, abs=0.05)


def test_format_is_detected_from_content_not_name(tmp_path):
    path = _write(tmp_path / "really_flac.wav", _tone(8000, 8000), 8000, format="FLAC")
    assert load_audio(path).n_samples == 8000


@pytest.mark.parametrize("file_hz", [8000, 22050, 44100, 48000, 11025])
@pytest.mark.parametrize("target_hz", [None, 16000, 22050])
def test_any_sample_rate_is_resampled(tmp_path, file_hz, target_hz):
    n = int(0.75 * file_hz)
    path = _write(tmp_path / "a.wav", _tone(n, file_hz, freq_hz=1000.0), file_hz, subtype="FLOAT")
    audio = load_audio(path, sample_rate_hz=target_hz)
    expected_hz = file_hz if target_hz is None else target_hz
    assert audio.sample_rate_hz == expected_hz
    assert audio.n_samples == math.ceil(n * expected_hz / file_hz)
    assert audio.duration_s == pytest.approx(0.75, abs=1e-3)
    assert audio.samples.dtype == np.float32
    assert _dominant_hz(audio.samples[:, 0], expected_hz) == pytest.approx(1000, abs=3)
    middle = audio.samples[audio.n_samples // 4 : -audio.n_samples // 4, 0]
    assert np.abs(middle).max() == pytest.approx(0.5, abs=0.02)  # no level change


def test_mono_is_duplicated(tmp_path):
    data = _tone(8000, 8000)
    audio = load_audio(_write(tmp_path / "m.wav", data, 8000, subtype="FLOAT"))
    np.testing.assert_array_equal(audio.samples[:, 0], data[:, 0])
    np.testing.assert_array_equal(audio.samples[:, 1], data[:, 0])


def test_mono_resampled_stays_identical_in_both_channels(tmp_path):
    audio = load_audio(_write(tmp_path / "m.wav", _tone(8000, 8000), 8000), sample_rate_hz=22050)
    np.testing.assert_array_equal(audio.samples[:, 0], audio.samples[:, 1])


def test_stereo_is_kept(tmp_path):
    rng = np.random.default_rng(0)
    data = (0.3 * rng.standard_normal((8000, 2))).astype(np.float32)
    audio = load_audio(_write(tmp_path / "s.wav", data, 8000, subtype="FLOAT"))
    np.testing.assert_array_equal(audio.samples, data)


@pytest.mark.parametrize("n_channels", [3, 4, 6, 8])
def test_multichannel_folds_extra_channels_into_both_sides(tmp_path, n_channels):
    rng = np.random.default_rng(n_channels)
    data = rng.uniform(-1, 1, (8000, n_channels)).astype(np.float32)
    audio = load_audio(_write(tmp_path / "mc.wav", data, 8000, subtype="FLOAT"))
    rest = data[:, 2:].mean(axis=1)
    np.testing.assert_allclose(audio.samples[:, 0], (data[:, 0] + rest) / 2, atol=1e-6)
    np.testing.assert_allclose(audio.samples[:, 1], (data[:, 1] + rest) / 2, atol=1e-6)
    assert np.abs(audio.samples).max() <= np.abs(data).max()  # never louder than the input


@pytest.mark.parametrize("block_frames", [50, 777, 4096])
@pytest.mark.parametrize(
    ("file_hz", "target_hz", "n_channels"),
    [(44100, 22050, 2), (44100, 16000, 1), (48000, 22050, 3), (8000, 44100, 2), (22050, 22050, 6)],
)
def test_reading_in_blocks_equals_processing_the_whole_signal(
    tmp_path, monkeypatch, block_frames, file_hz, target_hz, n_channels
):
    monkeypatch.setattr(chordcli.audio, "_BLOCK_FRAMES", block_frames)
    rng = np.random.default_rng(block_frames)
    data = (0.3 * rng.standard_normal((int(0.61 * file_hz), n_channels))).astype(np.float32)
    path = _write(tmp_path / "b.wav", data, file_hz, subtype="FLOAT")
    audio = load_audio(path, sample_rate_hz=target_hz)

    if n_channels == 1:
        stereo = np.repeat(data, 2, axis=1)
    elif n_channels == 2:
        stereo = data
    else:
        rest = data[:, 2:].mean(axis=1)
        stereo = np.stack([data[:, 0] + rest, data[:, 1] + rest], axis=1) / 2
    stereo = stereo.astype(np.float32)
    expected = soxr.resample(stereo, file_hz, target_hz, quality=chordcli.audio.RESAMPLE_QUALITY)
    assert audio.samples.shape == expected.shape
    np.testing.assert_allclose(audio.samples, expected, rtol=0, atol=1e-6)


def test_min_duration_is_configurable(tmp_path):
    path = _write(tmp_path / "short.wav", _tone(800, 8000), 8000)
    assert load_audio(path, min_duration_s=0.0).n_samples == 800
    with pytest.raises(AudioError, match="too short"):
        load_audio(path)
    assert MIN_DURATION_S == 0.5


def _write_text(path, text):
    path.write_text(text)
    return path


def _silent_below_threshold(path):
    amp = 0.5 * 10 ** (SILENCE_PEAK_DBFS / 20)
    return _write(path, _tone(8000, 8000, amp=amp), 8000, subtype="FLOAT")


def _with_bad_sample(value):
    def make(path):
        data = _tone(8000, 8000)
        data[4000, 0] = value
        return _write(path, data, 8000, subtype="FLOAT")

    return make


def _truncated_flac(path):
    full = _write(path.with_name("full.flac"), _tone(44100, 44100, n_channels=2), 44100)
    path.write_bytes(full.read_bytes()[:3000])
    return path


ERROR_CASES = [
    # name, how to make the file, expected message fragment
    ("missing.wav", lambda p: p, "file not found"),
    ("folder", lambda p: p.mkdir() or p, "is a directory"),
    ("empty.wav", lambda p: _write_text(p, ""), "empty (0 bytes)"),
    ("notes.wav", lambda p: _write_text(p, "not audio at all\n" * 20), "unknown audio format"),
    ("notes.txt", lambda p: _write_text(p, "not audio at all\n" * 20), "unknown audio format"),
    pytest.param(
        "notes.mp3",
        lambda p: _write_text(p, "not audio at all\n" * 20),
        "unknown audio format",
        marks=pytest.mark.skipif(not HAS_MP3, reason="libsndfile without MP3"),
    ),
    ("noframes.wav", lambda p: _write(p, np.zeros((0, 1)), 8000), "no audio frames"),
    ("zeros.wav", lambda p: _write(p, np.zeros((8000, 2)), 8000), "silent (all samples are zero)"),
    ("quiet.wav", _silent_below_threshold, "silent (peak"),
    ("nan.wav", _with_bad_sample(np.nan), "NaN or infinite samples (first at 0.500 s)"),
    ("inf.wav", _with_bad_sample(-np.inf), "NaN or infinite samples"),
    ("short.wav", lambda p: _write(p, _tone(2000, 8000), 8000), "too short (0.25 s"),
    ("cut.flac", _truncated_flac, "damaged"),
]


@pytest.mark.parametrize(("name", "make", "fragment"), ERROR_CASES)
def test_bad_inputs_raise_one_clear_audio_error(tmp_path, name, make, fragment):
    path = make(tmp_path / name)
    with pytest.raises(AudioError) as info:
        load_audio(path)
    message = str(info.value)
    assert f"'{tmp_path / name}'" in message  # names the file
    assert fragment in message
    assert "\n" not in message
    assert isinstance(info.value, ChordcliError)


def test_unknown_format_hint(tmp_path):
    path = _write_text(tmp_path / "a.xyz", "hello\n" * 100)
    with pytest.raises(AudioError) as info:
        load_audio(path)
    assert (
        str(info.value)
        == f"cannot read '{path}': unknown audio format (hint: convert to WAV or FLAC)"
    )


def test_quiet_but_audible_audio_is_accepted(tmp_path):
    amp = 4 * 10 ** (SILENCE_PEAK_DBFS / 20)  # 12 dB above the threshold
    path = _write(tmp_path / "q.wav", _tone(8000, 8000, amp=amp), 8000, subtype="FLOAT")
    assert load_audio(path).n_samples == 8000


@pytest.mark.parametrize(
    "kwargs", [{"sample_rate_hz": 0}, {"sample_rate_hz": 22050.5}, {"min_duration_s": -1}]
)
def test_invalid_arguments_are_programming_errors(tmp_path, kwargs):
    path = _write(tmp_path / "a.wav", _tone(8000, 8000), 8000)
    with pytest.raises(ValueError):
        load_audio(path, **kwargs)


def test_audio_is_frozen_and_read_only():
    samples = np.zeros((100, 2), dtype=np.float32)
    audio = Audio(samples=samples, sample_rate_hz=100)
    assert audio.duration_s == 1.0
    assert audio.n_samples == 100
    assert audio.path is None
    with pytest.raises(ValueError):
        audio.samples[0, 0] = 1.0
    with pytest.raises(AttributeError):
        audio.sample_rate_hz = 8000
    samples[0, 0] = 1.0  # the caller's array stays writable
    assert audio.samples[0, 0] == 1.0


@pytest.mark.parametrize(
    ("samples", "error"),
    [
        (np.zeros((10, 1), dtype=np.float32), ValueError),
        (np.zeros(10, dtype=np.float32), ValueError),
        (np.zeros((10, 2), dtype=np.float64), TypeError),
    ],
)
def test_audio_validates_its_fields(samples, error):
    with pytest.raises(error):
        Audio(samples=samples, sample_rate_hz=8000)


def test_output_grows_when_the_header_under_reports_the_length():
    out = chordcli.audio._GrowingArray(3)
    out.append(np.ones((2, 1), dtype=np.float32))
    out.append(np.full((5, 2), 2.0, dtype=np.float32))
    result = out.result()
    assert result.shape == (7, 2)
    np.testing.assert_array_equal(result[:2], 1.0)
    np.testing.assert_array_equal(result[2:], 2.0)


@pytest.mark.parametrize("keep_samples", [0, 1 << 24])
@pytest.mark.parametrize(
    ("file_hz", "target_hz", "n_channels"),
    [(44100, 22050, 2), (22050, 22050, 1), (48000, 22050, 3)],
)
def test_a_stream_yields_the_samples_of_load_audio_on_every_read(
    tmp_path, monkeypatch, keep_samples, file_hz, target_hz, n_channels
):
    monkeypatch.setattr(chordcli.audio, "_BLOCK_FRAMES", 4096)
    monkeypatch.setattr(chordcli.audio, "KEEP_SAMPLES", keep_samples)
    rng = np.random.default_rng(n_channels)
    data = (0.3 * rng.standard_normal((int(1.3 * file_hz), n_channels))).astype(np.float32)
    path = _write(tmp_path / "s.wav", data, file_hz, subtype="FLOAT")
    expected = load_audio(path, sample_rate_hz=target_hz).samples
    stream = chordcli.audio.AudioStream(path, sample_rate_hz=target_hz)
    assert stream.n_samples is None
    for _ in range(2):
        blocks = list(stream.blocks())
        assert len(blocks) > 1 and all(b.shape[1] == 2 and b.dtype == np.float32 for b in blocks)
        np.testing.assert_array_equal(np.concatenate(blocks), expected)
        assert stream.n_samples == len(expected)
    assert stream.duration_s == pytest.approx(len(expected) / target_hz)


def test_a_stream_refuses_what_load_audio_refuses(tmp_path):
    silent = _write(tmp_path / "z.wav", np.zeros((8000, 2), np.float32), 8000, subtype="FLOAT")
    stream = chordcli.audio.AudioStream(silent, sample_rate_hz=8000)
    with pytest.raises(AudioError, match="silent"):
        list(stream.blocks())
    with pytest.raises(AudioError, match="file not found"):
        chordcli.audio.AudioStream(tmp_path / "missing.wav", sample_rate_hz=8000)


def test_a_stream_read_partly_stops_its_decoding_thread(tmp_path, monkeypatch):
    import threading

    monkeypatch.setattr(chordcli.audio, "_BLOCK_FRAMES", 1024)
    path = _write(tmp_path / "p.wav", _tone(40000, 8000, n_channels=2), 8000, subtype="FLOAT")
    stream = chordcli.audio.AudioStream(path, sample_rate_hz=8000)
    blocks = stream.blocks()
    assert next(blocks).shape == (1024, 2)
    blocks.close()
    assert not any(t.name == "audio-decoder" for t in threading.enumerate())
    assert stream.n_samples is None  # not read to the end: no length yet


def test_a_truncated_wav_is_read_with_a_warning_naming_both_lengths(tmp_path):
    from chordcli.errors import ChordcliWarning

    full = _write(tmp_path / "full.wav", _tone(16 * 8000, 8000, n_channels=2), 8000)
    data = full.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 4])  # the header still declares 16 s
    with pytest.warns(ChordcliWarning, match=r"declares 16\.0 s of audio but the file holds 4\.0"):
        audio = load_audio(cut)
    assert 3.9 < audio.duration_s < 4.1
    assert "cut.wav" in str(audio.path)


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
def test_complete_and_streamed_wavs_read_without_a_warning(tmp_path, size):
    import warnings

    path = _write(tmp_path / "a.wav", _tone(8000, 8000), 8000, subtype="PCM_16")
    streamed = bytearray(path.read_bytes())
    at = streamed.index(b"data") + 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_audio(path)  # complete
        if size:  # an unknown length (a stream) declares 0xFFFFFFFF: not truncated
            streamed[at : at + 4] = size.to_bytes(4, "little")
            path.write_bytes(bytes(streamed))
            load_audio(path)
        load_audio(_write(tmp_path / "a.flac", _tone(8000, 8000), 8000))  # not a WAV
