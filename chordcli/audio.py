"""Audio input: decode a file into float32 stereo at a chosen sample rate.

Formats are those of libsndfile through :mod:`soundfile`: WAV, FLAC, OGG
(Vorbis/Opus), AIFF and, with libsndfile >= 1.1, MP3. The format is detected
from the file content, not its name.

Channel rule
------------
The result always has two channels (left, right):

* mono is duplicated to both channels;
* stereo is kept as it is;
* three or more channels are folded down. Channels 0 and 1 are taken as
  front left and right (the order of WAV, FLAC and Vorbis for every layout
  with two or more channels). The remaining channels (centre, LFE,
  surrounds, ...) carry no left/right information that the file format
  reports reliably, so their mean ``m`` is shared equally:
  ``L = (c0 + m) / 2`` and ``R = (c1 + m) / 2``. The output is never louder
  than the loudest input channel, so nothing clips.

Resampling uses the SoX resampler (:mod:`soxr`, quality ``HQ``: a linear-phase
low-pass with 144 dB stop-band attenuation). Files are decoded, folded and resampled
block by block (blocks of about 24 s) into one float32 array; the streaming resampler gives
the same samples as resampling the whole signal at once (a test checks this). Training
features are computed by :func:`models.cqt.cqt`, which resamples with a polyphase filter;
on the bundled example the two give CQT features within 1e-3 of each other (the values
reach 4.4, and the training cache stores them as float16, whose step there is 4e-3).
Memory use of :func:`load_audio` is about the size of the result (a 60-minute stereo
recording at 22.05 kHz takes 0.64 GB) and no float64 copy of the signal is ever made.
:class:`AudioStream` gives the same samples block by block, read as often as needed, so
that a long recording is never held whole (``chordcli transcribe`` reads files this way).

A WAV file that holds less audio than its header declares (a cut-off copy) is read as far as
it goes, with a :class:`~chordcli.errors.ChordcliWarning` naming the file and both lengths.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from chordcli.errors import AudioError, ChordcliWarning

__all__ = [
    "KEEP_SAMPLES",
    "MIN_DURATION_S",
    "PREFETCH_BLOCKS",
    "RESAMPLE_QUALITY",
    "SILENCE_PEAK_DBFS",
    "Audio",
    "AudioStream",
    "check_audio_file",
    "load_audio",
]

#: Shortest recording accepted by :func:`load_audio`, in seconds.
MIN_DURATION_S: float = 0.5

#: Recordings whose peak level stays below this (in dB relative to full scale)
#: are treated as silent. -90 dBFS lies just above one step of 16-bit audio,
#: so digital silence with dither counts as silent.
SILENCE_PEAK_DBFS: float = -90.0

_FORMAT_HINT = "convert to WAV or FLAC"
_BLOCK_FRAMES = 1 << 20  # frames decoded per block (about 24 s at 44.1 kHz)
#: Recordings of at most this many samples (about 12.7 minutes at 22.05 kHz, 128 MiB as
#: float32 stereo) are kept in memory by :class:`AudioStream`'s first read; longer ones are
#: decoded again on every read.
KEEP_SAMPLES = 1 << 24
#: Blocks :class:`AudioStream` decodes ahead of its reader, in a worker thread (0: none).
PREFETCH_BLOCKS = 2
#: Quality of the SoX resampler (:mod:`soxr`) that converts the file's rate.
RESAMPLE_QUALITY = "HQ"


@dataclass(frozen=True, eq=False)
class Audio:
    """Decoded audio.

    Parameters
    ----------
    samples : ndarray, shape (n_samples, 2), dtype float32
        Left and right channels in [-1, 1] (full scale), time first. Stored
        as a read-only view.
    sample_rate_hz : int
        Sample rate in Hz.
    path : Path or None, optional
        File the audio was read from, None for audio made in memory.
    """

    samples: np.ndarray
    sample_rate_hz: int
    path: Path | None = None

    def __post_init__(self) -> None:
        samples = self.samples
        if not isinstance(samples, np.ndarray) or samples.dtype != np.float32:
            raise TypeError("samples must be a float32 ndarray")
        if samples.ndim != 2 or samples.shape[1] != 2:
            raise ValueError(f"samples must have shape (n_samples, 2), got {samples.shape}")
        if int(self.sample_rate_hz) != self.sample_rate_hz or self.sample_rate_hz <= 0:
            raise ValueError(
                f"sample_rate_hz must be a positive integer, got {self.sample_rate_hz}"
            )
        view = samples.view()
        view.flags.writeable = False
        object.__setattr__(self, "samples", view)
        object.__setattr__(self, "sample_rate_hz", int(self.sample_rate_hz))

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.samples.shape[0] / self.sample_rate_hz

    @property
    def expected_samples(self) -> int:
        """Number of samples per channel (as :attr:`AudioStream.expected_samples`)."""
        return self.n_samples

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield the samples in consecutive read-only views (as :meth:`AudioStream.blocks`)."""
        for start in range(0, self.n_samples, _BLOCK_FRAMES):
            yield self.samples[start : start + _BLOCK_FRAMES]


