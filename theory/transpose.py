"""Transposition of chords, bass notes, keys, class indices and target vectors by k semitones."""

from __future__ import annotations

import numpy as np

from theory.harte import parse_chord
from theory.keys import KEY_NONE
from theory.pitch import pc_name
from theory.targets import BASS_NONE, N_TARGET
from theory.vocabulary import N_CLASS, N_QUALITIES

__all__ = [
    "transpose_class",
    "transpose_key",
    "transpose_label",
    "transpose_pc",
    "transpose_target",
]


def transpose_pc(pc: int, semitones: int) -> int:
    """Transpose a pitch class."""
    return (int(pc) + int(semitones)) % 12


def transpose_label(label: str, semitones: int, *, flats: bool | None = None) -> str:
    """Transpose a Harte label; quality, degrees and bass interval are kept verbatim.

    Parameters
    ----------
    label : str
        A Harte label; ``N`` and ``X`` are returned unchanged.
    semitones : int
        Shift, positive is up.
    flats : bool or None
        Spelling of the new root, as :func:`theory.pitch.pc_name`.

    Returns
    -------
    str
        For example ``transpose_label('A:min7/b3', 3) == 'C:min7/b3'``.

    Raises
    ------
    theory.harte.ChordLabelError
        If ``label`` is not a valid Harte label.
    """
    chord = parse_chord(label)
    if chord.root_pc is None:
        return chord.label
    new_root = pc_name(transpose_pc(chord.root_pc, semitones), flats=flats)
    return new_root + chord.label[len(chord.root_name) :]


def transpose_key(index: int, semitones: int) -> int:
    """Transpose a key class (0..24); no key stays no key."""
    if index == KEY_NONE:
        return KEY_NONE
    return (index // 12) * 12 + transpose_pc(index % 12, semitones)


def transpose_class(index: int | np.ndarray, semitones: int) -> int | np.ndarray:
    """Transpose vocabulary class indices; N (528) stays N. Works on ints and integer arrays."""
    index_arr = np.asarray(index)
    shifted = ((index_arr // N_QUALITIES + semitones) % 12) * N_QUALITIES + index_arr % N_QUALITIES
    out = np.where(index_arr == N_CLASS, N_CLASS, shifted)
    return int(out) if np.ndim(index) == 0 else out


def transpose_target(vectors: np.ndarray, semitones: int) -> np.ndarray:
    """Transpose 25-dim chord-tone + bass vectors (any leading shape).

    The 12 chord tones and the 12 bass pitch classes are rolled by ``semitones``; the no-bass
    entry stays in place.
    """
    vectors = np.asarray(vectors)
    if vectors.shape[-1] != N_TARGET:
        raise ValueError(f"last axis must have size {N_TARGET}, got {vectors.shape}")
    out = vectors.copy()
    out[..., :12] = np.roll(vectors[..., :12], semitones, axis=-1)
    out[..., 12 : 12 + BASS_NONE] = np.roll(vectors[..., 12 : 12 + BASS_NONE], semitones, axis=-1)
    return out
