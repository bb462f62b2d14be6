"""Duration-weighted confusion between chord qualities, root-relative.

Every piece of an :func:`~chordcli.evaluate.align_segments` alignment adds its duration to
one cell. Both labels are mapped to the nearest class of the 529-chord vocabulary
(:func:`theory.chord_class`), so a row or column is one of the 44 qualities of
:data:`theory.QUALITIES` or ``N``:

* rows (:data:`ROW_LABELS`): the reference quality, or ``N``;
* columns (:data:`COLUMN_LABELS`): the estimated quality when the estimate has **the same
  root** as the reference, ``N`` when the estimate claims no chord (an estimated ``X``
  counts as ``N``), and two root-error columns: ``wrong root, same bass`` when the roots
  differ but the bass notes agree (the chord was read as another chord over the right bass,
  e.g. ``C:sus4(b7)`` read as ``Bb:maj/9``) and ``wrong root`` otherwise. For a reference
  ``N`` the estimated quality is counted whatever its root.

So ``C:maj7`` read as ``C:7`` lands in (maj7, 7), and ``C:maj7`` read as ``D:maj7`` lands in
(maj7, wrong root), not on the diagonal. Reference ``X`` is not counted.

Two further tallies give per-quality precision and the inversion error:

* ``estimated_s[q]``: time the estimate said quality ``q`` (any root), so
  ``precision = diagonal / estimated_s``;
* ``bass_correct_s[q]``: the part of the diagonal whose bass note is right too, so
  ``bass accuracy = bass_correct_s / diagonal`` shows inversion errors.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chordcli.alignment import align_segments
from chordcli.atomic import atomic_path, write_text_atomic
from chordcli.segments import ChordSegment
from theory import N_QUALITIES, QUALITIES, chord_class, parse_chord

__all__ = [
    "COLUMN_LABELS",
    "N_COLUMNS",
    "N_ROWS",
    "ROW_LABELS",
    "QualityConfusion",
    "QualityRow",
    "check_confusion_outputs",
    "confusion_csv",
    "confusion_paths",
    "plot_confusion",
    "quality_confusion",
    "quality_table",
    "quality_table_csv",
    "save_confusion",
    "sum_confusions",
]

#: Row (reference) labels: the 44 quality display names (``maj`` for the major triad), then N.
ROW_LABELS: tuple[str, ...] = tuple(q.name or "maj" for q in QUALITIES) + ("N",)
#: Column (estimate) labels: qualities with the same root, N, then the two root errors.
COLUMN_LABELS: tuple[str, ...] = ROW_LABELS + ("wrong root, same bass", "wrong root")
N_ROWS = len(ROW_LABELS)  # 45
N_COLUMNS = len(COLUMN_LABELS)  # 47
_N = N_QUALITIES  # row/column of N
_SAME_BASS = N_QUALITIES + 1
_WRONG_ROOT = N_QUALITIES + 2


@dataclass(frozen=True)
class QualityConfusion:
    """Seconds of reference quality against estimated quality (see the module docstring).

    Attributes
    ----------
    seconds : ndarray, shape (45, 47), float64
        ``seconds[i, j]``: time with reference row ``i`` (:data:`ROW_LABELS`) read as column
        ``j`` (:data:`COLUMN_LABELS`).
    estimated_s : ndarray, shape (45,), float64
        Time the estimate said each quality (or N), whatever the root, within time whose
        reference is not X.
    bass_correct_s : ndarray, shape (45,), float64
        Diagonal time whose bass pitch class agrees too (for N: all of its diagonal).
    """

    seconds: np.ndarray
    estimated_s: np.ndarray
    bass_correct_s: np.ndarray

    @classmethod
    def empty(cls) -> QualityConfusion:
        """Return a confusion with no time in it."""
        return cls(
            seconds=np.zeros((N_ROWS, N_COLUMNS)),
            estimated_s=np.zeros(N_ROWS),
            bass_correct_s=np.zeros(N_ROWS),
        )

    def __add__(self, other: QualityConfusion) -> QualityConfusion:
        return QualityConfusion(
            seconds=self.seconds + other.seconds,
            estimated_s=self.estimated_s + other.estimated_s,
            bass_correct_s=self.bass_correct_s + other.bass_correct_s,
        )

    @property
    def total_s(self) -> float:
        """All counted time, seconds."""
        return float(self.seconds.sum())

    @property
    def reference_s(self) -> np.ndarray:
        """Reference time per row, shape (45,)."""
        return self.seconds.sum(axis=1)

    @property
    def correct_s(self) -> np.ndarray:
        """Diagonal: time with root (for chords) and quality right, shape (45,)."""
        return np.diagonal(self.seconds[:, :N_ROWS]).copy()

    def normalised(self) -> np.ndarray:
        """Return the rows divided by their totals (rows without time stay 0), shape (45, 47)."""
        totals = self.reference_s[:, None]
        return np.divide(self.seconds, totals, out=np.zeros_like(self.seconds), where=totals > 0)

    def cell(self, reference: str, estimate: str) -> float:
        """Return the seconds in one cell given its row and column labels, e.g. '7sus4', '9sus4'."""
        return float(self.seconds[ROW_LABELS.index(reference), COLUMN_LABELS.index(estimate)])


def _quality_row(label: str) -> tuple[int | None, int | None, int | None]:
    """Return (row, root_pc, bass_pc) of a label; row None for X."""
    chord = parse_chord(label)
    index = chord_class(chord)
    if index is None:
        return None, None, None
    if chord.is_no_chord:
        return _N, None, None
    return index % N_QUALITIES, chord.root_pc, chord.bass_pc


def quality_confusion(
    reference: Sequence[ChordSegment], estimate: Sequence[ChordSegment]
) -> QualityConfusion:
    """Tally the root-relative quality confusion of one song.

    Parameters
    ----------
    reference : sequence of ChordSegment
        Reference chords (Harte labels) in time order.
    estimate : sequence of ChordSegment
        Estimated chords, aligned to the reference span as the metrics align them.

    Returns
    -------
    QualityConfusion
        Seconds per (reference quality, estimate column).

    Raises
    ------
    ValueError
        If the reference is empty.
    """
    alignment = align_segments(reference, estimate)
    conf = QualityConfusion.empty()
    seconds, estimated, bass_ok = conf.seconds, conf.estimated_s, conf.bass_correct_s
    cache: dict[str, tuple[int | None, int | None, int | None]] = {}
    for duration, ref_label, est_label in zip(
        alignment.durations_s, alignment.ref_labels, alignment.est_labels, strict=True
    ):
        if duration <= 0:
            continue
        for label in (ref_label, est_label):
            if label not in cache:
                cache[label] = _quality_row(label)
        ref, est = cache[ref_label], cache[est_label]
        ref_row, ref_root, ref_bass = ref
        if ref_row is None:
            continue  # X in the reference: unknown, not scored
        est_row, est_root, est_bass = est
        if est_row is None:
            est_row = _N  # an estimated X claims no chord
        estimated[est_row] += duration
        if ref_row == _N or est_row == _N or est_root == ref_root:
            seconds[ref_row, est_row] += duration
            if est_row == ref_row and (ref_row == _N or est_bass == ref_bass):
                bass_ok[ref_row] += duration
        elif est_bass == ref_bass:
            seconds[ref_row, _SAME_BASS] += duration
        else:
            seconds[ref_row, _WRONG_ROOT] += duration
    return conf


def sum_confusions(confusions: Iterable[QualityConfusion]) -> QualityConfusion:
    """Return the sum of several songs' confusions (durations add up)."""
    total = QualityConfusion.empty()
    for conf in confusions:
        total = total + conf
    return total


