"""The chroma-template baseline: chord posteriors from the CQT without any learning.

``--model template`` is the yardstick ChordNet must beat. From the same CQT features as ChordNet
(:func:`models.cqt.cqt`), it computes:

1. a semitone spectrogram: the channels are averaged and each semitone takes the largest of its
   three bins; the log-compressed magnitudes are whitened across frequency (a moving average over
   one octave is subtracted, negative values cut), which removes the spectral envelope and
   broadband noise;
2. note saliences: the upper partials of every note are removed by subtracting, from each
   semitone, a share of the salience one octave, one twelfth (19 semitones) and two octaves plus
   a third (28 semitones) below (the 2nd, 3rd and 5th partials), from the bottom up;
3. a treble chroma (notes from :data:`TemplateConfig.treble_range_semitones`, weighted by a
   raised-cosine window) and a bass chroma (notes from ``bass_range_semitones``), each
   normalised by its frame maximum;
4. the 25-dim vector: chord-tone probabilities ``sigmoid(tone_slope * (chroma -
   tone_threshold))`` and a bass distribution from a softmax of the bass chroma with a "no bass"
   entry whose logit grows as the frame gets quiet; ``smooth_chroma`` is the same vector after a
   moving average over ``smooth_s`` seconds;
5. chord posteriors ``softmax(score_vectors(smooth_chroma) / temperature + quality prior)``,
   where the quality prior charges ``complexity_cost`` per tone more or fewer than three, so
   that noise does not turn triads into thirteenths nor a weak third into a power chord;
6. the change probability from the chroma flux (the distance between the mean chroma vectors
   half a second before and after the frame), mapped into ``[change_floor, change_ceiling]``;
7. the key: Krumhansl-Schmuckler profile correlation with the song's mean chroma, turned into a
   distribution by a softmax, the same on every frame; and the bass head from the bass part of
   the vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.ndimage

from models.base import ModelOutput
from models.cqt import DEFAULT_CQT, CQTConfig
from theory.decode import DecoderSettings
from theory.keys import N_KEYS
from theory.targets import N_TARGET, class_templates, score_vectors
from theory.vocabulary import N_CLASS, N_CLASSES

__all__ = [
    "KRUMHANSL_MAJOR",
    "KRUMHANSL_MINOR",
    "TemplateBackend",
    "TemplateConfig",
    "chroma_features",
    "key_distribution",
]

#: Krumhansl-Kessler probe-tone ratings of the major key, tonic first.
KRUMHANSL_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
#: Krumhansl-Kessler probe-tone ratings of the minor key, tonic first.
KRUMHANSL_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class TemplateConfig:
    """Parameters of the template baseline (semitone indices count from C1 = 0).

    Attributes
    ----------
    whiten_semitones : int
        Width of the moving average subtracted across frequency.
    partial_shares : tuple of (int, float)
        (semitones above the fundamental, share) of the partials removed from the saliences.
    treble_range_semitones : tuple of int
        First and one-past-last semitone of the treble chroma (24 = C3, 72 = C7).
    bass_range_semitones : tuple of int
        First and one-past-last semitone of the bass chroma (4 = E1, 31 = G3).
    tone_threshold, tone_slope : float
        Chord-tone probability ``sigmoid(tone_slope * (chroma - tone_threshold))`` of a chroma
        value normalised to the frame maximum.
    bass_slope : float
        Softmax gain of the bass chroma.
    silence_level : float
        Frame energy (mean treble salience) at which "no chord" and "no bass" become likely.
    smooth_s : float
        Moving-average length of ``smooth_chroma`` in seconds.
    temperature : float
        Softmax temperature of the chord posteriors.
    complexity_cost : float
        Log-prior cost per chord tone more or fewer than three.
    change_window_s : float
        Span on each side of a frame over which the chroma flux is measured, in seconds.
    change_floor, change_ceiling : float
        Range of the change probability.
    key_temperature : float
        Softmax temperature of the key correlations.
    """

    whiten_semitones: int = 13
    partial_shares: tuple[tuple[int, float], ...] = ((12, 0.5), (19, 0.35), (28, 0.2))
    treble_range_semitones: tuple[int, int] = (24, 72)
    bass_range_semitones: tuple[int, int] = (4, 31)
    tone_threshold: float = 0.2
    tone_slope: float = 10.0
    bass_slope: float = 6.0
    silence_level: float = 0.02
    smooth_s: float = 0.8
    temperature: float = 4.0
    complexity_cost: float = 1.5
    change_window_s: float = 0.5
    change_floor: float = 0.01
    change_ceiling: float = 0.5
    key_temperature: float = 0.05


def _moving_average(x: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Centred moving average with edge replication."""
    if width <= 1:
        return x
    return scipy.ndimage.uniform_filter1d(x, size=width, axis=axis, mode="nearest")


