"""Live chord transcription: audio blocks in, chord changes out, as the music plays.

:class:`LiveTranscriber` turns a stream into chords incrementally. Each
:meth:`~LiveTranscriber.update` does only the work that new audio calls for:

- the CQT of the frames not computed yet (:class:`models.cqt.CQTStream`: a frame is computed
  once, when all the audio it reads has arrived; only the newest few are recomputed);
- one run of the network on the last :data:`LIVE_CONTEXT_FRAMES` frames: a ChordNet run by
  ONNX Runtime is given windows of that length (:meth:`models.onnx_runtime.OnnxBackend.
  with_window`: 2.5 times less work than its 512-frame windows, the same posteriors);
- the HMM decoder on the newest :data:`LIVE_DECODE_FRAMES` frames only, with the key
  posterior of the whole context;
- every frame but the newest :data:`LIVE_LOOKAHEAD_FRAMES` is then *committed*: committed
  frames never change, and one whose chord differs from the frame before is a
  :class:`LiveChord`, printed by ``chordcli listen`` at once. :meth:`~LiveTranscriber.finish`
  commits the rest when the stream ends.

The latency from a chord change to its display is the look-ahead, plus the wait for the next
update (:data:`LIVE_UPDATE_S`), plus one update's computation (mostly the network). Blocks that
arrive while an update runs are analysed together by the next one, so a slow machine shows
chords later but never falls behind the stream. With ``tuning_cents=None`` the tuning is
estimated from the last :data:`LIVE_TUNING_WINDOW_S` seconds every :data:`LIVE_TUNING_EVERY_S`
seconds; frames already computed keep the tuning they had. ``benchmarks/bench_listen.py``
measures latency and accuracy against the offline transcription.

Sources put blocks in a queue that :func:`run_live` drains: :func:`simulated_input` plays a
file in real time (tests, benchmarks, demos), :func:`microphone_input` reads an input device
through ``sounddevice`` (PortAudio), an optional dependency (``pip install 'chordcli[listen]'``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from chordcli.errors import ChordcliError
from chordcli.segments import ChordSegment
from models.base import ChordBackend
from theory.decode import DEFAULT_KEY_WEIGHT, decode
from theory.simplify import simplify_label

__all__ = [
    "LIVE_BLOCK_S",
    "LIVE_CONTEXT_FRAMES",
    "LIVE_DECODE_FRAMES",
    "LIVE_LOOKAHEAD_FRAMES",
    "LIVE_TUNING_EVERY_S",
    "LIVE_TUNING_WINDOW_S",
    "LIVE_UPDATE_S",
    "AudioDeviceError",
    "LiveChord",
    "LiveTranscriber",
    "microphone_input",
    "open_input",
    "run_live",
    "simulated_input",
]

#: Frames the network sees at each update (about 24 s; ChordNet's shortest window, its
#: recurrent chunk).
LIVE_CONTEXT_FRAMES = 256
#: Newest frames decoded at each update (about 6 s at 10.8 frames/s).
LIVE_DECODE_FRAMES = 64
#: The newest frames are decided only at a later update (about 0.19 s at 10.8 frames/s).
LIVE_LOOKAHEAD_FRAMES = 2
#: An update runs once at least this much new audio has arrived, in seconds.
LIVE_UPDATE_S = 0.2
#: Length of the audio blocks read from a device or a simulated file, in seconds.
LIVE_BLOCK_S = 0.05
#: With ``tuning_cents=None`` the tuning is estimated again after this much audio, in seconds,
LIVE_TUNING_EVERY_S = 5.0
#: from this much of the newest audio, in seconds.
LIVE_TUNING_WINDOW_S = 10.0


class AudioDeviceError(ChordcliError):
    """No audio input: the device is missing or cannot be opened, or PortAudio is absent."""


@dataclass(frozen=True)
class LiveChord:
    """A chord change detected in the stream.

    Attributes
    ----------
    start_s : float
        Stream time of the change in seconds (where the chord begins in the audio).
    label : str
        Harte label of the chord from `start_s` on.
    decided_s : float
        Stream time (seconds of audio received) when the change was decided.
    """

    start_s: float
    label: str
    decided_s: float


class LiveTranscriber:
    """Transcribe a stream of audio blocks incrementally.

    Parameters
    ----------
    backend : ChordBackend
        A loaded model.
    sample_rate_hz : int
        Rate of the blocks; must be the model's (``backend.cqt_config.sample_rate_hz``).
    vocab : {'full', 'sevenths', 'majmin'}
        Chord vocabulary of the labels.
    tuning_cents : float or None
        Tuning of the stream in cents; None estimates it as the stream goes.
    context_frames, decode_frames, lookahead_frames : int
        Frames the network sees, frames decoded, newest frames left undecided at each update.
    """

    def __init__(
        self,
        backend: ChordBackend,
        *,
        sample_rate_hz: int,
        vocab: str = "full",
        tuning_cents: float | None = None,
        context_frames: int = LIVE_CONTEXT_FRAMES,
        decode_frames: int = LIVE_DECODE_FRAMES,
        lookahead_frames: int = LIVE_LOOKAHEAD_FRAMES,
    ) -> None:
        from models.cqt import CQTStream

        config = backend.cqt_config
        if sample_rate_hz != config.sample_rate_hz:
            raise ValueError(
                f"blocks must be at the model's rate {config.sample_rate_hz} Hz, "
                f"got {sample_rate_hz}"
            )
        self.backend = _live_backend(backend, context_frames)
        self.sample_rate_hz = int(sample_rate_hz)
        self.vocab = vocab
        self.tuning_cents = tuning_cents
        self.decode_frames = int(decode_frames)
        self.lookahead_frames = int(lookahead_frames)
        self._hop = config.hop_length
        self._fps = config.frames_per_second
        self._stream = CQTStream(
            config, keep_frames=context_frames, tuning_cents=tuning_cents or 0.0
        )
        self._analysed = 0  # samples received at the last update
        self._labels: list[str] = []  # label of every committed frame
        self._recent = np.zeros((0, 2), dtype=np.float32)  # newest audio, for the tuning
        self._tuned_at: int | None = None  # samples received at the last tuning estimate

    @property
    def received_s(self) -> float:
        """Seconds of audio received so far."""
        return self._stream.received / self.sample_rate_hz

    @property
    def pending_s(self) -> float:
        """Seconds of audio received since the last update."""
        return (self._stream.received - self._analysed) / self.sample_rate_hz

    def append(self, block: np.ndarray) -> None:
        """Add a block of samples, shape (n,) or (n, 1 or 2), at ``sample_rate_hz``."""
        self._stream.append(block)
        if self.tuning_cents is None:
            x = np.asarray(block, dtype=np.float32)
            x = x[:, np.newaxis] if x.ndim == 1 else x
            x = np.repeat(x, 2, axis=1) if x.shape[1] == 1 else x[:, :2]
            keep = int(LIVE_TUNING_WINDOW_S * self.sample_rate_hz)
            self._recent = np.concatenate([self._recent, x])[-keep:]

    def update(self) -> list[LiveChord]:
        """Analyse the new audio and commit the frames that are old enough.

        Returns
        -------
        list of LiveChord
            Chord changes among the newly committed frames, in time order.
        """
        newest = self._stream.received // self._hop
        return self._commit(until=newest + 1 - self.lookahead_frames)

    def finish(self) -> list[LiveChord]:
        """Commit every remaining frame (the stream has ended)."""
        return self._commit(until=self._stream.received // self._hop + 1)

    def segments(self) -> list[ChordSegment]:
        """Return the committed chords as segments (times in seconds of the stream)."""
        out: list[ChordSegment] = []
        end_s = self.received_s
        for i, label in enumerate(self._labels):
            if out and out[-1].label == label:
                continue
            start = max(0.0, (i - 0.5) / self._fps)
            if out:
                out[-1] = replace(out[-1], end_s=start)
            out.append(ChordSegment(start, end_s, label))
        if out:
            out[-1] = replace(out[-1], end_s=max(out[-1].start_s, end_s))
        return [s for s in out if s.end_s > s.start_s]

    def _commit(self, *, until: int) -> list[LiveChord]:
        self._analysed = self._stream.received
        done = len(self._labels)
        if until <= done or self._stream.received == 0:
            return []
        first, labels = self._frame_labels(done)
        events = []
        for frame in range(done, min(until, first + len(labels))):
            label = labels[max(0, frame - first)]  # frames older than the context: rare
            if not self._labels or self._labels[-1] != label:
                start_s = max(0.0, (frame - 0.5) / self._fps)
                events.append(LiveChord(start_s, label, self.received_s))
            self._labels.append(label)
        return events

    def _frame_labels(self, done: int) -> tuple[int, list[str]]:
        """Return the stream index of the first frame decoded and the labels from there on.

        The decoded span starts at most :attr:`decode_frames` frames before the newest and
        always includes frame `done`, the first one not committed yet.
        """
        self._retune()
        first, features = self._stream.frames()
        output = self.backend.predict(features)
        n = len(features)
        start = max(0, min(n - self.decode_frames, done - first))
        decoding = decode(
            output.chord[start:],
            smooth_chroma=output.smooth_chroma[start:],
            change=output.change[start:],
            bass=output.bass[start:],
            key=output.key.mean(axis=0),
            key_weight=DEFAULT_KEY_WEIGHT,
            **self.backend.decoder.kwargs(),
        )
        labels: list[str] = []
        for seg in decoding.segments:
            label = simplify_label(seg.label, self.vocab)
            labels += [label] * (seg.end_frame - seg.start_frame)
        return first + start, labels

    def _retune(self) -> None:
        """Estimate the tuning when due (``tuning_cents=None``); new frames use it."""
        from models.tuning import estimate_tuning

        received = self._stream.received
        due = self._tuned_at is None or received - self._tuned_at >= (
            LIVE_TUNING_EVERY_S * self.sample_rate_hz
        )
        if self.tuning_cents is not None or not due or received < self.sample_rate_hz:
            return
        estimate = estimate_tuning(self._recent, sample_rate_hz=self.sample_rate_hz)
        self._stream.tuning_cents = float(round(estimate))
        self._tuned_at = received


def _live_backend(backend: ChordBackend, context_frames: int) -> ChordBackend:
    """Return `backend` on windows of `context_frames` frames if it can take them, else itself."""
    from models.base import ModelError

    with_window = getattr(backend, "with_window", None)
    if with_window is None or getattr(backend, "window_frames", 0) <= context_frames:
        return backend
    try:
        return with_window(context_frames)
    except ModelError:  # a network that cannot be rewritten runs on its own windows
        return backend


def run_live(
    blocks: queue.Queue[np.ndarray | None],
    transcriber: LiveTranscriber,
    *,
    on_chord: Callable[[LiveChord], None],
    update_s: float = LIVE_UPDATE_S,
    max_s: float | None = None,
) -> None:
    """Feed blocks from a queue to a transcriber until the queue yields None (or `max_s`).

    Every block already waiting is appended before an update, so updates slower than the
    stream make later, larger updates instead of a growing backlog.

    Parameters
    ----------
    blocks : queue.Queue
        Blocks of samples; None ends the stream.
    transcriber : LiveTranscriber
        Receives the blocks.
    on_chord : callable
        Called with every chord change as soon as it is decided.
    update_s : float
        Analyse once at least this much new audio has arrived.
    max_s : float or None
        Stop after this many seconds of audio.
    """
    while True:
        parts = [blocks.get()]
        while parts[-1] is not None:
            try:
                parts.append(blocks.get_nowait())
            except queue.Empty:
                break
        ended = parts[-1] is None
        for block in parts:
            if block is not None:
                transcriber.append(block)
        if max_s is not None and transcriber.received_s >= max_s:
            ended = True
        if ended:
            for chord in transcriber.finish():
                on_chord(chord)
            return
        if transcriber.pending_s >= update_s:
            for chord in transcriber.update():
                on_chord(chord)


@contextlib.contextmanager
def simulated_input(
    samples: np.ndarray, *, sample_rate_hz: int, block_s: float = LIVE_BLOCK_S
) -> Iterator[queue.Queue[np.ndarray | None]]:
    """Play a recording into a queue in real time, as a device would deliver it.

    Parameters
    ----------
    samples : ndarray, shape (n_samples, n_channels)
        The recording.
    sample_rate_hz : int
        Its rate.
    block_s : float
        Block length in seconds.

    Yields
    ------
    queue.Queue
        Blocks, each put when its last sample is due, then None.
    """
    blocks: queue.Queue[np.ndarray | None] = queue.Queue()
    stop = threading.Event()
    step = max(1, round(block_s * sample_rate_hz))

    def play() -> None:
        start = time.monotonic()
        for i in range(0, len(samples), step):
            block = samples[i : i + step]
            delay = start + (i + len(block)) / sample_rate_hz - time.monotonic()
            if stop.wait(max(0.0, delay)):
                break
            blocks.put(block)
        blocks.put(None)

    thread = threading.Thread(target=play, name="simulated-input", daemon=True)
    thread.start()
    try:
        yield blocks
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def microphone_input(
    *, sample_rate_hz: int, device: str | int | None = None, block_s: float = LIVE_BLOCK_S
) -> Iterator[queue.Queue[np.ndarray | None]]:
    """Record from an audio input device into a queue (PortAudio through ``sounddevice``).

    Parameters
    ----------
    sample_rate_hz : int
        Rate of the blocks (the model's); the device records at its default rate and the
        blocks are resampled (soxr) if it differs.
    device : str or int or None
        Input device name or index (``python -m sounddevice`` lists them); None the default.
    block_s : float
        Block length in seconds.

    Yields
    ------
    queue.Queue
        Recorded blocks, shape (n, 1 or 2), float32, while the context is open.

    Raises
    ------
    AudioDeviceError
        If ``sounddevice`` or PortAudio is missing, or no input device can be opened.
    """
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        what = "PortAudio" if isinstance(exc, OSError) else "the sounddevice package"
        raise AudioDeviceError(
            f"no audio input: {what} is not installed",
            hint="pip install 'chordcli[listen]' (PortAudio: apt install libportaudio2), "
            "or use --simulate FILE",
        ) from None
    import soxr

    blocks: queue.Queue[np.ndarray | None] = queue.Queue()
    name = "the default input device" if device is None else f"input device {device!r}"
    try:
        info = sounddevice.query_devices(device, kind="input")
        channels = max(1, min(2, int(info["max_input_channels"])))
        device_hz = int(info["default_samplerate"] or sample_rate_hz)
        # Devices record at their own rate; soxr brings each block to the model's.
        resampler = None
        if device_hz != sample_rate_hz:
            resampler = soxr.ResampleStream(device_hz, sample_rate_hz, channels, dtype="float32")

        def callback(data: np.ndarray, frames: int, when: object, status: object) -> None:
            blocks.put(data.copy() if resampler is None else resampler.resample_chunk(data))

        stream = sounddevice.InputStream(
            samplerate=device_hz,
            blocksize=max(1, round(block_s * device_hz)),
            device=device,
            channels=channels,
            dtype="float32",
            callback=callback,
        )
    except (sounddevice.PortAudioError, ValueError) as exc:
        raise AudioDeviceError(
            f"no audio input: cannot open {name} ({str(exc).splitlines()[0]})",
            hint="python -m sounddevice lists the devices; or use --simulate FILE",
        ) from None
    with stream:
        yield blocks


def open_input(
    *, simulate: str | os.PathLike[str] | None, device: str | None, sample_rate_hz: int
) -> contextlib.AbstractContextManager[queue.Queue[np.ndarray | None]]:
    """Return the block source of ``chordcli listen``: a file played in real time, or a device.

    Parameters
    ----------
    simulate : path or None
        Audio file to play in real time (read and resampled to `sample_rate_hz` at once).
    device : str or None
        Input device name or index (digits); None the default device.
    sample_rate_hz : int
        Rate of the blocks (the model's).

    Raises
    ------
    UsageError
        If both `simulate` and `device` are given.
    AudioError
        If the file cannot be read.
    """
    from chordcli.audio import load_audio
    from chordcli.errors import UsageError

    if simulate is not None and device is not None:
        raise UsageError("give --simulate or --device, not both", param_hint="'--device'")
    if simulate is not None:
        audio = load_audio(simulate, sample_rate_hz=sample_rate_hz)
        return simulated_input(audio.samples, sample_rate_hz=sample_rate_hz)
    index = int(device) if device is not None and device.isdigit() else device
    return microphone_input(sample_rate_hz=sample_rate_hz, device=index)
