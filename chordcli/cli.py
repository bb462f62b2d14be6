"""The ``chordcli`` command line.

This is the only module that knows Typer, rich and exit codes. Standard
output carries data only (transcriptions, scores, ``--version``); progress,
summaries and errors go to standard error. Exit status is 0 when everything
succeeded, 1 when a file or the run failed (the other files of a batch are
still processed and a summary is printed) and 2 for usage errors.

Heavy modules (audio decoding, models, TensorFlow, music21, jams,
matplotlib, mir_eval) are imported inside the commands, so ``--help`` and
``--version`` stay fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from chordcli import __version__
from chordcli.bars import DEFAULT_TEMPO_BPM
from chordcli.corpus.build import (
    DEFAULT_BILLBOARD_DIR,
    DEFAULT_BILLBOARD_SONGS,
    DEFAULT_OUT,
    DEFAULT_POP909_DIR,
    DEFAULT_SEED,
)
from chordcli.errors import ChordcliError
from chordcli.formats import DEFAULT_FORMAT, OutputFormat, format_from_suffix
from models.dataset import DEFAULT_CACHE_DIR
from models.train import DEFAULT_TRAIN
from theory.simplify import VOCABULARIES

if TYPE_CHECKING:
    from chordcli.corpus.build import Balance
    from chordcli.evaluate import EvalReport, FilePair
    from chordcli.segments import Transcription

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


#: Choices of ``--vocab``, from :data:`theory.simplify.VOCABULARIES` (richest first).
Vocabulary = StrEnum("Vocabulary", {name.upper(): name for name in VOCABULARIES})
_DEFAULT_VOCABULARY = Vocabulary(VOCABULARIES[0])


# ---------------------------------------------------------------------------
# Reporting


def _stderr() -> Console:
    """Console on the current standard error (looked up at each call, for test runners)."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _report_error(message: str) -> None:
    """Print ``error: <message>`` on standard error."""
    _stderr().print(Text.assemble(("error:", "bold red"), " ", message))


def _report(message: str) -> None:
    """Print a progress or summary line on standard error."""
    _stderr().print(Text(message))


