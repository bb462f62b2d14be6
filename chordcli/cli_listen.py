"""``chordcli listen``: chords from the microphone (or a file played in real time) as they change.

A command-line module like :mod:`chordcli.cli`, which registers it: it parses the options,
runs :mod:`chordcli.live` and reports. Chord changes go to standard output, one line each
(``0:05.3  C/E``), progress and errors to standard error.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chordcli import console as ui
from chordcli.helptext import DEFAULT_VOCABULARY, Vocabulary

if TYPE_CHECKING:
    from chordcli.live import LiveChord

__all__ = ["listen"]

_L = functools.partial(ui.param, "listen")


@ui.handles_errors
def listen(
    simulate: Annotated[Path | None, _L("simulate")] = None,
    device: Annotated[str | None, _L("device")] = None,
    lab: Annotated[Path | None, _L("lab")] = None,
    duration: Annotated[float | None, _L("duration")] = None,
    vocab: Annotated[Vocabulary, _L("vocab")] = DEFAULT_VOCABULARY,
    tuning: Annotated[str, _L("tuning")] = "auto",
    model: Annotated[str | None, _L("model")] = None,
    overwrite: Annotated[bool, _L("overwrite")] = False,
) -> None:
    """Parse the options, run :func:`chordcli.live.run_live`, print each chord change."""
    from chordcli.atomic import check_output_path, write_text_atomic
    from chordcli.batch import parse_tuning
    from chordcli.lab import format_lab
    from chordcli.live import LiveTranscriber, open_input, run_live
    from models.backend import load_backend

    tuning_cents = parse_tuning(tuning)
    if lab is not None:
        check_output_path(lab, overwrite=overwrite)
    backend = load_backend(model)
    rate = backend.cqt_config.sample_rate_hz
    source = open_input(simulate=simulate, device=device, sample_rate_hz=rate)
    transcriber = LiveTranscriber(
        backend, sample_rate_hz=rate, vocab=vocab.value, tuning_cents=tuning_cents
    )
    with source as blocks:
        ui.report(f"playing {simulate}" if simulate else "listening (Ctrl+C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            run_live(blocks, transcriber, on_chord=_show, max_s=duration)
    for chord in transcriber.finish():  # after Ctrl+C: the frames not yet decided
        _show(chord)
    if lab is not None:
        segments = transcriber.segments()
        write_text_atomic(lab, format_lab(segments), overwrite=overwrite)
        ui.report(f"{len(segments)} chords -> {lab}")


def _show(chord: LiveChord) -> None:
    """Print a chord change: stream time (m:ss.s) and chord symbol."""
    from theory import chord_symbol

    minutes, seconds = divmod(chord.start_s, 60.0)
    typer.echo(f"{int(minutes)}:{seconds:04.1f}  {chord_symbol(chord.label)}")
