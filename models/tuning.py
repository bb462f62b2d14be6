"""Tuning estimation: how far a recording's pitches sit from A = 440 Hz equal temperament.

:func:`estimate_tuning` returns the offset in cents (-50 .. +50) of the recording's semitone
grid from the one of A = 440 Hz; :func:`models.cqt.cqt` centres its bins on it
(``tuning_cents=``), so a record played 40 cents sharp gives the features of the in-tune one.

Method (as ``librosa.estimate_tuning`` and Chordino): a short-time spectrum with a long window
(about 0.37 s, a bin every 2.7 Hz), its local peaks between :data:`TUNING_FMIN_HZ` and
:data:`TUNING_FMAX_HZ` refined to a fraction of a bin by parabolic interpolation of the log
magnitude, and for each peak its deviation from the nearest equal-tempered pitch, in cents.
The deviations of the stronger peaks (above the median peak of their frame and within
:data:`TUNING_RANGE_DB` of the loudest one) vote in a histogram of 1-cent bins on the circle
-50 .. +50, weighted by magnitude and smoothed; the estimate is the circular mean of the
deviations near the histogram's mode. The mode rather than the mean keeps out what is not on
the semitone grid (the fifth harmonic of a note is 14 cents flat, the seventh 31).

Only numpy and scipy; no model is involved, so the same estimate serves every backend.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from models.cqt import mix_to_mono

__all__ = [
    "TUNING_FMAX_HZ",
    "TUNING_FMIN_HZ",
    "TUNING_MAX_FRAMES",
    "TUNING_RANGE_DB",
    "TUNING_REFERENCE_HZ",
    "TuningError",
    "estimate_tuning",
    "parse_tuning",
]

#: Frequency of A4 that 0 cents refers to.
TUNING_REFERENCE_HZ = 440.0
#: Lowest peak frequency used: below it a spectrum bin spans more than a quarter-tone.
TUNING_FMIN_HZ = 100.0
#: Highest peak frequency used.
TUNING_FMAX_HZ = 3000.0
#: Peaks more than this many dB below the loudest one of their frame are ignored.
TUNING_RANGE_DB = 40.0
#: At most this many spectrum frames, spread evenly over the recording (bounds the cost).
TUNING_MAX_FRAMES = 1000
# Window length in seconds (rounded up to a power of two in samples).
_WINDOW_S = 0.37
# Histogram: bins of one cent, smoothed by a Gaussian of this width (cents).
_SMOOTH_CENTS = 3.0
# Deviations within this many cents of the histogram's mode are averaged.
_MEAN_HALF_WIDTH_CENTS = 12.0
# Fewer voting peaks than this give 0 cents (silence, noise, drums).
_MIN_PEAKS = 20


class TuningError(ValueError):
    """A tuning value that cannot be used; the message names the value."""


def parse_tuning(text: str) -> float | None:
    """Parse a ``--tuning`` value: ``auto`` (None, estimate it) or cents in -50 .. 50.

    Parameters
    ----------
    text : str
        ``"auto"`` or a number of cents such as ``"-12.5"``.

    Returns
    -------
    float or None
        The cents, or None for ``auto``.

    Raises
    ------
    TuningError
        If `text` is neither ``auto`` nor a finite number in -50 .. 50.
    """
    value = text.strip().lower()
    if value == "auto":
        return None
    try:
        cents = float(value)
    except ValueError:
        raise TuningError(
            f"tuning must be 'auto' or cents in -50..50, got {text!r} (hint: --tuning -20)"
        ) from None
    if not (math.isfinite(cents) and -50.0 <= cents <= 50.0):
        raise TuningError(f"tuning must be cents in -50..50, got {text!r}")
    return cents


def estimate_tuning(samples: np.ndarray, *, sample_rate_hz: int) -> float:
    """Estimate the tuning of a recording in cents relative to A = 440 Hz.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,) or (n_samples, n_channels)
        Audio, floating point; channels are averaged.
    sample_rate_hz : int
        Rate of `samples` in Hz (at least 8000).

    Returns
    -------
    float
        Offset in cents in [-50, 50): ``+40`` means every pitch sits 40 cents above its
        A = 440 Hz equal-tempered value. 0.0 when there are too few tonal peaks to tell
        (silence, noise, percussion, or a clip shorter than the analysis window).

    Raises
    ------
    TuningError
        If `sample_rate_hz` is not a positive integer of at least 8000 or `samples` has
        an unusable shape.

    See Also
    --------
    TuningFrames : the same estimate from a recording read block by block.
    """
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise TuningError(f"samples must have shape (n,) or (n, channels), got {x.shape}")
    frames = TuningFrames(n_samples=x.shape[0], sample_rate_hz=sample_rate_hz)
    step = 1 << 20  # the frames are mixed to mono block by block: no mono copy of the whole
    for i in range(0, x.shape[0], step):
        frames.push(x[i : i + step])
    return frames.estimate(x.shape[0])


class TuningFrames:
    """Gather the frames :func:`estimate_tuning` analyses from blocks of a recording.

    The frames are spread evenly over the recording, so their places depend on its length:
    give the length expected (a file header's), :meth:`push` the samples block by block in
    order, and :meth:`estimate` checks that the length found gives the same frames.

    Parameters
    ----------
    n_samples : int
        Length of the recording expected, in samples.
    sample_rate_hz : int
        Rate of the samples in Hz (at least 8000).

    Raises
    ------
    TuningError
        If `sample_rate_hz` is not an integer of at least 8000.
    """

    def __init__(self, *, n_samples: int, sample_rate_hz: int) -> None:
        if isinstance(sample_rate_hz, bool) or not float(sample_rate_hz).is_integer():
            raise TuningError(f"sample_rate_hz must be an integer, got {sample_rate_hz!r}")
        if sample_rate_hz < 8000:
            raise TuningError(f"sample_rate_hz must be at least 8000, got {sample_rate_hz!r}")
        self.sample_rate_hz = int(sample_rate_hz)
        self.n_fft = 1 << math.ceil(math.log2(_WINDOW_S * self.sample_rate_hz))
        self.starts = _frame_starts(int(n_samples), self.n_fft)
        self.frames = np.empty((len(self.starts), self.n_fft), dtype=np.float32)
        self._tail = np.empty(0, dtype=np.float32)  # mono samples of a frame not yet complete
        self._tail_start = 0  # sample index of self._tail[0]
        self._pushed = 0  # samples pushed so far
        self._next = 0  # index of the next frame to fill

    def push(self, block: np.ndarray) -> None:
        """Add the next samples, shape (n,) or (n, n_channels); channels are averaged."""
        block = np.asarray(block)
        if block.ndim == 1:
            block = block[:, None]
        if block.ndim != 2:
            raise TuningError(f"samples must have shape (n,) or (n, channels), got {block.shape}")
        begin, self._pushed = self._pushed, self._pushed + block.shape[0]
        if self._next == len(self.starts):
            return
        # Only the samples from the next frame's start on are mixed to mono and kept.
        skip = min(max(int(self.starts[self._next]) - begin, 0), block.shape[0])
        mono = mix_to_mono(block[skip:], dtype=np.float64).astype(np.float32)
        if skip or not len(self._tail):
            self._tail, self._tail_start = mono, begin + skip
        else:
            self._tail = np.concatenate([self._tail, mono])
        while (
            self._next < len(self.starts) and self.starts[self._next] + self.n_fft <= self._pushed
        ):
            at = int(self.starts[self._next]) - self._tail_start
            self.frames[self._next] = self._tail[at : at + self.n_fft]
            self._next += 1
        keep_from = self._pushed
        if self._next < len(self.starts):
            keep_from = min(int(self.starts[self._next]), keep_from)
        self._tail = self._tail[keep_from - self._tail_start :]
        self._tail_start = keep_from

    def estimate(self, n_samples: int) -> float | None:
        """Return the tuning in cents (as :func:`estimate_tuning`) of the `n_samples` pushed.

        None if the recording's length puts the frames elsewhere than the expected length
        did (read it again with that length).
        """
        if not np.array_equal(_frame_starts(int(n_samples), self.n_fft), self.starts):
            return None
        if self._next < len(self.starts):
            raise TuningError(f"only {self._pushed} samples were pushed, {n_samples} announced")
        deviations, weights = _peak_deviations(self.frames, self.sample_rate_hz)
        if deviations.size < _MIN_PEAKS:
            return 0.0
        return _circular_mode_mean(deviations, weights)


def _frame_starts(n_samples: int, n_fft: int) -> np.ndarray:
    """First sample of each analysed frame: at most TUNING_MAX_FRAMES, spread evenly."""
    hop = n_fft // 2
    if n_samples < n_fft:
        return np.empty(0, dtype=np.int64)
    n_frames = 1 + (n_samples - n_fft) // hop
    starts = np.linspace(0, (n_frames - 1) * hop, min(n_frames, TUNING_MAX_FRAMES))
    return (starts // hop * hop).astype(np.int64)


def _peak_deviations(frames: np.ndarray, sample_rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """Deviation in cents of every strong spectral peak from the 440 Hz grid, and its weight.

    `frames` has shape (n_frames, n_fft), mono.
    """
    import scipy.fft

    if len(frames) == 0:
        return np.empty(0), np.empty(0)
    n_fft = frames.shape[1]
    window = np.hanning(n_fft).astype(np.float32)
    lo = max(2, int(TUNING_FMIN_HZ * n_fft / sample_rate_hz))
    hi = min(n_fft // 2 - 1, int(TUNING_FMAX_HZ * n_fft / sample_rate_hz) + 1)
    spectrum = np.abs(scipy.fft.rfft(frames * window, axis=-1)[:, lo - 1 : hi + 1])
    mag = spectrum[:, 1:-1]
    is_peak = (mag > spectrum[:, :-2]) & (mag >= spectrum[:, 2:])
    loudest = mag.max(axis=1, keepdims=True)
    floor = loudest * 10 ** (-TUNING_RANGE_DB / 20)
    peak_mag = np.where(is_peak, mag, np.nan)
    with warnings.catch_warnings():  # frames without peaks: all-NaN rows
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(peak_mag, axis=1, keepdims=True)
    keep = is_peak & (mag >= floor) & (mag >= median) & (loudest > 0)
    rows, cols = np.nonzero(keep)
    if rows.size == 0:
        return np.empty(0), np.empty(0)
    # Parabolic interpolation of the log magnitude around each peak.
    with np.errstate(divide="ignore"):
        a, b, c = (np.log(spectrum[rows, cols + k] + 1e-12) for k in (0, 1, 2))
    denom = a - 2 * b + c
    offset = np.where(denom < 0, 0.5 * (a - c) / np.where(denom < 0, denom, 1.0), 0.0)
    freqs_hz = (lo + cols + np.clip(offset, -0.5, 0.5)) * sample_rate_hz / n_fft
    cents = 1200.0 * np.log2(freqs_hz / TUNING_REFERENCE_HZ)
    deviations = (cents + 50.0) % 100.0 - 50.0
    return deviations, mag[rows, cols].astype(np.float64)


def _circular_mode_mean(deviations: np.ndarray, weights: np.ndarray) -> float:
    """Weighted circular mean (period 100 cents) of the deviations near the histogram mode."""
    bins = np.floor(deviations + 50.0).astype(np.int64) % 100
    histogram = np.bincount(bins, weights=weights, minlength=100)
    kernel_x = np.arange(-15, 16)
    kernel = np.exp(-0.5 * (kernel_x / _SMOOTH_CENTS) ** 2)
    padded = np.concatenate([histogram[-15:], histogram, histogram[:15]])
    smooth = np.convolve(padded, kernel, mode="valid")
    mode = float(np.argmax(smooth)) - 50.0 + 0.5
    distance = (deviations - mode + 50.0) % 100.0 - 50.0
    near = np.abs(distance) <= _MEAN_HALF_WIDTH_CENTS
    angle = 2 * np.pi * deviations[near] / 100.0
    w = weights[near]
    mean = math.atan2(float(w @ np.sin(angle)), float(w @ np.cos(angle))) * 100.0 / (2 * np.pi)
    return float((mean + 50.0) % 100.0 - 50.0)