@dataclass(frozen=True)
class QualityRow:
    """Per-quality figures of a :class:`QualityConfusion`.

    Attributes
    ----------
    quality : str
        Row label (quality display name or ``N``).
    reference_s : float
        Reference time of this quality, seconds.
    estimated_s : float
        Time the estimate said this quality (any root), seconds.
    recall : float
        Diagonal over reference time (root and quality right); NaN without reference time.
    precision : float
        Diagonal over estimated time; NaN when never estimated.
    bass_accuracy : float
        Part of the diagonal with the right bass too; NaN with an empty diagonal.
    root_error : float
        Part of the reference time read with a wrong root (both root-error columns).
    top_confusion : str
        The column other than the diagonal holding most of this row's time (``''`` if none).
    top_confusion_share : float
        Its part of the reference time.
    """

    quality: str
    reference_s: float
    estimated_s: float
    recall: float
    precision: float
    bass_accuracy: float
    root_error: float
    top_confusion: str
    top_confusion_share: float


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def quality_table(confusion: QualityConfusion, *, include_empty: bool = False) -> list[QualityRow]:
    """Return per-quality recall, precision, bass accuracy and main confusion.

    Parameters
    ----------
    confusion : QualityConfusion
        Tallied confusion.
    include_empty : bool, optional
        Whether to include qualities with neither reference nor estimated time.

    Returns
    -------
    list of QualityRow
        In vocabulary order, N last.
    """
    rows = []
    ref_s, correct = confusion.reference_s, confusion.correct_s
    for i, label in enumerate(ROW_LABELS):
        if not include_empty and ref_s[i] == 0 and confusion.estimated_s[i] == 0:
            continue
        off = confusion.seconds[i].copy()
        off[i] = 0.0
        j = int(np.argmax(off))
        rows.append(
            QualityRow(
                quality=label,
                reference_s=float(ref_s[i]),
                estimated_s=float(confusion.estimated_s[i]),
                recall=_ratio(correct[i], ref_s[i]),
                precision=_ratio(correct[i], confusion.estimated_s[i]),
                bass_accuracy=_ratio(confusion.bass_correct_s[i], correct[i]),
                root_error=_ratio(
                    confusion.seconds[i, _SAME_BASS] + confusion.seconds[i, _WRONG_ROOT], ref_s[i]
                ),
                top_confusion=COLUMN_LABELS[j] if off[j] > 0 else "",
                top_confusion_share=_ratio(off[j], ref_s[i]) if off[j] > 0 else 0.0,
            )
        )
    return rows


