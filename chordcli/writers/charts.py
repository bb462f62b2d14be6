"""Text chord charts: the lead sheet (Markdown or plain text) and ChordPro.

Both lay the chords on the bar grid of :mod:`chordcli.bars` and write four bars a line::

    | Am         | F          | C     G    | %          |

Within a bar:

* one chord fills the bar: its symbol alone (``C``);
* chords of equal length share the bar: their symbols (``Fmaj7 G7sus4`` is two beats each in
  4/4, ``C F G`` one beat each in 3/4);
* otherwise every beat has a slot, ``.`` holding the chord before it (``C . . G`` changes to G on
  beat 4).

Every bar names the chord sounding on its downbeat, so a chord held over a bar line is repeated.
In the lead sheet a bar identical to the bar before it is written ``%`` (the simile mark), except
at the start of a line. ChordPro repeats chords instead, since ChordPro readers show only the
bracketed chords. Symbols are spelled for the key (:func:`theory.keys.chord_symbol`): ``N.C.``
is no chord, ``X`` an unknown chord.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from chordcli.bars import BarChord, BarGrid, chart_bars
from chordcli.segments import Transcription
from models.tuning import TUNING_REFERENCE_HZ
from theory.keys import KEY_NONE, chord_symbol, key_is_minor, key_name, key_tonic_name

__all__ = ["BARS_PER_LINE", "chart_title", "format_chordpro", "format_leadsheet", "tuning_text"]

#: Bars on each line of a chart.
BARS_PER_LINE: int = 4

_SIMILE = "%"


def format_leadsheet(
    transcription: Transcription,
    *,
    markdown: bool = True,
    bars_per_line: int = BARS_PER_LINE,
    alternatives: bool = False,
) -> str:
    """Format a transcription as a lead sheet: title, key, tempo, metre, then bars of chords.

    Parameters
    ----------
    transcription : Transcription
        The chords; bars come from its beats or tempo (see :func:`chordcli.bars.make_grid`).
    markdown : bool, optional
        Write Markdown (a ``#`` title and the bars in a fenced block, which keeps the columns
        aligned), else plain text.
    bars_per_line : int, optional
        Bars on each line.
    alternatives : bool, optional
        Add a list of the chords with their ranked alternatives below the chart
        (``0:03.0 Fmaj7: Fmaj7 62 %, Am7 21 %, F 5 %``); chords without alternatives are
        left out of it.

    Returns
    -------
    str
        The lead sheet, lines ending in a newline.
    """
    grid, bars = _bars(transcription)
    symbol = _symbols(transcription.key)
    rows = _rows(bars, symbol, per_bar=grid.beats_per_bar, bars_per_line=bars_per_line)
    for row in rows:
        for i in range(len(row) - 1, 0, -1):
            if _same(row[i][1], row[i - 1][1]):
                row[i] = (_SIMILE, row[i][1])
    lines = _align([[text for text, _ in row] for row in rows])
    info = []
    if transcription.key != KEY_NONE:
        info.append(f"Key: {key_name(transcription.key)}")
    info.append(f"Tempo: {_tempo(transcription, grid.tempo_bpm)} bpm")
    info.append(f"Time: {grid.beats_per_bar}/4")
    if transcription.tuning_cents is not None:
        info.append(f"Tuning: {tuning_text(transcription.tuning_cents)}")
    if transcription.capo:
        info.append(f"Capo {transcription.capo}")
    header = " · ".join(info)
    title = chart_title(transcription)
    extra = _alternatives_text(transcription, symbol, markdown=markdown) if alternatives else ""
    if markdown:
        chart = f"# {title}\n\n{header}\n\n```\n" + "".join(f"{x}\n" for x in lines) + "```\n"
    else:
        chart = f"{title}\n{header}\n\n" + "".join(f"{x}\n" for x in lines)
    return chart + extra


def format_chordpro(transcription: Transcription, *, bars_per_line: int = BARS_PER_LINE) -> str:
    """Format a transcription as a ChordPro chart.

    The directives ``{title}``, ``{key}`` (``Am``, ``Eb``), ``{tempo}``, ``{time}`` and, for
    chords written for a capo, ``{capo}`` come first, then lines of bars with the chords as
    ``[chord]`` markers.

    Parameters
    ----------
    transcription : Transcription
        The chords; bars come from its beats or tempo.
    bars_per_line : int, optional
        Bars on each line.

    Returns
    -------
    str
        The ChordPro text, lines ending in a newline.
    """
    grid, bars = _bars(transcription)
    plain = _symbols(transcription.key)

    def symbol(label: str) -> str:
        return f"[{plain(label)}]"

    rows = _rows(bars, symbol, per_bar=grid.beats_per_bar, bars_per_line=bars_per_line)
    lines = _align([[text for text, _ in row] for row in rows])
    directives = [f"{{title: {chart_title(transcription)}}}"]
    if transcription.key != KEY_NONE:
        minor = "m" if key_is_minor(transcription.key) else ""
        directives.append(f"{{key: {key_tonic_name(transcription.key)}{minor}}}")
    directives.append(f"{{tempo: {_tempo(transcription, grid.tempo_bpm)}}}")
    directives.append(f"{{time: {grid.beats_per_bar}/4}}")
    if transcription.capo:
        directives.append(f"{{capo: {transcription.capo}}}")
    return "\n".join(directives) + "\n\n" + "".join(f"{x}\n" for x in lines)


def _bars(transcription: Transcription) -> tuple[BarGrid, tuple[tuple[BarChord, ...], ...]]:
    """Return the bar grid of a transcription and the bars shown."""
    grid, bars, _ = chart_bars(transcription)
    return grid, bars


def _symbols(key: int) -> Callable[[str], str]:
    """Return a cached label -> key-aware symbol function."""
    cache: dict[str, str] = {}

    def symbol(label: str) -> str:
        if label not in cache:
            cache[label] = chord_symbol(label, key=key)
        return cache[label]

    return symbol


def _bar_text(bar: Sequence[BarChord], symbol: Callable[[str], str], *, per_bar: int) -> str:
    """Return the text of one bar (see the module docstring)."""
    if len({part.n_beats for part in bar}) == 1:
        return " ".join(symbol(part.label) for part in bar)
    slots = ["."] * per_bar
    for part in bar:
        slots[part.beat] = symbol(part.label)
    return " ".join(slots)


def _rows(
    bars: Sequence[Sequence[BarChord]],
    symbol: Callable[[str], str],
    *,
    per_bar: int,
    bars_per_line: int,
) -> list[list[tuple[str, Sequence[BarChord]]]]:
    """Bars grouped into lines, each bar as (text, parts)."""
    cells = [(_bar_text(bar, symbol, per_bar=per_bar), bar) for bar in bars]
    step = max(1, int(bars_per_line))
    return [cells[i : i + step] for i in range(0, len(cells), step)]


def _same(bar: Sequence[BarChord], previous: Sequence[BarChord]) -> bool:
    """Whether two bars hold the same chords on the same beats."""
    return [(p.beat, p.n_beats, p.label) for p in bar] == [
        (p.beat, p.n_beats, p.label) for p in previous
    ]


def _align(rows: list[list[str]]) -> list[str]:
    """Bar lines ``| a | b |`` with every column padded to its widest cell."""
    n_columns = max((len(row) for row in rows), default=0)
    widths = [
        max((len(row[c]) for row in rows if c < len(row)), default=0) for c in range(n_columns)
    ]
    lines = []
    for row in rows:
        cells = [text.ljust(widths[c]) for c, text in enumerate(row)]
        lines.append(("| " + " | ".join(cells) + " |").rstrip())
    return lines


def _alternatives_text(
    transcription: Transcription, symbol: Callable[[str], str], *, markdown: bool
) -> str:
    """Return the section listing each chord's alternatives; empty if no chord has any."""
    lines = []
    for seg in transcription.segments:
        if not seg.alternatives:
            continue
        minutes, seconds = divmod(seg.start_s, 60.0)
        ranked = ", ".join(
            f"{symbol(a.label)} {round(100 * a.probability)} %" for a in seg.alternatives
        )
        lines.append(f"{int(minutes)}:{seconds:04.1f} {symbol(seg.label)}: {ranked}")
    if not lines:
        return ""
    if markdown:
        return "\n## Alternatives\n\n" + "".join(f"- {x}\n" for x in lines)
    return "\nAlternatives\n" + "".join(f"{x}\n" for x in lines)


def tuning_text(cents: float) -> str:
    """Describe a tuning for chart headers: ``+40 cents (A = 450.3 Hz)``."""
    a4_hz = TUNING_REFERENCE_HZ * 2 ** (cents / 1200)
    return f"{round(cents):+d} cents (A = {a4_hz:.1f} Hz)"


def _tempo(transcription: Transcription, grid_tempo_bpm: float) -> int:
    """Tempo shown in charts: the transcription's, else the grid's, rounded to whole bpm."""
    tempo = transcription.tempo_bpm if transcription.tempo_bpm else grid_tempo_bpm
    return round(tempo)


def chart_title(transcription: Transcription) -> str:
    """Title of a chart: the name of the source file without its suffix."""
    return Path(transcription.source).stem if transcription.source else "Untitled"
