"""Beats and bars: onset strength, tempo, dynamic-programming beat tracking, downbeats.

The method is that of Ellis (2007), "Beat tracking by dynamic programming", as in librosa:

1. **Onset strength** (:func:`onset_strength`): log-compressed STFT magnitudes (about 11.6 ms
   hop), the positive difference from one frame to the next summed over frequency, with its
   local mean (one second) removed and negative values cut.
2. **Tempo** (:func:`estimate_tempo`): the autocorrelation of the onset envelope, weighted by a
   log-normal prior over the beat period (centred on :data:`DEFAULT_TEMPO_PRIOR_BPM` with a
   standard deviation of :data:`DEFAULT_TEMPO_PRIOR_OCTAVES` octaves); the best lag is refined by
   parabolic interpolation.
3. **Beats** (:func:`track_beats`): the best sequence of beat frames maximises the onset strength
   at the beats minus ``tightness * log(interval / period) ** 2`` for every interval between
   consecutive beats; dynamic programming finds it in one pass. Weak beats at the start and end
   (in silence) are dropped.
4. **Edges** (:func:`extend_to_span`): the tracker also misses beats at the very start and end
   (no onset before the first beat to link from, a last chord that rings out); the grid is
   extrapolated at its local interval over the span that holds chords, so a chord change
   there still has a beat to snap to.
5. **Downbeats** (:func:`downbeats_from_changes`): of the ``beats_per_bar`` possible bar phases,
   the one that puts the most chord changes on the first beat of a bar.

All work is done in blocks, so memory stays bounded for hour-long recordings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.ndimage

from models.cqt import mix_to_mono

__all__ = [
    "DEFAULT_BEATS_PER_BAR",
    "DEFAULT_TEMPO_PRIOR_BPM",
    "DEFAULT_TEMPO_PRIOR_OCTAVES",
    "DEFAULT_TIGHTNESS",
    "Beats",
    "OnsetEnvelope",
    "OnsetFlux",
    "downbeats_from_changes",
    "estimate_tempo",
    "extend_to_span",
    "onset_strength",
    "snap_to_beats",
    "track_beats",
]

#: Centre of the tempo prior in beats per minute.
DEFAULT_TEMPO_PRIOR_BPM: float = 120.0
#: Standard deviation of the tempo prior, in octaves (log2 units).
DEFAULT_TEMPO_PRIOR_OCTAVES: float = 1.0
#: Weight of the interval penalty of the beat tracker (Ellis's alpha).
DEFAULT_TIGHTNESS: float = 100.0
#: Metre assumed for bars.
DEFAULT_BEATS_PER_BAR: int = 4

_HOP_S = 256 / 22050  # about 11.6 ms
_WINDOW_S = 1024 / 22050  # about 46 ms
_MIN_BPM, _MAX_BPM = 30.0, 300.0
_BLOCK_FRAMES = 4096


@dataclass(frozen=True)
class OnsetEnvelope:
    """Onset strength of a recording.

    Attributes
    ----------
    strength : ndarray, shape (n_frames,), float32
        Non-negative onset strength; frame ``i`` belongs to time
        ``offset_s + i / frames_per_second``.
    frames_per_second : float
        Frame rate.
    offset_s : float
        Time of frame 0 in seconds. The flux of a sharp onset peaks when the onset has entered
        the first quarter of the analysis window, a quarter window before it reaches the frame
        centre, so frames are dated a quarter window later than their centre.
    """

    strength: np.ndarray
    frames_per_second: float
    offset_s: float = 0.0


@dataclass(frozen=True)
class Beats:
    """Tempo and beats of a recording.

    Attributes
    ----------
    tempo_bpm : float or None
        Tempo in beats per minute; None when no beat was found.
    beats_s : tuple of float
        Beat times in seconds.
    """

    tempo_bpm: float | None
    beats_s: tuple[float, ...]


def onset_strength(samples: np.ndarray, *, sample_rate_hz: int) -> OnsetEnvelope:
    """Compute the onset strength envelope of audio.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,) or (n_samples, n_channels)
        Audio; channels are averaged.
    sample_rate_hz : int
        Sample rate in Hz.

    Returns
    -------
    OnsetEnvelope
        Spectral-flux onset strength at about 86 frames per second.

    See Also
    --------
    OnsetFlux : the same from a recording read block by block.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    flux = OnsetFlux(sample_rate_hz=sample_rate_hz)
    step = _BLOCK_FRAMES * flux.hop  # channels mixed block by block: no mono copy of the whole
    for i in range(0, len(x), step):
        flux.push(x[i : i + step])
    return flux.envelope()