def load_audio(
    path: str | os.PathLike[str],
    *,
    sample_rate_hz: int | None = None,
    min_duration_s: float = MIN_DURATION_S,
) -> Audio:
    """Read an audio file as float32 stereo.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file (WAV, FLAC, OGG, MP3 or any other format libsndfile reads).
    sample_rate_hz : int or None, optional
        Resample to this rate in Hz (:mod:`soxr`, quality :data:`RESAMPLE_QUALITY`). None
        keeps the file's rate.
    min_duration_s : float, optional
        Reject recordings shorter than this, in seconds.

    Returns
    -------
    Audio
        ``samples`` of shape (n_samples, 2), float32, at `sample_rate_hz`
        (or the file's rate); channels folded as described in the module
        documentation.

    Raises
    ------
    AudioError
        If the file is missing, a directory, empty, not audio in a known
        format, damaged, has no frames, contains NaN or infinite samples, is
        shorter than `min_duration_s` or is silent (peak below
        :data:`SILENCE_PEAK_DBFS`). The message names the file.
    ValueError
        If `sample_rate_hz` or `min_duration_s` is invalid.

    Warns
    -----
    ChordcliWarning
        If a WAV file's header declares more audio than the file holds (it is truncated);
        the audio that is there is returned.
    """
    _check_arguments(sample_rate_hz, min_duration_s)
    path = Path(path)
    with _open(path) as sound_file:
        rate_hz = int(sound_file.samplerate) if sample_rate_hz is None else int(sample_rate_hz)
        decoded = _Decoded(sound_file, path, target_hz=rate_hz)
        try:
            out = _GrowingArray(decoded.expected_samples)
        except MemoryError:
            raise AudioError(
                f"cannot read '{path}': too long to load ({sound_file.frames} frames at "
                f"{sound_file.samplerate} Hz)"
            ) from None
        for block in decoded.blocks():
            out.append(block)
    decoded.check(min_duration_s=min_duration_s)
    return Audio(samples=out.result(), sample_rate_hz=rate_hz, path=path)


