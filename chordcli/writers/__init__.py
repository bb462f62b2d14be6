"""Write transcriptions in every output format, and read LAB, JSON and JAMS back.

==========  =========================================  ==========================================
format      suffixes                                   written by
==========  =========================================  ==========================================
lab         ``.lab``                                   :func:`chordcli.lab.format_lab`
json        ``.json``                                  :func:`chordcli.jsonio.format_json`
jams        ``.jams``                                  :mod:`chordcli.writers.jamsfile`
musicxml    ``.musicxml``, ``.xml``, ``.mxl`` (zip)    :mod:`chordcli.writers.musicxml`
leadsheet   ``.md`` (Markdown), ``.txt`` (plain)       :mod:`chordcli.writers.charts`
chordpro    ``.cho``, ``.chordpro``, ``.chopro``,      :mod:`chordcli.writers.charts`
            ``.crd``
midi        ``.mid``, ``.midi``                        :mod:`chordcli.writers.midi`
html        ``.html``, ``.htm``                        :mod:`chordcli.writers.html`
==========  =========================================  ==========================================

The formats and their suffixes are defined once, in :mod:`chordcli.formats`; :data:`FORMATS`
adds how each is rendered. docs/formats.md shows an example of each.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chordcli.atomic import check_output_path, write_bytes_atomic
from chordcli.errors import OutputError
from chordcli.formats import SUFFIXES, OutputFormat, format_from_suffix
from chordcli.outputs import same_file
from chordcli.segments import Transcription
from chordcli.writers.readers import READ_FORMATS, read_transcription, transcription_from_lab

__all__ = [
    "FORMATS",
    "READ_FORMATS",
    "OutputFormat",
    "Writer",
    "format_transcription",
    "read_transcription",
    "render_transcription",
    "transcription_from_lab",
    "write_transcription",
]


@dataclass(frozen=True)
class Writer:
    """How one output format is rendered.

    Parameters
    ----------
    format : OutputFormat
        The format.
    suffixes : tuple of str
        File suffixes that select it (from :data:`chordcli.formats.SUFFIXES`).
    binary : bool
        Whether :attr:`render` returns bytes rather than text.
    render : callable
        ``render(transcription) -> str | bytes``.
    """

    format: OutputFormat
    suffixes: tuple[str, ...]
    binary: bool
    render: Callable[[Transcription], str | bytes]


def _lab(transcription: Transcription) -> str:
    from chordcli.lab import format_lab

    return format_lab(transcription.segments)


def _json(transcription: Transcription) -> str:
    from chordcli.jsonio import format_json

    return format_json(transcription)


def _jams(transcription: Transcription) -> str:
    from chordcli.writers.jamsfile import format_jams

    return format_jams(transcription)


def _musicxml(transcription: Transcription) -> str:
    from chordcli.writers.musicxml import format_musicxml

    return format_musicxml(transcription)


def _leadsheet(transcription: Transcription) -> str:
    from chordcli.writers.charts import format_leadsheet

    return format_leadsheet(transcription)


def _chordpro(transcription: Transcription) -> str:
    from chordcli.writers.charts import format_chordpro

    return format_chordpro(transcription)


def _midi(transcription: Transcription) -> bytes:
    from chordcli.writers.midi import format_midi

    return format_midi(transcription)


def _html(transcription: Transcription) -> bytes:
    from chordcli.writers.html import format_html

    return format_html(transcription)


_RENDER: dict[OutputFormat, Callable[[Transcription], str | bytes]] = {
    OutputFormat.LAB: _lab,
    OutputFormat.JSON: _json,
    OutputFormat.JAMS: _jams,
    OutputFormat.MUSICXML: _musicxml,
    OutputFormat.LEADSHEET: _leadsheet,
    OutputFormat.CHORDPRO: _chordpro,
    OutputFormat.MIDI: _midi,
    OutputFormat.HTML: _html,
}

#: Every output format with its suffixes and renderer.
FORMATS: dict[OutputFormat, Writer] = {
    fmt: Writer(fmt, SUFFIXES[fmt], fmt.is_binary, _RENDER[fmt]) for fmt in OutputFormat
}


def render_transcription(
    transcription: Transcription,
    *,
    format: OutputFormat | str,
    markdown: bool = True,
    audio: str | os.PathLike[str] | None = None,
    link_audio: bool = False,
    page_dir: str | os.PathLike[str] = ".",
    alternatives: bool = False,
) -> str | bytes:
    """Render a transcription in a format.

    Parameters
    ----------
    transcription : Transcription
        The transcription.
    format : OutputFormat or str
        Format name (``lab``, ``json``, ``jams``, ``musicxml``, ``leadsheet``, ``chordpro``,
        ``midi``, ``html``).
    markdown : bool, optional
        For ``leadsheet``: Markdown (default) or plain text.
    audio : str or os.PathLike, optional
        For ``html``: the audio file the page plays, embedded unless `link_audio`.
    link_audio : bool, optional
        For ``html``: link `audio` by its path relative to `page_dir` instead of embedding it.
    page_dir : str or os.PathLike, optional
        For ``html``: the directory the page is written to.
    alternatives : bool, optional
        For ``leadsheet``: list the ranked alternatives of each chord below the chart.

    Returns
    -------
    str or bytes
        Text, or bytes for binary formats (MIDI, HTML).

    Raises
    ------
    ValueError
        If `format` is not a format name, or the transcription holds invalid segments.
    ChordcliError
        If `audio` cannot be read or is not a kind of audio browsers play.
    """
    fmt = OutputFormat(format)
    if fmt is OutputFormat.HTML and audio is not None:
        from chordcli.writers.html import format_html

        return format_html(transcription, audio=audio, link_audio=link_audio, page_dir=page_dir)
    if fmt is OutputFormat.LEADSHEET and (alternatives or not markdown):
        from chordcli.writers.charts import format_leadsheet

        return format_leadsheet(transcription, markdown=markdown, alternatives=alternatives)
    return FORMATS[fmt].render(transcription)


def format_transcription(
    transcription: Transcription,
    *,
    format: OutputFormat | str,
    markdown: bool = True,
    alternatives: bool = False,
) -> str:
    """Render a transcription in a text format (see :func:`render_transcription`).

    Raises
    ------
    ValueError
        If `format` is binary (MIDI, HTML) or not a format name.
    """
    rendered = render_transcription(
        transcription, format=format, markdown=markdown, alternatives=alternatives
    )
    if isinstance(rendered, bytes):
        raise ValueError(f"{OutputFormat(format).value} is a binary format; write it to a file")
    return rendered


def write_transcription(
    transcription: Transcription,
    path: str | os.PathLike[str],
    *,
    format: OutputFormat | str | None = None,
    overwrite: bool = False,
    audio: str | os.PathLike[str] | None = None,
    link_audio: bool = False,
    alternatives: bool = False,
) -> Path:
    """Write a transcription to a file, atomically.

    Parameters
    ----------
    transcription : Transcription
        The transcription.
    path : str or os.PathLike
        Destination; its directory must exist. A ``.mxl`` suffix writes compressed MusicXML,
        ``.txt`` a plain-text lead sheet.
    format : OutputFormat or str, optional
        Format; default: from the suffix of `path`.
    overwrite : bool, optional
        Whether an existing file may be replaced.
    audio : str or os.PathLike, optional
        For ``html``: the audio file the page plays (see :func:`render_transcription`).
    link_audio : bool, optional
        For ``html``: link `audio` by a path relative to the page instead of embedding it.
    alternatives : bool, optional
        For a lead sheet: list the ranked alternatives of each chord below the chart.

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    OutputError
        If no format is given and the suffix selects none, `path` is `audio`, or the file
        cannot be written.
    OutputExistsError
        If `path` exists and `overwrite` is false (checked before rendering).
    """
    path = Path(path)
    fmt = OutputFormat(format) if format is not None else format_from_suffix(path)
    if fmt is None:
        known = ", ".join(s for suffixes in SUFFIXES.values() for s in suffixes)
        raise OutputError(
            f"cannot write '{path}': no output format for the suffix '{path.suffix}'",
            hint=f"use one of {known} or choose a format",
        )
    check_output_path(path, overwrite=overwrite)
    if audio is not None and same_file(path, Path(audio)):
        raise OutputError(f"cannot write '{path}': it is the page's recording '{audio}'")
    suffix = path.suffix.lower()
    rendered = render_transcription(
        transcription,
        format=fmt,
        markdown=suffix != ".txt",
        audio=audio,
        link_audio=link_audio,
        page_dir=path.parent,
        alternatives=alternatives,
    )
    if fmt is OutputFormat.MUSICXML and suffix == ".mxl":
        from chordcli.writers.musicxml import compress_musicxml

        rendered = compress_musicxml(str(rendered), name=path.stem + ".musicxml")
    data = rendered.encode("utf-8") if isinstance(rendered, str) else rendered
    return write_bytes_atomic(path, data, overwrite=overwrite)