def confusion_csv(confusion: QualityConfusion, *, include_empty: bool = True) -> str:
    """Return the confusion matrix as CSV text, in seconds.

    Parameters
    ----------
    confusion : QualityConfusion
        Tallied confusion.
    include_empty : bool, optional
        Whether to write rows without reference time (all 45 rows by default, so files of
        different runs line up).

    Returns
    -------
    str
        Header ``reference,<47 column labels>``, then one row per reference quality with
        seconds to millisecond precision.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["reference", *COLUMN_LABELS])
    ref_s = confusion.reference_s
    for i, label in enumerate(ROW_LABELS):
        if include_empty or ref_s[i] > 0:
            writer.writerow([label, *(f"{x:.3f}" for x in confusion.seconds[i])])
    return out.getvalue()


def quality_table_csv(confusion: QualityConfusion) -> str:
    """Return :func:`quality_table` as CSV text (empty cells for NaN)."""

    def cell(x: float) -> str:
        return "" if np.isnan(x) else f"{x:.4f}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "quality",
            "reference_s",
            "estimated_s",
            "recall",
            "precision",
            "bass_accuracy",
            "root_error",
            "top_confusion",
            "top_confusion_share",
        ]
    )
    for row in quality_table(confusion):
        writer.writerow(
            [
                row.quality,
                f"{row.reference_s:.3f}",
                f"{row.estimated_s:.3f}",
                cell(row.recall),
                cell(row.precision),
                cell(row.bass_accuracy),
                cell(row.root_error),
                row.top_confusion,
                cell(row.top_confusion_share),
            ]
        )
    return out.getvalue()


def plot_confusion(confusion: QualityConfusion, *, title: str | None = None):  # noqa: ANN201
    """Draw the row-normalised confusion as a heatmap.

    Only rows with reference time and columns with any time are drawn (N and the root-error
    columns always). Cells show percentages of the row's reference time when the matrix is
    small enough to read.

    Parameters
    ----------
    confusion : QualityConfusion
        Tallied confusion.
    title : str or None, optional
        Figure title; by default the total duration.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not attached to pyplot, so no display backend is needed).
    """
    from matplotlib.figure import Figure

    ref_s = confusion.reference_s
    rows = [i for i in range(N_ROWS) if ref_s[i] > 0] or [_N]
    col_time = confusion.seconds.sum(axis=0)
    keep = set(rows) | {_N, _SAME_BASS, _WRONG_ROOT}
    cols = [j for j in range(N_COLUMNS) if col_time[j] > 0 or j in keep]
    matrix = confusion.normalised()[np.ix_(rows, cols)]
    n_rows, n_cols = len(rows), len(cols)
    fig = Figure(figsize=(3.0 + 0.42 * n_cols, 3.2 + 0.36 * n_rows), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(
        matrix, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest"
    )
    ax.set_xticks(range(n_cols), [COLUMN_LABELS[j] for j in cols], rotation=90)
    ax.set_yticks(range(len(rows)), [ROW_LABELS[i] for i in rows])
    ax.set_xlabel("estimated quality (same root) / root errors")
    ax.set_ylabel("reference quality")
    if len(rows) * n_cols <= 900:
        for r in range(len(rows)):
            for c in range(n_cols):
                value = matrix[r, c]
                if value >= 0.005:
                    ax.text(
                        c,
                        r,
                        f"{100 * value:.0f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if value > 0.5 else "black",
                    )
    if title is None:
        title = f"Chord quality confusion ({confusion.total_s / 60:.1f} min, % of reference time)"
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="share of reference time", shrink=0.8)
    return fig


def save_confusion(
    confusion: QualityConfusion,
    png_path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    title: str | None = None,
) -> tuple[Path, Path, Path]:
    """Write the heatmap PNG, the matrix CSV and the per-quality CSV.

    Parameters
    ----------
    confusion : QualityConfusion
        Tallied confusion.
    png_path : str or os.PathLike
        The PNG file; the CSV files go beside it as ``<stem>.csv`` (matrix, seconds) and
        ``<stem>-qualities.csv`` (recall, precision, bass accuracy per quality).
    overwrite : bool, optional
        Whether existing files may be replaced. Without it nothing is written if any of
        the three exists.
    title : str or None, optional
        Figure title.

    Returns
    -------
    tuple of Path
        PNG, matrix CSV and quality CSV paths.

    Raises
    ------
    OutputExistsError
        If an output exists and `overwrite` is false.
    OutputError
        If an output cannot be written.
    """
    png, matrix_csv, table_csv = check_confusion_outputs(png_path, overwrite=overwrite)
    fig = plot_confusion(confusion, title=title)
    with atomic_path(png, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    write_text_atomic(matrix_csv, confusion_csv(confusion), overwrite=overwrite)
    write_text_atomic(table_csv, quality_table_csv(confusion), overwrite=overwrite)
    return png, matrix_csv, table_csv


def confusion_paths(png_path: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """Return the files :func:`save_confusion` writes: the PNG, matrix CSV and quality CSV."""
    png = Path(png_path)
    return png, png.with_name(png.stem + ".csv"), png.with_name(png.stem + "-qualities.csv")


def check_confusion_outputs(
    png_path: str | os.PathLike[str], *, overwrite: bool = False
) -> tuple[Path, Path, Path]:
    """Check that the three files of :func:`save_confusion` can be written; return them.

    Raises
    ------
    OutputExistsError
        If one exists and `overwrite` is false.
    OutputError
        If one cannot be written.
    """
    from chordcli.atomic import check_output_path

    paths = confusion_paths(png_path)
    for path in paths:
        check_output_path(path, overwrite=overwrite)
    return paths
