"""The Python API: what the ``chordcli`` commands do, as functions (see docs/api.md).

Every function is also reachable from the package itself (``chordcli.transcribe``), which
imports this module only when one of them is first used, so ``import chordcli`` stays cheap.
Errors a user can cause raise :class:`~chordcli.errors.ChordcliError` (a file) or
:class:`~models.base.ModelError` (a model); nothing is printed.

Models are loaded once per process and name (:func:`load_model`): transcribing many files
one call at a time does not reload the network.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chordcli.batch import BatchResult, TranscribeOptions, plan_batch, run_batch
from chordcli.errors import ChordcliError, UsageError
from chordcli.formats import OutputFormat
from chordcli.pipeline import DEFAULT_VOCAB

if TYPE_CHECKING:
    from chordcli.corpus.build import Balance, RenderJob, RenderResult
    from chordcli.evaluate import EvalReport, FilePair
    from chordcli.outputs import OutputPlan
    from chordcli.segments import Transcription
    from models.base import ChordBackend
    from models.train import RunConfig, TrainEvent, TrainResult

__all__ = [
    "EXPORT_FORMATS",
    "RenderTally",
    "check_eval_call",
    "check_train_paths",
    "corpus_plan",
    "evaluate_audio",
    "evaluate_files",
    "export",
    "export_format",
    "finish_corpus",
    "load_model",
    "plan_export",
    "read_for_export",
    "train",
    "train_config",
    "transcribe",
    "transcribe_batch",
    "write_export",
]


def load_model(
    model: str | os.PathLike[str] | ChordBackend | None = None, *, views: int | None = None
) -> ChordBackend:
    """Return a loaded model; names and paths load once per process (per number of views).

    Parameters
    ----------
    model : str or PathLike or ChordBackend or None
        A bundled model name (``'chordnet-v1'``), ``'template'`` (the chroma-template
        baseline), a weights directory, or a model already loaded (returned as is). None
        loads the bundled default (:data:`models.backend.DEFAULT_MODEL`).
    views : int, optional
        Pitch views of a model loaded by name or path (an odd number; see
        :func:`models.backend.load_backend`); None: the model's own.

    Raises
    ------
    models.base.ModelError
        If no such model exists or it cannot be loaded, or it cannot take `views`.
    ValueError
        If `views` is given with a model already loaded.
    """
    if model is None or isinstance(model, str | os.PathLike):
        return _load_model(None if model is None else os.fspath(model), views)
    if views is not None:
        raise ValueError("views are set when a model is loaded: pass its name or path")
    return model


@functools.cache
def _load_model(name: str | None, views: int | None) -> ChordBackend:
    from models.backend import load_backend

    return load_backend(name, views=views)


def transcribe(
    audio: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | ChordBackend | None = None,
    vocab: str = DEFAULT_VOCAB,
    beat_sync: bool = False,
    transpose: int = 0,
    capo: int = 0,
    tuning_cents: float | None = None,
    views: int | None = None,
) -> Transcription:
    """Transcribe the chords of one audio file.

    Parameters
    ----------
    audio : str or PathLike
        WAV, FLAC, OGG or MP3 file, any sample rate and channel count.
    model : str or PathLike or ChordBackend or None
        The model (see :func:`load_model`); None: the bundled model.
    vocab : {'full', 'sevenths', 'majmin'}
        Chord vocabulary of the labels.
    beat_sync : bool
        Move chord changes to the nearest beat.
    transpose : int
        Semitones to transpose the chords and key by.
    capo : int
        Capo fret (0..11): chords are given as played with the capo.
    tuning_cents : float, optional
        Tuning of the recording in cents from A = 440 Hz; None estimates it.
    views : int, optional
        Hear the song at this many pitches and average (see :func:`load_model`).

    Returns
    -------
    Transcription
        Chord segments with confidences, key, tempo, beats and downbeats.

    Raises
    ------
    chordcli.errors.AudioError
        If the file cannot be read or used.
    models.base.ModelError
        If the model cannot be loaded.
    """
    from chordcli.pipeline import analyse_file

    return analyse_file(
        audio,
        backend=load_model(model, views=views),
        vocab=vocab,
        beat_sync=beat_sync,
        transpose=transpose,
        capo=capo,
        tuning_cents=tuning_cents,
    ).transcription


def transcribe_batch(
    audio: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    format: OutputFormat | str | None = None,
    model: str | os.PathLike[str] | ChordBackend | None = None,
    options: TranscribeOptions | None = None,
    overwrite: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> list[BatchResult]:
    """Transcribe audio files into an output directory (or one file into `output`).

    Parameters
    ----------
    audio : sequence of path
        Audio files.
    output : path
        A directory (one ``<stem>.<suffix>`` per input): an existing one, or a string ending
        in ``/`` (created when the first result is written; its parent must exist). Or a
        file for one input. Never one of the inputs (see :mod:`chordcli.outputs`).
    format : OutputFormat or str, optional
        ``lab``, ``json``, ``jams``, ``musicxml``, ``leadsheet``, ``chordpro``, ``midi`` or
        ``html``; None takes it from the suffix of `output` (a suffix that selects no format
        is a UsageError), else ``lab``.
    model : str or PathLike or ChordBackend or None
        The model (see :func:`load_model`).
    options : TranscribeOptions, optional
        Vocabulary, beat sync, transposition, capo, tuning, pitch views; the defaults if
        None.
    overwrite : bool
        Replace outputs that exist.
    on_file : callable, optional
        Called with each path before it is transcribed.

    Returns
    -------
    list of BatchResult
        One per input, in order; a file that failed has its ``error`` set and the others
        are still transcribed.

    Raises
    ------
    chordcli.errors.UsageError
        If `output` does not fit the inputs (several inputs but not a directory, two
        inputs of the same name, an unknown suffix, an output that is an input).
    models.base.ModelError
        If the model cannot be loaded.
    """
    plan = plan_batch(audio, output=output, format=format, overwrite=overwrite)
    backend = load_model(model, views=None if options is None else options.views)
    return list(run_batch(plan, backend=backend, options=options, on_file=on_file))


def evaluate_files(
    reference: str | os.PathLike[str],
    estimate: str | os.PathLike[str],
    *,
    confusion: bool = False,
) -> EvalReport:
    """Score chord estimates against references with the mir_eval chord metrics.

    Parameters
    ----------
    reference, estimate : str or PathLike
        Two files (LAB or JAMS references; LAB, JAMS or chordcli JSON estimates), or two
        directories searched recursively and paired by file stem.
    confusion : bool
        Also tally the chord-quality confusion (``report.confusion``).

    Returns
    -------
    EvalReport
        Per-song scores, duration-weighted and mean scores, key scores; files without a
        partner or unreadable are ``report.problems``, never exceptions.
    """
    from chordcli.evaluate import evaluate_pairs, pair_paths

    return evaluate_pairs(pair_paths(reference, estimate), confusion=confusion)


def check_eval_call(
    ref: str | os.PathLike[str] | None,
    est: str | os.PathLike[str] | None,
    *,
    as_json: bool = False,
    as_csv: bool = False,
    audio: str | os.PathLike[str] | None = None,
    model: str | None = None,
    confusion: str | os.PathLike[str] | None = None,
) -> None:
    """Check that the inputs and options of ``chordcli eval`` go together.

    Raises
    ------
    UsageError
        If both JSON and CSV are asked for, a model is given without audio, neither a
        reference and estimate nor an audio folder is given, or the confusion figure is not
        a ``.png`` file or one of its files is an input.
    """
    if confusion is not None:
        from chordcli.confusion import confusion_paths
        from chordcli.outputs import check_plot_path, refuse_inputs

        inputs = [Path(p) for p in (ref, est) if p is not None]
        check_plot_path(Path(confusion), inputs=inputs, suffixes=(".png",), option="'--confusion'")
        refuse_inputs(confusion_paths(confusion), inputs, option="'--confusion'")
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv", param_hint="'--json' / '--csv'")
    if model is not None and audio is None:
        raise UsageError("--model is used with --audio only", param_hint="'--model'")
    if audio is None and (ref is None or est is None):
        raise UsageError(
            "give a reference and an estimate (files or directories), or --audio DIR",
            param_hint="'REF' / 'EST'",
        )


def evaluate_audio(
    folder: str | os.PathLike[str],
    *,
    references: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | ChordBackend | None = None,
    save_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    confusion: bool = False,
    on_song: Callable[[FilePair, int, int], None] | None = None,
) -> EvalReport:
    """Transcribe the labelled audio of a folder with a model and score it.

    Parameters
    ----------
    folder : str or PathLike
        Audio files (searched recursively), each with a same-stem ``.lab`` beside it or in
        `references`.
    references : str or PathLike, optional
        Directory of reference annotations instead of the LAB files beside the audio.
    model : str or PathLike or ChordBackend or None
        The model (see :func:`load_model`).
    save_dir : str or PathLike, optional
        Existing directory to save each transcription to as ``<stem>.json``.
    overwrite : bool
        Replace transcriptions in `save_dir` that exist.
    confusion : bool
        Also tally the chord-quality confusion.
    on_song : callable, optional
        Called as ``on_song(pair, done, total)`` after each song.

    Returns
    -------
    EvalReport
        As :func:`evaluate_files`, with the model's name; a song the model fails on is a problem
        of the report.

    Raises
    ------
    chordcli.evaluate.EvalError
        If `references` or `save_dir` is not a directory.
    chordcli.errors.OutputExistsError
        If a transcription to save exists and `overwrite` is false (checked before any
        transcription).
    models.base.ModelError
        If the model cannot be loaded.
    """
    from chordcli.evaluate import evaluate_audio_folder, find_labelled_audio
    from chordcli.jsonio import write_json
    from chordcli.pipeline import transcribe_file
    from models.base import ModelError

    ref = Path(references) if references is not None else None
    est = Path(save_dir) if save_dir is not None else None
    _check_audio_eval(folder, ref, est, overwrite=overwrite)
    backend = load_model(model)
    total = len(find_labelled_audio(folder, references=ref).pairs)
    done = 0

    def progress(pair: FilePair) -> None:
        nonlocal done
        done += 1
        if on_song is not None:
            on_song(pair, done, total)

    def transcribe_one(path: Path) -> Transcription:
        transcription = transcribe_file(path, backend=backend)
        if est is not None:
            write_json(transcription, est / f"{path.stem}.json", overwrite=overwrite)
        return transcription

    return evaluate_audio_folder(
        folder,
        transcribe=transcribe_one,
        references=ref,
        model=backend.name,
        confusion=confusion,
        on_song=progress,
        catch=(ModelError,),
    )


#: The formats ``chordcli export`` offers as options (``--musicxml`` ...), in their order.
EXPORT_FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat.MUSICXML,
    OutputFormat.LEADSHEET,
    OutputFormat.CHORDPRO,
    OutputFormat.MIDI,
    OutputFormat.JAMS,
    OutputFormat.JSON,
    OutputFormat.LAB,
)


def _check_audio_eval(
    folder: str | os.PathLike[str], ref: Path | None, est: Path | None, *, overwrite: bool
) -> None:
    """Check the reference and save folders of :func:`evaluate_audio` before any model loads."""
    from chordcli.atomic import check_output_path
    from chordcli.evaluate import EvalError, find_labelled_audio

    if ref is not None and not ref.is_dir():
        raise EvalError(f"with --audio, REF must be a directory of annotations: '{ref}'")
    if est is not None:
        if not est.is_dir():
            raise EvalError(
                f"cannot save transcriptions to '{est}': not a directory", hint="create it first"
            )
        for pair in find_labelled_audio(folder, references=ref).pairs:
            check_output_path(est / f"{pair.name}.json", overwrite=overwrite)


def export_format(
    output: str | os.PathLike[str] | None,
    *,
    chosen: Sequence[OutputFormat] = (),
    audio: str | os.PathLike[str] | None = None,
    link_audio: bool = False,
) -> OutputFormat:
    """Choose the format of an export: the one chosen, else the suffix of `output`.

    `audio` and `link_audio` (the recording of an HTML page) are checked against it.

    Raises
    ------
    UsageError
        If several formats are chosen, none is chosen and `output` is a directory or has no
        known suffix, a binary format (MIDI) has no output file, or a recording is given for a
        format other than HTML (or linked without being given).
    """
    from chordcli.outputs import format_of, means_directory

    hint = "'-o' / '--output'"
    options = ", ".join(f"--{fmt.value}" for fmt in EXPORT_FORMATS)
    if len(chosen) > 1:
        names = ", ".join(f"--{fmt.value}" for fmt in chosen)
        raise UsageError(f"choose one output format, not {names}", param_hint=names)
    if chosen:
        fmt = chosen[0]
    elif output is None or means_directory(output):
        raise UsageError(
            f"give a format option ({options}) or an output file with a known suffix",
            param_hint=hint,
        )
    else:
        fmt = format_of(Path(output), option=f"a format option ({options})")
    if output is None and fmt.is_binary:
        raise UsageError(f"{fmt.value} output needs a file", param_hint=hint)
    if (audio is not None or link_audio) and fmt is not OutputFormat.HTML:
        option = "'--audio'" if audio is not None else "'--link-audio'"
        raise UsageError("is for an HTML page (-o FILE.html)", param_hint=option)
    if link_audio and audio is None:
        raise UsageError("needs --audio FILE", param_hint="'--link-audio'")
    return fmt


def plan_export(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None,
    *,
    chosen: Sequence[OutputFormat] = (),
    audio: str | os.PathLike[str] | None = None,
    link_audio: bool = False,
    overwrite: bool = False,
) -> OutputPlan:
    """Check an export before anything is read: its format and output file.

    Parameters
    ----------
    source : str or PathLike
        The transcription file to convert.
    output : str or PathLike or None
        A file, or a directory (ending in ``/``, or existing) that gets ``<stem>.<suffix>``
        (created if missing, its parent must exist); None: standard output.
    chosen, audio, link_audio
        As :func:`export_format`.
    overwrite : bool
        Whether the output may replace a file (never the source or the recording).

    Returns
    -------
    OutputPlan
        The format, the one target (None: standard output) and the directory to create.

    Raises
    ------
    UsageError
        See :func:`export_format`; also if the output is the source or the recording.
    OutputError
        If the output exists (without `overwrite`) or its directory does not.
    """
    from chordcli.atomic import check_output_path
    from chordcli.outputs import OutputPlan, plan_outputs, refuse_inputs

    fmt = export_format(output, chosen=chosen, audio=audio, link_audio=link_audio)
    if output is None:
        return OutputPlan(fmt, (None,))
    plan = plan_outputs([Path(source)], output, format=fmt)
    (target,) = plan.targets
    assert target is not None
    refuse_inputs([target], [Path(source)] + ([Path(audio)] if audio is not None else []))
    if plan.new_directory is None:
        check_output_path(target, overwrite=overwrite)
    return plan


def read_for_export(
    source: str | os.PathLike[str],
    *,
    tempo_bpm: float | None = None,
    beats_per_bar: int | None = None,
    audio: str | os.PathLike[str] | None = None,
    format: OutputFormat | str | None = None,
    on_tempo: Callable[[str], None] | None = None,
) -> Transcription:
    """Read a LAB, chordcli JSON or JAMS transcription, optionally on a new bar grid.

    Parameters
    ----------
    source : str or PathLike
        The transcription file.
    tempo_bpm : float, optional
        Lay bars on a constant grid at this tempo, replacing any beats of the input.
    beats_per_bar : int, optional
        Beats in a bar (N/4 time) instead of the input's.
    audio : str or PathLike, optional
        The recording: a transcription without beats (and no `tempo_bpm`) takes its beats
        (:func:`chordcli.writers.html.with_audio_beats`).
    format : OutputFormat or str, optional
        The output format. An input with neither beats nor a tempo (a LAB) gets the tempo of
        its chord changes (:func:`chordcli.bars.fill_tempo`) when the format lays bars, or
        when the format is not given; other formats keep it without a tempo.
    on_tempo : callable, optional
        Hears which tempo the bar grid takes when one is filled in: ``'tempo 72 bpm
        estimated from the chord changes'``, or ``'tempo 120 bpm assumed (...)'`` when no
        steady beat fits them.

    Raises
    ------
    ChordcliError
        If the file cannot be read or holds no chord segments.
    """
    from chordcli.bars import fill_tempo
    from chordcli.writers import read_transcription

    transcription = read_transcription(source)
    if not transcription.segments:
        raise ChordcliError(f"'{source}' has no chord segments")
    if tempo_bpm is not None:
        transcription = dataclasses.replace(
            transcription, tempo_bpm=tempo_bpm, beats_s=(), downbeats_s=()
        )
    if beats_per_bar is not None:
        transcription = dataclasses.replace(transcription, beats_per_bar=beats_per_bar)
    if audio is not None and tempo_bpm is None:
        from chordcli.writers.html import with_audio_beats

        transcription = with_audio_beats(transcription, audio)
    if format is not None and not OutputFormat(format).has_bars:
        return transcription
    transcription, note = fill_tempo(transcription)  # a LAB: the tempo of its chord changes
    if note is not None and on_tempo is not None:
        on_tempo(note)
    return transcription


def write_export(
    transcription: Transcription,
    plan: OutputPlan,
    *,
    audio: str | os.PathLike[str] | None = None,
    link_audio: bool = False,
    overwrite: bool = False,
) -> Path:
    """Write a transcription read by :func:`read_for_export` where :func:`plan_export` said.

    Returns
    -------
    Path
        The file written.
    """
    from chordcli.outputs import make_directory
    from chordcli.writers import write_transcription

    (target,) = plan.targets
    if target is None:
        raise ValueError("the plan sends the export to standard output")
    if plan.new_directory is not None:
        make_directory(plan.new_directory)
    page = {"audio": audio, "link_audio": link_audio}
    return write_transcription(
        transcription, target, format=plan.format, overwrite=overwrite, **page
    )


def export(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    format: OutputFormat | str | None = None,
    tempo_bpm: float | None = None,
    beats_per_bar: int | None = None,
    audio: str | os.PathLike[str] | None = None,
    link_audio: bool = False,
    overwrite: bool = False,
) -> Path:
    """Convert a transcription file (e.g. a hand-corrected LAB) to another format.

    Parameters
    ----------
    source : str or PathLike
        LAB, chordcli JSON or JAMS transcription.
    output : str or PathLike
        The file to write, or a directory (ending in ``/``, or existing) for
        ``<stem>.<suffix>``; never `source` or `audio`.
    format : OutputFormat or str, optional
        None takes the format from the suffix of `output`.
    tempo_bpm, beats_per_bar : optional
        A new bar grid (see :func:`read_for_export`).
    audio : str or PathLike, optional
        For an HTML page: the recording it plays (and takes beats from).
    link_audio : bool
        For an HTML page: link `audio` by a relative path instead of embedding it.
    overwrite : bool
        Replace `output` if it exists.

    Returns
    -------
    Path
        The file written.
    """
    chosen = () if format is None else (OutputFormat(format),)
    plan = plan_export(
        source, output, chosen=chosen, audio=audio, link_audio=link_audio, overwrite=overwrite
    )
    transcription = read_for_export(
        source, tempo_bpm=tempo_bpm, beats_per_bar=beats_per_bar, audio=audio, format=plan.format
    )
    return write_export(
        transcription, plan, audio=audio, link_audio=link_audio, overwrite=overwrite
    )


def train_config(
    *,
    config: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    init: str | None = None,
    resume: bool = False,
) -> RunConfig | None:
    """Return the settings of a training run from a configuration file and overrides.

    Parameters
    ----------
    config : str or PathLike, optional
        Run configuration (JSON with sections train, chordnet, cqt, augment; missing values
        take the defaults).
    epochs, seed : int, optional
        Override the configuration's.
    init : str, optional
        Start from this trained model's weights; without `config` the run takes that
        model's settings.
    resume : bool
        A resumed run keeps its stored settings: only `epochs` counts.

    Returns
    -------
    RunConfig or None
        None when nothing is given (the defaults, or a resumed run's own settings).
    """
    from models.backend import model_dir
    from models.train import DEFAULT_TRAIN, RunConfig, load_run_config

    if resume:
        if epochs is None:
            return None
        return RunConfig(train=dataclasses.replace(DEFAULT_TRAIN, epochs=epochs))
    if config is None and epochs is None and seed is None and init is None:
        return None
    if config is not None:
        run_config = load_run_config(config)
    elif init is not None:
        run_config = load_run_config(model_dir(init) / "config.json")
    else:
        run_config = RunConfig()
    given = (("epochs", epochs), ("seed", seed), ("init", init))
    changes = {k: v for k, v in given if v is not None}
    return dataclasses.replace(run_config, train=dataclasses.replace(run_config.train, **changes))


def train(
    data_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    config: RunConfig | None = None,
    resume: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    jobs: int = 1,
    on_event: Callable[[TrainEvent], None] | None = None,
) -> TrainResult:
    """Train ChordNet on labelled audio (needs TensorFlow).

    Parameters
    ----------
    data_dir : str or PathLike
        Audio files with LAB annotations of the same name (optional ``.key``).
    out : str or PathLike, optional
        Run directory; None makes ``.cache/runs/chordnet-<date-time>``. It must be empty or
        absent unless `resume`.
    config : RunConfig, optional
        Settings (see :func:`train_config`); None takes the defaults.
    resume : bool
        Continue the run in `out` from its last checkpoint.
    cache_dir : str or PathLike, optional
        Feature cache directory; None takes :data:`models.dataset.DEFAULT_CACHE_DIR`.
    jobs : int
        Processes computing features not in the cache yet.
    on_event : callable, optional
        Receives :class:`models.train.TrainEvent` progress reports.

    Returns
    -------
    TrainResult
        Where the run is and how it went.

    Raises
    ------
    ChordcliError
        If `data_dir` is not a directory, or `out` is not empty (without `resume`) or
        missing (with it).
    models.base.ModelError
        If the run cannot start or diverges (:class:`models.train.TrainError`) or the data
        holds no usable song.
    """
    from models.dataset import DEFAULT_CACHE_DIR
    from models.train import default_run_dir
    from models.train import train as run_training

    data = Path(data_dir)
    run_dir = Path(out) if out is not None else None
    check_train_paths(data, run_dir, resume=resume)
    return run_training(
        data,
        out_dir=run_dir if run_dir is not None else default_run_dir(),
        config=config,
        cache_dir=cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR,
        resume=resume,
        on_event=on_event,
        jobs=jobs,
    )


def check_train_paths(
    data_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None, *, resume: bool
) -> None:
    """Check the data folder and run folder of a training run before anything loads.

    Raises
    ------
    UsageError
        If `resume` is asked for without a run folder.
    ChordcliError
        If `data_dir` is not a directory, or `out` is a file, not empty (without `resume`)
        or missing (with it).
    """
    if resume and out is None:
        raise UsageError("--resume needs the run directory in --out", param_hint="'--resume'")
    data_dir = Path(data_dir)
    out = Path(out) if out is not None else None
    if not data_dir.is_dir():
        reason = "it is not a directory" if data_dir.exists() else "directory not found"
        raise ChordcliError(f"cannot read '{data_dir}': {reason}")
    if out is not None:
        from chordcli.outputs import check_run_dir

        check_run_dir(out, resume=resume)


def _split_list(items: str | Sequence[str] | None) -> list[str] | None:
    """Return comma-separated items (empty ones dropped) as a list; None stays None."""
    if items is None or not isinstance(items, str):
        return None if items is None else list(items)
    return [item.strip() for item in items.split(",") if item.strip()]


def corpus_plan(
    *,
    sources: str | Sequence[str] | None = None,
    split: str = "train",
    ids: str | os.PathLike[str] | None = None,
    soundfonts: str | Sequence[str] | None = None,
    lead_db: str | tuple[float, float] | None = None,
    **options: Any,
) -> list[RenderJob]:
    """Check the choices of a corpus render and list its files.

    Parameters
    ----------
    sources : str or sequence of str, optional
        ``pop909``, ``billboard``, ``rare`` (a list or comma-separated); None: all.
    split : {'train', 'dev', 'all'}
        Which songs to render.
    ids : str or PathLike, optional
        Text file listing the song ids to render (one per line).
    soundfonts : str or sequence of str, optional
        SoundFont names or paths (a list or comma-separated); None: all installed.
    lead_db : str or (float, float), optional
        Melody and bridge gain range in dB, ``(low, high)`` or ``"LOW,HIGH"``.
    **options
        ``seed``, ``limit``, ``pop909_dir``, ``billboard_dir``, ``billboard_songs``,
        ``variant``, ``every``: passed to :func:`chordcli.corpus.build.plan_corpus`.

    Returns
    -------
    list of RenderJob
        The files to render (:func:`chordcli.corpus.build.render_corpus`).

    Raises
    ------
    UsageError
        If a source or the split is unknown, or `lead_db` is not two numbers.
    ChordcliError
        If the id list cannot be read.
    """
    from chordcli.corpus import build
    from chordcli.corpus.render import find_soundfonts, select_soundfonts

    chosen_sources = _split_list(sources) or list(build.SOURCES)
    for name in chosen_sources:
        if name not in build.SOURCES:
            raise UsageError(
                f"unknown source {name!r} (one of {', '.join(build.SOURCES)})",
                param_hint="'--sources'",
            )
    if split not in build.SPLITS:
        raise UsageError(
            f"unknown split {split!r} (one of {', '.join(build.SPLITS)})", param_hint="'--split'"
        )
    variant = options.get("variant", "same")
    if variant not in build.VARIANTS:
        raise UsageError(
            f"unknown variant {variant!r} (one of {', '.join(build.VARIANTS)})",
            param_hint="'--variant'",
        )
    lead_range = _lead_range(lead_db)
    song_ids = None
    if ids is not None:
        try:
            song_ids = Path(ids).read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError) as exc:
            raise ChordcliError(f"cannot read id list '{ids}': {exc}") from None
    fonts = select_soundfonts(find_soundfonts(), _split_list(soundfonts))
    return build.plan_corpus(
        soundfonts=fonts,
        sources=chosen_sources,
        split=split,
        song_ids=song_ids,
        lead_db=lead_range,
        **options,
    )


def _lead_range(lead_db: str | tuple[float, float] | None) -> tuple[float, float] | None:
    """Parse ``"LOW,HIGH"`` in dB; a pair or None passes through."""
    if lead_db is None or not isinstance(lead_db, str):
        return lead_db
    try:
        low, high = (float(x) for x in lead_db.split(","))
    except ValueError:
        raise UsageError(
            f"{lead_db!r} is not LOW,HIGH in dB (e.g. -30,0)", param_hint="'--lead-db'"
        ) from None
    return (low, high)


class RenderTally:
    """Counts the results of :func:`chordcli.corpus.build.render_corpus` as they come.

    Attributes
    ----------
    rendered, skipped, failed : int
        Files rendered now, found rendered already, and failed.
    audio_s : float
        Seconds of audio rendered now.
    """

    def __init__(self) -> None:
        self.rendered = self.skipped = self.failed = 0
        self.audio_s = 0.0
        self._started = time.perf_counter()

    def add(self, result: RenderResult) -> None:
        """Count one result."""
        if result.status == "rendered":
            self.rendered += 1
            self.audio_s += result.duration_s
        elif result.status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1

    def interrupted(self) -> str:
        """Return the message of a render stopped by the user."""
        return (
            f"interrupted after {self.rendered} files; "
            "run the same command again to continue (finished files are kept)"
        )

    def summary(self) -> str:
        """Return one line: files rendered, minutes of audio, speed since the tally began."""
        wall_s = time.perf_counter() - self._started
        minutes = self.audio_s / 60
        per_minute = f", {wall_s / minutes:.2f} s per audio minute" if self.audio_s else ""
        return (
            f"{self.rendered} rendered ({minutes:.1f} min of audio{per_minute}), "
            f"{self.skipped} already done, {self.failed} failed"
        )


def finish_corpus(
    jobs: Sequence[RenderJob], out: str | os.PathLike[str]
) -> tuple[Balance, Path, Path]:
    """Write the manifest and the class balance of a rendered corpus folder.

    Returns
    -------
    balance : Balance
        Minutes per chord quality and per root of the files in `out`.
    md_path, csv_path : Path
        The balance as Markdown and CSV (``balance.md``, ``balance.csv``).
    """
    from chordcli.corpus import build

    build.write_manifest(jobs, out)
    balance = build.corpus_balance(out)
    md_path, csv_path = build.write_balance(balance, out)
    return balance, md_path, csv_path
