"""Data augmentation in the CQT domain: pitch shift with labels, random EQ, time/frequency masks.

A pitch shift by ``k`` semitones moves the features by ``bins_per_semitone * k`` bins
(3 at 36 bins per octave) towards higher bins for positive ``k``; the bins that come free
are filled with ``fill`` (0, the value of silence after log compression), never wrapped
around. Chord-tone vectors, bass, key and chord classes are transposed by the same ``k``
with :mod:`theory.transpose`; change flags stay. :data:`PITCH_SHIFTS` (-5..6) reaches every one
of the 12 transpositions.

A random EQ (:func:`random_eq`) scales the magnitudes under the log compression
``log1p(gain * magnitude)`` exactly, ``f -> log1p(g * expm1(f))``, by a smooth gain curve over
frequency (a tilt plus one bell), so the network meets other timbres and mixes: other balances
of fundamentals and overtones, brighter and duller instruments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.dataset import FrameTargets
from theory.keys import KEY_NONE
from theory.targets import BASS_NONE
from theory.transpose import transpose_class, transpose_target
from theory.vocabulary import N_CLASS

__all__ = [
    "NO_AUGMENT",
    "PITCH_SHIFTS",
    "AugmentConfig",
    "augment_example",
    "frequency_mask",
    "pitch_shift_features",
    "random_eq",
    "time_mask",
    "transpose_targets",
]

#: Semitone shifts drawn by :func:`augment_example`: every transposition class once.
PITCH_SHIFTS: tuple[int, ...] = tuple(range(-5, 7))


@dataclass(frozen=True)
class AugmentConfig:
    """What :func:`augment_example` does to a training example.

    Parameters
    ----------
    pitch_shift : bool
        Shift by a semitone count drawn uniformly from :data:`PITCH_SHIFTS`.
    time_masks : int
        Number of time masks.
    time_mask_max_frames : int
        Longest time mask, in frames.
    frequency_masks : int
        Number of frequency masks.
    frequency_mask_max_bins : int
        Widest frequency mask, in bins.
    bins_per_semitone : int
        CQT bins per semitone (``bins_per_octave / 12``).
    eq_max_db : float
        Largest gain of the random EQ's tilt and bell, in dB (0 turns it off; see
        :func:`random_eq`).
    """

    pitch_shift: bool = True
    time_masks: int = 1
    time_mask_max_frames: int = 16
    frequency_masks: int = 1
    frequency_mask_max_bins: int = 12
    bins_per_semitone: int = 3
    eq_max_db: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """Return the configuration as a JSON-ready dict."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> AugmentConfig:
        """Build a config from :meth:`to_dict` output; missing keys take the defaults."""
        return cls(**data)  # type: ignore[arg-type]


#: No augmentation at all (validation, tests).
NO_AUGMENT = AugmentConfig(pitch_shift=False, time_masks=0, frequency_masks=0)


def pitch_shift_features(
    features: np.ndarray, semitones: int, *, bins_per_semitone: int = 3, fill: float = 0.0
) -> np.ndarray:
    """Shift CQT features by whole semitones along the frequency axis.

    Parameters
    ----------
    features : ndarray, shape (n_frames, n_bins, n_channels)
        CQT features.
    semitones : int
        Shift; positive moves energy to higher bins.
    bins_per_semitone : int, optional
        Bins per semitone.
    fill : float, optional
        Value of the bins that come free.

    Returns
    -------
    ndarray
        Shifted copy, same shape and dtype.
    """
    shift = int(semitones) * bins_per_semitone
    out = np.full_like(features, fill)
    n_bins = features.shape[1]
    if shift >= 0:
        out[:, shift:] = features[:, : n_bins - shift]
    else:
        out[:, :shift] = features[:, -shift:]
    return out


