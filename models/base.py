"""Types every model module shares: the model error, the posteriors and the backend protocol.

This module is the bottom of :mod:`models`: it imports no other model module but
:mod:`models.cqt` (for :class:`~models.cqt.CQTConfig`), so every backend (:mod:`models.template`,
:mod:`models.chordnet`), the datasets and the training loop can import it, and the registry
(:mod:`models.backend`) can import the backends, without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from models.cqt import CQTConfig
from theory.decode import DecoderSettings

__all__ = ["ChordBackend", "ModelError", "ModelOutput"]


class ModelError(Exception):
    """A model that cannot be found or loaded; the message names it and gives a hint."""


@dataclass(frozen=True)
class ModelOutput:
    """Per-frame posteriors of a song, all time-major with ``n_frames`` rows.

    Attributes
    ----------
    chroma : ndarray, shape (n_frames, 25), float32
        Chord-tone probabilities ``[:, :12]`` and bass distribution ``[:, 12:]``
        (see :mod:`theory.targets`).
    smooth_chroma : ndarray, shape (n_frames, 25), float32
        The smoothed 25-dim vector (second recurrent stack); same layout.
    chord : ndarray, shape (n_frames, 529), float32
        Chord-class probabilities (rows sum to 1).
    change : ndarray, shape (n_frames,), float32
        Probability that a chord change happens at the frame.
    bass : ndarray, shape (n_frames, 13), float32
        Bass pitch-class distribution (12 = no bass).
    key : ndarray, shape (n_frames, 25), float32
        Key distribution (see :mod:`theory.keys`).
    frames_per_second : float
        Frame rate of all arrays.
    """

    chroma: np.ndarray
    smooth_chroma: np.ndarray
    chord: np.ndarray
    change: np.ndarray
    bass: np.ndarray
    key: np.ndarray
    frames_per_second: float

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.chord.shape[0])


class ChordBackend(Protocol):
    """A loaded chord model."""

    name: str
    cqt_config: CQTConfig
    #: The decoder settings that go with this model's posteriors.
    decoder: DecoderSettings

    def predict(self, features: np.ndarray) -> ModelOutput:
        """Return posteriors for CQT features of shape (n_frames, 252, 2) of one song."""
        ...
