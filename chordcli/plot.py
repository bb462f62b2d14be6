"""Figure of a transcription: the CQT with the chord timeline and beats (``--plot``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chordcli.atomic import atomic_path
from chordcli.segments import Transcription
from theory import chord_symbol, key_name

__all__ = ["plot_transcription"]


def plot_transcription(
    transcription: Transcription,
    features: np.ndarray,
    path: str | os.PathLike[str],
    *,
    frames_per_second: float,
    bins_per_octave: int = 36,
    overwrite: bool = False,
) -> Path:
    """Save a figure of the CQT with the chord segments, beats and downbeats above it.

    Parameters
    ----------
    transcription : Transcription
        Chords, key and beats.
    features : ndarray, shape (n_frames, n_bins, 2) or (n_frames, n_bins)
        Log-compressed CQT (channels are averaged), bin 0 at C1.
    path : str or os.PathLike
        Destination; its suffix selects the format: ``.png``, ``.svg`` or ``.pdf`` (another
        suffix is written as PNG).
    frames_per_second : float
        Frame rate of `features`.
    bins_per_octave : int, optional
        CQT resolution, for the octave ticks.
    overwrite : bool, optional
        Whether an existing file may be replaced.

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    chordcli.errors.OutputExistsError
        If `path` exists and `overwrite` is false.
    chordcli.errors.OutputError
        If the file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    image = np.asarray(features, dtype=np.float32)
    if image.ndim == 3:
        image = image.mean(axis=2)
    duration = max(transcription.duration_s, image.shape[0] / frames_per_second)
    width = float(np.clip(duration / 6.0, 8.0, 40.0))
    fig, (ax_chords, ax_cqt) = plt.subplots(
        2,
        1,
        figsize=(width, 5.5),
        sharex=True,
        gridspec_kw={"height_ratios": [1, 4]},
    )
    try:
        extent = (
            -0.5 / frames_per_second,
            (image.shape[0] - 0.5) / frames_per_second,
            0,
            image.shape[1],
        )
        ax_cqt.imshow(image.T, origin="lower", aspect="auto", extent=extent, cmap="magma")
        ticks = np.arange(0, image.shape[1] + 1, bins_per_octave)
        ax_cqt.set_yticks(ticks, [f"C{1 + i}" for i in range(len(ticks))])
        ax_cqt.set_xlabel("time (s)")
        ax_cqt.set_ylabel("CQT")
        for downbeat in transcription.downbeats_s:
            ax_cqt.axvline(downbeat, color="white", linewidth=0.6, alpha=0.5)
        for i, seg in enumerate(transcription.segments):
            colour = "0.85" if seg.label == "N" else ("C0" if i % 2 else "C1")
            ax_chords.axvspan(seg.start_s, seg.end_s, color=colour, alpha=0.6, linewidth=0)
            ax_chords.text(
                (seg.start_s + seg.end_s) / 2,
                0.5,
                chord_symbol(seg.label, key=transcription.key),
                ha="center",
                va="center",
                fontsize=7,
                rotation=90 if seg.duration_s < 1.5 else 0,
                clip_on=True,
            )
        for beat in transcription.beats_s:
            ax_chords.axvline(beat, ymin=0.0, ymax=0.12, color="k", linewidth=0.5)
        ax_chords.set_yticks([])
        ax_chords.set_xlim(0, duration)
        title = f"key {key_name(transcription.key)}"
        if transcription.tempo_bpm:
            title += f", {transcription.tempo_bpm:.0f} bpm"
        if transcription.capo:
            title += f", capo {transcription.capo} (chord shapes played)"
        if transcription.source:
            title = f"{Path(transcription.source).name}: {title}"
        ax_chords.set_title(title, fontsize=9)
        fig.tight_layout()
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format=_figure_format(path), dpi=100)
    finally:
        plt.close(fig)
    return Path(path)


def _figure_format(path: str | os.PathLike[str]) -> str:
    """Return the matplotlib format of a figure file: its suffix if SVG or PDF, else PNG."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in ("svg", "pdf") else "png"
