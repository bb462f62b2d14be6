"""HMM/Viterbi decoding of per-frame chord posteriors into chord segments.

The hidden state of every frame is one of the 529 vocabulary classes. The model, described in
full in ``docs/decoding.md``, is:

* **emission** of class ``c`` at frame ``t``::

      log b[t, c] = log(p_chord[t, c] + eps)
                    + vector_weight * score_vectors(smooth_chroma)[t, c]
                    + key_weight * log P(c | key posterior at t)
                    + bass_weight * log(p_bass[t, root(c)] + 1e-3)
                    + class_log_prior[c]

  where :func:`theory.targets.score_vectors` measures how well the smoothed 25-dim chord-tone +
  bass vector matches the template of ``c`` and :func:`key_chord_log_prior` gives, for every key,
  a distribution over classes that favours chords whose tones lie in the key's scale; the
  root-position term favours, among chords with the same tones, the one whose root is the bass
  (``N``: the no-bass probability); the optional class log-prior is a model's quality prior
  (:func:`quality_log_prior`);
* **transition** into frame ``t``: stay in the same class with probability ``1 - q[t]``, or move
  to any other class with probability ``q[t] / (K - 1)``, where
  ``q[t] = clip(change_scale * p_change[t], min_change, max_change)`` comes from the model's
  chord-change head. Because every switch into a class costs the same (or a per-class constant),
  the best predecessor of class ``i`` is either ``i`` itself or the best *other* class, so one
  step costs O(K) (track the best and the second-best score) and a song O(T * K) instead of
  O(T * K^2) with a dense matrix.

Segments take the bass from the bass head: the bass pitch class with the highest mean posterior
over the segment turns the chord into a slash chord when it is not the root and is a chord tone
or a common slash bass (:data:`SLASH_BASS_INTERVALS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from theory.calibrate import (
    DEFAULT_TONE_REFERENCE,
    calibrated_log_prior,
    choose_root_by_bass,
    song_tone_count,
    tone_adaptation,
)
from theory.keys import KEY_NONE, N_KEYS
from theory.targets import BASS_NONE, N_TARGET, class_templates, score_vectors
from theory.vocabulary import N_CLASS, N_CLASSES, N_QUALITIES, class_label, class_quality_indices

__all__ = [
    "DEFAULT_BASS_WEIGHT",
    "DEFAULT_CHANGE_SCALE",
    "DEFAULT_KEY_WEIGHT",
    "DEFAULT_MAX_CHANGE",
    "DEFAULT_MIN_CHANGE",
    "DEFAULT_SLASH_MIN_PROB",
    "DEFAULT_VECTOR_WEIGHT",
    "OUTSIDE_TONE_PENALTY",
    "SLASH_BASS_INTERVALS",
    "DecodedSegment",
    "DecoderSettings",
    "Decoding",
    "decode",
    "emission_log_probs",
    "key_chord_log_prior",
    "path_log_score",
    "path_segments",
    "quality_log_prior",
    "segment_bass",
    "transition_log_probs",
    "viterbi_stay_switch",
]

#: Weight of the smoothed-vector template score in the emission.
DEFAULT_VECTOR_WEIGHT: float = 0.5
#: Weight of the key prior in the emission.
DEFAULT_KEY_WEIGHT: float = 0.5
#: Weight of the root-position term (the bass head's probability of each class's root).
DEFAULT_BASS_WEIGHT: float = 0.0
#: Factor applied to the change head before clipping.
DEFAULT_CHANGE_SCALE: float = 1.0
#: Smallest change probability per frame (so that a change is always possible).
DEFAULT_MIN_CHANGE: float = 1e-3
#: Largest change probability per frame (so that staying is always possible).
DEFAULT_MAX_CHANGE: float = 0.999
#: Smallest mean bass probability for a slash chord.
DEFAULT_SLASH_MIN_PROB: float = 0.3
#: Bass intervals above the root that make a slash chord even when the bass is not a chord tone:
#: 2 (``C/D``), 5 (``C/F``), 10 (``C/Bb``) and 11 (``C/B``), the passing basses of pop songs.
SLASH_BASS_INTERVALS: frozenset[int] = frozenset({2, 5, 10, 11})
#: Log-prior penalty per chord tone outside the key's scale (see :func:`key_chord_log_prior`).
OUTSIDE_TONE_PENALTY: float = 1.0

_EPS = 1e-6
_BASS_FLOOR = 1e-3
#: Bass-head index of every class's root (``N``: 12, no bass).
_CLASS_BASS = np.minimum(np.arange(N_CLASSES) // N_QUALITIES, BASS_NONE)
_BLOCK_FRAMES = 2048
_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor with the raised (harmonic) seventh


@dataclass(frozen=True, eq=False)
class DecoderSettings:
    """The decoder settings that belong to a model (the ``decoder`` section of its config.json).

    Passed to :func:`decode` as keyword arguments (``decode(..., **settings.kwargs())``), so a
    new per-model setting is added here and in :meth:`from_config` only.

    Attributes
    ----------
    class_log_prior : ndarray, shape (529,), or None
        Class log-prior added to every frame's emission (see
        :func:`theory.calibrate.calibrated_log_prior`).
    bass_weight : float
        Weight of the root-position term.
    vector_weight : float
        Weight of the smoothed-vector template score.
    tone_weight, tone_reference : float
        Per-song adaptation of the prior by the chord-tone count the network hears
        (:func:`theory.calibrate.tone_adaptation`); 0 turns it off.
    bass_root_min_prob : float or None
        Smallest mean bass probability with which the bass chooses the root among classes of
        the same pitch classes (:func:`theory.calibrate.choose_root_by_bass`); None: off.
    """

    class_log_prior: np.ndarray | None = None
    bass_weight: float = DEFAULT_BASS_WEIGHT
    vector_weight: float = DEFAULT_VECTOR_WEIGHT
    tone_weight: float = 0.0
    tone_reference: float = DEFAULT_TONE_REFERENCE
    bass_root_min_prob: float | None = None

    def kwargs(self) -> dict[str, object]:
        """Return the settings as keyword arguments of :func:`decode`."""
        return {
            "class_log_prior": self.class_log_prior,
            "bass_weight": float(self.bass_weight),
            "vector_weight": float(self.vector_weight),
            "tone_weight": float(self.tone_weight),
            "tone_reference": float(self.tone_reference),
            "bass_root_min_prob": self.bass_root_min_prob,
        }

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> DecoderSettings:
        """Build the settings from a config.json ``decoder`` section (None or {}: defaults).

        ``quality_share`` with ``prior_strength`` (and optionally ``reference_share``,
        ``reference_strength``, ``rare_strength``, ``reference_floor``, ``no_chord_bias``,
        ``quality_bias``) give the class log-prior
        (:func:`theory.calibrate.calibrated_log_prior`); ``bass_weight`` and ``vector_weight``
        default to :data:`DEFAULT_BASS_WEIGHT` and
        :data:`DEFAULT_VECTOR_WEIGHT`; ``tone_weight`` (0), ``tone_reference`` and
        ``bass_root_min_prob`` (None) as the attributes.

        Raises
        ------
        ValueError
            If the section is not a mapping or a value is missing or malformed.
        """
        if not section:
            return cls()
        if not isinstance(section, Mapping):
            raise ValueError(f"the decoder section must be an object, got {type(section).__name__}")
        prior = None
        try:
            if "quality_share" in section or "prior_strength" in section:
                reference = section.get("reference_share")
                prior = calibrated_log_prior(
                    np.asarray(section["quality_share"], dtype=np.float64),
                    train_strength=float(section["prior_strength"]),
                    reference_share=None if reference is None else np.asarray(reference, float),
                    reference_strength=float(section.get("reference_strength", 0.0)),
                    no_chord_bias=float(section.get("no_chord_bias", 0.0)),
                    floor=float(section.get("reference_floor", 1e-4)),
                    quality_bias=section.get("quality_bias"),
                    rare_strength=section.get("rare_strength"),
                )
            root_prob = section.get("bass_root_min_prob")
            return cls(
                class_log_prior=prior,
                bass_weight=float(section.get("bass_weight", DEFAULT_BASS_WEIGHT)),
                vector_weight=float(section.get("vector_weight", DEFAULT_VECTOR_WEIGHT)),
                tone_weight=float(section.get("tone_weight", 0.0)),
                tone_reference=float(section.get("tone_reference", DEFAULT_TONE_REFERENCE)),
                bass_root_min_prob=None if root_prob is None else float(root_prob),
            )
        except KeyError as exc:
            raise ValueError(f"missing {exc}") from exc
        except TypeError as exc:
            raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class DecodedSegment:
    """One decoded chord over a run of frames.

    Attributes
    ----------
    start_frame : int
        First frame of the segment.
    end_frame : int
        One past the last frame (exclusive).
    chord_class : int
        Vocabulary class 0..528 (528 = N).
    bass_pc : int or None
        Bass pitch class when it differs from the root (a slash chord), else None.
    confidence : float
        Mean posterior of ``chord_class`` over the segment's frames, in [0, 1].
    """

    start_frame: int
    end_frame: int
    chord_class: int
    bass_pc: int | None
    confidence: float

    @property
    def label(self) -> str:
        """Harte label of the segment, a slash chord when ``bass_pc`` is set."""
        return class_label(self.chord_class, bass_pc=self.bass_pc)


@dataclass(frozen=True)
class Decoding:
    """Result of :func:`decode`.

    Attributes
    ----------
    segments : tuple of DecodedSegment
        Consecutive segments covering all frames.
    path : ndarray, shape (n_frames,), int64
        Decoded class of every frame.
    """

    segments: tuple[DecodedSegment, ...]
    path: np.ndarray


def viterbi_stay_switch(
    log_emission: np.ndarray,
    *,
    log_stay: np.ndarray,
    log_switch: np.ndarray,
    log_switch_prior: np.ndarray | None = None,
    log_initial: np.ndarray | None = None,
) -> np.ndarray:
    """Find the most likely state path of an HMM whose transitions are stay-or-switch.

    The transition log-probability from state ``j`` at frame ``t - 1`` to state ``i`` at frame
    ``t`` is ``log_stay[t]`` if ``i == j`` and ``log_switch[t] + log_switch_prior[i]`` otherwise.
    The best predecessor of ``i`` is then ``i`` itself or the best state other than ``i``, which
    is the overall best or, for the best state itself, the second best: each frame costs O(K).

    Parameters
    ----------
    log_emission : ndarray, shape (n_frames, n_states)
        Emission log-probabilities (any real scores).
    log_stay : ndarray, shape (n_frames,)
        Log-probability of staying in the same state when entering frame ``t`` (entry 0 unused).
    log_switch : ndarray, shape (n_frames,)
        Log-probability of moving to one particular other state when entering frame ``t``
        (entry 0 unused).
    log_switch_prior : ndarray, shape (n_states,), optional
        Added to the switch score of the target state (a chord-transition prior); zeros if None.
    log_initial : ndarray, shape (n_states,), optional
        Log-probabilities of the first state; uniform if None.

    Returns
    -------
    ndarray, shape (n_frames,), int64
        The state of every frame. Ties prefer staying, then the lower state index.

    Notes
    -----
    Memory: one bool per frame and state for the back pointers (41 MB for a 60-minute song
    with 529 states at 10.8 frames/s) plus two indices per frame.
    """
    log_emission = np.asarray(log_emission)
    if log_emission.ndim != 2 or log_emission.shape[1] < 1:
        raise ValueError(
            f"log_emission must have shape (n_frames, n_states), got {log_emission.shape}"
        )
    n_frames, n_states = log_emission.shape
    log_stay = np.asarray(log_stay, dtype=np.float64).reshape(-1)
    log_switch = np.asarray(log_switch, dtype=np.float64).reshape(-1)
    if log_stay.shape != (n_frames,) or log_switch.shape != (n_frames,):
        raise ValueError(
            f"log_stay and log_switch must have shape ({n_frames},), "
            f"got {log_stay.shape} and {log_switch.shape}"
        )
    prior = (
        np.zeros(n_states)
        if log_switch_prior is None
        else np.asarray(log_switch_prior, dtype=np.float64).reshape(n_states)
    )
    if n_frames == 0:
        return np.zeros(0, dtype=np.int64)
    delta = np.asarray(log_emission[0], dtype=np.float64).copy()
    if log_initial is not None:
        delta += np.asarray(log_initial, dtype=np.float64).reshape(n_states)
    stayed, best = _stay_switch_forward(delta, log_emission, log_stay, log_switch, prior)
    return _stay_switch_backtrack(int(np.argmax(delta)), stayed, best)


def _stay_switch_forward(
    delta: np.ndarray,
    log_emission: np.ndarray,
    log_stay: np.ndarray,
    log_switch: np.ndarray,
    prior: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the forward pass of :func:`viterbi_stay_switch`, updating `delta` (frame 0) in place.

    Returns
    -------
    stayed : ndarray, shape (n_frames, n_states), bool
        Whether the best way into each state at each frame was to stay.
    best : ndarray, shape (n_frames, 2), int64
        The best and second-best state of the previous frame.
    """
    n_frames, n_states = log_emission.shape
    stayed = np.empty((n_frames, n_states), dtype=bool)
    best = np.zeros((n_frames, 2), dtype=np.int64)
    switch = np.empty(n_states)
    stay = np.empty(n_states)
    for t in range(1, n_frames):
        b1 = int(np.argmax(delta))
        v1 = delta[b1]
        if n_states > 1:
            delta[b1] = -np.inf
            b2 = int(np.argmax(delta))
            v2 = delta[b2]
            delta[b1] = v1
        else:
            b2, v2 = b1, -np.inf
        best[t] = b1, b2
        switch.fill(v1 + log_switch[t])
        switch[b1] = v2 + log_switch[t]
        switch += prior
        np.add(delta, log_stay[t], out=stay)
        np.greater_equal(stay, switch, out=stayed[t])
        np.maximum(stay, switch, out=delta)
        delta += log_emission[t]
    return stayed, best


