"""The ``chordcli`` command line: each command parses its options, calls the library, reports.

This is the only module that knows Typer, rich and exit codes; the work is done in
:mod:`chordcli.api`, :mod:`chordcli.batch` and :mod:`chordcli.tables`, and the help texts are
in :mod:`chordcli.helptext`. Standard output carries data only (transcriptions, scores,
``--version``); progress, summaries and errors go to standard error. Exit status: 0 when
everything succeeded, 1 when a file or the run failed (the other files of a batch are still
processed and a summary is printed), 2 for usage errors. Heavy modules (models, TensorFlow,
music21, jams, matplotlib, mir_eval) are imported inside the commands: ``--help`` is fast.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from chordcli import __version__
from chordcli.corpus import build as corpus
from chordcli.errors import ChordcliError, UsageError
from chordcli.formats import OutputFormat
from chordcli.helptext import COMMANDS, DEFAULT_VOCABULARY, OPTIONS, Vocabulary
from chordcli.tables import plural
from models.base import ModelError
from models.dataset import DEFAULT_CACHE_DIR

if TYPE_CHECKING:
    from rich.progress import Progress

    from chordcli.api import RenderTally
    from chordcli.corpus.build import Balance, RenderJob
    from chordcli.evaluate import EvalReport
    from chordcli.tables import TextTable
    from models.train import TrainEvent

__all__ = ["app", "main"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

app = typer.Typer(
    name="chordcli",
    help="Transcribe the chords of audio recordings, and export and evaluate chord annotations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- Reporting ---


def _stderr() -> Console:
    """Console on the current standard error (looked up at each call, for test runners)."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _error_text(message: str) -> Text:
    return Text.assemble(("error:", "bold red"), " ", message)


def _report(message: str, *, error: bool = False) -> None:
    """Print a progress or summary line, or ``error: <message>``, on standard error."""
    _stderr().print(_error_text(message) if error else Text(message))


