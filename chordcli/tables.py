"""Result tables as plain text cells: evaluation scores, chord-quality recall, corpus balance.

Each function returns :class:`TextTable` values (a title, column names, rows of strings); the
command line draws them with rich, a Python caller can print or save them as it likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chordcli.corpus.build import Balance
    from chordcli.evaluate import EvalReport

__all__ = [
    "SONG_COLUMNS",
    "TextTable",
    "balance_tables",
    "eval_summary",
    "eval_tables",
    "format_duration",
    "percent",
    "plural",
]

#: Columns of the per-song table (all 15 metrics are in the JSON and CSV reports).
SONG_COLUMNS = ("root", "majmin", "majmin_inv", "mirex", "sevenths", "tetrads", "seg")


@dataclass(frozen=True)
class TextTable:
    """A table of text cells.

    Attributes
    ----------
    title : str
        Caption.
    columns : tuple of str
        Column names.
    rows : tuple of tuple of str
        Cells, one tuple per row.
    right : tuple of bool
        Whether each column is right-aligned (numbers).
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: tuple[bool, ...]


def format_duration(seconds: float) -> str:
    """Return ``m:ss.s`` for a duration in seconds."""
    minutes, tenths = divmod(round(seconds * 10), 600)
    return f"{minutes}:{tenths / 10:04.1f}"


def percent(value: float | None) -> str:
    """Return a share as a percentage with one decimal, ``-`` for None or NaN."""
    return "-" if value is None or value != value else f"{100 * value:.1f}"


def plural(n: int, word: str) -> str:
    """Return `word` with an ``s`` unless `n` is 1."""
    return word if n == 1 else word + "s"


def eval_tables(report: EvalReport) -> list[TextTable]:
    """Return the per-song table (several songs only), the scores and the chord qualities.

    The quality table comes only with a confusion (``report.confusion``).
    """
    tables = []
    if len(report.songs) > 1:
        tables.append(_song_table(report))
    tables.append(_score_table(report))
    if report.confusion is not None:
        tables.append(_quality_table(report))
    return tables


def eval_summary(report: EvalReport) -> str:
    """Return one line: songs scored, their duration, files skipped or failed."""
    n = len(report.songs)
    n_errors = sum(p.kind == "error" for p in report.problems)
    return (
        f"{n} {plural(n, 'song')} scored ({format_duration(report.duration_s)}), "
        f"{len(report.problems) - n_errors} skipped without a partner, {n_errors} failed"
    )


def _song_table(report: EvalReport) -> TextTable:
    rows = tuple(
        (
            song.name,
            format_duration(song.duration_s),
            *(percent(song.scores[m]) for m in SONG_COLUMNS),
            percent(song.key_score),
        )
        for song in report.songs
    )
    columns = ("song", "duration", *SONG_COLUMNS, "key")
    return TextTable("Songs (%)", columns, rows, (False,) + (True,) * (len(columns) - 1))


def _score_table(report: EvalReport) -> TextTable:
    from chordcli.evaluate import ALL_METRICS

    n = len(report.songs)
    title = f"{n} {plural(n, 'song')}, " + format_duration(report.duration_s)
    if report.model:
        title += f", model {report.model}"
    rows = [(m, percent(report.weighted[m]), percent(report.mean[m])) for m in ALL_METRICS]
    if report.class_recall:
        label = f"acc_class ({len(report.class_recall)} qualities)"
        rows.append((label, percent(report.acc_class), ""))
    if report.key_songs:
        rows.append((f"key weighted ({report.key_songs})", "", percent(report.key_weighted)))
        rows.append((f"key exact ({report.key_songs})", "", percent(report.key_accuracy)))
    return TextTable(
        f"Scores (%): {title}", ("metric", "weighted", "mean"), tuple(rows), (False, True, True)
    )


def _quality_table(report: EvalReport) -> TextTable:
    from chordcli.confusion import quality_table

    assert report.confusion is not None
    rows = tuple(
        (
            row.quality,
            format_duration(row.reference_s),
            percent(row.recall),
            percent(row.precision),
            percent(row.bass_accuracy),
            percent(row.root_error),
            f"{row.top_confusion} ({percent(row.top_confusion_share)})"
            if row.top_confusion
            else "",
        )
        for row in quality_table(report.confusion)
        if row.reference_s != 0
    )
    columns = (
        "quality",
        "ref time",
        "recall",
        "precision",
        "bass",
        "wrong root",
        "most confused with",
    )
    right = (False, True, True, True, True, True, False)
    return TextTable("Chord qualities (%, time in m:ss)", columns, rows, right)


def balance_tables(balance: Balance) -> list[TextTable]:
    """Return minutes per chord quality and minutes per root of a corpus, per split."""
    from theory.pitch import pc_name
    from theory.vocabulary import QUALITIES

    right = (False,) + (True,) * len(balance.splits)
    qualities = [
        (quality.harte, *(f"{m:.1f}" for m in balance.quality_minutes[:, i]))
        for i, quality in enumerate(QUALITIES)
    ]
    qualities.append(("N", *(f"{m:.1f}" for m in balance.no_chord_minutes)))
    roots = tuple(
        (pc_name(pc), *(f"{m:.1f}" for m in balance.root_minutes[:, pc])) for pc in range(12)
    )
    return [
        TextTable("minutes per quality", ("quality", *balance.splits), tuple(qualities), right),
        TextTable("minutes per root", ("root", *balance.splits), roots, right),
    ]
