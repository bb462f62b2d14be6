"""Variable-Q transform front end: stereo audio to log-compressed CQT frames.

The same function serves training and inference: every feature parameter lives in
:class:`CQTConfig`, which a trained model stores in its ``config.json`` (via
:meth:`CQTConfig.to_dict`) and which inference rebuilds with :meth:`CQTConfig.from_dict`.

Layout of the output
--------------------
``cqt(samples, sample_rate_hz=...)`` returns float32 of shape ``(n_frames, n_bins, 2)``:
frames first, then 252 bins (36 per octave, 7 octaves from C1 = 32.70 Hz, so bin ``3 * k``
is the k-th semitone above C1), then the two channels (left, right; mono is duplicated).
Frame ``i`` is centred on sample ``i * hop_length`` at ``sample_rate_hz``; the signal is
padded with zeros on both sides as in ``librosa`` (``center=True``, ``pad_mode="constant"``),
so ``n_frames = 1 + n_samples // hop_length``.

Filters
-------
Bin ``k`` has centre frequency ``f_k = fmin_hz * 2 ** (k / bins_per_octave)`` and bandwidth
``B_k = alpha * f_k + gamma_hz`` (``alpha`` the relative bandwidth of the geometric grid, as in
``librosa.filters.wavelet_lengths``). Its filter is a Hann-windowed complex exponential of
``filter_scale * sample_rate_hz / B_k`` samples, normalised to unit sum: a sinusoid of amplitude
``A`` on a bin's centre frequency reads ``A / 2`` in that bin, whatever the octave. This equals
``librosa.vqt(..., scale=False, norm=1) / lengths``. With ``gamma_hz = 0`` the transform is
constant-Q; the default ``gamma_hz`` shortens the bass windows from 1.6 s to 0.6 s while
keeping neighbouring semitones apart (see ``docs/cqt.md`` for the measurements).

Algorithm
---------
Octave ``j`` (``j = 0`` the top one) is computed at ``sample_rate_hz / 2 ** j``: the signal
goes down a chain of decimators by two (a 19-tap Kaiser low-pass that keeps the next octave's
band flat to 1e-4 and suppresses by 80 dB whatever would alias into it, run as small matrix
products), and each octave takes frames of a few hundred samples, one real FFT per frame and
channel, and one matrix product with the band of precomputed filter spectra (cached per
config). The work runs in blocks of :data:`DEFAULT_BLOCK_FRAMES` frames with overlapping
margins, so memory stays bounded for hour-long files and the result does not depend on the
block size.

Input at another rate is resampled block by block: at ``2 ** m`` times the configured rate
(44.1 kHz for the default 22.05 kHz) with the low-pass filter of
:func:`scipy.signal.resample_poly` applied as matrix products (several times faster than
``resample_poly`` itself), at any other rate with ``resample_poly``. Either way the result
equals ``cqt(resample(x, ...), sample_rate_hz=config.sample_rate_hz)`` to float32 rounding, so
features do not depend on whether the caller or this module resampled.

Matrix products are cut into pieces below OpenBLAS's threading threshold: these small products
are faster on one thread, and threaded ones slow down many times on a busy machine.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# scipy.signal and scipy.fft are imported where they are used: importing them costs about a
# second, and modules that only need CQTConfig import this one.

__all__ = [
    "DEFAULT_BLOCK_FRAMES",
    "DEFAULT_CQT",
    "CQTConfig",
    "CQTStream",
    "CQTParameterError",
    "SampleBlocks",
    "cqt",
    "cqt_magnitude",
    "frame_reach_samples",
    "frame_times_s",
    "log_compress",
    "mix_to_mono",
    "resample",
]

#: Frames computed per block; bounds the working memory (about 17 MB for 44.1 kHz stereo).
DEFAULT_BLOCK_FRAMES = 256

# Decimator design: attenuation of anything that would alias into the band of interest.
_ALIAS_ATTENUATION_DB = 80.0
# Filter spectra below this fraction of the octave's largest coefficient are dropped (-70 dB).
_KERNEL_FLOOR = 10 ** (-70 / 20)
# OpenBLAS runs a matrix product m x k times k x n on one thread when m * n * k <= 2**18.
_SINGLE_THREAD_MNK = 2**18
# The top bin's main lobe must stay below this fraction of the rate it is computed at.
_MAX_TOP_RATIO = 0.24


class CQTParameterError(ValueError):
    """A CQT parameter or input that cannot be used; the message names the value."""


@dataclass(frozen=True)
class CQTConfig:
    """Parameters of the variable-Q front end; the single source of truth for features.

    Parameters
    ----------
    sample_rate_hz : int
        Rate the transform works at; other input rates are converted.
    hop_length : int
        Frame hop in samples at `sample_rate_hz`; must be divisible by ``2 ** (n_octaves - 1)``.
        2048 at 22050 Hz gives 10.77 frames/s (as BTC and crema).
    fmin_hz : float
        Centre frequency of bin 0 (C1).
    bins_per_octave : int
        Bins per octave; 36 gives three bins per semitone.
    n_octaves : int
        Number of octaves; ``n_bins = bins_per_octave * n_octaves``.
    gamma_hz : float
        Bandwidth offset of the variable-Q transform: bin ``k`` has bandwidth
        ``alpha * f_k + gamma_hz`` Hz. 0 is constant-Q.
    filter_scale : float
        Multiplies every window length; < 1 gives shorter windows and wider bands.
    log_gain : float
        Log compression ``log1p(log_gain * magnitude)`` (see :func:`log_compress`).

    Raises
    ------
    CQTParameterError
        If a value is out of range, the hop cannot be decimated through every octave, or
        the top bin comes too close to the Nyquist frequency.
    """

    sample_rate_hz: int = 22050
    hop_length: int = 2048
    fmin_hz: float = 32.703195662574764
    bins_per_octave: int = 36
    n_octaves: int = 7
    gamma_hz: float = 1.0
    filter_scale: float = 1.0
    log_gain: float = 1000.0

    def __post_init__(self) -> None:
        for name in ("sample_rate_hz", "hop_length", "bins_per_octave", "n_octaves"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise CQTParameterError(f"{name} must be a positive integer, got {value!r}")
        for name in ("fmin_hz", "filter_scale", "log_gain", "gamma_hz"):
            value = getattr(self, name)
            ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
            if not (
                ok and math.isfinite(value) and (value > 0 or name == "gamma_hz" and value == 0)
            ):
                low = ">= 0" if name == "gamma_hz" else "> 0"
                raise CQTParameterError(f"{name} must be a finite number {low}, got {value!r}")
        if self.bins_per_octave < 2:
            raise CQTParameterError(
                f"bins_per_octave must be at least 2, got {self.bins_per_octave}"
            )
        step = 2 ** (self.n_octaves - 1)
        if self.hop_length % step:
            raise CQTParameterError(
                f"hop_length={self.hop_length} is not divisible by 2**(n_octaves - 1) = {step} "
                "(hint: use a power of two such as 2048)"
            )
        ratio = self._top_cutoff_hz / self.sample_rate_hz
        if ratio > _MAX_TOP_RATIO:
            raise CQTParameterError(
                f"the top bin's band reaches {self._top_cutoff_hz:.0f} Hz, above "
                f"{_MAX_TOP_RATIO} x sample_rate_hz={self.sample_rate_hz} "
                "(hint: lower fmin_hz or n_octaves, or raise sample_rate_hz)"
            )

    @property
    def n_bins(self) -> int:
        """Number of frequency bins, ``bins_per_octave * n_octaves``."""
        return self.bins_per_octave * self.n_octaves

    @property
    def frames_per_second(self) -> float:
        """Frame rate in frames per second, ``sample_rate_hz / hop_length``."""
        return self.sample_rate_hz / self.hop_length

    @property
    def alpha(self) -> float:
        """Relative bandwidth of the geometric grid (as ``librosa.filters``)."""
        r = 2.0 ** (2.0 / self.bins_per_octave)
        return (r - 1.0) / (r + 1.0)

    @property
    def frequencies_hz(self) -> np.ndarray:
        """Centre frequencies of the bins in Hz, shape (n_bins,)."""
        return self.fmin_hz * 2.0 ** (np.arange(self.n_bins) / self.bins_per_octave)

    @property
    def bandwidths_hz(self) -> np.ndarray:
        """Bandwidth ``alpha * f + gamma_hz`` of each bin in Hz, shape (n_bins,)."""
        return self.alpha * self.frequencies_hz + self.gamma_hz

    @property
    def window_lengths_s(self) -> np.ndarray:
        """Length of each bin's Hann window in seconds, shape (n_bins,)."""
        return self.filter_scale / self.bandwidths_hz

    @property
    def _top_cutoff_hz(self) -> float:
        # Highest frequency inside the top filter's main lobe (Hann: +-2 / window length).
        f_top = self.fmin_hz * 2.0 ** ((self.n_bins - 1) / self.bins_per_octave)
        return f_top + 2.0 * (self.alpha * f_top + self.gamma_hz) / self.filter_scale

    def retuned(self, tuning_cents: float) -> CQTConfig:
        """Return the config with every bin moved by `tuning_cents` (``fmin_hz`` scaled).

        Parameters
        ----------
        tuning_cents : float
            Offset in cents, -50 .. 50; 0 returns this config itself.

        Returns
        -------
        CQTConfig
            ``fmin_hz * 2 ** (tuning_cents / 1200)``, the other fields unchanged.

        Raises
        ------
        CQTParameterError
            If `tuning_cents` is not a finite number in -50 .. 50.
        """
        number = isinstance(tuning_cents, int | float | np.number)
        ok = number and not isinstance(tuning_cents, bool)
        if not (ok and math.isfinite(tuning_cents) and -50.0 <= tuning_cents <= 50.0):
            raise CQTParameterError(f"tuning_cents must be in -50..50, got {tuning_cents!r}")
        if tuning_cents == 0:
            return self
        return dataclasses.replace(self, fmin_hz=self.fmin_hz * 2.0 ** (tuning_cents / 1200.0))

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a JSON-ready dict (for a model's ``config.json``).

        Returns
        -------
        dict
            One entry per field, plain ``int``/``float`` values.
        """
        return {f.name: _PLAIN[f.type](getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CQTConfig:
        """Build a config from :meth:`to_dict` output; missing keys take the defaults.

        Parameters
        ----------
        data : Mapping
            Field names to values.

        Returns
        -------
        CQTConfig

        Raises
        ------
        CQTParameterError
            If a key is not a field of :class:`CQTConfig` or a value is invalid.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise CQTParameterError(
                f"unknown CQT parameter(s) {', '.join(map(repr, unknown))} "
                f"(hint: known are {', '.join(fields)})"
            )
        values: dict[str, Any] = {}
        for name, value in data.items():
            kind = _PLAIN[fields[name].type]
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise CQTParameterError(f"{name} must be a number, got {value!r}") from None
            if kind is int and not number.is_integer():
                raise CQTParameterError(f"{name} must be an integer, got {value!r}")
            values[name] = kind(number)
        return cls(**values)


_PLAIN = {"int": int, "float": float}

#: The feature parameters used unless a model's ``config.json`` says otherwise.
DEFAULT_CQT = CQTConfig()


@dataclass(frozen=True)
class SampleBlocks:
    """A signal given as consecutive blocks, for recordings too long to hold as one array.

    :func:`cqt` reads the blocks once, in order, and keeps only the samples its next block of
    frames needs, so the whole signal is never in memory.

    Parameters
    ----------
    blocks : iterable of ndarray, each shape (n, n_channels)
        Consecutive samples, floating point; together exactly `n_samples` of them.
    n_samples : int
        Total number of samples (the CQT's frame count depends on it).
    n_channels : int
        1 (mono, duplicated) or 2 (left, right).
    """

    blocks: Iterable[np.ndarray]
    n_samples: int
    n_channels: int = 2


def mix_to_mono(samples: np.ndarray, *, dtype: type = np.float32) -> np.ndarray:
    """Return the mean over the last axis (the channels), computed in `dtype`.

    Bit for bit ``samples.mean(axis=-1, dtype=dtype)``; for two channels ``(left + right) / 2``,
    several times faster than numpy's reduction along a short axis.
    """
    if samples.shape[-1] != 2:
        return samples.mean(axis=-1, dtype=dtype)
    out = np.add(samples[..., 0], samples[..., 1], dtype=dtype)
    out /= 2
    return out


class _BlockReader:
    """Samples of a :class:`SampleBlocks` signal for :func:`_segment`, read as they are needed.

    The segments asked for must not start before the previous one: only the samples from the
    last segment's start to the furthest sample read so far are held (about two blocks).
    """

    def __init__(self, signal: SampleBlocks) -> None:
        self.shape = (int(signal.n_samples), int(signal.n_channels))
        self._blocks = iter(signal.blocks)
        self._buffer = np.empty((0, self.shape[1]), dtype=np.float32)
        self._start = 0  # signal index of self._buffer[0]

    def segment(self, a: int, b: int) -> np.ndarray:
        """Return samples ``a .. b - 1`` as float32 (n_channels, b - a), zeros outside."""
        cut = min(max(a - self._start, 0), len(self._buffer))
        self._buffer = self._buffer[cut:]
        self._start += cut
        have = self._start + len(self._buffer)
        need = min(b, self.shape[0])
        if have < need:
            parts = [self._buffer]
            while have < need:
                block = next(self._blocks, None)
                if block is None:
                    raise CQTParameterError(
                        f"the blocks hold {have} samples, {self.shape[0]} were announced"
                    )
                parts.append(np.asarray(block, dtype=np.float32).reshape(len(block), -1))
                have += len(block)
            self._buffer = np.concatenate(parts)
        return _segment(self, a, b)

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Return samples ``lo .. hi - 1``, shape (hi - lo, n_channels); they must be held."""
        return self._buffer[lo - self._start : hi - self._start]


def frame_times_s(n_frames: int, *, config: CQTConfig = DEFAULT_CQT) -> np.ndarray:
    """Return the centre time of each frame in seconds.

    Parameters
    ----------
    n_frames : int
        Number of frames.
    config : CQTConfig, optional
        Feature parameters (hop and sample rate).

    Returns
    -------
    ndarray, shape (n_frames,)
        ``i * hop_length / sample_rate_hz``, float64.
    """
    return np.arange(n_frames) * (config.hop_length / config.sample_rate_hz)


def log_compress(magnitude: np.ndarray, *, config: CQTConfig = DEFAULT_CQT) -> np.ndarray:
    """Compress magnitudes as ``log1p(log_gain * magnitude)``.

    With the default ``log_gain = 1000`` a full-scale sinusoid (magnitude 0.5) maps to 6.2,
    -40 dBFS (0.005) to 1.8, and everything below about -60 dBFS is close to linear and near 0,
    so silence (and zero padding) is exactly 0.

    Parameters
    ----------
    magnitude : ndarray
        Non-negative magnitudes, any shape.
    config : CQTConfig, optional
        Gives ``log_gain``.

    Returns
    -------
    ndarray
        Same shape, float32.
    """
    out = np.multiply(magnitude, np.float32(config.log_gain), dtype=np.float32)
    return np.log1p(out, out=out)


def resample(samples: np.ndarray, *, orig_hz: int, target_hz: int) -> np.ndarray:
    """Resample along the first axis with :func:`scipy.signal.resample_poly`.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,) or (n_samples, n_channels)
        Audio samples.
    orig_hz : int
        Rate of `samples` in Hz.
    target_hz : int
        Wanted rate in Hz.

    Returns
    -------
    ndarray, shape (ceil(n_samples * target_hz / orig_hz), ...)
        Resampled samples, float32 for float32 input (float64 otherwise); a copy when
        the rates are equal.

    Raises
    ------
    CQTParameterError
        If a rate is not a positive integer.
    """
    import scipy.signal

    up, down = _ratio(orig_hz, target_hz, names=("orig_hz", "target_hz"))
    x = np.asarray(samples)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if up == down == 1:
        return x.copy()
    return scipy.signal.resample_poly(x, up, down, axis=0)


def cqt(
    samples: np.ndarray | SampleBlocks,
    *,
    sample_rate_hz: int,
    config: CQTConfig = DEFAULT_CQT,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    tuning_cents: float = 0.0,
) -> np.ndarray:
    """Compute log-compressed variable-Q magnitudes of both channels.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,) or (n_samples, n_channels), or SampleBlocks
        Audio, floating point (full scale 1.0); mono (1-D or one column) is duplicated to
        two channels, two columns are left and right. A long recording can come as
        :class:`SampleBlocks`, read once block by block (same result).
    sample_rate_hz : int
        Rate of `samples`; converted to ``config.sample_rate_hz`` if different.
    config : CQTConfig, optional
        Feature parameters.
    block_frames : int, optional
        Frames computed per block (memory bound); does not change the result.
    tuning_cents : float, optional
        Tuning of the recording in cents from A = 440 Hz (-50 .. 50, see
        :func:`models.tuning.estimate_tuning`): every centre frequency is multiplied by
        ``2 ** (tuning_cents / 1200)``, so the bins sit on the recording's semitones.
        0 (training) leaves `config` as it is.

    Returns
    -------
    ndarray, shape (n_frames, config.n_bins, 2), float32
        ``log1p(config.log_gain * magnitude)`` with ``n_frames = 1 + n // hop_length``, ``n``
        the number of samples at ``config.sample_rate_hz``.

    Raises
    ------
    CQTParameterError
        If the shape, rate or values of `samples` cannot be used.

    See Also
    --------
    cqt_magnitude : the same without compression.
    frame_times_s : the time of each frame.
    """
    x, up, down = _validate(samples, sample_rate_hz, config, block_frames)
    config = config.retuned(tuning_cents)
    return _transform(x, up=up, down=down, config=config, block_frames=block_frames, log=True)


def cqt_magnitude(
    samples: np.ndarray | SampleBlocks,
    *,
    sample_rate_hz: int,
    config: CQTConfig = DEFAULT_CQT,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    tuning_cents: float = 0.0,
) -> np.ndarray:
    """Compute linear variable-Q magnitudes of both channels.

    A sinusoid of amplitude ``A`` at a bin's centre frequency reads ``A / 2`` in that bin.
    Equals ``librosa.vqt(y, sr, hop_length, fmin, n_bins, bins_per_octave=..., gamma=...,
    filter_scale=..., scale=False, norm=1)`` divided by the filter lengths, up to the
    resampling filters.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,) or (n_samples, n_channels), or SampleBlocks
        Audio as for :func:`cqt`.
    sample_rate_hz : int
        Rate of `samples` in Hz.
    config : CQTConfig, optional
        Feature parameters.
    block_frames : int, optional
        Frames computed per block (memory bound); does not change the result.
    tuning_cents : float, optional
        Tuning of the recording in cents from A = 440 Hz (-50 .. 50, see
        :func:`models.tuning.estimate_tuning`): every centre frequency is multiplied by
        ``2 ** (tuning_cents / 1200)``, so the bins sit on the recording's semitones.
        0 (training) leaves `config` as it is.

    Returns
    -------
    ndarray, shape (n_frames, config.n_bins, 2), float32
        Magnitudes.

    Raises
    ------
    CQTParameterError
        If the shape, rate or values of `samples` cannot be used.
    """
    x, up, down = _validate(samples, sample_rate_hz, config, block_frames)
    config = config.retuned(tuning_cents)
    return _transform(x, up=up, down=down, config=config, block_frames=block_frames, log=False)


def _transform(
    x: np.ndarray | _BlockReader,
    *,
    up: int,
    down: int,
    config: CQTConfig,
    block_frames: int,
    log: bool,
) -> np.ndarray:
    """Blockwise transform of validated x (n_samples, 1 or 2) at ``rate * down / up``."""
    read = x.segment if isinstance(x, _BlockReader) else functools.partial(_segment, x)
    plan = _plan(config)
    n_in = x.shape[0]
    n_base = -(-n_in * up // down)  # samples at config.sample_rate_hz, as resample_poly
    hop = config.hop_length
    n_frames = 1 + n_base // hop
    out = np.empty((n_frames, config.n_bins, 2), dtype=np.float32)

    # Input at 2**m times the rate is decimated by matrix products with resample_poly's own
    # filter (same result, several times faster); other rates go through resample_poly.
    folded = up == 1 and down > 1 and down & (down - 1) == 0
    first = _input_decimator(down) if folded else None
    # Block starts (base samples) are multiples of `grain` so that every level aligns.
    grain = math.lcm(up, 2**plan.n_levels)
    length_step = plan.decimator.rows * 2**plan.n_levels
    if first is not None:
        length_step = math.lcm(length_step, first.rows)
    margin = plan.margin + _resample_margin(up, down)

    for i0 in range(0, n_frames, block_frames):
        i1 = min(i0 + block_frames, n_frames)
        start = (i0 * hop - margin) // grain * grain
        stop = (i1 - 1) * hop + margin
        stop = start + -(-(stop - start) // length_step) * length_step
        if up == down:
            seg = read(start, stop)
        elif first is not None:
            seg = first(read(start * down, stop * down))
        else:
            # Input samples from start * down / up on, resampled to base samples [start, stop).
            a = start * down // up
            b = -(-stop * down // up) + 1
            import scipy.signal

            seg = scipy.signal.resample_poly(read(a, b), up, down, axis=-1)
            seg = np.ascontiguousarray(seg[:, : stop - start], dtype=np.float32)
        if up != down:
            # As resampling the whole signal first: nothing outside its n_base samples (the
            # filters would spread the first and last samples a little beyond them).
            seg[:, : max(0, -start)] = 0.0
            seg[:, max(0, n_base - start) :] = 0.0
        block = out[i0:i1]
        _octave_magnitudes(seg, plan=plan, first_frame=i0, start=start, out=block)
        if not np.isfinite(block).all():
            raise CQTParameterError(
                "samples contain NaN or infinite values (hint: check the decoded audio)"
            )
        if log:
            block *= np.float32(config.log_gain)
            np.log1p(block, out=block)
    return out


# ---------------------------------------------------------------------------------------
# Internals: plan (kernels, decimator) and block processing.


@dataclass(frozen=True)
class _Octave:
    """Filters of one octave at decimation level ``level``."""

    level: int
    bins: slice
    n_fft: int
    band: slice  # rfft bins that the filter spectra cover
    kernel: np.ndarray  # (2 * band length, 2 * bins_per_octave) float32, see _real_form
    chunk_rows: int  # frames per matrix product


@dataclass(frozen=True)
class _Plan:
    """Everything derived from a config once: kernels, decimator, margins."""

    octaves: tuple[_Octave, ...]
    n_levels: int  # number of decimation stages below the base rate
    hop_length: int
    decimator: _Decimator  # by two, between octaves
    margin: int  # base samples needed on each side of a block


@functools.lru_cache(maxsize=8)
def _plan(config: CQTConfig) -> _Plan:
    """Build kernels and the decimator for `config` (cached)."""
    import scipy.fft

    bpo = config.bins_per_octave
    freqs = config.frequencies_hz
    bandwidths = config.bandwidths_hz
    octaves = []
    for j in range(config.n_octaves):
        lo = config.n_bins - (j + 1) * bpo
        bins = slice(lo, lo + bpo)
        sr_j = config.sample_rate_hz / 2**j
        lengths = config.filter_scale * sr_j / bandwidths[bins]
        n_fft = scipy.fft.next_fast_len(int(math.ceil(lengths.max())) + 2, real=True)
        kernel = _filter_spectra(freqs[bins] / sr_j, lengths, n_fft)
        mag = np.abs(kernel)
        keep = np.flatnonzero(mag.max(axis=1) > _KERNEL_FLOOR * mag.max())
        band = slice(int(keep[0]), int(keep[-1]) + 1)
        kernel = _real_form(kernel[band])
        kernel.setflags(write=False)
        octaves.append(
            _Octave(
                level=j,
                bins=bins,
                n_fft=n_fft,
                band=band,
                kernel=kernel,
                chunk_rows=max(1, _SINGLE_THREAD_MNK // kernel.size),
            )
        )

    fir = _octave_fir(pass_edge=config._top_cutoff_hz / config.sample_rate_hz / 2)
    decimator = _Decimator.build(fir, factor=2)
    half, rows = decimator.half, decimator.rows

    # Reach of a frame on the base-rate signal: half its FFT, the decimators below it, and
    # the rows at segment edges where the channels of the decimator's matrix meet.
    n_levels = config.n_octaves - 1
    margin = max((o.n_fft // 2 + 2 * half + rows + 1) << o.level for o in octaves)
    return _Plan(
        octaves=tuple(octaves),
        n_levels=n_levels,
        hop_length=config.hop_length,
        decimator=decimator,
        margin=margin,
    )


def _octave_fir(*, pass_edge: float) -> np.ndarray:
    """Design the zero-phase low-pass applied between octaves before keeping every other sample.

    The next octave lies below `pass_edge` (relative to the input rate); aliases land in it
    only from above ``0.5 - pass_edge``, where the filter attenuates by at least
    ``_ALIAS_ATTENUATION_DB``. Kaiser window, cutoff at a quarter of the input rate.
    """
    width = (0.5 - 2 * pass_edge) / 0.5  # transition width relative to Nyquist
    n_taps, beta = _kaiserord(_ALIAS_ATTENUATION_DB, width)
    half = n_taps // 2
    while True:
        fir = _kaiser_lowpass(2 * half + 1, 0.5, beta)
        response = np.fft.rfft(fir, 4096)[:2048]  # on the 2048 frequencies k / 4096
        freqs = np.arange(2048) / 4096
        stop = np.abs(response[freqs >= 0.5 - pass_edge]).max()
        if 20 * np.log10(stop) <= -_ALIAS_ATTENUATION_DB:
            return fir
        half += 1


# The two filter designs below are scipy.signal's (kaiserord, and firwin with a Kaiser window),
# written out with numpy and scipy.special so that a transcription does not import
# scipy.signal (over a second of start-up); tests/models/test_cqt.py checks that they give
# scipy.signal's coefficients bit for bit.


def _kaiserord(ripple_db: float, width: float) -> tuple[int, float]:
    """Taps and Kaiser beta for `ripple_db` of attenuation and a transition `width` (of Nyquist).

    As :func:`scipy.signal.kaiserord`.
    """
    a = abs(ripple_db)
    if a > 50:
        beta = 0.1102 * (a - 8.7)
    elif a > 21:
        beta = 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21)
    else:
        beta = 0.0
    return int(math.ceil((a - 7.95) / 2.285 / (np.pi * width) + 1)), beta


def _kaiser_lowpass(n_taps: int, cutoff: float, beta: float) -> np.ndarray:
    """Linear-phase low-pass FIR with a Kaiser window, `cutoff` relative to Nyquist (0 .. 1).

    As ``scipy.signal.firwin(n_taps, cutoff, window=("kaiser", beta))``, float64.
    """
    import scipy.special

    m = np.arange(0, n_taps, dtype=np.float64) - 0.5 * (n_taps - 1)
    h = np.float64(cutoff) * np.sinc(np.float64(cutoff) * m)
    n = np.arange(0, n_taps, dtype=np.float64)
    alpha = (n_taps - 1) / 2.0
    window = scipy.special.i0(beta * np.sqrt(1 - ((n - alpha) / alpha) ** 2.0)) / scipy.special.i0(
        np.float64(beta)
    )
    h *= window
    return h / np.sum(h)


def _filter_spectra(freqs_rel: np.ndarray, lengths: np.ndarray, n_fft: int) -> np.ndarray:
    """Return conjugate filter spectra on rfft bins, shape (n_fft // 2 + 1, n_filters).

    Filter ``k`` is a Hann window of (fractional) length ``lengths[k]`` centred on sample
    ``n_fft // 2``, times ``exp(2j pi freqs_rel[k] t)``, divided by the window sum and by
    ``n_fft`` (Parseval), so that ``rfft(frame) @ spectra`` is the filter response at the
    frame centre.
    """
    t = np.arange(n_fft) - n_fft // 2  # time of each frame sample relative to the centre
    half = lengths[:, np.newaxis] / 2
    window = np.where(np.abs(t) < half, 0.5 + 0.5 * np.cos(np.pi * t / half), 0.0)
    window /= window.sum(axis=1, keepdims=True)
    filters = window * np.exp(2j * np.pi * freqs_rel[:, np.newaxis] * t)
    # sum_t frame[t] conj(g[t]) = sum_m F[m] conj(G[m]) / n_fft; G is ~0 at negative m.
    spectra = np.fft.fft(filters, axis=1)[:, : n_fft // 2 + 1]
    return np.conj(spectra).T / n_fft


def _real_form(kernel: np.ndarray) -> np.ndarray:
    """Real matrix that applies a complex (m, k) kernel to interleaved (re, im) columns.

    ``(z.view(float32) @ _real_form(K)).view(complex64) == z @ K`` for complex64 rows z.
    """
    m, k = kernel.shape
    real = np.empty((2 * m, 2 * k), dtype=np.float32)
    real[0::2, 0::2] = kernel.real
    real[1::2, 0::2] = -kernel.imag
    real[0::2, 1::2] = kernel.imag
    real[1::2, 1::2] = kernel.real
    return real


@dataclass(frozen=True)
class _Decimator:
    """A zero-phase FIR low-pass followed by keeping every `factor`-th sample.

    The input is cut into rows ``X`` of `rows` samples; output row ``n`` (``rows // factor``
    samples, output ``j`` centred on input ``factor * j``) is
    ``X[n - 1, -half:] @ prev + X[n] @ cur + X[n + 1, :half] @ nxt``: three small matrix
    products instead of a scalar filter loop.
    """

    factor: int
    half: int  # the filter has 2 * half + 1 taps
    rows: int
    prev: np.ndarray
    cur: np.ndarray
    nxt: np.ndarray
    chunk_rows: int  # rows per matrix product

    @classmethod
    def build(cls, fir: np.ndarray, *, factor: int) -> _Decimator:
        """Split `fir` (odd length, symmetric) into the three matrices."""
        half = (len(fir) - 1) // 2
        rows = max(16, 1 << int(math.ceil(math.log2(max(half, factor)))))
        n_out = rows // factor
        big = np.zeros((3 * rows, n_out))
        for j in range(n_out):
            for t in range(-half, half + 1):
                big[rows + factor * j - t, j] += fir[half + t]
        # Only the last `half` samples of the previous row and the first `half` of the next
        # one reach this row's outputs.
        parts = (big[rows - half : rows], big[rows : 2 * rows], big[2 * rows : 2 * rows + half])
        prev, cur, nxt = (np.ascontiguousarray(part, dtype=np.float32) for part in parts)
        for m in (prev, cur, nxt):
            m.setflags(write=False)
        return cls(
            factor=factor,
            half=half,
            rows=rows,
            prev=prev,
            cur=cur,
            nxt=nxt,
            chunk_rows=max(1, _SINGLE_THREAD_MNK // cur.size),
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Decimate x (n_channels, n), n divisible by `rows`; returns float32.

        The channels are processed as one matrix of rows; the first and last outputs of a
        channel mix in the neighbouring channel, but they lie in the block margin and are
        never used.
        """
        rows = x.reshape(-1, self.rows)
        n = rows.shape[0]
        y = np.empty((n, self.rows // self.factor), dtype=np.float32)
        half = self.half
        # Small products: single-threaded in BLAS and cache-sized (see the module notes).
        for c0 in range(0, n, self.chunk_rows):
            c1 = min(c0 + self.chunk_rows, n)
            out = y[c0:c1]
            np.matmul(rows[c0:c1], self.cur, out=out)
            a0 = max(c0, 1)
            out[a0 - c0 :] += rows[a0 - 1 : c1 - 1, -half:] @ self.prev
            b1 = min(c1, n - 1)
            out[: b1 - c0] += rows[c0 + 1 : b1 + 1, :half] @ self.nxt
        return y.reshape(x.shape[0], -1)


@functools.lru_cache(maxsize=4)
def _input_decimator(factor: int) -> _Decimator:
    """Decimator by `factor` with exactly the filter of ``resample_poly(x, 1, factor)``."""
    half_len = 10 * factor  # as in scipy.signal.resample_poly
    fir = _kaiser_lowpass(2 * half_len + 1, 1.0 / factor, 5.0)
    return _Decimator.build(fir, factor=factor)


def _octave_magnitudes(
    x: np.ndarray, *, plan: _Plan, first_frame: int, start: int, out: np.ndarray
) -> None:
    """Write the magnitudes of frames ``first_frame ..`` into out (n, n_bins, 2).

    `x` has shape (n_channels, length) and holds base samples ``start .. start + length - 1``.
    """
    import scipy.fft

    n = out.shape[0]
    level = 0
    for octave in plan.octaves:
        while level < octave.level:
            x = plan.decimator(x)
            level += 1
        hop = plan.hop_length >> level
        first = ((first_frame * plan.hop_length - start) >> level) - octave.n_fft // 2
        windows = np.lib.stride_tricks.sliding_window_view(x, octave.n_fft, axis=-1)
        frames = windows[:, first : first + (n - 1) * hop + 1 : hop]
        spectrum = scipy.fft.rfft(frames, axis=-1)[..., octave.band]
        # Complex product as a real one on interleaved (re, im) pairs: (n_ch * n, 2 * band).
        pairs = spectrum.reshape(-1, spectrum.shape[-1]).view(np.float32)
        response = np.empty((pairs.shape[0], octave.kernel.shape[1]), dtype=np.float32)
        step = octave.chunk_rows  # keeps each product single-threaded, as in _decimate
        for r0 in range(0, pairs.shape[0], step):
            np.matmul(pairs[r0 : r0 + step], octave.kernel, out=response[r0 : r0 + step])
        magnitude = np.abs(response.view(np.complex64)).reshape(x.shape[0], n, -1)
        out[:, octave.bins, :] = np.moveaxis(magnitude, 0, -1)  # mono broadcasts to 2


def _validate(
    samples: np.ndarray | SampleBlocks, sample_rate_hz: int, config: CQTConfig, block_frames: int
) -> tuple[np.ndarray | _BlockReader, int, int]:
    """Check the arguments of :func:`cqt`; return x (n_samples, 1 or 2), up, down."""
    if isinstance(samples, SampleBlocks):
        if samples.n_channels not in (1, 2) or samples.n_samples < 0:
            raise CQTParameterError(
                f"SampleBlocks need 1 or 2 channels and n_samples >= 0, got "
                f"{samples.n_channels} and {samples.n_samples}"
            )
        x = _BlockReader(samples)
        return (x, *_check_block_and_rate(sample_rate_hz, config, block_frames))
    x = np.asarray(samples)
    if x.ndim == 2 and x.shape[1] in (1, 2):
        pass
    elif x.ndim == 1:
        x = x[:, np.newaxis]
    else:
        raise CQTParameterError(
            f"samples must have shape (n_samples,) or (n_samples, 1 or 2), got {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.floating):
        raise CQTParameterError(
            f"samples must be floating point, got dtype {x.dtype} "
            "(hint: read audio with soundfile.read(..., dtype='float32'))"
        )
    return (x, *_check_block_and_rate(sample_rate_hz, config, block_frames))


def _check_block_and_rate(
    sample_rate_hz: int, config: CQTConfig, block_frames: int
) -> tuple[int, int]:
    """Check `block_frames`; return the (up, down) factors from `sample_rate_hz` to config's."""
    if isinstance(block_frames, bool) or not isinstance(block_frames, int) or block_frames < 1:
        raise CQTParameterError(f"block_frames must be a positive integer, got {block_frames!r}")
    return _ratio(sample_rate_hz, config.sample_rate_hz)


def _segment(x: np.ndarray | _BlockReader, a: int, b: int) -> np.ndarray:
    """Return samples ``a .. b - 1`` of x (n_samples, n_channels) as float32 (n_channels, b - a).

    Indices outside the signal read as zeros.
    """
    seg = np.empty((x.shape[1], b - a), dtype=np.float32)
    lo, hi = min(max(a, 0), b), max(min(b, x.shape[0]), a)
    seg[:, : lo - a] = 0.0
    seg[:, hi - a :] = 0.0
    if hi > lo:
        rows = x[lo:hi] if isinstance(x, np.ndarray) else x.rows(lo, hi)
        seg[:, lo - a : hi - a] = rows.T
    return seg


def _ratio(
    orig_hz: int, target_hz: int, *, names: tuple[str, str] = ("sample_rate_hz", "target rate")
) -> tuple[int, int]:
    """Reduced (up, down) factors from `orig_hz` to `target_hz`."""
    for name, value in zip(names, (orig_hz, target_hz), strict=True):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | np.number)
            or not float(value).is_integer()
            or value <= 0
        ):
            raise CQTParameterError(f"{name} must be a positive integer in Hz, got {value!r}")
    orig, target = int(orig_hz), int(target_hz)
    g = math.gcd(orig, target)
    return target // g, orig // g


def _resample_margin(up: int, down: int) -> int:
    """Return the base samples the resampling filter reaches on each side, with room to spare.

    resample_poly's filter has ``10 * max(up, down)`` taps each side at ``up`` times the
    input rate; the input decimator's rows add up to 64 input samples at the segment edges.
    """
    if up == down:
        return 0
    return 10 * max(up, down) // down + 64 + 2


class CQTStream:
    """Log-CQT frames of a growing signal: each frame is computed once, when it is final.

    Frame ``i`` (centred on sample ``i * hop_length``) reads the samples within
    :func:`frame_reach_samples` of its centre. Once that many samples past the centre have
    arrived it is *final*: equal (to float32 rounding) to the frame of :func:`cqt` over the
    whole signal, and it is cached. :meth:`frames` computes only the frames that are not final
    yet (the newest few, with the stream's end read as zeros as :func:`cqt` does at the end of
    a file), so the cost of an update does not grow with the context kept.

    Parameters
    ----------
    config : CQTConfig
        Feature parameters; samples arrive at ``config.sample_rate_hz``.
    keep_frames : int
        Most final frames kept (the oldest are dropped).
    tuning_cents : float
        Tuning of the frames computed from now on (see :func:`cqt`); may be changed between
        updates (frames already final keep theirs).
    """

    def __init__(self, config: CQTConfig, *, keep_frames: int, tuning_cents: float = 0.0) -> None:
        self.config = config
        self.keep_frames = max(1, int(keep_frames))
        self.tuning_cents = float(tuning_cents)
        hop = config.hop_length
        self._reach_frames = -(-frame_reach_samples(config) // hop)
        self._samples = np.zeros((0, 2), dtype=np.float32)
        self._sample0 = 0  # stream sample of _samples[0], a multiple of the hop
        self._received = 0
        self._final = np.zeros((0, config.n_bins, 2), dtype=np.float32)
        self._n_final = 0  # final frames computed so far (the cache holds the newest)

    @property
    def received(self) -> int:
        """Samples received so far."""
        return self._received

    def append(self, samples: np.ndarray) -> None:
        """Add samples, shape (n,) or (n, 1 or 2), float, at ``config.sample_rate_hz``."""
        x = np.asarray(samples, dtype=np.float32)
        x = x[:, np.newaxis] if x.ndim == 1 else x
        x = np.repeat(x, 2, axis=1) if x.shape[1] == 1 else x[:, :2]
        self._samples = np.concatenate([self._samples, x])
        self._received += len(x)

    def frames(self) -> tuple[int, np.ndarray]:
        """Return the stream index of the first frame kept, and the frames up to the newest.

        Returns
        -------
        first : int
            Stream frame index of ``frames[0]``.
        frames : ndarray, shape (n, n_bins, 2), float32
            The kept final frames, then the frames not final yet, up to frame
            ``received // hop_length``.
        """
        hop = self.config.hop_length
        n_frames = 1 + self._received // hop
        n_final = min(n_frames, max(0, (self._received - self._reach_frames * hop) // hop + 1))
        start = max(0, self._n_final - self._reach_frames) * hop  # context before the new frames
        x = self._samples[start - self._sample0 :]
        new = cqt(
            x,
            sample_rate_hz=self.config.sample_rate_hz,
            config=self.config,
            tuning_cents=self.tuning_cents,
        )[self._n_final - start // hop :]
        if n_final > self._n_final:
            done = n_final - self._n_final
            self._final = np.concatenate([self._final, new[:done]])[-self.keep_frames :]
            self._n_final = n_final
            new = new[done:]
            keep_from = max(0, self._n_final - self._reach_frames) * hop
            self._samples = self._samples[keep_from - self._sample0 :]
            self._sample0 = keep_from
        first = self._n_final - len(self._final)
        return first, np.concatenate([self._final, new])


def frame_reach_samples(config: CQTConfig) -> int:
    """Return how far from its centre a frame reads the signal, in samples at the config's rate.

    A frame's value depends only on the samples within this distance of its centre (and on
    where the signal starts and ends within it).
    """
    return _plan(config).margin