def _stay_switch_backtrack(state: int, stayed: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Follow the back pointers of :func:`_stay_switch_forward` from the last frame's `state`."""
    n_frames = len(stayed)
    path = np.zeros(n_frames, dtype=np.int64)
    path[-1] = state
    for t in range(n_frames - 1, 0, -1):
        if not stayed[t, state]:
            b1, b2 = best[t]
            state = int(b1 if state != b1 else b2)
        path[t - 1] = state
    return path


def path_log_score(
    path: np.ndarray,
    log_emission: np.ndarray,
    *,
    log_stay: np.ndarray,
    log_switch: np.ndarray,
    log_switch_prior: np.ndarray | None = None,
    log_initial: np.ndarray | None = None,
) -> float:
    """Return the log-score of a state path under the model of :func:`viterbi_stay_switch`.

    Parameters
    ----------
    path : ndarray, shape (n_frames,)
        State of every frame.
    log_emission, log_stay, log_switch, log_switch_prior, log_initial
        As :func:`viterbi_stay_switch`.

    Returns
    -------
    float
        Sum of emission and transition log-probabilities along the path.
    """
    path = np.asarray(path, dtype=np.int64)
    log_emission = np.asarray(log_emission, dtype=np.float64)
    n_frames = len(path)
    if n_frames == 0:
        return 0.0
    score = float(log_emission[np.arange(n_frames), path].sum())
    if log_initial is not None:
        score += float(np.asarray(log_initial, dtype=np.float64)[path[0]])
    for t in range(1, n_frames):
        if path[t] == path[t - 1]:
            score += float(log_stay[t])
        else:
            score += float(log_switch[t])
            if log_switch_prior is not None:
                score += float(log_switch_prior[path[t]])
    return score


@lru_cache(maxsize=4)
def _key_chord_log_prior(penalty: float) -> np.ndarray:
    tones, _ = class_templates()
    table = np.zeros((N_KEYS, N_CLASSES), dtype=np.float64)
    for key in range(N_KEYS - 1):
        tonic = key % 12
        scale = np.zeros(12, dtype=np.float32)
        scale[[(tonic + i) % 12 for i in (_MINOR_SCALE if key >= 12 else _MAJOR_SCALE)]] = 1.0
        outside = tones[:N_CLASS] @ (1.0 - scale)
        table[key, :N_CLASS] = -penalty * outside
        table[key, N_CLASS] = 0.0
    table[KEY_NONE] = 0.0
    # Normalise every row to a distribution over classes (log-softmax).
    table -= np.log(np.exp(table).sum(axis=1, keepdims=True))
    out = table.astype(np.float32)
    out.flags.writeable = False
    return out


def key_chord_log_prior(*, penalty: float = OUTSIDE_TONE_PENALTY) -> np.ndarray:
    """Return the log-prior of every chord class given every key.

    For a key with scale ``S`` (the major scale, or natural minor plus the raised seventh), class
    ``c`` gets the unnormalised log-prior ``-penalty * (number of tones of c outside S)``; N gets
    0 (as a fully diatonic chord). Each row is normalised to a distribution over the 529 classes.
    The no-key row (24) is uniform.

    Parameters
    ----------
    penalty : float
        Log-prior cost of each chord tone outside the scale.

    Returns
    -------
    ndarray, shape (25, 529), float32
        ``log P(class | key)``; read-only.
    """
    return _key_chord_log_prior(float(penalty))


def quality_log_prior(quality_share: np.ndarray, strength: float) -> np.ndarray:
    """Return a class log-prior that undoes a model's learned preference for common qualities.

    A network trained on frames where quality ``q`` has share ``s_q`` learns posteriors that
    carry that prior; dividing them by ``s_q ** strength`` (logit adjustment) gives rare
    qualities a fair chance. Class ``c`` gets ``-strength * log(s_q(c))`` (all 12 roots of a
    quality share it, ``N`` has its own share), normalised to a distribution over the classes.

    Parameters
    ----------
    quality_share : ndarray, shape (45,)
        Share of training frames of each quality (index as :data:`theory.QUALITIES`, then
        ``N``); positive.
    strength : float
        0 gives a uniform prior (no change to decoding), 1 the full adjustment.

    Returns
    -------
    ndarray, shape (529,), float64
        ``log`` prior of every class, for :func:`decode`'s ``class_log_prior``.

    Raises
    ------
    ValueError
        If `quality_share` has the wrong shape or a share is not positive.
    """
    share = np.asarray(quality_share, dtype=np.float64)
    if share.shape != (N_QUALITIES + 1,) or not np.all(share > 0):
        raise ValueError(f"quality_share needs {N_QUALITIES + 1} positive values")
    prior = -float(strength) * np.log(share[class_quality_indices(np.arange(N_CLASSES))])
    return prior - np.log(np.exp(prior - prior.max()).sum()) - prior.max()


def emission_log_probs(
    chord: np.ndarray,
    *,
    smooth_chroma: np.ndarray | None = None,
    key: np.ndarray | None = None,
    vector_weight: float = DEFAULT_VECTOR_WEIGHT,
    key_weight: float = DEFAULT_KEY_WEIGHT,
    class_log_prior: np.ndarray | None = None,
    bass: np.ndarray | None = None,
    bass_weight: float = DEFAULT_BASS_WEIGHT,
) -> np.ndarray:
    """Return the emission log-probabilities of the decoder (see the module docstring).

    Computed in blocks of frames into one float32 array, so memory stays at one
    ``(n_frames, 529)`` float32 array plus a block of temporaries.

    Parameters
    ----------
    chord : ndarray, shape (n_frames, 529)
        Chord-class posteriors.
    smooth_chroma : ndarray, shape (n_frames, 25), optional
        Smoothed chord-tone + bass vectors; the template term is left out if None.
    key : ndarray, shape (n_frames, 25) or (25,), optional
        Key posteriors per frame, or one for the whole song; the key term is left out if None.
    vector_weight : float
        Weight of the template score of ``smooth_chroma``.
    key_weight : float
        Weight of the key prior.
    class_log_prior : ndarray, shape (529,), optional
        A fixed log-prior added to every frame.
    bass : ndarray, shape (n_frames, 13), optional
        Bass posteriors (12 = no bass) for the root-position term.
    bass_weight : float
        Weight of the root-position term ``log(p_bass[t, root(c)] + 1e-3)`` (``N`` takes the
        no-bass probability): among chords with the same tones it favours the one whose root
        is the bass. A negative weight leans against that reading among chords only: ``N``
        then gets no term, since it would gain most wherever a bass is heard. Left out if 0
        or `bass` is None.

    Returns
    -------
    ndarray, shape (n_frames, 529), float32
        Emission scores.
    """
    chord = np.asarray(chord)
    if chord.ndim != 2 or chord.shape[1] != N_CLASSES:
        raise ValueError(f"chord must have shape (n_frames, {N_CLASSES}), got {chord.shape}")
    n_frames = chord.shape[0]
    if smooth_chroma is not None:
        smooth_chroma = np.asarray(smooth_chroma)
        if smooth_chroma.shape != (n_frames, N_TARGET):
            raise ValueError(
                f"smooth_chroma must have shape ({n_frames}, {N_TARGET}), got {smooth_chroma.shape}"
            )
    key_prob = _checked_key(key, n_frames) if key is not None and key_weight != 0.0 else None
    prior_prob = np.exp(key_chord_log_prior()) if key_prob is not None else None
    bass_prob = None
    if bass is not None and bass_weight != 0.0:
        bass_prob = np.asarray(_checked_bass(bass, n_frames), dtype=np.float32)
    out = np.empty((n_frames, N_CLASSES), dtype=np.float32)
    for start in range(0, n_frames, _BLOCK_FRAMES):
        block = slice(start, min(start + _BLOCK_FRAMES, n_frames))
        view = out[block]
        np.log(np.asarray(chord[block], dtype=np.float32) + np.float32(_EPS), out=view)
        if smooth_chroma is not None and vector_weight != 0.0:
            view += np.float32(vector_weight) * score_vectors(smooth_chroma[block])
        if key_prob is not None:
            k = key_prob if len(key_prob) == 1 else key_prob[block]
            view += np.float32(key_weight) * np.log(k @ prior_prob + np.float32(1e-12))
        if class_log_prior is not None:
            view += np.asarray(class_log_prior, dtype=np.float32)
        if bass_prob is not None:
            log_bass = np.log(bass_prob[block] + np.float32(_BASS_FLOOR))
            term = np.float32(bass_weight) * log_bass[:, _CLASS_BASS]
            if bass_weight < 0.0:
                term[:, N_CLASS] = 0.0  # N must not gain from a bass being heard
            view += term
    return out


def segment_bass(
    chord_class: int,
    bass_mean: np.ndarray,
    *,
    min_prob: float = DEFAULT_SLASH_MIN_PROB,
) -> int | None:
    """Choose the slash bass of a segment from its mean bass distribution.

    Parameters
    ----------
    chord_class : int
        Vocabulary class of the segment.
    bass_mean : ndarray, shape (13,)
        Mean bass posterior over the segment (12 = no bass).
    min_prob : float
        Smallest mean probability the bass needs.

    Returns
    -------
    int or None
        The bass pitch class if it is the most likely bass, has at least ``min_prob``, is not the
        root and is a chord tone or lies at one of :data:`SLASH_BASS_INTERVALS` above the root;
        otherwise None (root position).
    """
    if chord_class == N_CLASS:
        return None
    best = int(np.argmax(bass_mean))
    if best == BASS_NONE or bass_mean[best] < min_prob:
        return None
    tones, roots = class_templates()
    root = int(roots[chord_class])
    if best == root:
        return None
    if tones[chord_class, best] > 0 or (best - root) % 12 in SLASH_BASS_INTERVALS:
        return best
    return None


def decode(
    chord: np.ndarray,
    *,
    smooth_chroma: np.ndarray | None = None,
    change: np.ndarray | None = None,
    bass: np.ndarray | None = None,
    key: np.ndarray | None = None,
    vector_weight: float = DEFAULT_VECTOR_WEIGHT,
    key_weight: float = DEFAULT_KEY_WEIGHT,
    change_scale: float = DEFAULT_CHANGE_SCALE,
    min_change: float = DEFAULT_MIN_CHANGE,
    max_change: float = DEFAULT_MAX_CHANGE,
    slash_min_prob: float = DEFAULT_SLASH_MIN_PROB,
    class_log_prior: np.ndarray | None = None,
    bass_weight: float = DEFAULT_BASS_WEIGHT,
    tone_weight: float = 0.0,
    tone_reference: float = DEFAULT_TONE_REFERENCE,
    bass_root_min_prob: float | None = None,
) -> Decoding:
    """Decode per-frame posteriors of a song into chord segments.

    Parameters
    ----------
    chord : ndarray, shape (n_frames, 529)
        Chord-class posteriors (rows sum to 1).
    smooth_chroma : ndarray, shape (n_frames, 25), optional
        Smoothed chord-tone + bass vectors (see :mod:`theory.targets`).
    change : ndarray, shape (n_frames,), optional
        Probability of a chord change at each frame; a constant ``0.1`` if None.
    bass : ndarray, shape (n_frames, 13), optional
        Bass distributions; no slash chords if None.
    key : ndarray, shape (n_frames, 25) or (25,), optional
        Key posteriors; no key prior if None.
    vector_weight, key_weight : float
        Weights of the template and key terms of the emission.
    change_scale, min_change, max_change : float
        Change probability per frame: ``clip(change_scale * change, min_change, max_change)``.
    slash_min_prob : float
        Smallest mean bass probability for a slash chord (see :func:`segment_bass`).
    class_log_prior : ndarray, shape (529,), optional
        A fixed class log-prior added to every frame's emission.
    bass_weight : float
        Weight of the root-position term of the emission (needs `bass`; see
        :func:`emission_log_probs`).
    tone_weight, tone_reference : float
        Per-song prior shift by the chord-tone count of `smooth_chroma`
        (:func:`theory.calibrate.tone_adaptation`; needs `smooth_chroma`; 0: off).
    bass_root_min_prob : float, optional
        With `bass`: each segment's root is chosen by the bass among the classes of the same
        pitch classes (:func:`theory.calibrate.choose_root_by_bass`); None: off.

    Returns
    -------
    Decoding
        Segments covering all frames and the frame path.
    """
    chord = np.asarray(chord)
    if chord.ndim != 2 or chord.shape[1] != N_CLASSES:
        raise ValueError(f"chord must have shape (n_frames, {N_CLASSES}), got {chord.shape}")
    n_frames = chord.shape[0]
    if not 0.0 < min_change <= max_change < 1.0:
        raise ValueError(
            f"need 0 < min_change <= max_change < 1, got {min_change} and {max_change}"
        )
    if n_frames == 0:
        return Decoding(segments=(), path=np.zeros(0, dtype=np.int64))
    log_stay, log_switch = transition_log_probs(
        change,
        n_frames=n_frames,
        change_scale=change_scale,
        min_change=min_change,
        max_change=max_change,
    )
    bass = _checked_bass(bass, n_frames)
    if tone_weight != 0.0 and smooth_chroma is not None:
        shift = tone_adaptation(
            song_tone_count(smooth_chroma, chord),
            tone_weight=tone_weight,
            tone_reference=tone_reference,
        )
        class_log_prior = shift if class_log_prior is None else class_log_prior + shift
    emission = emission_log_probs(
        chord,
        smooth_chroma=smooth_chroma,
        key=key,
        vector_weight=vector_weight,
        key_weight=key_weight,
        class_log_prior=class_log_prior,
        bass=bass,
        bass_weight=bass_weight,
    )
    path = viterbi_stay_switch(emission, log_stay=log_stay, log_switch=log_switch)
    del emission
    segments = path_segments(
        path,
        chord,
        bass=bass,
        slash_min_prob=slash_min_prob,
        bass_root_min_prob=bass_root_min_prob,
    )
    return Decoding(segments=segments, path=path)


def _checked_key(key: np.ndarray, n_frames: int) -> np.ndarray:
    """Return key posteriors as float32 of shape (n_frames, 25) or (1, 25) for a global key."""
    key_prob = np.asarray(key, dtype=np.float32)
    if key_prob.shape == (N_KEYS,):
        key_prob = key_prob[None, :]
    if key_prob.shape not in {(1, N_KEYS), (n_frames, N_KEYS)}:
        raise ValueError(f"key must have shape ({n_frames}, {N_KEYS}) or ({N_KEYS},)")
    return key_prob


def _checked_bass(bass: np.ndarray | None, n_frames: int) -> np.ndarray | None:
    """Return the bass distributions as an array of shape (n_frames, 13), or None."""
    if bass is None:
        return None
    bass = np.asarray(bass)
    if bass.shape != (n_frames, 13):
        raise ValueError(f"bass must have shape ({n_frames}, 13), got {bass.shape}")
    return bass


def transition_log_probs(
    change: np.ndarray | None,
    *,
    n_frames: int,
    change_scale: float = DEFAULT_CHANGE_SCALE,
    min_change: float = DEFAULT_MIN_CHANGE,
    max_change: float = DEFAULT_MAX_CHANGE,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities of the stay/switch transitions at each frame, from the change head.

    The change probability of a frame is ``q = clip(change_scale * change, min_change,
    max_change)``; staying costs ``log(1 - q)``, switching to one given other class
    ``log(q / 528)``.

    Parameters
    ----------
    change : ndarray, shape (n_frames,), or None
        Probability of a chord change at each frame; a constant ``0.1`` if None.
    n_frames : int
        Number of frames.
    change_scale, min_change, max_change : float
        Scale and clipping bounds of the change probability.

    Returns
    -------
    log_stay, log_switch : ndarray, shape (n_frames,), float64
        The inputs of :func:`viterbi_stay_switch`.
    """
    if change is None:
        q = np.full(n_frames, 0.1)
    else:
        q = np.asarray(change, dtype=np.float64).reshape(-1)
        if q.shape != (n_frames,):
            raise ValueError(f"change must have shape ({n_frames},), got {q.shape}")
    q = np.clip(change_scale * q, min_change, max_change)
    return np.log1p(-q), np.log(q / (N_CLASSES - 1))


def path_segments(
    path: np.ndarray,
    chord: np.ndarray,
    *,
    bass: np.ndarray | None = None,
    slash_min_prob: float = DEFAULT_SLASH_MIN_PROB,
    bass_root_min_prob: float | None = None,
) -> tuple[DecodedSegment, ...]:
    """Cut a frame path into segments with their confidence and slash bass.

    Parameters
    ----------
    path : ndarray, shape (n_frames,), int
        Class of each frame.
    chord : ndarray, shape (n_frames, 529)
        Chord-class posteriors; a segment's confidence is the mean posterior of its class.
    bass : ndarray, shape (n_frames, 13), optional
        Bass distributions; no slash chords if None (see :func:`segment_bass`).
    slash_min_prob : float
        Smallest mean bass probability for a slash chord.
    bass_root_min_prob : float, optional
        With `bass`: each segment's root is chosen by the bass among the classes of the same
        pitch classes (:func:`theory.calibrate.choose_root_by_bass`), and `path` is updated in
        place; None: off.

    Returns
    -------
    tuple of DecodedSegment
        One segment per run of equal classes, covering all frames.
    """
    bounds = np.flatnonzero(np.diff(path)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(path)]])
    segments = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        cls = int(path[start])
        bass_pc = None
        if bass is not None:
            bass_mean = bass[start:end].mean(axis=0, dtype=np.float64)
            if bass_root_min_prob is not None:
                cls = choose_root_by_bass(cls, bass_mean, min_prob=bass_root_min_prob)
                path[start:end] = cls
            bass_pc = segment_bass(cls, bass_mean, min_prob=slash_min_prob)
        confidence = float(np.mean(chord[start:end, cls], dtype=np.float64))
        segments.append(
            DecodedSegment(
                start_frame=start,
                end_frame=end,
                chord_class=cls,
                bass_pc=bass_pc,
                confidence=min(max(confidence, 0.0), 1.0),
            )
        )
    return tuple(segments)