def _handles_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn a ChordcliError escaping `command` into ``error: ...`` and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except ChordcliError as exc:
            _report_error(str(exc))
            raise typer.Exit(1) from None

    return wrapper


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"chordcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Transcribe the chords of audio recordings, and export and evaluate chord annotations.

    Chords are Harte labels (C:maj7, A:min/b3, N for no chord). Errors go to
    standard error as one line each; the exit status is 1 if any file failed
    and 2 for usage errors.
    """


# ---------------------------------------------------------------------------
# transcribe

_LINK_AUDIO_HELP = (
    "For an HTML page: link the audio by its path relative to the page instead of embedding it."
)


@app.command()
@_handles_errors
def transcribe(
    audio: Annotated[
        list[Path],
        typer.Argument(
            metavar="AUDIO",
            help="Audio files: WAV, FLAC, OGG or MP3, any sample rate, mono, stereo or more.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE|DIR",
            help=(
                "Output file (one input) or existing directory (one file <name>.<format> per "
                "input). Without it, the result of a single input goes to standard output."
            ),
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format",
            "-f",
            help=f"Output format. Default: from the suffix of -o, else {DEFAULT_FORMAT.value}.",
            show_default=False,
        ),
    ] = None,
    vocab: Annotated[
        Vocabulary,
        typer.Option(
            help="Chord vocabulary: full (all 529 chords), sevenths, or majmin (major/minor)."
        ),
    ] = _DEFAULT_VOCABULARY,
    transpose: Annotated[
        int,
        typer.Option(min=-11, max=11, metavar="N", help="Transpose the chords by N semitones."),
    ] = 0,
    capo: Annotated[
        int,
        typer.Option(
            min=0,
            max=11,
            metavar="N",
            help="Write chord shapes for a guitar with a capo on fret N (sounding pitch - N).",
        ),
    ] = 0,
    model: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="Model: 'template' (the chroma-template baseline), a bundled model name, or a "
            "model directory (weights, config.json). Default: the bundled model.",
            show_default=False,
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            metavar="PNG",
            help="Also save a figure of the CQT with the chords and beats (one input only).",
            show_default=False,
        ),
    ] = None,
    beat_sync: Annotated[
        bool,
        typer.Option("--beat-sync", help="Move chord changes to the nearest beat."),
    ] = False,
    link_audio: Annotated[bool, typer.Option("--link-audio", help=_LINK_AUDIO_HELP)] = False,
    tuning: Annotated[
        str,
        typer.Option(
            metavar="auto|CENTS",
            help="Tuning of the recording in cents from A = 440 Hz (-50..50): 'auto' "
            "estimates it from each file; the analysis is centred on it.",
        ),
    ] = "auto",
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace output files that already exist."),
    ] = False,
) -> None:
    """Transcribe the chords of audio files.

    Each file is transcribed on its own; a file that cannot be read is
    reported and the others are still processed.

    For example:

        chordcli transcribe song.wav -o song.lab

        chordcli transcribe *.flac -o out/ --format jams

        chordcli transcribe song.mp3 -o song.musicxml --capo 2

        chordcli transcribe song.mp3 -o song.html
    """
    from chordcli.atomic import check_output_path

    fmt = _resolve_format(output_format, output)
    outputs = _plan_outputs(audio, output=output, fmt=fmt)
    tuning_cents = _parse_tuning(tuning)
    if plot is not None:
        if len(audio) > 1:
            raise typer.BadParameter("--plot takes one input file only", param_hint="'--plot'")
        check_output_path(plot, overwrite=overwrite)
    jobs = _checked_jobs(audio, outputs, overwrite=overwrite)
    n_failed = len(audio) - len(jobs)
    if not jobs:
        _report_transcribed(len(audio), n_failed)
        raise typer.Exit(1)
    # Imported only now: the pipeline pulls in scipy.signal (seconds), which a bad call skips.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from chordcli.pipeline import analyse_file
    from models.backend import ModelError, load_backend
    from theory import key_name

    try:
        backend = load_backend(model)
    except ModelError as exc:
        _report_error(str(exc))
        raise typer.Exit(1) from None
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=_stderr(),
        transient=True,
    )
    with progress:
        task = progress.add_task("transcribing", total=len(jobs))
        for path, target in jobs:
            progress.update(task, description=f"transcribing {path.name}")
            try:
                if target is not None:  # again: an earlier input may have written it
                    check_output_path(target, overwrite=overwrite)
                result = analyse_file(
                    path,
                    backend=backend,
                    vocab=vocab.value,
                    beat_sync=beat_sync,
                    transpose=transpose,
                    capo=capo,
                    tuning_cents=tuning_cents,
                    keep=plot is not None,
                    on_stage=lambda stage, name=path.name: progress.update(
                        task, description=f"transcribing {name}: {stage}"
                    ),
                )
                t = result.transcription
                _write_transcription(
                    t, target, fmt=fmt, overwrite=overwrite, audio=path, link_audio=link_audio
                )
                if plot is not None:
                    from chordcli.plot import plot_transcription

                    plot_transcription(
                        t,
                        result.features,
                        plot,
                        frames_per_second=backend.cqt_config.frames_per_second,
                        bins_per_octave=backend.cqt_config.bins_per_octave,
                        overwrite=overwrite,
                    )
            except ChordcliError as exc:
                progress.console.print(Text.assemble(("error:", "bold red"), " ", str(exc)))
                n_failed += 1
            else:
                tempo = f"{t.tempo_bpm:.0f} bpm" if t.tempo_bpm else "no tempo"
                where = f" -> {target}" if target is not None else ""
                progress.console.print(
                    Text(
                        f"{path}: key {key_name(t.key)}, {tempo}, "
                        f"{len(t.segments)} {_plural(len(t.segments), 'chord')}{where}"
                    )
                )
            progress.advance(task)
    _report_transcribed(len(audio), n_failed)
    if n_failed:
        raise typer.Exit(1)


def _report_transcribed(n_files: int, n_failed: int) -> None:
    """Print the summary line of a batch, or of a single input that failed."""
    if n_files > 1 or n_failed:
        _report(
            f"{n_files - n_failed} of {n_files} {_plural(n_files, 'file')} transcribed, "
            f"{n_failed} failed"
        )


def _parse_tuning(text: str) -> float | None:
    """Parse ``--tuning`` into cents, None for auto; a usage error if invalid."""
    from models.tuning import TuningError, parse_tuning

    try:
        return parse_tuning(text)
    except TuningError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--tuning'") from None


def _checked_jobs(
    audio: list[Path], outputs: list[Path | None], *, overwrite: bool
) -> list[tuple[Path, Path | None]]:
    """Check every input (header only) and output path before any model loads.

    Reports each bad pair on stderr and returns the pairs that can be transcribed, so a
    missing file fails as fast as ``--help``.
    """
    from chordcli.atomic import check_output_path
    from chordcli.audio import check_audio_file

    jobs = []
    for path, target in zip(audio, outputs, strict=True):
        try:
            check_audio_file(path)
            if target is not None:
                check_output_path(target, overwrite=overwrite)
        except ChordcliError as exc:
            _report_error(str(exc))
        else:
            jobs.append((path, target))
    return jobs


def _write_transcription(
    transcription: Transcription,
    target: Path | None,
    *,
    fmt: OutputFormat,
    overwrite: bool,
    audio: Path | None = None,
    link_audio: bool = False,
) -> None:
    """Write a transcription to `target` in `fmt`, or to standard output if `target` is None.

    `audio` and `link_audio` are for the HTML page (the other formats hold no audio).
    """
    from chordcli import writers

    if target is not None:
        if fmt is not OutputFormat.HTML:
            audio = None
        writers.write_transcription(
            transcription,
            target,
            format=fmt,
            overwrite=overwrite,
            audio=audio,
            link_audio=link_audio,
        )
        return
    typer.echo(writers.format_transcription(transcription, format=fmt), nl=False)


def _resolve_format(output_format: OutputFormat | None, output: Path | None) -> OutputFormat:
    """Choose the format: --format, else the suffix of -o, else the default."""
    if output_format is not None:
        return output_format
    if output is not None and not output.is_dir():
        inferred = format_from_suffix(output)
        if inferred is not None:
            return inferred
    return DEFAULT_FORMAT


def _plan_outputs(
    audio: list[Path], *, output: Path | None, fmt: OutputFormat
) -> list[Path | None]:
    """Output file for each input (None: standard output); raise usage errors."""
    if output is None:
        if len(audio) > 1:
            raise typer.BadParameter(
                "several inputs need an output directory", param_hint="'-o' / '--output'"
            )
        if fmt.is_binary:
            raise typer.BadParameter(
                f"{fmt.value} output needs a file", param_hint="'-o' / '--output'"
            )
        return [None]
    if output.is_dir():
        targets = [output / (path.stem + fmt.suffix) for path in audio]
        if len(set(targets)) < len(targets):
            raise typer.BadParameter(
                "several inputs have the same name; give them separate runs",
                param_hint="'AUDIO...'",
            )
        return targets
    if len(audio) > 1:
        raise typer.BadParameter(
            f"'{output}' is not a directory; several inputs need an existing output directory",
            param_hint="'-o' / '--output'",
        )
    return [output]


def _format_duration(seconds: float) -> str:
    """``m:ss.s`` for a duration in seconds."""
    minutes, tenths = divmod(round(seconds * 10), 600)
    return f"{minutes}:{tenths / 10:04.1f}"


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


# ---------------------------------------------------------------------------
# export


_EXPORT_FLAGS = {
    "musicxml": OutputFormat.MUSICXML,
    "leadsheet": OutputFormat.LEADSHEET,
    "chordpro": OutputFormat.CHORDPRO,
    "midi": OutputFormat.MIDI,
    "jams": OutputFormat.JAMS,
    "json": OutputFormat.JSON,
    "lab": OutputFormat.LAB,
}


@app.command()
@_handles_errors
def export(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="IN",
            help="Transcription to convert: a LAB file, a chordcli JSON transcription or JAMS.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="OUT",
            help="Output file. Without it, text formats go to standard output.",
            show_default=False,
        ),
    ] = None,
    musicxml: Annotated[
        bool, typer.Option("--musicxml", help="Write a MusicXML lead sheet.")
    ] = False,
    leadsheet: Annotated[
        bool, typer.Option("--leadsheet", help="Write a text lead sheet (Markdown).")
    ] = False,
    chordpro: Annotated[bool, typer.Option("--chordpro", help="Write a ChordPro chart.")] = False,
    midi: Annotated[bool, typer.Option("--midi", help="Write a MIDI file (needs -o).")] = False,
    jams: Annotated[bool, typer.Option("--jams", help="Write JAMS.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Write chordcli JSON.")] = False,
    lab: Annotated[bool, typer.Option("--lab", help="Write LAB.")] = False,
    tempo: Annotated[
        float | None,
        typer.Option(
            min=1.0,
            max=400.0,
            metavar="BPM",
            help="Lay bars on a constant grid at this tempo, replacing any beats of the input. "
            f"Default: the input's beats or tempo, else {DEFAULT_TEMPO_BPM:g} bpm.",
            show_default=False,
        ),
    ] = None,
    beats_per_bar: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=16,
            metavar="N",
            help="Beats in a bar (N/4 time). Default: the input's, else 4.",
            show_default=False,
        ),
    ] = None,
    audio: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="For an HTML page: the recording it plays (an input without beats takes its "
            "beats from the recording).",
            show_default=False,
        ),
    ] = None,
    link_audio: Annotated[bool, typer.Option("--link-audio", help=_LINK_AUDIO_HELP)] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the output file if it exists.")
    ] = False,
) -> None:
    """Convert a transcription (for example a hand-corrected LAB) to another format.

    The format comes from one of the format options, else from the suffix of -o.
    A LAB file has no key and no beats: the key is estimated from its chords and
    bars follow a constant tempo (--tempo).

    For example:

        chordcli export song.lab --leadsheet

        chordcli export song.lab -o song.musicxml --tempo 96 --beats-per-bar 3

        chordcli export song.json -o song.mid

        chordcli export song.lab --audio song.mp3 -o song.html
    """
    import dataclasses

    from chordcli.atomic import check_output_path
    from chordcli.writers import format_transcription, read_transcription, write_transcription
    from theory import key_name

    flags = (musicxml, leadsheet, chordpro, midi, jams, as_json, lab)
    chosen = [fmt for flag, fmt in zip(flags, _EXPORT_FLAGS.values(), strict=True) if flag]
    if len(chosen) > 1:
        names = ", ".join(f"--{fmt.value}" for fmt in chosen)
        raise typer.BadParameter(f"choose one output format, not {names}", param_hint=names)
    fmt = chosen[0] if chosen else (format_from_suffix(output) if output is not None else None)
    if fmt is None:
        options = ", ".join(f"--{name}" for name in _EXPORT_FLAGS)
        raise typer.BadParameter(
            f"give a format option ({options}) or an output file with a known suffix",
            param_hint="'-o' / '--output'",
        )
    if output is None and fmt.is_binary:
        raise typer.BadParameter(f"{fmt.value} output needs a file", param_hint="'-o' / '--output'")
    if (audio is not None or link_audio) and fmt is not OutputFormat.HTML:
        hint = "'--audio'" if audio is not None else "'--link-audio'"
        raise typer.BadParameter("is for an HTML page (-o FILE.html)", param_hint=hint)
    if link_audio and audio is None:
        raise typer.BadParameter("needs --audio FILE", param_hint="'--link-audio'")

    if output is not None:
        check_output_path(output, overwrite=overwrite)
    transcription = read_transcription(source)
    if tempo is not None:
        transcription = dataclasses.replace(
            transcription, tempo_bpm=tempo, beats_s=(), downbeats_s=()
        )
    if beats_per_bar is not None:
        transcription = dataclasses.replace(transcription, beats_per_bar=beats_per_bar)
    if audio is not None and tempo is None:
        from chordcli.writers.html import with_audio_beats

        transcription = with_audio_beats(transcription, audio)
    n = len(transcription.segments)
    summary = f"{source}: {n} {_plural(n, 'chord segment')}, key {key_name(transcription.key)}"
    if output is None:
        _report(summary)
        typer.echo(format_transcription(transcription, format=fmt), nl=False)
        return
    written = write_transcription(
        transcription, output, format=fmt, overwrite=overwrite, audio=audio, link_audio=link_audio
    )
    _report(f"{summary} -> {written} ({fmt.value})")


def _check_input_file(path: Path) -> None:
    """Raise ChordcliError unless `path` is an existing file."""
    if not path.exists():
        raise ChordcliError(f"cannot read '{path}': file not found")
    if path.is_dir():
        raise ChordcliError(f"cannot read '{path}': it is a directory")


# ---------------------------------------------------------------------------
# train


@app.command()
@_handles_errors
def train(
    data_dir: Annotated[
        Path,
        typer.Argument(
            metavar="DATA_DIR",
            help="Training data: audio files with LAB annotations of the same name "
            "(and optional .key files), searched recursively; hidden files are skipped.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Run directory for checkpoints, history and the trained model. "
            "Default: .cache/runs/chordnet-<date-time>.",
            show_default=False,
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Number of epochs. Default: from the configuration "
            f"({DEFAULT_TRAIN.epochs}); with --resume, from the run.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="Run configuration (JSON with sections train, chordnet, cqt, augment; "
            "missing values take the defaults).",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue the run in --out from its last checkpoint."),
    ] = False,
    init: Annotated[
        str | None,
        typer.Option(
            metavar="MODEL",
            help="Start from this trained model's weights (a name such as chordnet-v1, or a "
            "weights or run directory) instead of random ones. Without --config the run takes "
            "the model's settings.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help=f"Random seed. Default: from the configuration ({DEFAULT_TRAIN.seed}).",
            show_default=False,
        ),
    ] = None,
    cache: Annotated[
        Path,
        typer.Option(metavar="DIR", help="Feature cache directory (reused by later runs)."),
    ] = DEFAULT_CACHE_DIR,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Processes computing the features of songs not in the cache yet.",
        ),
    ] = 1,
) -> None:
    """Train ChordNet on labelled audio.

    Features are computed once and cached. Each epoch is validated on held-out songs and
    checkpointed; a stopped run continues with --resume. Files that cannot be used are
    reported and skipped (exit status 1 at the end).

    For example:

        chordcli train data/ --out runs/my-run

        chordcli train data/ --out runs/my-run --resume

        chordcli train data/ --out runs/tuned --init chordnet-v1 --config tune.json
    """
    if resume and out is None:
        raise typer.BadParameter(
            "--resume needs the run directory in --out", param_hint="'--resume'"
        )
    if not data_dir.is_dir():
        reason = "it is not a directory" if data_dir.exists() else "directory not found"
        raise ChordcliError(f"cannot read '{data_dir}': {reason}")
    if out is not None and not resume and out.exists() and any(out.iterdir()):
        raise ChordcliError(
            f"run directory '{out}' already exists and is not empty",
            hint="use --resume to continue it, or choose another --out",
        )
    if resume and out is not None and not out.is_dir():
        raise ChordcliError(f"cannot resume '{out}': directory not found")
    import dataclasses

    from models.backend import ModelError, model_dir
    from models.train import RunConfig, default_run_dir, load_run_config
    from models.train import train as run_training

    run_dir = out if out is not None else default_run_dir()
    try:
        run_config: RunConfig | None = None
        if resume and (config is not None or seed is not None or init is not None):
            _report(
                "--config, --seed and --init are ignored with --resume: the run keeps its settings"
            )
        if resume:
            if epochs is not None:  # only the number of epochs can change
                run_config = RunConfig(train=dataclasses.replace(DEFAULT_TRAIN, epochs=epochs))
        elif config is not None or epochs is not None or seed is not None or init is not None:
            if config is not None:
                run_config = load_run_config(config)
            elif init is not None:
                run_config = load_run_config(model_dir(init) / "config.json")
            else:
                run_config = RunConfig()
            given = (("epochs", epochs), ("seed", seed), ("init", init))
            changes = {k: v for k, v in given if v is not None}
            run_config = dataclasses.replace(
                run_config, train=dataclasses.replace(run_config.train, **changes)
            )
        with _TrainDisplay() as display:
            result = run_training(
                data_dir,
                out_dir=run_dir,
                config=run_config,
                cache_dir=cache,
                resume=resume,
                on_event=display.handle,
                jobs=jobs,
            )
    except ModelError as exc:
        _report_error(str(exc))
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _report_error(
            f"interrupted; continue with: chordcli train {data_dir} --out {run_dir} --resume"
        )
        raise typer.Exit(130) from None
    best = result.best_metrics
    accuracy = (
        f", chord accuracy {best['val_chord_acc']:.1%} (validation)"
        if "val_chord_acc" in best
        else ""
    )
    stop = " (early stop)" if result.stopped_early else ""
    _report(
        f"{result.epochs_run} epochs{stop}; best epoch {result.best_epoch}{accuracy}; "
        f"{len(result.problems)} {_plural(len(result.problems), 'file')} skipped; "
        f"model in {result.run_dir}"
    )
    if result.problems:
        raise typer.Exit(1)


class _TrainDisplay:
    """Renders :class:`models.train.TrainEvent` values with rich on standard error."""

    _HEADS = ("chord", "chroma", "smooth_chroma", "bass", "key", "change")

    def __enter__(self) -> _TrainDisplay:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[metrics]}"),
            console=_stderr(),
        )
        self.progress.__enter__()
        self.task: object | None = None
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def _task(self, description: str, total: int) -> object:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(description, total=total, metrics="")
        return self.task

    def handle(self, event: object) -> None:
        """Show one training event."""
        kind = event.kind  # type: ignore[attr-defined]
        console = self.progress.console
        if kind == "problem":
            console.print(Text.assemble(("skipped:", "bold yellow"), " ", event.message))
        elif kind == "load":
            if event.step == 1 or self.task is None:
                self._task("features", event.steps)
            self.progress.update(self.task, completed=event.step)
        elif kind == "start":
            info = event.info
            console.print(
                f"{info['train_songs']} training and {info['validation_songs']} validation songs, "
                f"{info['examples']} examples, {info['steps_per_epoch']} steps per epoch, "
                f"{info['parameters']:,} parameters; epochs {info['first_epoch']}..{info['epochs']}"
            )
        elif kind == "step":
            if event.step == 1:
                self._task(f"epoch {event.epoch}", event.steps)
            m = event.metrics
            text = f"loss {m.get('loss', 0):.3f} chord acc {m.get('chord_acc', 0):.1%}"
            self.progress.update(self.task, completed=event.step, metrics=text)
            if not console.is_terminal and event.step % max(1, event.steps // 10) == 0:
                # a log file gets a line every tenth of an epoch instead of a live bar
                console.print(f"epoch {event.epoch} step {event.step}/{event.steps}: {text}")
        elif kind == "epoch":
            m = event.metrics
            losses = " ".join(f"{h} {m[h]:.3f}" for h in self._HEADS if h in m)
            line = f"epoch {event.epoch}: loss {m['loss']:.3f} ({losses})"
            line += f", chord acc {m.get('chord_acc', 0):.1%}"
            if "val_loss" in m:
                val = " ".join(
                    f"{h} {m[f'val_{h}_acc']:.1%}"
                    for h in ("chord", "bass", "key", "tones")
                    if f"val_{h}_acc" in m
                )
                line += f"; validation loss {m['val_loss']:.3f}, accuracy {val}"
            line += f"; {m['frames_per_second']:.0f} frames/s"
            if m.get("skipped_steps"):
                line += f"; {m['skipped_steps']:.0f} steps skipped (loss not finite)"
            if event.info.get("improved"):
                line += " *"
            console.print(line)
        elif kind == "stop":
            console.print(event.message)


# ---------------------------------------------------------------------------
# eval


@app.command(name="eval")
@_handles_errors
def evaluate(
    ref: Annotated[
        Path | None,
        typer.Argument(
            metavar="REF",
            help="Reference annotations: a LAB or JAMS file, or a directory searched "
            "recursively (a LAB file's key is read from <name>.key beside it). "
            "With --audio: default DIR itself.",
            show_default=False,
        ),
    ] = None,
    est: Annotated[
        Path | None,
        typer.Argument(
            metavar="EST",
            help="Estimates to score: a LAB, JAMS or chordcli JSON file, or a directory "
            "paired with REF by file name. With --audio: an existing directory to save the "
            "transcriptions to as chordcli JSON (optional).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the scores as CSV, one row per song.")
    ] = False,
    confusion: Annotated[
        Path | None,
        typer.Option(
            metavar="PNG",
            help="Also save a chord-quality confusion figure to PNG, its matrix to "
            "<PNG name>.csv and per-quality recall/precision to <PNG name>-qualities.csv.",
            show_default=False,
        ),
    ] = None,
    audio: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            exists=True,
            file_okay=False,
            help="Transcribe the audio files in DIR (searched recursively) and score them "
            "against the LAB files of the same name beside them (or in REF).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Model used with --audio: 'template' (the chroma-template baseline), a "
            "bundled model name or a model directory. Default: the bundled model.",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace confusion or transcription files that exist."),
    ] = False,
) -> None:
    """Score chord estimates against references with the mir_eval chord metrics.

    Prints root, majmin, majmin_inv, mirex, thirds, triads, sevenths, tetrads
    (and their _inv forms), overseg, underseg and seg, duration-weighted over
    all songs (as MIREX) and as the mean over songs, and the key score where
    both sides have a key. Files without a partner are listed on standard
    error; the exit status is 1 if a file could not be read or nothing was
    scored.

    For example:

        chordcli eval refs/ ests/ --confusion confusion.png

        chordcli eval song.lab song.json --json

        chordcli eval --audio data/dev --model template
    """
    import json

    from chordcli.atomic import check_output_path
    from chordcli.evaluate import evaluate_pairs, pair_paths

    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv", param_hint="'--json' / '--csv'")
    if model is not None and audio is None:
        raise typer.BadParameter("--model is used with --audio only", param_hint="'--model'")
    if audio is None and (ref is None or est is None):
        raise typer.BadParameter(
            "give a reference and an estimate (files or directories), or --audio DIR",
            param_hint="'REF' / 'EST'",
        )
    if confusion is not None:
        for path in _confusion_outputs(confusion):
            check_output_path(path, overwrite=overwrite)

    if audio is not None:
        report = _evaluate_audio(
            audio,
            ref=ref,
            est=est,
            model=model,
            overwrite=overwrite,
            confusion=confusion is not None,
        )
    else:
        assert ref is not None and est is not None
        report = evaluate_pairs(pair_paths(ref, est), confusion=confusion is not None)

    for problem in report.problems:
        if problem.kind == "missing":
            _report(f"skipped: {problem.message}")
        else:
            _report_error(problem.message)
    if not report.songs:
        _report_error("nothing was scored" + (" (no pairs found)" if not report.problems else ""))
        raise typer.Exit(1)

    if as_json:
        from chordcli.evaluate import report_to_dict

        typer.echo(json.dumps(report_to_dict(report), indent=2))
    elif as_csv:
        from chordcli.evaluate import report_to_csv

        typer.echo(report_to_csv(report), nl=False)
    else:
        _print_eval_tables(report)

    if report.confusion is not None and confusion is not None:
        from chordcli.confusion import save_confusion

        written = save_confusion(report.confusion, confusion, overwrite=overwrite)
        _report("wrote " + ", ".join(str(p) for p in written))
    n_errors = sum(p.kind == "error" for p in report.problems)
    n_missing = len(report.problems) - n_errors
    _report(
        f"{len(report.songs)} {_plural(len(report.songs), 'song')} scored "
        f"({_format_duration(report.duration_s)}), {n_missing} skipped without a partner, "
        f"{n_errors} failed"
    )
    if report.failed:
        raise typer.Exit(1)


def _confusion_outputs(png: Path) -> tuple[Path, Path, Path]:
    """Return the three files written by ``--confusion PNG``."""
    return png, png.with_name(png.stem + ".csv"), png.with_name(png.stem + "-qualities.csv")


def _evaluate_audio(
    audio: Path,
    *,
    ref: Path | None,
    est: Path | None,
    model: str | None,
    overwrite: bool,
    confusion: bool,
) -> EvalReport:
    """Transcribe a labelled folder with a model and score it (``eval --audio``)."""
    from chordcli.atomic import check_output_path
    from chordcli.evaluate import EvalError, evaluate_audio_folder, find_labelled_audio
    from chordcli.jsonio import write_json
    from chordcli.pipeline import transcribe_file
    from models.backend import ModelError, load_backend

    if ref is not None and not ref.is_dir():
        raise EvalError(f"with --audio, REF must be a directory of annotations: '{ref}'")
    if est is not None:
        if not est.is_dir():
            raise EvalError(
                f"cannot save transcriptions to '{est}': not a directory", hint="create it first"
            )
        for pair in find_labelled_audio(audio, references=ref).pairs:
            check_output_path(est / f"{pair.name}.json", overwrite=overwrite)
    try:
        backend = load_backend(model)
    except ModelError as exc:
        _report_error(str(exc))
        raise typer.Exit(1) from None
    total = len(find_labelled_audio(audio, references=ref).pairs)
    done = 0

    def progress(pair: FilePair) -> None:
        nonlocal done
        done += 1
        _report(f"[{done}/{total}] {pair.est_path}")

    def transcribe(path: Path) -> Transcription:
        transcription = transcribe_file(path, backend=backend)
        if est is not None:
            write_json(transcription, est / f"{path.stem}.json", overwrite=overwrite)
        return transcription

    return evaluate_audio_folder(
        audio,
        transcribe=transcribe,
        references=ref,
        model=backend.name,
        confusion=confusion,
        on_song=progress,
        catch=(ModelError,),
    )


#: Columns of the per-song table (all 15 metrics are in --json and --csv).
_SONG_COLUMNS = ("root", "majmin", "majmin_inv", "mirex", "sevenths", "tetrads", "seg")


def _print_eval_tables(report: EvalReport) -> None:
    """Print the per-song, dataset and per-quality tables on standard output."""
    from rich import box
    from rich.table import Table

    from chordcli.evaluate import ALL_METRICS

    out = Console(soft_wrap=False, highlight=False)
    if not out.is_terminal:
        out.width = max(out.width, 120)  # files and pipes get whole tables
    style = {"box": box.SIMPLE_HEAD, "title_justify": "left", "title_style": "bold"}

    def pct(value: float | None) -> str:
        return "-" if value is None or value != value else f"{100 * value:.1f}"

    if len(report.songs) > 1:
        songs = Table(title="Songs (%)", **style)
        songs.add_column("song")
        songs.add_column("duration", justify="right")
        for metric in _SONG_COLUMNS:
            songs.add_column(metric, justify="right")
        songs.add_column("key", justify="right")
        for song in report.songs:
            songs.add_row(
                song.name,
                _format_duration(song.duration_s),
                *(pct(song.scores[m]) for m in _SONG_COLUMNS),
                pct(song.key_score),
            )
        out.print(songs)
    title = f"{len(report.songs)} {_plural(len(report.songs), 'song')}, " + _format_duration(
        report.duration_s
    )
    if report.model:
        title += f", model {report.model}"
    summary = Table(title=f"Scores (%): {title}", **style)
    summary.add_column("metric")
    summary.add_column("weighted", justify="right")
    summary.add_column("mean", justify="right")
    for metric in ALL_METRICS:
        summary.add_row(metric, pct(report.weighted[metric]), pct(report.mean[metric]))
    if report.key_songs:
        summary.add_row(f"key weighted ({report.key_songs})", "", pct(report.key_weighted))
        summary.add_row(f"key exact ({report.key_songs})", "", pct(report.key_accuracy))
    out.print(summary)
    if report.confusion is not None:
        from chordcli.confusion import quality_table

        qualities = Table(title="Chord qualities (%, time in m:ss)", **style)
        for name in ("quality", "ref time", "recall", "precision", "bass", "wrong root"):
            qualities.add_column(name, justify="left" if name == "quality" else "right")
        qualities.add_column("most confused with")
        for row in quality_table(report.confusion):
            if row.reference_s == 0:
                continue
            qualities.add_row(
                row.quality,
                _format_duration(row.reference_s),
                pct(row.recall),
                pct(row.precision),
                pct(row.bass_accuracy),
                pct(row.root_error),
                f"{row.top_confusion} ({pct(row.top_confusion_share)})"
                if row.top_confusion
                else "",
            )
        out.print(qualities)


# ---------------------------------------------------------------------------
# data render

data_app = typer.Typer(
    help="Build the synthetic training corpus.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(data_app, name="data")


def _split_list(text: str | None) -> list[str] | None:
    """Comma-separated items (empty items dropped), or None."""
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


@data_app.command("render")
@_handles_errors
def data_render(
    out: Annotated[Path, typer.Option("--out", help="Corpus folder.")] = DEFAULT_OUT,
    sources: Annotated[
        str | None,
        typer.Option(help="Comma-separated sources: pop909, billboard, rare (default: all)."),
    ] = None,
    split: Annotated[str, typer.Option(help="Which songs to render: train, dev or all.")] = "train",
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Parallel renders.")] = 1,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most N songs per source (quick runs).")
    ] = None,
    ids: Annotated[
        Path | None,
        typer.Option(
            "--ids",
            help="Render only the songs whose ids this text file lists (one per line, "
            "e.g. 001 for POP909, 0003 for Billboard).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = DEFAULT_SEED,
    soundfonts: Annotated[
        str | None,
        typer.Option(help="Comma-separated SoundFont names or paths (default: all installed)."),
    ] = None,
    pop909: Annotated[Path, typer.Option(help="POP909 folder.")] = DEFAULT_POP909_DIR,
    billboard: Annotated[Path, typer.Option(help="Billboard folder.")] = DEFAULT_BILLBOARD_DIR,
    billboard_songs: Annotated[
        int, typer.Option(min=1, help="Billboard progressions to use (the first by id).")
    ] = DEFAULT_BILLBOARD_SONGS,
    lead_db: Annotated[
        str | None,
        typer.Option(
            "--lead-db",
            metavar="LOW,HIGH",
            help="Change each file's melody and bridge level by a gain drawn uniformly in "
            "LOW..HIGH dB (e.g. -30,0 for an augmentation corpus; default: the arrangement's "
            "own mix).",
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Render finished files again.")] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Only print the planned class balance (renders nothing).")
    ] = False,
) -> None:
    """Render POP909 songs, Billboard progressions and rare-quality contexts to FLAC + LAB.

    Files already rendered are skipped, so an interrupted run resumes. At the end the
    manifest (manifest.jsonl) and the class balance (balance.md, balance.csv: minutes per
    quality and per root) are rebuilt in the corpus folder, and the balance is printed.
    """
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from chordcli.corpus import build
    from chordcli.corpus.render import find_soundfonts, select_soundfonts

    chosen_sources = _split_list(sources) or list(build.SOURCES)
    for name in chosen_sources:
        if name not in build.SOURCES:
            raise typer.BadParameter(
                f"unknown source {name!r} (one of {', '.join(build.SOURCES)})",
                param_hint="'--sources'",
            )
    if split not in build.SPLITS:
        raise typer.BadParameter(
            f"unknown split {split!r} (one of {', '.join(build.SPLITS)})", param_hint="'--split'"
        )
    lead_range = None
    if lead_db is not None:
        try:
            low, high = (float(x) for x in lead_db.split(","))
        except ValueError:
            raise typer.BadParameter(
                f"{lead_db!r} is not LOW,HIGH in dB (e.g. -30,0)", param_hint="'--lead-db'"
            ) from None
        lead_range = (low, high)
    song_ids = None
    if ids is not None:
        try:
            song_ids = ids.read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError) as exc:
            raise ChordcliError(f"cannot read id list '{ids}': {exc}") from None
    out_dir = out
    fonts = select_soundfonts(find_soundfonts(), _split_list(soundfonts))
    plan = build.plan_corpus(
        soundfonts=fonts,
        sources=chosen_sources,
        split=split,
        seed=seed,
        limit=limit,
        song_ids=song_ids,
        pop909_dir=pop909,
        billboard_dir=billboard,
        billboard_songs=billboard_songs,
        lead_db=lead_range,
    )
    if dry_run:
        planned = build.planned_balance(plan, workers=jobs)
        _print_balance(planned)
        _report(
            f"{len(plan)} files planned, {planned.total_minutes[2]:.1f} min of audio "
            "(nothing rendered)"
        )
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {"rendered": 0, "skipped": 0, "failed": 0}
    audio_s = 0.0
    started = time.perf_counter()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_stderr(),
    )
    try:
        with progress:
            task = progress.add_task("rendering", total=len(plan))
            for result in build.render_corpus(plan, out_dir, workers=jobs, overwrite=overwrite):
                counts[result.status] += 1
                if result.status == "failed":
                    progress.console.print(
                        Text.assemble(("error:", "bold red"), " ", result.error or "")
                    )
                elif result.status == "rendered":
                    audio_s += result.duration_s
                progress.update(task, description=f"rendering {result.job.stem}")
                progress.advance(task)
    except KeyboardInterrupt:
        _report_error(
            f"interrupted after {counts['rendered']} files; "
            "run the same command again to continue (finished files are kept)"
        )
        raise typer.Exit(130) from None
    build.write_manifest(plan, out_dir)
    balance = build.corpus_balance(out_dir)
    md_path, csv_path = build.write_balance(balance, out_dir)
    _print_balance(balance)
    wall_s = time.perf_counter() - started
    per_minute = f", {wall_s / (audio_s / 60):.2f} s per audio minute" if audio_s else ""
    _report(
        f"{counts['rendered']} rendered ({audio_s / 60:.1f} min of audio{per_minute}), "
        f"{counts['skipped']} already done, {counts['failed']} failed; "
        f"manifest and balance in {md_path.parent} ({md_path.name}, {csv_path.name})"
    )
    if counts["failed"]:
        raise typer.Exit(1)


def _print_balance(balance: Balance) -> None:
    """Print a corpus class balance (minutes per quality and per root) on standard error."""
    from rich.table import Table

    from theory.pitch import pc_name
    from theory.vocabulary import QUALITIES

    qualities = Table(title="minutes per quality", title_justify="left")
    roots = Table(title="minutes per root", title_justify="left")
    qualities.add_column("quality")
    roots.add_column("root")
    for name in balance.splits:
        qualities.add_column(name, justify="right")
        roots.add_column(name, justify="right")
    for i, quality in enumerate(QUALITIES):
        qualities.add_row(quality.harte, *(f"{m:.1f}" for m in balance.quality_minutes[:, i]))
    qualities.add_row("N", *(f"{m:.1f}" for m in balance.no_chord_minutes))
    for pc in range(12):
        roots.add_row(pc_name(pc), *(f"{m:.1f}" for m in balance.root_minutes[:, pc]))
    _stderr().print(qualities)
    _stderr().print(roots)


def main() -> None:
    """Run the command line (the ``chordcli`` console script)."""
    app(prog_name="chordcli")
