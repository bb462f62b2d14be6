"""Degrade a render the way recordings are degraded: room, compression, band limits, noise, tuning.

Used for the ``degraded`` variant of ``chordcli data render`` (dev-cross, see
docs/training.md). The effects come from ``pedalboard`` (imported when a file is degraded; it is
part of the ``corpus`` extra). One draw per file (:func:`draw_degradation`) gives:

* a tuning offset of up to +-50 cents, by playing the file that much faster or slower
  (``scipy.signal.resample_poly``; the caller stretches the label times by
  :attr:`Degradation.speed`; the chord labels are kept, as a band tuned off concert pitch
  still plays the same chords);
* a room (``Reverb``, room size 0.3-0.95, wet 0.1-0.45);
* bus compression (``Compressor``, threshold -30..-12 dB, ratio 2-10) and make-up gain;
* band limits (``HighpassFilter`` 60-300 Hz, ``LowpassFilter`` 2.5-9 kHz);
* lossy coding half of the time (``MP3Compressor``, VBR quality 4-9);
* pink-ish noise at a signal-to-noise ratio of 15-35 dB.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Degradation", "degrade", "draw_degradation"]


@dataclass(frozen=True)
class Degradation:
    """Settings of one degraded file (see the module docstring)."""

    cents: float
    room_size: float
    wet: float
    threshold_db: float
    ratio: float
    highpass_hz: float
    lowpass_hz: float
    mp3_quality: float | None
    snr_db: float

    @property
    def speed(self) -> float:
        """Playback-speed factor of the tuning offset (``2 ** (cents / 1200)``)."""
        return float(2.0 ** (self.cents / 1200.0))

    def to_dict(self) -> dict:
        """Return the settings as a JSON-ready dict."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def draw_degradation(rng: np.random.Generator) -> Degradation:
    """Draw the settings of one file."""
    return Degradation(
        cents=float(rng.uniform(-50, 50)),
        room_size=float(rng.uniform(0.3, 0.95)),
        wet=float(rng.uniform(0.1, 0.45)),
        threshold_db=float(rng.uniform(-30, -12)),
        ratio=float(rng.uniform(2, 10)),
        highpass_hz=float(np.exp(rng.uniform(np.log(60), np.log(300)))),
        lowpass_hz=float(np.exp(rng.uniform(np.log(2500), np.log(9000)))),
        mp3_quality=float(rng.uniform(4, 9)) if rng.random() < 0.5 else None,
        snr_db=float(rng.uniform(15, 35)),
    )


def degrade(
    audio: np.ndarray, *, sample_rate_hz: int, settings: Degradation, seed: int = 0
) -> np.ndarray:
    """Apply a degradation to audio.

    Parameters
    ----------
    audio : ndarray, shape (n_samples, n_channels), float32
        The audio.
    sample_rate_hz : int
        Its sample rate.
    settings : Degradation
        What to do.
    seed : int, optional
        Seed of the noise.

    Returns
    -------
    ndarray, shape (round(n_samples / settings.speed), n_channels), float32
        The degraded audio (played ``settings.speed`` times faster), peak at most 0.99.
    """
    from fractions import Fraction

    import pedalboard
    from scipy.signal import lfilter, resample_poly

    ratio = Fraction(settings.speed).limit_denominator(2000)
    n = round(len(audio) / settings.speed)
    x = resample_poly(np.asarray(audio, dtype=np.float32), ratio.denominator, ratio.numerator)
    x = np.ascontiguousarray(x[:n].T.astype(np.float32))
    if x.shape[1] < n:
        x = np.pad(x, ((0, 0), (0, n - x.shape[1])))
    effects = [
        pedalboard.Reverb(room_size=settings.room_size, wet_level=settings.wet, dry_level=0.8),
        pedalboard.HighpassFilter(cutoff_frequency_hz=settings.highpass_hz),
        pedalboard.LowpassFilter(cutoff_frequency_hz=settings.lowpass_hz),
        pedalboard.Compressor(threshold_db=settings.threshold_db, ratio=settings.ratio),
        pedalboard.Gain(gain_db=-settings.threshold_db * (1 - 1 / settings.ratio) / 2),
    ]
    if settings.mp3_quality is not None:
        effects.append(pedalboard.MP3Compressor(vbr_quality=settings.mp3_quality))
    y = pedalboard.Pedalboard(effects)(x, float(sample_rate_hz))
    if y.shape[1] < n:
        y = np.pad(y, ((0, 0), (0, n - y.shape[1])))
    y = y[:, :n]
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) if y.size else 0.0
    if rms > 0:
        rng = np.random.default_rng(seed)
        white = rng.standard_normal(y.shape)
        # a one-pole low-pass tilts white noise towards pink
        noise = np.empty_like(white)
        acc = np.zeros(y.shape[0])
        for i in range(0, n, 4096):
            block = white[:, i : i + 4096]
            out, zf = lfilter([0.1], [1.0, -0.9], block, axis=1, zi=acc[:, None])
            acc = zf[:, 0]
            noise[:, i : i + 4096] = out
        noise *= rms / max(float(np.sqrt(np.mean(noise**2))), 1e-12) * 10 ** (-settings.snr_db / 20)
        y = y + noise.astype(np.float32)
    peak = float(np.abs(y).max()) if y.size else 0.0
    if peak > 0.99:
        y *= 0.99 / peak
    return np.ascontiguousarray(y.T.astype(np.float32))