def chroma_features(
    features: np.ndarray, *, config: TemplateConfig | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute treble chroma, bass chroma and frame energy from CQT features.

    Parameters
    ----------
    features : ndarray, shape (n_frames, 252, 2)
        Log-compressed CQT of :func:`models.cqt.cqt` (36 bins per octave from C1).
    config : TemplateConfig, optional
        Parameters; the defaults if None.

    Returns
    -------
    treble : ndarray, shape (n_frames, 12), float32
        Treble chroma normalised to a frame maximum of 1 (zeros for silent frames).
    bass : ndarray, shape (n_frames, 12), float32
        Bass chroma normalised the same way.
    energy : ndarray, shape (n_frames,), float32
        Mean note salience of the treble range (0 for silence).
    """
    config = config or TemplateConfig()
    features = np.asarray(features, dtype=np.float32)
    n_frames, n_bins = features.shape[:2]
    if n_bins % 3:
        raise ValueError(f"features need 3 bins per semitone, got {n_bins} bins")
    mono = features.mean(axis=2) if features.ndim == 3 else features
    # Semitone k is centred on bin 3k: take the largest of bins 3k - 1, 3k and 3k + 1.
    shifted = np.concatenate([np.zeros((n_frames, 1), np.float32), mono[:, :-1]], axis=1)
    semis = shifted.reshape(n_frames, n_bins // 3, 3).max(axis=2)
    semis = np.maximum(semis - _moving_average(semis, config.whiten_semitones, axis=1), 0.0)
    n_semis = semis.shape[1]
    salience = semis.copy()
    for s in range(n_semis):
        for offset, share in config.partial_shares:
            if s + offset < n_semis:
                salience[:, s + offset] -= share * salience[:, s]
        np.maximum(salience[:, s], 0.0, out=salience[:, s])
    lo, hi = config.treble_range_semitones
    window = np.hanning(hi - lo + 2)[1:-1].astype(np.float32)
    treble = _fold(salience[:, lo:hi] * window, lo)
    blo, bhi = config.bass_range_semitones
    bass = _fold(salience[:, blo:bhi], blo)
    energy = salience[:, lo:hi].mean(axis=1)
    return _normalise(treble), _normalise(bass), energy.astype(np.float32)


def _fold(notes: np.ndarray, first_semitone: int) -> np.ndarray:
    out = np.zeros((notes.shape[0], 12), dtype=np.float32)
    for i in range(notes.shape[1]):
        out[:, (first_semitone + i) % 12] += notes[:, i]
    return out


def _normalise(chroma: np.ndarray) -> np.ndarray:
    peak = chroma.max(axis=1, keepdims=True)
    return np.divide(chroma, peak, out=np.zeros_like(chroma), where=peak > 1e-6)


def key_distribution(chroma: np.ndarray, *, temperature: float = 0.05) -> np.ndarray:
    """Return a key distribution from a mean chroma by Krumhansl-Schmuckler correlation.

    Parameters
    ----------
    chroma : ndarray, shape (12,)
        Mean chroma of the song (C = 0).
    temperature : float
        Softmax temperature applied to the 24 correlation coefficients.

    Returns
    -------
    ndarray, shape (25,), float32
        Probabilities of the 12 major keys, the 12 minor keys, and no key (which takes all
        the mass for a flat or empty chroma).
    """
    chroma = np.asarray(chroma, dtype=np.float64)
    out = np.zeros(N_KEYS, dtype=np.float64)
    if chroma.std() < 1e-9:
        out[-1] = 1.0
        return out.astype(np.float32)
    corr = np.empty(24)
    for tonic in range(12):
        corr[tonic] = np.corrcoef(chroma, np.roll(KRUMHANSL_MAJOR, tonic))[0, 1]
        corr[12 + tonic] = np.corrcoef(chroma, np.roll(KRUMHANSL_MINOR, tonic))[0, 1]
    logits = corr / temperature
    probs = np.exp(logits - logits.max())
    out[:24] = probs / probs.sum()
    return out.astype(np.float32)


@dataclass
class TemplateBackend:
    """The chroma-template baseline as a :class:`models.base.ChordBackend`.

    Parameters
    ----------
    config : TemplateConfig, optional
        Parameters of the baseline.
    cqt_config : CQTConfig, optional
        Features it reads; the default CQT.
    """

    config: TemplateConfig = field(default_factory=TemplateConfig)
    cqt_config: CQTConfig = DEFAULT_CQT
    name: str = "template"
    #: No class prior (the quality prior is already in the chord posteriors), no root-position
    #: term (decoding as tuned for the baseline), the default smoothed-vector weight.
    decoder: DecoderSettings = field(default_factory=lambda: DecoderSettings(bass_weight=0.0))

    def predict(self, features: np.ndarray) -> ModelOutput:
        """Return per-frame posteriors for the CQT features of one song.

        Parameters
        ----------
        features : ndarray, shape (n_frames, 252, 2)
            Log-compressed CQT (:func:`models.cqt.cqt` with :attr:`cqt_config`).

        Returns
        -------
        ModelOutput
            Chroma, smoothed chroma, chord, change, bass and key posteriors, float32.
        """
        cfg = self.config
        features = np.asarray(features)
        if features.ndim != 3 or features.shape[1] != self.cqt_config.n_bins:
            raise ValueError(
                f"features must have shape (n_frames, {self.cqt_config.n_bins}, 2), "
                f"got {features.shape}"
            )
        fps = self.cqt_config.frames_per_second
        n_frames = features.shape[0]
        treble, bass_chroma, energy = chroma_features(features, config=cfg)

        loud = energy / (energy + cfg.silence_level)  # 0 for silence, -> 1 when loud
        vectors = np.empty((n_frames, N_TARGET), dtype=np.float32)
        tones = 1.0 / (1.0 + np.exp(-cfg.tone_slope * (treble - cfg.tone_threshold)))
        vectors[:, :12] = tones * loud[:, None]
        logits = np.empty((n_frames, 13), dtype=np.float32)
        logits[:, :12] = cfg.bass_slope * bass_chroma
        logits[:, 12] = cfg.bass_slope * (1.0 - 2.0 * loud)
        logits -= logits.max(axis=1, keepdims=True)
        bass = np.exp(logits)
        bass /= bass.sum(axis=1, keepdims=True)
        vectors[:, 12:] = bass
        width = max(1, round(cfg.smooth_s * fps))
        smooth = _moving_average(vectors, width, axis=0).astype(np.float32)

        chord = np.empty((n_frames, N_CLASSES), dtype=np.float32)
        prior = _quality_prior(cfg.complexity_cost)
        for start in range(0, n_frames, 2048):
            block = slice(start, min(start + 2048, n_frames))
            logit = score_vectors(smooth[block]) / np.float32(cfg.temperature) + prior
            logit -= logit.max(axis=1, keepdims=True)
            np.exp(logit, out=logit)
            logit /= logit.sum(axis=1, keepdims=True)
            chord[block] = logit

        half = max(1, round(cfg.change_window_s * fps))
        cum = np.concatenate([np.zeros((1, 12)), np.cumsum(treble, axis=0, dtype=np.float64)])
        idx = np.arange(n_frames)
        before_lo = np.clip(idx - half, 0, n_frames)
        after_hi = np.clip(idx + half, 0, n_frames)
        before = (cum[idx] - cum[before_lo]) / np.maximum(idx - before_lo, 1)[:, None]
        after = (cum[after_hi] - cum[idx]) / np.maximum(after_hi - idx, 1)[:, None]
        flux = np.linalg.norm(after - before, axis=1) / np.sqrt(12.0)
        change = cfg.change_floor + (cfg.change_ceiling - cfg.change_floor) * np.clip(
            flux / 0.5, 0.0, 1.0
        )

        weights = energy[:, None] / max(float(energy.sum()), 1e-9)
        mean_chroma = (treble * weights).sum(axis=0) + 0.5 * (bass_chroma * weights).sum(axis=0)
        key = np.broadcast_to(
            key_distribution(mean_chroma, temperature=cfg.key_temperature), (n_frames, N_KEYS)
        )
        return ModelOutput(
            chroma=vectors,
            smooth_chroma=smooth,
            chord=chord,
            change=change.astype(np.float32),
            bass=smooth[:, 12:].copy(),
            key=key,
            frames_per_second=fps,
        )


def _quality_prior(cost: float) -> np.ndarray:
    tones, _ = class_templates()
    n_tones = tones.sum(axis=1)
    prior = -cost * np.abs(n_tones - 3.0)
    prior[N_CLASS] = 0.0
    return prior.astype(np.float32)
