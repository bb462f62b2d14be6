"""The ``chordcli`` command line: each command parses its options, calls the library, reports.

The command-line modules (this one, :mod:`chordcli.cli_train` for ``train`` and ``data
render``, :mod:`chordcli.cli_listen` for ``listen``, and :mod:`chordcli.console` for what they
share) are the only ones that know Typer,
rich and exit codes; the work is done in :mod:`chordcli.api`, :mod:`chordcli.batch` and
:mod:`chordcli.tables`, and the help texts are in :mod:`chordcli.helptext`. Standard output
carries data only (transcriptions, scores, ``--version``); progress, summaries and errors go to
standard error. Exit status: 0 when everything succeeded, 1 when a file or the run failed (the
other files of a batch are still processed and a summary is printed), 2 for usage errors. Heavy
modules (models, TensorFlow, music21, jams, matplotlib, mir_eval) are imported inside the
commands: ``--help`` is fast.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from chordcli import __version__, cli_listen, cli_train
from chordcli import console as ui
from chordcli.formats import OutputFormat
from chordcli.helptext import COMMANDS, DEFAULT_VOCABULARY, Engine, Vocabulary
from chordcli.tables import plural

if TYPE_CHECKING:
    from chordcli.batch import BatchPlan, TranscribeOptions
    from chordcli.evaluate import EvalReport

__all__ = ["app", "main"]

app = typer.Typer(
    name="chordcli",
    help="Transcribe the chords of audio recordings, and export and evaluate chord annotations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- Options (their texts are in chordcli/helptext.py) ---

_T = functools.partial(ui.param, "transcribe")
_X = functools.partial(ui.param, "export")
_E = functools.partial(ui.param, "eval")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"chordcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, ui.param("chordcli", "version", callback=_version_callback)] = False,
) -> None:
    """Take the options that come before the command (``--version``)."""


# --- transcribe ---


@app.command(help=COMMANDS["transcribe"])
@ui.handles_errors
def transcribe(
    audio: Annotated[list[Path], _T("audio")],
    output: Annotated[str | None, _T("output")] = None,
    output_format: Annotated[OutputFormat | None, _T("output_format")] = None,
    vocab: Annotated[Vocabulary, _T("vocab")] = DEFAULT_VOCABULARY,
    transpose: Annotated[int, _T("transpose")] = 0,
    capo: Annotated[int, _T("capo")] = 0,
    model: Annotated[str | None, _T("model")] = None,
    plot: Annotated[Path | None, _T("plot")] = None,
    beat_sync: Annotated[bool, _T("beat_sync")] = False,
    link_audio: Annotated[bool, _T("link_audio")] = False,
    tuning: Annotated[str, _T("tuning")] = "auto",
    alternatives: Annotated[bool, _T("alternatives")] = False,
    views: Annotated[int | None, _T("views")] = None,
    engine: Annotated[Engine, _T("engine")] = Engine.LOCAL,
    ray_address: Annotated[str | None, _T("ray_address")] = None,
    overwrite: Annotated[bool, _T("overwrite")] = False,
) -> None:
    """Parse the options, transcribe here (:mod:`chordcli.batch`) or on Ray, report each file."""
    from chordcli import batch
    from chordcli.errors import UsageError

    if ray_address is not None and engine is Engine.LOCAL:
        raise UsageError("needs --engine ray", param_hint="'--ray-address'")
    if views is not None:
        from models.inference import centred_views  # the rule of load_backend(views=)

        try:
            centred_views(views)
        except ValueError as exc:
            raise UsageError(f"{exc}, got {views}", param_hint="'--views'") from None
    plan = batch.plan_batch(
        audio if engine is Engine.LOCAL else [],  # Ray lists directories itself
        output=output,
        format=output_format,
        plot=plot,
        overwrite=overwrite,
        link_audio=link_audio,
        alternatives=alternatives,
    )
    tuning_cents = batch.parse_tuning(tuning)
    options = batch.TranscribeOptions(vocab.value, beat_sync, transpose, capo, tuning_cents, views)
    if engine is Engine.RAY:
        n_failed = _transcribe_on_ray(audio, output, plan, options, model, ray_address)
    else:
        n_failed = _transcribe_here(plan, options, model)
        if (line := batch.summary(len(audio), n_failed)) is not None:
            ui.report(line)
    if n_failed:
        raise typer.Exit(1)


def _transcribe_here(plan: BatchPlan, options: TranscribeOptions, model: str | None) -> int:
    """Check the inputs, transcribe them in this process with a progress bar; count failures."""
    from chordcli import batch

    plan, rejected = batch.check_inputs(plan)
    for result in rejected:
        ui.report(result.describe(), error=True)
    n_failed = len(rejected)
    if not plan.inputs:
        return n_failed
    from models.backend import load_backend  # the model and the pipeline load only now

    # the session is made while the audio is read
    backend = load_backend(model, background=True, views=options.views)
    with ui.progress_bar(transient=True) as progress:
        task = progress.add_task("transcribing", total=len(plan.inputs))

        def describe(path: Path, stage: str) -> None:
            progress.update(task, description=f"transcribing {path.name}: {stage}")

        echo = functools.partial(typer.echo, nl=False)
        for result in batch.run_batch(
            plan, backend=backend, options=options, on_stage=describe, write_text=echo
        ):
            error = result.error is not None
            line = result.describe()
            progress.console.print(ui.error_text(line) if error else line)
            n_failed += error
            progress.advance(task)
    return n_failed


def _transcribe_on_ray(
    audio: list[Path],
    output: Path | None,
    plan: BatchPlan,
    options: TranscribeOptions,
    model: str | None,
    address: str | None,
) -> int:
    """Run ``--engine ray`` (:mod:`chordcli.catalogue`), report failures; count them."""
    from chordcli.catalogue import INDEX_NAME, check_catalogue_call, transcribe_catalogue

    out_dir = check_catalogue_call(output, format=plan.format, plot=plan.plot)
    ui.report(f"transcribing on Ray into {out_dir}")
    entries = transcribe_catalogue(
        audio,
        out_dir,
        format=plan.format,
        model=model,
        options=options,
        overwrite=plan.overwrite,
        alternatives=plan.alternatives,
        address=address,
    )
    for entry in entries:
        if entry.status == "failed":
            ui.report(str(entry.error), error=True)
    counts = {s: sum(e.status == s for e in entries) for s in ("done", "skipped", "failed")}
    ui.report(
        f"{counts['done']} transcribed, {counts['skipped']} skipped (output exists), "
        f"{counts['failed']} failed -> {out_dir / INDEX_NAME}"
    )
    return counts["failed"]


# --- export ---


@app.command(help=COMMANDS["export"])
@ui.handles_errors
def export(
    source: Annotated[Path, _X("source")],
    output: Annotated[str | None, _X("output")] = None,
    musicxml: Annotated[bool, _X("musicxml")] = False,
    leadsheet: Annotated[bool, _X("leadsheet")] = False,
    chordpro: Annotated[bool, _X("chordpro")] = False,
    midi: Annotated[bool, _X("midi")] = False,
    jams: Annotated[bool, _X("jams")] = False,
    as_json: Annotated[bool, _X("as_json")] = False,
    lab: Annotated[bool, _X("lab")] = False,
    tempo: Annotated[float | None, _X("tempo")] = None,
    beats_per_bar: Annotated[int | None, _X("beats_per_bar")] = None,
    audio: Annotated[Path | None, _X("audio")] = None,
    link_audio: Annotated[bool, _X("link_audio")] = False,
    overwrite: Annotated[bool, _X("overwrite")] = False,
) -> None:
    """Parse the options, convert with :mod:`chordcli.api` and the writers, report."""
    from chordcli import api
    from chordcli.writers import format_transcription
    from theory import key_name

    flags = (musicxml, leadsheet, chordpro, midi, jams, as_json, lab)
    chosen = [fmt for flag, fmt in zip(flags, api.EXPORT_FORMATS, strict=True) if flag]
    page = {"audio": audio, "link_audio": link_audio}
    plan = api.plan_export(source, output, chosen=chosen, overwrite=overwrite, **page)
    transcription = api.read_for_export(
        source,
        tempo_bpm=tempo,
        beats_per_bar=beats_per_bar,
        audio=audio,
        format=plan.format,
        on_tempo=lambda note: ui.report(f"{source}: {note}"),
    )
    n = len(transcription.segments)
    summary = f"{source}: {n} {plural(n, 'chord segment')}, key {key_name(transcription.key)}"
    if plan.targets[0] is None:
        ui.report(summary)
        typer.echo(format_transcription(transcription, format=plan.format), nl=False)
        return
    written = api.write_export(transcription, plan, overwrite=overwrite, **page)
    ui.report(f"{summary} -> {written} ({plan.format.value})")


# --- train ---


# --- train (chordcli/cli_train.py) ---

app.command(help=COMMANDS["train"])(cli_train.train)


# --- eval ---


@app.command(name="eval", help=COMMANDS["eval"])
@ui.handles_errors
def evaluate(
    ref: Annotated[Path | None, _E("ref")] = None,
    est: Annotated[Path | None, _E("est")] = None,
    as_json: Annotated[bool, _E("as_json")] = False,
    as_csv: Annotated[bool, _E("as_csv")] = False,
    confusion: Annotated[Path | None, _E("confusion")] = None,
    audio: Annotated[Path | None, _E("audio")] = None,
    model: Annotated[str | None, _E("model")] = None,
    overwrite: Annotated[bool, _E("overwrite")] = False,
) -> None:
    """Parse the options, score with :mod:`chordcli.api`, print the report."""
    from chordcli import api
    from chordcli.confusion import check_confusion_outputs, save_confusion
    from chordcli.tables import eval_summary

    api.check_eval_call(
        ref, est, as_json=as_json, as_csv=as_csv, audio=audio, model=model, confusion=confusion
    )
    if confusion is not None:
        check_confusion_outputs(confusion, overwrite=overwrite)
    if audio is not None:
        report = api.evaluate_audio(
            audio,
            references=ref,
            model=model,
            save_dir=est,
            overwrite=overwrite,
            confusion=confusion is not None,
            on_song=lambda pair, done, total: ui.report(f"[{done}/{total}] {pair.est_path}"),
        )
    else:
        report = api.evaluate_files(ref, est, confusion=confusion is not None)  # type: ignore[arg-type]
    _print_eval_report(report, as_json=as_json, as_csv=as_csv)
    if report.confusion is not None and confusion is not None:
        written = save_confusion(report.confusion, confusion, overwrite=overwrite)
        ui.report("wrote " + ", ".join(str(p) for p in written))
    ui.report(eval_summary(report))
    if report.failed:
        raise typer.Exit(1)


def _print_eval_report(report: EvalReport, *, as_json: bool, as_csv: bool) -> None:
    """Report the problems on stderr, then print the scores on stdout (JSON, CSV or tables)."""
    from rich import box

    from chordcli.evaluate import report_to_csv, report_to_dict
    from chordcli.tables import eval_tables

    for problem in report.problems:
        missing = problem.kind == "missing"
        ui.report(f"skipped: {problem.message}" if missing else problem.message, error=not missing)
    if not report.songs:
        nothing = "nothing was scored" + (" (no pairs found)" if not report.problems else "")
        ui.report(nothing, error=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(report_to_dict(report), indent=2))
    elif as_csv:
        typer.echo(report_to_csv(report), nl=False)
    else:
        out = Console(soft_wrap=False, highlight=False)
        if not out.is_terminal:
            out.width = max(out.width, 120)  # files and pipes get whole tables
        style = {"box": box.SIMPLE_HEAD, "title_justify": "left", "title_style": "bold"}
        ui.print_tables(eval_tables(report), out, **style)


# --- listen (chordcli/cli_listen.py) ---

app.command(help=COMMANDS["listen"])(cli_listen.listen)


# --- data render (chordcli/cli_train.py) ---

app.add_typer(cli_train.data_app, name="data")


def main() -> None:
    """Run the command line (the ``chordcli`` console script)."""
    app(prog_name="chordcli")
