"""Calibration of the decoder's chord decisions: quality and no-chord priors, the bass in the root.

A network trained with quality-balanced sampling and class-balanced frame weights learns
posteriors ``p(c | x)`` that carry its *training* prior over qualities, not the prior of real
music. :func:`calibrated_log_prior` replaces one by the other (logit adjustment, Menon et al.
2021): it divides out the training share of each quality (``train_strength``, 1 = all of it),
multiplies in a reference share of real songs (``reference_strength``; the shares of the
Billboard annotations, duration-weighted) and adds a no-chord offset (``no_chord_bias``).

One fixed prior cannot serve both pop (mostly triads) and jazz (mostly tetrads and
extensions), so :func:`tone_adaptation` shifts the prior per song by how many chord tones the
network itself hears: with ``T`` the song's mean number of chord tones (the sum of the 12
chord-tone probabilities of the smoothed vector over frames that are not no-chord), class ``c``
with ``n(c)`` tones gets ``tone_weight * (T - tone_reference) * (n(c) - 3)``: a song heard with
more tones than a pop song lets four- and five-tone chords through, a triadic song holds them
back.

:func:`bass_root_classes` gives, for every class, the classes that sound the same pitch
classes on another root (``C:maj6`` and ``A:min7``, ``C:sus2`` and ``G:sus4``, the four roots
of a ``dim7``, the three of an ``aug``); :func:`choose_root_by_bass` picks among them the one
whose root the bass head hears. The decoder applies both (``theory.decode``).

Pure numpy; the values come from a model's ``config.json`` (``decoder`` section), fitted by
``scripts/tune_decoder.py`` on dev-cross (docs/decoding.md).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from theory.targets import BASS_NONE, class_templates
from theory.vocabulary import N_CLASS, N_CLASSES, N_QUALITIES, QUALITIES, class_quality_indices

__all__ = [
    "DEFAULT_TONE_REFERENCE",
    "RARE_SHARE",
    "bass_root_classes",
    "calibrated_log_prior",
    "choose_root_by_bass",
    "quality_tone_counts",
    "song_tone_count",
    "tone_adaptation",
]

#: A quality under this share of the reference (real songs' time) is rare.
RARE_SHARE: float = 0.02
#: Mean chord-tone count of a triadic (pop) song as the network hears it.
DEFAULT_TONE_REFERENCE: float = 3.1


def _log_normalise(prior: np.ndarray) -> np.ndarray:
    top = float(prior.max())
    return prior - top - np.log(np.exp(prior - top).sum())


def calibrated_log_prior(
    train_share: np.ndarray,
    *,
    train_strength: float = 1.0,
    reference_share: np.ndarray | None = None,
    reference_strength: float = 0.0,
    no_chord_bias: float = 0.0,
    floor: float = 1e-4,
    quality_bias: np.ndarray | None = None,
    rare_strength: float | None = None,
) -> np.ndarray:
    """Return the class log-prior that swaps the training prior for a reference prior.

    Class ``c`` of quality ``q`` gets ``-train_strength * log(train_share[q]) +
    reference_strength * log(reference_share[q])``, plus `no_chord_bias` for ``N`` and
    ``quality_bias[q]``; normalised over the 529 classes. With `rare_strength`, the qualities
    under :data:`RARE_SHARE` of the reference take that exponent instead: they are where a
    network's timbre confusions land (``5`` on distorted guitars, ``sus4`` on suspensions of
    a melody), while the common tetrads (``7``, ``min7``, ``maj7``) need a gentler prior to
    survive in songs that live on them.

    Parameters
    ----------
    train_share : ndarray, shape (45,)
        Share of each quality (then ``N``) among the frames training drew; positive.
    train_strength : float
        How much of the training prior to remove (1: all, logit adjustment).
    reference_share : ndarray, shape (45,), optional
        Share of each quality in real songs; shares below `floor` are raised to it.
    reference_strength : float
        Exponent of the reference prior (0: none).
    no_chord_bias : float
        Log-offset of ``N``.
    floor : float
        Smallest reference share (a quality real songs rarely use stays possible).
    rare_strength : float, optional
        Exponent of the reference prior for the rare qualities (None: `reference_strength`).
    quality_bias : ndarray, shape (45,), optional
        Log-offsets per quality (then ``N``), fitted to hold back the qualities a network
        calls more often than music uses them (``scripts/tune_decoder.py``).

    Returns
    -------
    ndarray, shape (529,), float64

    Raises
    ------
    ValueError
        If a share vector has the wrong shape or a training share is not positive.
    """
    train = np.asarray(train_share, dtype=np.float64)
    if train.shape != (N_QUALITIES + 1,) or not np.all(train > 0):
        raise ValueError(f"train_share needs {N_QUALITIES + 1} positive values")
    per_quality = -float(train_strength) * np.log(train)
    if reference_share is not None and reference_strength != 0.0:
        ref = np.asarray(reference_share, dtype=np.float64)
        if ref.shape != (N_QUALITIES + 1,):
            raise ValueError(f"reference_share needs {N_QUALITIES + 1} values")
        strength = np.full(N_QUALITIES + 1, float(reference_strength))
        if rare_strength is not None:
            strength[ref < RARE_SHARE] = float(rare_strength)
        per_quality = per_quality + strength * np.log(np.maximum(ref, floor))
    per_quality[N_QUALITIES] += float(no_chord_bias)
    if quality_bias is not None:
        bias = np.asarray(quality_bias, dtype=np.float64)
        if bias.shape != (N_QUALITIES + 1,) or not np.all(np.isfinite(bias)):
            raise ValueError(f"quality_bias needs {N_QUALITIES + 1} finite values")
        per_quality = per_quality + bias
    return _log_normalise(per_quality[class_quality_indices(np.arange(N_CLASSES))])


@lru_cache(maxsize=1)
def quality_tone_counts() -> np.ndarray:
    """Return the number of distinct pitch classes of every quality (then 0 for ``N``)."""
    counts = np.array([len(q.intervals) for q in QUALITIES] + [0], dtype=np.float64)
    counts.flags.writeable = False
    return counts


def song_tone_count(smooth_chroma: np.ndarray, chord: np.ndarray | None = None) -> float:
    """Return the mean number of chord tones the network hears in a song.

    The sum of the 12 chord-tone probabilities of the smoothed vector, averaged over the
    frames whose no-chord probability (``chord[:, 528]``) is below one half (all frames if
    `chord` is None or every frame is no-chord); 0 for an empty song.
    """
    tones = np.asarray(smooth_chroma, dtype=np.float64)[:, :12].sum(axis=1)
    if tones.size == 0:
        return 0.0
    if chord is not None:
        voiced = np.asarray(chord)[:, N_CLASS] < 0.5
        if voiced.any():
            tones = tones[voiced]
    return float(tones.mean())


def tone_adaptation(
    tone_count: float, *, tone_weight: float, tone_reference: float = DEFAULT_TONE_REFERENCE
) -> np.ndarray:
    """Return the per-song class log-prior shift ``w * (T - T0) * (n(c) - 3)`` (``N``: 0).

    Returns
    -------
    ndarray, shape (529,), float64
    """
    n = quality_tone_counts()[class_quality_indices(np.arange(N_CLASSES))]
    shift = float(tone_weight) * (float(tone_count) - float(tone_reference)) * (n - 3.0)
    shift[N_CLASS] = 0.0
    return shift


@lru_cache(maxsize=1)
def bass_root_classes() -> tuple[tuple[int, ...], ...]:
    """For every class, the classes with exactly its pitch classes (itself included).

    ``N`` has only itself. Sorted by class index.
    """
    tones, _ = class_templates()
    keys = [tuple(np.flatnonzero(tones[c] > 0.5).tolist()) for c in range(N_CLASS)]
    groups: dict[tuple[int, ...], list[int]] = {}
    for c, key in enumerate(keys):
        groups.setdefault(key, []).append(c)
    return tuple(tuple(groups[keys[c]]) for c in range(N_CLASS)) + ((N_CLASS,),)


def choose_root_by_bass(chord_class: int, bass_mean: np.ndarray, *, min_prob: float) -> int:
    """Among the classes with `chord_class`'s pitch classes, take the one rooted on the bass.

    Parameters
    ----------
    chord_class : int
        The decoded class.
    bass_mean : ndarray, shape (13,)
        Mean bass posterior over the segment (12 = no bass).
    min_prob : float
        Smallest mean probability of the bass for a change of root.

    Returns
    -------
    int
        The class of the same pitch classes whose root is the most likely bass, if that bass
        has at least `min_prob` and some such class exists; else `chord_class`.
    """
    group = bass_root_classes()[chord_class]
    if len(group) == 1:
        return chord_class
    best = int(np.argmax(bass_mean))
    if best == BASS_NONE or float(bass_mean[best]) < min_prob:
        return chord_class
    _, roots = class_templates()
    for c in group:
        if int(roots[c]) == best:
            return int(c)
    return chord_class