def _handles_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Report an expected error of `command`: usage errors exit 2, the others 1."""

    @functools.wraps(command)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except UsageError as exc:
            raise typer.BadParameter(str(exc), param_hint=exc.param_hint) from None
        except (ChordcliError, ModelError) as exc:
            _report(str(exc), error=True)
            raise typer.Exit(1) from None

    return wrapper


def _progress(*, timed: bool = False, metrics: bool = False, transient: bool = False) -> Progress:
    """Return a progress bar on standard error: description, bar, count (and times, metrics)."""
    from rich import progress as p

    columns = [p.TextColumn("{task.description}"), p.BarColumn(), p.MofNCompleteColumn()]
    if timed:
        columns += [p.TimeElapsedColumn(), p.TimeRemainingColumn()]
    if metrics:
        columns.append(p.TextColumn("{task.fields[metrics]}"))
    return p.Progress(*columns, console=_stderr(), transient=transient)


def _print_tables(tables: Iterable[TextTable], console: Console, **style: object) -> None:
    """Draw text tables with rich (numbers right-aligned)."""
    from rich.table import Table

    for table in tables:
        drawn = Table(title=table.title, **style)  # type: ignore[arg-type]
        for name, right in zip(table.columns, table.right, strict=True):
            drawn.add_column(name, justify="right" if right else "left")
        for row in table.rows:
            drawn.add_row(*row)
        console.print(drawn)


# --- Options (their texts are in chordcli/helptext.py) ---


def _param(command: str, name: str, **extra: Any) -> Any:
    """Return the Typer option or argument that :data:`OPTIONS` describes."""
    spec = {**OPTIONS[command][name], **extra}
    if spec.pop("argument", False):
        return typer.Argument(**spec)
    return typer.Option(*spec.pop("decls", ()), **spec)


_T = functools.partial(_param, "transcribe")
_X = functools.partial(_param, "export")
_N = functools.partial(_param, "train")
_E = functools.partial(_param, "eval")
_D = functools.partial(_param, "render")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"chordcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, _param("chordcli", "version", callback=_version_callback)] = False,
) -> None:
    """Take the options that come before the command (``--version``)."""


# --- transcribe ---


@app.command(help=COMMANDS["transcribe"])
@_handles_errors
def transcribe(
    audio: Annotated[list[Path], _T("audio")],
    output: Annotated[Path | None, _T("output")] = None,
    output_format: Annotated[OutputFormat | None, _T("output_format")] = None,
    vocab: Annotated[Vocabulary, _T("vocab")] = DEFAULT_VOCABULARY,
    transpose: Annotated[int, _T("transpose")] = 0,
    capo: Annotated[int, _T("capo")] = 0,
    model: Annotated[str | None, _T("model")] = None,
    plot: Annotated[Path | None, _T("plot")] = None,
    beat_sync: Annotated[bool, _T("beat_sync")] = False,
    link_audio: Annotated[bool, _T("link_audio")] = False,
    tuning: Annotated[str, _T("tuning")] = "auto",
    overwrite: Annotated[bool, _T("overwrite")] = False,
) -> None:
    """Parse the options, transcribe with :func:`chordcli.batch.run_batch`, report each file."""
    from chordcli import batch

    plan = batch.plan_batch(
        audio,
        output=output,
        format=output_format,
        plot=plot,
        overwrite=overwrite,
        link_audio=link_audio,
    )
    tuning_cents = batch.parse_tuning(tuning)
    options = batch.TranscribeOptions(vocab.value, beat_sync, transpose, capo, tuning_cents)
    plan, rejected = batch.check_inputs(plan)
    for result in rejected:
        _report(result.describe(), error=True)
    n_failed = len(rejected)
    if plan.inputs:  # the model and the pipeline (scipy.signal: seconds) load only now
        from models.backend import load_backend

        backend = load_backend(model)
        with _progress(transient=True) as progress:
            task = progress.add_task("transcribing", total=len(plan.inputs))

            def describe(path: Path, stage: str) -> None:
                progress.update(task, description=f"transcribing {path.name}: {stage}")

            echo = functools.partial(typer.echo, nl=False)
            for result in batch.run_batch(
                plan, backend=backend, options=options, on_stage=describe, write_text=echo
            ):
                error = result.error is not None
                line = result.describe()
                progress.console.print(_error_text(line) if error else line)
                n_failed += error
                progress.advance(task)
    if (line := batch.summary(len(audio), n_failed)) is not None:
        _report(line)
    if n_failed:
        raise typer.Exit(1)


# --- export ---


@app.command(help=COMMANDS["export"])
@_handles_errors
def export(
    source: Annotated[Path, _X("source")],
    output: Annotated[Path | None, _X("output")] = None,
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
    from chordcli.atomic import check_output_path
    from chordcli.writers import format_transcription, write_transcription
    from theory import key_name

    flags = (musicxml, leadsheet, chordpro, midi, jams, as_json, lab)
    chosen = [fmt for flag, fmt in zip(flags, api.EXPORT_FORMATS, strict=True) if flag]
    fmt = api.export_format(output, chosen=chosen, audio=audio, link_audio=link_audio)
    if output is not None:
        check_output_path(output, overwrite=overwrite)
    transcription = api.read_for_export(
        source, tempo_bpm=tempo, beats_per_bar=beats_per_bar, audio=audio
    )
    n = len(transcription.segments)
    summary = f"{source}: {n} {plural(n, 'chord segment')}, key {key_name(transcription.key)}"
    if output is None:
        _report(summary)
        typer.echo(format_transcription(transcription, format=fmt), nl=False)
        return
    page = {"audio": audio, "link_audio": link_audio}
    written = write_transcription(transcription, output, format=fmt, overwrite=overwrite, **page)
    _report(f"{summary} -> {written} ({fmt.value})")


# --- train ---


@app.command(help=COMMANDS["train"])
@_handles_errors
def train(
    data_dir: Annotated[Path, _N("data_dir")],
    out: Annotated[Path | None, _N("out")] = None,
    epochs: Annotated[int | None, _N("epochs")] = None,
    config: Annotated[Path | None, _N("config")] = None,
    resume: Annotated[bool, _N("resume")] = False,
    init: Annotated[str | None, _N("init")] = None,
    seed: Annotated[int | None, _N("seed")] = None,
    cache: Annotated[Path, _N("cache")] = DEFAULT_CACHE_DIR,
    jobs: Annotated[int, _N("jobs")] = 1,
) -> None:
    """Parse the options, train with :func:`chordcli.api.train`, show its progress."""
    from chordcli import api
    from models.train import default_run_dir

    api.check_train_paths(data_dir, out, resume=resume)
    run_dir = out if out is not None else default_run_dir()
    if resume and (config is not None or seed is not None or init is not None):
        _report("--config, --seed and --init are ignored with --resume: the run keeps its settings")
    settings = api.train_config(config=config, epochs=epochs, seed=seed, init=init, resume=resume)
    try:
        with _TrainDisplay() as display:
            result = api.train(
                data_dir,
                run_dir,
                config=settings,
                resume=resume,
                cache_dir=cache,
                jobs=jobs,
                on_event=display.handle,
            )
    except KeyboardInterrupt:
        _report(
            f"interrupted; continue with: chordcli train {data_dir} --out {run_dir} --resume",
            error=True,
        )
        raise typer.Exit(130) from None
    _report(result.summary())
    if result.problems:
        raise typer.Exit(1)


class _TrainDisplay:
    """Renders :class:`models.train.TrainEvent` values with rich on standard error."""

    def __enter__(self) -> _TrainDisplay:
        self.progress = _progress(timed=True, metrics=True)
        self.progress.__enter__()
        self.task: Any = None
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def handle(self, event: TrainEvent) -> None:
        """Show one training event: a bar for loading and steps, a line for the others."""
        console = self.progress.console
        if event.kind == "problem":
            console.print(Text.assemble(("skipped:", "bold yellow"), " ", event.message))
        elif event.kind in ("load", "step"):
            if event.step == 1 or self.task is None:
                if self.task is not None:
                    self.progress.remove_task(self.task)
                name = "features" if event.kind == "load" else f"epoch {event.epoch}"
                self.task = self.progress.add_task(name, total=event.steps, metrics="")
            text = event.describe() if event.kind == "step" else ""
            self.progress.update(self.task, completed=event.step, metrics=text)
            if text and not console.is_terminal and event.step % max(1, event.steps // 10) == 0:
                # a log file gets a line every tenth of an epoch instead of a live bar
                console.print(f"epoch {event.epoch} step {event.step}/{event.steps}: {text}")
        elif event.kind != "done":
            console.print(event.describe())


# --- eval ---


@app.command(name="eval", help=COMMANDS["eval"])
@_handles_errors
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

    api.check_eval_call(ref, est, as_json=as_json, as_csv=as_csv, audio=audio, model=model)
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
            on_song=lambda pair, done, total: _report(f"[{done}/{total}] {pair.est_path}"),
        )
    else:
        report = api.evaluate_files(ref, est, confusion=confusion is not None)  # type: ignore[arg-type]
    _print_eval_report(report, as_json=as_json, as_csv=as_csv)
    if report.confusion is not None and confusion is not None:
        written = save_confusion(report.confusion, confusion, overwrite=overwrite)
        _report("wrote " + ", ".join(str(p) for p in written))
    _report(eval_summary(report))
    if report.failed:
        raise typer.Exit(1)


def _print_eval_report(report: EvalReport, *, as_json: bool, as_csv: bool) -> None:
    """Report the problems on stderr, then print the scores on stdout (JSON, CSV or tables)."""
    from rich import box

    from chordcli.evaluate import report_to_csv, report_to_dict
    from chordcli.tables import eval_tables

    for problem in report.problems:
        missing = problem.kind == "missing"
        _report(f"skipped: {problem.message}" if missing else problem.message, error=not missing)
    if not report.songs:
        nothing = "nothing was scored" + (" (no pairs found)" if not report.problems else "")
        _report(nothing, error=True)
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
        _print_tables(eval_tables(report), out, **style)


# --- data render ---

data_app = typer.Typer(
    help="Build the synthetic training corpus.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(data_app, name="data")


@data_app.command("render", help=COMMANDS["render"])
@_handles_errors
def data_render(
    out: Annotated[Path, _D("out")] = corpus.DEFAULT_OUT,
    sources: Annotated[str | None, _D("sources")] = None,
    split: Annotated[str, _D("split")] = "train",
    jobs: Annotated[int, _D("jobs")] = 1,
    limit: Annotated[int | None, _D("limit")] = None,
    ids: Annotated[Path | None, _D("ids")] = None,
    seed: Annotated[int, _D("seed")] = corpus.DEFAULT_SEED,
    soundfonts: Annotated[str | None, _D("soundfonts")] = None,
    pop909: Annotated[Path, _D("pop909")] = corpus.DEFAULT_POP909_DIR,
    billboard: Annotated[Path, _D("billboard")] = corpus.DEFAULT_BILLBOARD_DIR,
    billboard_songs: Annotated[int, _D("billboard_songs")] = corpus.DEFAULT_BILLBOARD_SONGS,
    lead_db: Annotated[str | None, _D("lead_db")] = None,
    variant: Annotated[str, _D("variant")] = "same",
    every: Annotated[int, _D("every")] = 1,
    overwrite: Annotated[bool, _D("overwrite")] = False,
    dry_run: Annotated[bool, _D("dry_run")] = False,
) -> None:
    """Parse the options, plan with :func:`chordcli.api.corpus_plan`, render, report."""
    from chordcli import api

    plan = api.corpus_plan(
        sources=sources,
        split=split,
        ids=ids,
        soundfonts=soundfonts,
        lead_db=lead_db,
        seed=seed,
        limit=limit,
        pop909_dir=pop909,
        billboard_dir=billboard,
        billboard_songs=billboard_songs,
        variant=variant,
        every=every,
    )
    if dry_run:
        planned = corpus.planned_balance(plan, workers=jobs)
        _print_balance(planned)
        minutes = planned.total_minutes[2]
        _report(f"{len(plan)} files planned, {minutes:.1f} min of audio (nothing rendered)")
        return
    out.mkdir(parents=True, exist_ok=True)
    tally = _render_with_progress(plan, out, jobs=jobs, overwrite=overwrite)
    balance, md_path, csv_path = api.finish_corpus(plan, out)
    _print_balance(balance)
    files = f"{md_path.parent} ({md_path.name}, {csv_path.name})"
    _report(f"{tally.summary()}; manifest and balance in {files}")
    if tally.failed:
        raise typer.Exit(1)


def _render_with_progress(
    plan: list[RenderJob], out: Path, *, jobs: int, overwrite: bool
) -> RenderTally:
    """Render the planned files with a progress bar; return the tally."""
    from chordcli.api import RenderTally
    from chordcli.corpus.build import render_corpus

    tally = RenderTally()
    try:
        with _progress(timed=True) as progress:
            task = progress.add_task("rendering", total=len(plan))
            for result in render_corpus(plan, out, workers=jobs, overwrite=overwrite):
                tally.add(result)
                if result.status == "failed":
                    progress.console.print(_error_text(result.error or ""))
                progress.update(task, description=f"rendering {result.job.stem}")
                progress.advance(task)
    except KeyboardInterrupt:
        _report(tally.interrupted(), error=True)
        raise typer.Exit(130) from None
    return tally


def _print_balance(balance: Balance) -> None:
    """Print a corpus class balance (minutes per quality and per root) on standard error."""
    from chordcli.tables import balance_tables

    _print_tables(balance_tables(balance), _stderr(), title_justify="left")


def main() -> None:
    """Run the command line (the ``chordcli`` console script)."""
    app(prog_name="chordcli")