class AudioStream:
    """An audio file read block by block as float32 stereo at a chosen rate, as often as needed.

    For recordings too long to hold: :meth:`blocks` decodes, folds and resamples the file as
    :func:`load_audio` does and yields the samples in blocks (2**20 frames of the file
    each); the concatenated blocks equal ``load_audio(path, sample_rate_hz=...).samples``.
    The first complete read runs the checks of :func:`load_audio` (at its end: length,
    silence) and sets :attr:`n_samples`. A recording of at most :data:`KEEP_SAMPLES` samples
    is kept in memory by the first read, so that later reads do not decode it again.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file.
    sample_rate_hz : int
        Rate of the samples in Hz.
    min_duration_s : float, optional
        Reject recordings shorter than this, in seconds.

    Raises
    ------
    AudioError
        As :func:`check_audio_file`, when the file cannot be opened as audio.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sample_rate_hz: int,
        min_duration_s: float = MIN_DURATION_S,
    ) -> None:
        _check_arguments(sample_rate_hz, min_duration_s)
        self.path = Path(path)
        self.sample_rate_hz = int(sample_rate_hz)
        self.min_duration_s = min_duration_s
        with _open(self.path) as sound_file:
            #: Length at `sample_rate_hz` that the file's header announces.
            self.expected_samples = _Decoded(
                sound_file, self.path, target_hz=self.sample_rate_hz
            ).expected_samples
        #: Length in samples, known after the first complete read (None before).
        self.n_samples: int | None = None
        self._kept: list[np.ndarray] | None = None

    @property
    def duration_s(self) -> float:
        """Duration in seconds (after the first complete read)."""
        if self.n_samples is None:
            raise RuntimeError("the length is known after the first complete read")
        return self.n_samples / self.sample_rate_hz

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield the samples as new float32 arrays of shape (n, 2), in order.

        A file is decoded by a worker thread up to :data:`PREFETCH_BLOCKS` blocks ahead of
        the caller, so that decoding and resampling (which release the GIL) run on one core
        while the caller computes on another.

        Raises
        ------
        AudioError
            If the file cannot be read or used (see :func:`load_audio`).
        """
        if self._kept is not None:
            return iter(self._kept)
        if PREFETCH_BLOCKS < 1:
            return self._decode()
        return _prefetched(self._decode(), PREFETCH_BLOCKS)

    def _decode(self) -> Iterator[np.ndarray]:
        """Decode the file: the blocks of :meth:`blocks`; the first read checks and keeps."""
        first = self.n_samples is None
        keep = [] if first and self.expected_samples <= KEEP_SAMPLES else None
        with _open(self.path) as sound_file:
            decoded = _Decoded(sound_file, self.path, target_hz=self.sample_rate_hz)
            for block in decoded.blocks():
                block = np.array(np.broadcast_to(block, (block.shape[0], 2)))
                if keep is not None:
                    keep.append(block)
                yield block
        if first:
            decoded.check(min_duration_s=self.min_duration_s)
            self.n_samples = decoded.n_samples
            self._kept = keep if decoded.n_samples <= KEEP_SAMPLES else None


