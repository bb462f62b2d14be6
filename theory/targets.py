"""The 25-dim chord-tone + bass vector of a chord, and scoring such vectors against the vocabulary.

Layout of a target vector (float32, shape (25,)):

* ``[0:12]`` chord tones: 1 for every sounding absolute pitch class (C = 0), bass included;
* ``[12:25]`` bass, one-hot over 13 classes: the bass pitch class 0..11, or 12 for no bass (``N``).

``X`` (unknown) has no target; :func:`chord_target` returns ``None`` and training masks the frame.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from theory.harte import Chord, parse_chord
from theory.vocabulary import N_CLASS, N_CLASSES, N_QUALITIES, QUALITIES

__all__ = [
    "BASS_NONE",
    "N_TARGET",
    "chord_target",
    "class_templates",
    "score_vectors",
    "targets_for_labels",
]

N_TARGET = 25
BASS_NONE = 12


def chord_target(chord: Chord | str) -> np.ndarray | None:
    """Return the 25-dim chord-tone + bass target of a chord.

    Parameters
    ----------
    chord : Chord or str
        A parsed chord or a Harte label.

    Returns
    -------
    ndarray, shape (25,), float32, or None
        Chord-tone bits and the one-hot bass (see module docstring); ``None`` for ``X``.
    """
    if isinstance(chord, str):
        chord = parse_chord(chord)
    target = np.zeros(N_TARGET, dtype=np.float32)
    if chord.is_no_chord:
        target[12 + BASS_NONE] = 1.0
        return target
    if chord.root_pc is None:
        return None
    target[list(chord.pitch_classes)] = 1.0
    target[12 + chord.bass_pc] = 1.0
    return target


def targets_for_labels(labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return targets for many labels, with a mask for ``X``.

    Parameters
    ----------
    labels : list of str
        Harte labels.

    Returns
    -------
    targets : ndarray, shape (n_labels, 25), float32
        Targets; rows of ``X`` are zero.
    valid : ndarray, shape (n_labels,), bool
        False where the label is ``X``.
    """
    targets = np.zeros((len(labels), N_TARGET), dtype=np.float32)
    valid = np.ones(len(labels), dtype=bool)
    for i, label in enumerate(labels):
        target = chord_target(label)
        if target is None:
            valid[i] = False
        else:
            targets[i] = target
    return targets, valid


@lru_cache(maxsize=1)
def class_templates() -> tuple[np.ndarray, np.ndarray]:
    """Return the chord-tone template and the root bass class of every vocabulary class.

    Returns
    -------
    tones : ndarray, shape (529, 12), float32
        1 for each absolute pitch class of the class (all zero for N).
    roots : ndarray, shape (529,), int64
        Root pitch class, or 12 (no bass) for N.
    """
    tones = np.zeros((N_CLASSES, 12), dtype=np.float32)
    roots = np.full(N_CLASSES, BASS_NONE, dtype=np.int64)
    for root in range(12):
        for q, quality in enumerate(QUALITIES):
            index = root * N_QUALITIES + q
            tones[index, [(root + i) % 12 for i in quality.intervals]] = 1.0
            roots[index] = root
    tones.flags.writeable = False
    roots.flags.writeable = False
    return tones, roots


def score_vectors(
    vectors: np.ndarray,
    *,
    bass_weight: float = 0.5,
    inversion_share: float = 0.5,
    eps: float = 1e-4,
) -> np.ndarray:
    """Score 25-dim chord-tone + bass vectors against all 529 classes.

    The chord-tone part is scored as independent Bernoulli variables: for class ``c`` with tone
    template ``t``, ``sum_i t_i log p_i + (1 - t_i) log(1 - p_i)``. The bass part adds
    ``bass_weight * log(b[root] + inversion_share * sum of b over the class's other tones)``, so a
    bass on another chord tone (an inversion) still supports the class, less than the root does;
    for N it is ``bass_weight * log b[none]``.

    Parameters
    ----------
    vectors : ndarray, shape (n_frames, 25)
        Chord-tone probabilities in ``[:, :12]`` and a bass distribution in ``[:, 12:]``.
    bass_weight : float
        Weight of the bass term.
    inversion_share : float
        How much a bass on a non-root chord tone counts, relative to the root.
    eps : float
        Probability floor.

    Returns
    -------
    ndarray, shape (n_frames, 529), float32
        Log-scores; higher is better. ``argmax`` over classes gives the best match.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != N_TARGET:
        raise ValueError(f"vectors must have shape (n_frames, {N_TARGET}), got {vectors.shape}")
    tones, roots = class_templates()
    p = np.clip(vectors[:, :12], eps, 1.0 - eps)
    log_on, log_off = np.log(p), np.log1p(-p)
    scores = log_off.sum(axis=1, keepdims=True) + (log_on - log_off) @ tones.T
    bass = np.clip(vectors[:, 12:], 0.0, None)
    root_mass = np.empty((len(vectors), N_CLASSES), dtype=np.float32)
    root_mass[:, :N_CLASS] = bass[:, roots[:N_CLASS]]
    root_mass[:, N_CLASS] = bass[:, BASS_NONE]
    other_mass = bass[:, :12] @ tones.T - root_mass
    other_mass[:, N_CLASS] = 0.0
    scores += bass_weight * np.log(eps + root_mass + inversion_share * np.clip(other_mass, 0, None))
    return scores.astype(np.float32)
