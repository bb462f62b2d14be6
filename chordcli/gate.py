"""The no-harmonic-content gate: stretches of audio without tonal peaks are no chord (``N``).

ChordNet always prefers some chord, and on noise, applause, drums alone or silence its best guess
is a chord. The gate decides from the CQT alone, before and apart from the decoder, which frames
hold no harmonic content, and the pipeline writes ``N`` there:

1. The CQT magnitude (both channels averaged) is smoothed over :attr:`TonalGate.smooth_s`
   seconds, so that the random peaks of noise average out while sustained partials stay.
2. In every octave of every frame, a bin is a *tonal peak* when it exceeds
   :attr:`TonalGate.peak_factor` times the median of that octave and is louder than
   :attr:`TonalGate.floor_db` (below it a partial is inaudible, or numerical residue of
   digital silence). The frame's *peak fraction*
   is the share of its bins that are tonal peaks, over the octaves from
   :attr:`TonalGate.first_octave` up (the lowest octave's long, few noise samples give random
   peaks). It is about 0.26 for the bundled example, 0.05 to 0.35 for recorded music, and
   below 0.005 for white and pink noise and for silence.
3. Frames whose peak fraction, median-filtered over :attr:`TonalGate.hold_s` seconds, is below
   :attr:`TonalGate.min_peak_fraction` are non-harmonic; the chord segments over them become
   ``N``.

The figures behind the defaults (noise, silence, the example, recorded music) are in
``docs/reliability.md``. The decoder's own no-chord prior is a separate setting
(:mod:`theory.decode`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from chordcli.segments import ChordSegment
from models.cqt import CQTConfig, mix_to_mono
from theory.harte import NO_CHORD

__all__ = [
    "DEFAULT_TONAL_GATE",
    "TonalGate",
    "gate_segments",
    "gated_frames",
    "non_harmonic_frames",
]


@dataclass(frozen=True)
class TonalGate:
    """Settings of the no-harmonic-content gate.

    Attributes
    ----------
    peak_factor : float
        A bin is a tonal peak when its magnitude exceeds this many times its octave's median.
    min_peak_fraction : float
        Frames with a smaller share of tonal-peak bins hold no harmonic content.
    floor_db : float
        Level, in dB relative to a full-scale sinusoid, below which a bin is never a peak.
    first_octave : int
        The lowest CQT octave counted (0 is the lowest, C1 to C2 for the default CQT).
    smooth_s : float
        Length in seconds of the moving average of the magnitudes before peaks are found.
    hold_s : float
        Length in seconds of the median filter over the peak fraction, so that a stretch is
        gated only when most of a second around it is non-harmonic.
    """

    peak_factor: float = 2.0
    min_peak_fraction: float = 0.02
    floor_db: float = -90.0
    first_octave: int = 1
    smooth_s: float = 0.5
    hold_s: float = 1.0


#: The gate used by ``chordcli transcribe``.
DEFAULT_TONAL_GATE = TonalGate()


def non_harmonic_frames(
    features: np.ndarray,
    *,
    log_gain: float,
    bins_per_octave: int,
    frames_per_second: float,
    gate: TonalGate = DEFAULT_TONAL_GATE,
) -> np.ndarray:
    """Find the CQT frames that hold no harmonic content.

    Parameters
    ----------
    features : ndarray, shape (n_frames, n_bins, n_channels)
        Log-compressed CQT, ``log1p(log_gain * magnitude)`` (:func:`models.cqt.cqt`).
    log_gain : float
        The compression gain of the features.
    bins_per_octave : int
        CQT bins per octave; ``n_bins`` is a multiple of it.
    frames_per_second : float
        Frame rate of the features.
    gate : TonalGate
        The settings.

    Returns
    -------
    ndarray, shape (n_frames,), bool
        True for non-harmonic frames.
    """
    n_frames, n_bins = features.shape[:2]
    if n_frames == 0:
        return np.zeros(0, dtype=bool)
    magnitude = np.expm1(mix_to_mono(features, dtype=np.float64)) / log_gain
    width = max(1, round(gate.smooth_s * frames_per_second))
    magnitude = scipy.ndimage.uniform_filter1d(magnitude, width, axis=0, mode="nearest")
    octaves = magnitude.reshape(n_frames, n_bins // bins_per_octave, bins_per_octave)
    octaves = octaves[:, gate.first_octave :]
    median = np.median(octaves, axis=2, keepdims=True)
    floor = 0.5 * 10.0 ** (gate.floor_db / 20.0)  # a sinusoid of amplitude A reads A / 2
    peaks = (octaves > gate.peak_factor * median) & (octaves > floor)
    fraction = peaks.mean(axis=(1, 2))
    hold = max(1, round(gate.hold_s * frames_per_second) | 1)  # odd, centred
    fraction = scipy.ndimage.median_filter(fraction, size=hold, mode="nearest")
    return fraction < gate.min_peak_fraction


def gated_frames(
    features: np.ndarray, *, config: CQTConfig, gate: TonalGate | None = DEFAULT_TONAL_GATE
) -> np.ndarray:
    """Return :func:`non_harmonic_frames` of CQT features made with ``config``.

    None for ``gate`` turns the gate off (no frame is gated).
    """
    if gate is None:
        return np.zeros(len(features), dtype=bool)
    return non_harmonic_frames(
        features,
        log_gain=config.log_gain,
        bins_per_octave=config.bins_per_octave,
        frames_per_second=config.frames_per_second,
        gate=gate,
    )


def gate_segments(
    segments: list[ChordSegment], non_harmonic: np.ndarray, *, frames_per_second: float
) -> list[ChordSegment]:
    """Write ``N`` over the non-harmonic frames.

    Parameters
    ----------
    segments : list of ChordSegment
        Decoded segments in time order.
    non_harmonic : ndarray, shape (n_frames,), bool
        From :func:`non_harmonic_frames`; frame ``i`` covers ``(i - 0.5) / fps`` to
        ``(i + 0.5) / fps`` seconds.
    frames_per_second : float
        Frame rate of ``non_harmonic``.

    Returns
    -------
    list of ChordSegment
        The segments cut at the gated stretches, ``N`` over them (confidence None),
        neighbouring ``N`` segments merged; unchanged when nothing is gated.
    """
    if not np.any(non_harmonic):
        return list(segments)
    flags = np.concatenate([[False], non_harmonic, [False]])
    edges = np.flatnonzero(np.diff(flags.astype(np.int8)))
    starts_s = np.maximum(edges[0::2] - 0.5, 0.0) / frames_per_second
    ends_s = (edges[1::2] - 0.5) / frames_per_second
    if edges[-1] == len(non_harmonic):
        ends_s[-1] = np.inf  # to the end of the recording
    pieces: list[ChordSegment] = []
    for seg in segments:
        cursor = seg.start_s
        for start_s, end_s in zip(starts_s, ends_s, strict=True):
            if end_s <= cursor or start_s >= seg.end_s:
                continue
            if start_s > cursor:
                pieces.append(ChordSegment(cursor, start_s, seg.label, seg.confidence))
            cut = min(end_s, seg.end_s)
            pieces.append(ChordSegment(max(start_s, cursor), cut, NO_CHORD))
            cursor = cut
        if cursor < seg.end_s:
            pieces.append(ChordSegment(cursor, seg.end_s, seg.label, seg.confidence))
    merged: list[ChordSegment] = []
    for piece in pieces:
        if merged and piece.label == NO_CHORD == merged[-1].label:
            merged[-1] = ChordSegment(merged[-1].start_s, piece.end_s, NO_CHORD)
        else:
            merged.append(piece)
    return merged