class OnsetFlux:
    """Spectral flux of a recording pushed block by block (see :func:`onset_strength`).

    Parameters
    ----------
    sample_rate_hz : int
        Sample rate in Hz.
    """

    def __init__(self, *, sample_rate_hz: int) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.hop = max(1, round(_HOP_S * sample_rate_hz))
        self.n_fft = 1 << int(np.ceil(np.log2(_WINDOW_S * sample_rate_hz)))
        self._window = periodic_hann(self.n_fft).astype(np.float32)
        self._top_bin = min(self.n_fft // 2 + 1, int(8000.0 * self.n_fft / sample_rate_hz))
        self._flux: list[np.ndarray] = []
        self._previous: np.ndarray | None = None  # spectrum of the last frame done
        self._done = 0  # frames done
        # Mono samples from the first sample of frame `_done`'s window on (the window of
        # frame f starts at f * hop - n_fft // 2; zeros before the signal).
        self._tail = np.zeros(self.n_fft // 2, dtype=np.float32)
        self._n_samples = 0

    def push(self, block: np.ndarray) -> None:
        """Add the next samples, shape (n, n_channels); channels are averaged."""
        mono = mix_to_mono(np.asarray(block, dtype=np.float32))
        self._n_samples += len(mono)
        self._tail = np.concatenate([self._tail, mono])
        # Frames whose windows the samples so far cover, in blocks of _BLOCK_FRAMES frames.
        while True:
            f1 = self._done + _BLOCK_FRAMES
            if (f1 - 1) * self.hop + self.n_fft - self.n_fft // 2 > self._n_samples:
                return
            self._frames(f1)

    def envelope(self) -> OnsetEnvelope:
        """Finish the recording (zeros after it) and return its onset strength."""
        n_frames = 1 + self._n_samples // self.hop
        while self._done < n_frames:
            f1 = min(self._done + _BLOCK_FRAMES, n_frames)
            need = (f1 - 1 - self._done) * self.hop + self.n_fft
            if len(self._tail) < need:
                padding = np.zeros(need - len(self._tail), dtype=np.float32)
                self._tail = np.concatenate([self._tail, padding])
            self._frames(f1)
        flux = np.concatenate(self._flux) if self._flux else np.zeros(0, dtype=np.float32)
        fps = self.sample_rate_hz / self.hop
        local = scipy.ndimage.uniform_filter1d(flux, size=max(1, round(fps)), mode="nearest")
        strength = np.maximum(flux - local, 0.0).astype(np.float32)
        return OnsetEnvelope(
            strength=strength, frames_per_second=fps, offset_s=self.n_fft / 4 / self.sample_rate_hz
        )

    def _frames(self, f1: int) -> None:
        """Compute the flux of frames ``_done .. f1 - 1`` from the tail."""
        n = f1 - self._done
        frames = np.lib.stride_tricks.sliding_window_view(self._tail, self.n_fft)[:: self.hop][:n]
        spec = np.abs(scipy.fft.rfft(frames * self._window, axis=1)[:, 1 : self._top_bin])
        spec = np.log1p(100.0 * spec, dtype=np.float32)
        previous = spec[:1] if self._previous is None else self._previous
        diff = np.diff(np.concatenate([previous, spec]), axis=0)
        self._flux.append(np.maximum(diff, 0.0).mean(axis=1))
        self._previous = spec[-1:]
        self._done = f1
        self._tail = self._tail[n * self.hop :]


def periodic_hann(n: int) -> np.ndarray:
    """Return the periodic Hann window of `n` samples, float64.

    ``scipy.signal.get_window("hann", n)`` bit for bit (the same sum of cosines), without
    importing :mod:`scipy.signal`, which costs over a second of a transcription's start-up.
    """
    phase = np.linspace(-np.pi, np.pi, n + 1)
    window = np.zeros(n + 1)
    for k, weight in enumerate((0.5, 0.5)):
        window += weight * np.cos(k * phase)
    return window[:-1]


def estimate_tempo(
    onsets: OnsetEnvelope,
    *,
    prior_bpm: float = DEFAULT_TEMPO_PRIOR_BPM,
    prior_octaves: float = DEFAULT_TEMPO_PRIOR_OCTAVES,
) -> float | None:
    """Estimate the tempo from the autocorrelation of the onset strength.

    Parameters
    ----------
    onsets : OnsetEnvelope
        Onset strength (see :func:`onset_strength`).
    prior_bpm : float
        Centre of the log-normal tempo prior in beats per minute.
    prior_octaves : float
        Standard deviation of the prior in octaves.

    Returns
    -------
    float or None
        Tempo in beats per minute (30..300), or None if the envelope is flat (no onsets).
    """
    env = onsets.strength.astype(np.float64)
    fps = onsets.frames_per_second
    if len(env) < 4 or not np.any(env > 0):
        return None
    env = env - env.mean()
    n = len(env)
    size = scipy.fft.next_fast_len(2 * n)
    spectrum = scipy.fft.rfft(env, size)
    acf = scipy.fft.irfft(spectrum * np.conj(spectrum), size)[:n]
    acf /= np.maximum(n - np.arange(n), 1)  # unbiased
    min_lag = max(1, int(np.floor(60.0 * fps / _MAX_BPM)))
    max_lag = min(n - 2, int(np.ceil(60.0 * fps / _MIN_BPM)))
    if max_lag <= min_lag + 1:
        return None
    lags = np.arange(min_lag, max_lag + 1)
    bpm = 60.0 * fps / lags
    weight = np.exp(-0.5 * (np.log2(bpm / prior_bpm) / prior_octaves) ** 2)
    score = acf[lags] * weight
    best = int(np.argmax(score))
    if score[best] <= 0:
        return None
    lag = float(lags[best])
    if 0 < best < len(score) - 1:
        y0, y1, y2 = acf[lags[best] - 1], acf[lags[best]], acf[lags[best] + 1]
        denom = y0 - 2 * y1 + y2
        if denom < 0:
            lag += 0.5 * (y0 - y2) / denom
    return float(60.0 * fps / lag)


def track_beats(
    onsets: OnsetEnvelope,
    *,
    tempo_bpm: float | None = None,
    tightness: float = DEFAULT_TIGHTNESS,
) -> Beats:
    """Track beats by dynamic programming (Ellis 2007).

    Parameters
    ----------
    onsets : OnsetEnvelope
        Onset strength (see :func:`onset_strength`).
    tempo_bpm : float, optional
        Tempo in beats per minute; estimated with :func:`estimate_tempo` if None.
    tightness : float
        Weight of the penalty ``(log(interval / period)) ** 2`` on every beat interval.

    Returns
    -------
    Beats
        The tempo and the beat times (empty if no tempo could be found).
    """
    if tempo_bpm is None:
        tempo_bpm = estimate_tempo(onsets)
    env = onsets.strength.astype(np.float64)
    fps = onsets.frames_per_second
    if tempo_bpm is None or len(env) == 0 or not np.any(env > 0):
        return Beats(tempo_bpm=None, beats_s=())
    period = 60.0 * fps / tempo_bpm
    # Normalise the envelope and smooth it with a Gaussian of a 32nd of the period (as librosa).
    env = env / (env.std() + 1e-12)
    width = np.arange(-period, period + 1)
    kernel = np.exp(-0.5 * (width * 32.0 / period) ** 2)
    local = np.convolve(env, kernel, mode="same") - env.mean()
    lo, hi = int(np.round(-2 * period)), -int(np.round(period / 2))
    lags = np.arange(lo, hi + 1)  # negative offsets to previous beats
    penalty = -tightness * np.log(-lags / period) ** 2
    score, back = _best_chains(local, lags, penalty)
    n = len(local)
    # Last beat: the best local maximum of the score within the last period.
    maxima = (
        np.flatnonzero((score[1:-1] >= score[:-2]) & (score[1:-1] >= score[2:])) + 1
        if n > 2
        else np.arange(n)
    )
    if len(maxima) == 0:
        return Beats(tempo_bpm=float(tempo_bpm), beats_s=())
    median = np.median(score[maxima])
    candidates = maxima[score[maxima] >= 0.5 * median]
    beat = int(candidates[-1]) if len(candidates) else int(maxima[-1])
    beats = [beat]
    while back[beat] >= 0:
        beat = int(back[beat])
        beats.append(beat)
    frames = np.array(beats[::-1])
    frames = _trim_weak_beats(frames, local)
    return Beats(
        tempo_bpm=float(tempo_bpm), beats_s=tuple((onsets.offset_s + frames / fps).tolist())
    )


def _best_chains(
    local: np.ndarray, lags: np.ndarray, penalty: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the best chain score ending at each frame and its previous beat (-1: none).

    ``score[t] = local[t] + max(0, max_k score[t + lags[k]] + penalty[k])`` once the onsets
    have started (a frame links only to a predecessor that adds to its score). Every lag is
    at most ``lags[-1] < 0``, so the frames of a chunk of ``-lags[-1]`` frames depend only on
    earlier chunks and are computed at once: the candidates of the whole chunk are one
    strided view of the score, padded with ``-inf`` before the first frame.
    """
    n, n_lags = len(local), len(lags)
    pad = -int(lags[0])
    padded = np.full(pad + n, -np.inf)
    score = padded[pad:]  # a view: filling score fills the candidates' windows
    # Row t of `windows` holds score[t + lags[0] .. t + lags[-1]].
    windows = np.lib.stride_tricks.sliding_window_view(padded, n_lags)
    back = np.full(n, -1, dtype=np.int64)
    started = np.flatnonzero(local >= 0.01 * local.max())
    first_beat = int(started[0]) if len(started) else n
    step = max(1, -int(lags[-1]))
    offsets = np.arange(step)
    for t0 in range(0, n, step):
        t1 = min(t0 + step, n)
        ts = t0 + offsets[: t1 - t0]
        cand = windows[t0:t1] + penalty
        j = cand.argmax(axis=1)
        best = cand[offsets[: t1 - t0], j]
        # Link to the best predecessor only if that adds to the score (else a chain starts);
        # -inf (no predecessor) never does.
        link = best > 0
        if t0 < first_beat:
            link &= ts >= first_beat
        score[t0:t1] = local[t0:t1] + np.where(link, best, 0.0)
        back[t0:t1] = np.where(link, ts + lags[j], -1)
    return score, back


def _trim_weak_beats(frames: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Drop leading and trailing beats whose onset strength is below half the beats' RMS."""
    if len(frames) == 0:
        return frames
    values = local[frames]
    threshold = 0.5 * np.sqrt(np.mean(values**2))
    strong = np.flatnonzero(values >= threshold)
    if len(strong) == 0:
        return frames[:0]
    return frames[strong[0] : strong[-1] + 1]


#: Beats whose interval sets the spacing of the beats extrapolated at each edge.
_EDGE_BEATS = 8


def extend_to_span(beats: Beats, *, start_s: float, end_s: float) -> Beats:
    """Extrapolate the beat grid so that it covers ``start_s`` to ``end_s``.

    Beats are added before the first beat, down to ``start_s``, at the median interval of the
    first :data:`_EDGE_BEATS` beats, and after the last, up to (not including) ``end_s``, at
    the median interval of the last ones. Grids of fewer than two beats are returned unchanged.

    Parameters
    ----------
    beats : Beats
        Tracked beats (:func:`track_beats`).
    start_s, end_s : float
        The span to cover, in seconds (for example the first and last sounding chord).

    Returns
    -------
    Beats
        The same tempo, with the beats at both edges added.
    """
    times = np.asarray(beats.beats_s, dtype=np.float64)
    if len(times) < 2:
        return beats
    first_step = float(np.median(np.diff(times[:_EDGE_BEATS])))
    last_step = float(np.median(np.diff(times[-_EDGE_BEATS:])))
    n_before = max(0, int(np.floor((times[0] - start_s) / first_step + 1e-9)))
    n_after = max(0, int(np.ceil((end_s - times[-1]) / last_step - 1e-9)) - 1)
    before = times[0] - first_step * np.arange(n_before, 0, -1)
    after = times[-1] + last_step * np.arange(1, n_after + 1)
    extended = np.concatenate([before, times, after])
    return Beats(tempo_bpm=beats.tempo_bpm, beats_s=tuple(extended.tolist()))


def downbeats_from_changes(
    beats_s: tuple[float, ...] | np.ndarray,
    change_times_s: tuple[float, ...] | np.ndarray,
    *,
    beats_per_bar: int = DEFAULT_BEATS_PER_BAR,
) -> tuple[float, ...]:
    """Choose the bar phase that puts the most chord changes on the first beat of a bar.

    A chord change counts for the beat nearest to it when it lies within half a beat interval.
    Ties go to the earliest phase.

    Parameters
    ----------
    beats_s : array_like, shape (n_beats,)
        Beat times in seconds, increasing.
    change_times_s : array_like, shape (n_changes,)
        Chord change times in seconds.
    beats_per_bar : int
        Beats per bar (4 for 4/4).

    Returns
    -------
    tuple of float
        Downbeat times, every ``beats_per_bar``-th beat starting at the chosen phase.
    """
    beats = np.asarray(beats_s, dtype=np.float64)
    changes = np.asarray(change_times_s, dtype=np.float64)
    if beats_per_bar < 1:
        raise ValueError(f"beats_per_bar must be >= 1, got {beats_per_bar}")
    if len(beats) == 0:
        return ()
    votes = np.zeros(beats_per_bar)
    if len(beats) > 1 and len(changes):
        nearest = np.clip(np.searchsorted(beats, changes), 1, len(beats) - 1)
        left, right = beats[nearest - 1], beats[nearest]
        index = np.where(changes - left < right - changes, nearest - 1, nearest)
        interval = np.diff(beats)
        local = interval[np.clip(index, 0, len(interval) - 1)]
        near = np.abs(beats[index] - changes) <= 0.5 * local
        np.add.at(votes, index[near] % beats_per_bar, 1.0)
    phase = int(np.argmax(votes))
    return tuple(beats[phase::beats_per_bar].tolist())


def snap_to_beats(
    times_s: np.ndarray | tuple[float, ...], beats_s: np.ndarray | tuple[float, ...]
) -> np.ndarray:
    """Move each time to the nearest beat.

    Parameters
    ----------
    times_s : array_like, shape (n,)
        Times in seconds.
    beats_s : array_like, shape (n_beats,)
        Beat times in seconds, increasing.

    Returns
    -------
    ndarray, shape (n,), float64
        The nearest beat of each time (the times unchanged if there are no beats).
    """
    times = np.asarray(times_s, dtype=np.float64)
    beats = np.asarray(beats_s, dtype=np.float64)
    if len(beats) == 0:
        return times.copy()
    idx = np.clip(np.searchsorted(beats, times), 1, max(len(beats) - 1, 1))
    if len(beats) == 1:
        return np.full_like(times, beats[0])
    left, right = beats[idx - 1], beats[idx]
    return np.where(times - left <= right - times, left, right)