def transpose_targets(targets: FrameTargets, semitones: int) -> FrameTargets:
    """Transpose frame targets by ``semitones``; masked entries stay masked.

    Parameters
    ----------
    targets : FrameTargets
        Targets.
    semitones : int
        Shift.

    Returns
    -------
    FrameTargets
        New targets: vectors rolled, bass, key and chord classes transposed, change unchanged.
    """
    k = int(semitones)
    bass = targets.bass
    bass = np.where((bass >= 0) & (bass < BASS_NONE), (bass + k) % 12, bass).astype(np.int32)
    key = targets.key
    key = np.where((key >= 0) & (key < KEY_NONE), (key // 12) * 12 + (key % 12 + k) % 12, key)
    chord = targets.chord
    valid = (chord >= 0) & (chord < N_CLASS)
    chord = np.where(valid, transpose_class(np.where(valid, chord, 0), k), chord)
    return FrameTargets(
        vector=transpose_target(targets.vector, k) * targets.vector_mask[:, None],
        vector_mask=targets.vector_mask.copy(),
        change=targets.change.copy(),
        bass=bass,
        key=key.astype(np.int32),
        chord=np.asarray(chord, dtype=np.int32),
    )


def time_mask(
    features: np.ndarray,
    *,
    rng: np.random.Generator,
    n_masks: int,
    max_frames: int,
    fill: float = 0.0,
) -> np.ndarray:
    """Set ``n_masks`` random spans of up to ``max_frames`` frames to ``fill`` (in place).

    Returns
    -------
    ndarray
        `features`, modified.
    """
    n = features.shape[0]
    for _ in range(n_masks):
        width = int(rng.integers(0, max_frames + 1))
        if width and n > width:
            start = int(rng.integers(0, n - width + 1))
            features[start : start + width] = fill
    return features


def frequency_mask(
    features: np.ndarray,
    *,
    rng: np.random.Generator,
    n_masks: int,
    max_bins: int,
    fill: float = 0.0,
) -> np.ndarray:
    """Set ``n_masks`` random bands of up to ``max_bins`` bins to ``fill`` (in place).

    Returns
    -------
    ndarray
        `features`, modified.
    """
    n = features.shape[1]
    for _ in range(n_masks):
        width = int(rng.integers(0, max_bins + 1))
        if width and n > width:
            start = int(rng.integers(0, n - width + 1))
            features[:, start : start + width] = fill
    return features


def random_eq(features: np.ndarray, *, rng: np.random.Generator, max_db: float) -> np.ndarray:
    """Apply a random smooth EQ to log-compressed magnitudes (returns a new array).

    The gain in dB over the bins (``x`` from -1 at the lowest bin to 1 at the highest) is a
    tilt ``a * x`` plus a bell ``b * exp(-((x - c) / w) ** 2 / 2)`` with ``a`` and ``b`` drawn
    from ``[-max_db, max_db]``, ``c`` from ``[-1, 1]`` and ``w`` from ``[0.1, 0.3]`` (about
    0.35 to 1 octave over 7 octaves); the same curve applies to every frame and channel.
    Silence (0) stays silence.

    Parameters
    ----------
    features : ndarray, shape (n_frames, n_bins, n_channels)
        ``log1p(gain * magnitude)`` features.
    rng : numpy.random.Generator
        Randomness.
    max_db : float
        Largest tilt and bell gain, in dB.

    Returns
    -------
    ndarray
        The equalised features, float32.
    """
    x = np.linspace(-1.0, 1.0, features.shape[1])
    tilt, bell = rng.uniform(-max_db, max_db, size=2)
    centre, width = rng.uniform(-1.0, 1.0), rng.uniform(0.1, 0.3)
    db = tilt * x + bell * np.exp(-0.5 * ((x - centre) / width) ** 2)
    gain = (10.0 ** (db / 20.0)).astype(np.float32)[None, :, None]
    return np.log1p(gain * np.expm1(features.astype(np.float32)))


def augment_example(
    features: np.ndarray,
    targets: FrameTargets,
    *,
    rng: np.random.Generator,
    config: AugmentConfig = AugmentConfig(),  # noqa: B008 - frozen, immutable default
    semitones: int | None = None,
) -> tuple[np.ndarray, FrameTargets, int]:
    """Apply a random pitch shift, EQ and masks to one example.

    Parameters
    ----------
    features : ndarray, shape (n_frames, n_bins, n_channels)
        Example features (not modified).
    targets : FrameTargets
        Its targets.
    rng : numpy.random.Generator
        Randomness.
    config : AugmentConfig, optional
        What to apply.
    semitones : int or None, optional
        Shift by this many semitones instead of a drawn one (with ``config.pitch_shift``
        only; the second view of a consistency pair, see :class:`models.train.TrainConfig`).

    Returns
    -------
    features : ndarray
        Augmented copy.
    targets : FrameTargets
        Transposed targets.
    semitones : int
        The shift applied (0 without pitch shift).
    """
    if not config.pitch_shift:
        k = 0
    elif semitones is None:
        k = int(rng.choice(PITCH_SHIFTS))
    else:
        k = int(semitones)
    if k:
        out = pitch_shift_features(features, k, bins_per_semitone=config.bins_per_semitone)
        targets = transpose_targets(targets, k)
    else:
        out = features.copy()
    if config.eq_max_db > 0:
        out = random_eq(out, rng=rng, max_db=config.eq_max_db)
    if config.time_masks:
        time_mask(out, rng=rng, n_masks=config.time_masks, max_frames=config.time_mask_max_frames)
    if config.frequency_masks:
        frequency_mask(
            out, rng=rng, n_masks=config.frequency_masks, max_bins=config.frequency_mask_max_bins
        )
    return out, targets, k