def _prefetched(items: Iterator[np.ndarray], depth: int) -> Iterator[np.ndarray]:
    """Yield the items of `items`, made by a worker thread at most `depth` items ahead.

    An exception of `items` is raised here, where its item would have come; a caller that
    stops early stops the worker (which closes `items`).
    """
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                ahead.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as exc:  # handed to the caller, raised there
            put((None, exc))
        finally:
            items.close()

    worker = threading.Thread(target=work, name="audio-decoder", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = ahead.get()
            if exc is not None:
                raise exc
            if item is end:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _check_arguments(sample_rate_hz: int | None, min_duration_s: float) -> None:
    """Raise ValueError for a rate that is not a positive integer or a negative duration."""
    if sample_rate_hz is not None and (
        int(sample_rate_hz) != sample_rate_hz or sample_rate_hz <= 0
    ):
        raise ValueError(f"sample_rate_hz must be a positive integer, got {sample_rate_hz}")
    if not min_duration_s >= 0:
        raise ValueError(f"min_duration_s must be >= 0, got {min_duration_s}")


def check_audio_file(path: str | os.PathLike[str]) -> None:
    """Check, without decoding it, that a file exists and opens as audio with frames.

    Reads only the file's header, so a batch can reject bad inputs before any model loads;
    :func:`load_audio` repeats these checks and those that need the samples.

    Raises
    ------
    AudioError
        If the file is missing, a directory, empty, unreadable, not audio in a known format,
        or declares no frames. The message names the file.
    """
    path = Path(path)
    with _open(path) as sound_file:
        if sound_file.frames == 0:
            raise AudioError(f"cannot read '{path}': the file contains no audio frames")


def _open(path: Path) -> soundfile.SoundFile:
    """Open `path` with libsndfile after :func:`_check_file`, as AudioError on failure."""
    _check_file(path)
    try:
        return soundfile.SoundFile(path)
    except soundfile.LibsndfileError as exc:
        raise AudioError(
            f"cannot read '{path}': {_describe_libsndfile_error(exc)}", hint=_FORMAT_HINT
        ) from exc
    except OSError as exc:
        raise AudioError(f"cannot read '{path}': {exc.strerror or exc}") from exc


def _warn_if_truncated(path: Path, duration_s: float) -> None:
    """Warn when a WAV file holds less audio than its header declares (a cut-off copy)."""
    declared = _declared_wav_seconds(path)
    if declared is not None and declared > duration_s + 0.01:
        warnings.warn(
            ChordcliWarning(
                f"'{path}' is truncated: its header declares {declared:.1f} s of audio but the "
                f"file holds {duration_s:.1f} s; transcribing the {duration_s:.1f} s"
            ),
            stacklevel=3,
        )


def _declared_wav_seconds(path: str | os.PathLike[str]) -> float | None:
    """Return the duration that the ``data`` chunk of a RIFF/WAVE header declares.

    Returns
    -------
    float or None
        Seconds; None if the file is not a WAV, or the size is unknown (streamed files write
        0 or 0xFFFFFFFF; RF64 files keep it elsewhere).
    """
    try:
        with open(path, "rb") as f:
            if f.read(12)[8:12] != b"WAVE":
                return None
            block_align = rate = 0
            for _ in range(64):  # chunks before 'data': fmt, LIST, fact, ...
                header = f.read(8)
                if len(header) < 8:
                    return None
                size = int.from_bytes(header[4:8], "little")
                if header[:4] == b"fmt ":
                    fmt = f.read(size + (size & 1))
                    rate = int.from_bytes(fmt[4:8], "little")
                    block_align = int.from_bytes(fmt[12:14], "little")
                elif header[:4] == b"data":
                    if not (rate and block_align) or size in (0, 0xFFFFFFFF):
                        return None
                    return size // block_align / rate
                else:
                    f.seek(size + (size & 1), os.SEEK_CUR)
    except OSError:
        return None
    return None


def _check_file(path: Path) -> None:
    """Raise AudioError unless `path` is a non-empty regular file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioError(f"cannot read '{path}': file not found") from None
    except OSError as exc:
        raise AudioError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    if path.is_dir():
        raise AudioError(f"cannot read '{path}': it is a directory", hint="give an audio file")
    if st.st_size == 0:
        raise AudioError(f"cannot read '{path}': the file is empty (0 bytes)")


def _describe_libsndfile_error(exc: soundfile.LibsndfileError) -> str:
    """Short description of a libsndfile failure to open an existing regular file."""
    # libsndfile error codes: 2 system error, 3 malformed file, 4 unsupported encoding.
    # Others (1 unrecognised format; 7, which the MP3 decoder reports for data it cannot
    # parse as "file does not exist") mean the content is not audio it knows.
    detail = str(exc.error_string).strip().rstrip(".")
    if exc.code == 2 and detail:
        return detail
    if exc.code == 3:
        return f"damaged or unsupported audio file ({detail})"
    if exc.code == 4:
        return f"unsupported audio encoding ({detail})"
    return "unknown audio format"


class _Decoded:
    """Decode an open file block by block into float32 (n, 1 or 2) at `target_hz`.

    :meth:`blocks` yields the blocks (views of buffers reused from one block to the next, so
    a caller keeps a copy), counting the frames and the peak and refusing NaN or infinite
    samples; :meth:`check` then refuses what :func:`load_audio` refuses after decoding.
    """

    def __init__(self, sound_file: soundfile.SoundFile, path: Path, *, target_hz: int) -> None:
        self.sound_file = sound_file
        self.path = path
        self.n_channels = int(sound_file.channels)
        self.file_hz = int(sound_file.samplerate)
        declared = max(int(sound_file.frames), 0)
        self.stream = None
        if target_hz != self.file_hz:
            # A mono source is resampled once and duplicated afterwards.
            self.stream = _SoxrStream(
                orig_hz=self.file_hz, target_hz=target_hz, n_channels=min(self.n_channels, 2)
            )
            declared = -(-declared * self.stream.up // self.stream.down)
        self.expected_samples = declared
        self.n_frames = 0  # frames of the file decoded
        self.n_samples = 0  # samples yielded
        self.peak = 0.0

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield the samples in order, shape (n, 1) for mono files and (n, 2) otherwise."""
        block = np.empty((_BLOCK_FRAMES, self.n_channels), dtype=np.float32)
        folded = np.empty((_BLOCK_FRAMES, 2), dtype=np.float32) if self.n_channels > 2 else None
        while True:
            data = self._read(block)
            n = data.shape[0]
            if n == 0:
                break
            self.n_frames += n
            if folded is not None:
                _fold_channels(data, folded[:n])
                data = folded[:n]
            if self.stream is not None:
                data = self.stream.push(data)
            self.n_samples += data.shape[0]
            yield data
        if self.stream is not None:
            data = self.stream.finish()
            self.n_samples += data.shape[0]
            yield data

    def _read(self, block: np.ndarray) -> np.ndarray:
        """Read the next frames into `block`; refuse damaged data and NaN or infinite samples."""
        path, file_hz = self.path, self.file_hz
        try:
            data = self.sound_file.read(_BLOCK_FRAMES, dtype="float32", always_2d=True, out=block)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            raise AudioError(
                f"cannot read '{path}': damaged audio data after "
                f"{self.n_frames / file_hz:.1f} s ({exc})"
            ) from exc
        if data.shape[0] == 0:
            return data
        hi, lo = float(data.max()), float(data.min())
        if not (math.isfinite(hi) and math.isfinite(lo)):
            bad = self.n_frames + int(np.flatnonzero(~np.isfinite(data).all(axis=1))[0])
            raise AudioError(
                f"cannot use '{path}': it contains NaN or infinite samples "
                f"(first at {bad / file_hz:.3f} s)",
                hint="the file is damaged; export it again",
            )
        self.peak = max(self.peak, hi, -lo)
        return data

    def check(self, *, min_duration_s: float) -> None:
        """Refuse a recording without frames, shorter than `min_duration_s`, or silent.

        Warn (:class:`~chordcli.errors.ChordcliWarning`) when a WAV file holds less audio than
        its header declares.
        """
        path = self.path
        if self.n_frames == 0:
            raise AudioError(f"cannot read '{path}': the file contains no audio frames")
        duration_s = self.n_frames / self.file_hz
        if duration_s < min_duration_s:
            raise AudioError(
                f"cannot use '{path}': it is too short ({duration_s:.3g} s, "
                f"at least {min_duration_s:g} s needed)"
            )
        if self.peak < 10.0 ** (SILENCE_PEAK_DBFS / 20.0):
            level = (
                "all samples are zero"
                if self.peak == 0.0
                else f"peak {20 * math.log10(self.peak):.0f} dBFS"
            )
            raise AudioError(
                f"cannot use '{path}': the audio is silent ({level})",
                hint="check that the right file was given",
            )
        _warn_if_truncated(path, duration_s)


def _fold_channels(block: np.ndarray, out: np.ndarray) -> None:
    """Fold (n, n_channels >= 3) `block` into (n, 2) `out` by the channel rule."""
    rest = block[:, 2:].mean(axis=1, dtype=np.float32)
    np.add(block[:, 0], rest, out=out[:, 0])
    np.add(block[:, 1], rest, out=out[:, 1])
    out *= np.float32(0.5)


class _GrowingArray:
    """A float32 (n, 2) array filled block by block; mono blocks fill both channels."""

    def __init__(self, expected: int) -> None:
        self._data = np.empty((expected, 2), dtype=np.float32)
        self._size = 0

    def append(self, block: np.ndarray) -> None:
        n = block.shape[0]
        end = self._size + n
        if end > self._data.shape[0]:  # the header under-reported the length
            grown = np.empty((max(2 * self._data.shape[0], end), 2), dtype=np.float32)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : end] = block  # (n, 1) broadcasts to both channels
        self._size = end

    def result(self) -> np.ndarray:
        data = self._data[: self._size]
        return data.copy() if self._size < self._data.shape[0] // 2 else data


class _SoxrStream:
    """Resample float32 blocks with the SoX resampler (:mod:`soxr`, quality ``HQ``).

    The concatenated output equals ``soxr.resample`` of the whole signal (a test checks it);
    only the resampler's short filter state is kept between blocks.
    """

    def __init__(self, *, orig_hz: int, target_hz: int, n_channels: int) -> None:
        import soxr

        g = math.gcd(orig_hz, target_hz)
        self.up = target_hz // g
        self.down = orig_hz // g
        self._n_channels = n_channels
        self._stream = soxr.ResampleStream(
            orig_hz, target_hz, n_channels, dtype="float32", quality=RESAMPLE_QUALITY
        )

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add input samples; return the output samples that are now complete."""
        return self._stream.resample_chunk(block, last=False)

    def finish(self) -> np.ndarray:
        """Return the remaining output samples."""
        return self._stream.resample_chunk(np.zeros((0, self._n_channels), np.float32), last=True)
