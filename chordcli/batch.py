"""Transcribe many audio files: where each result goes, the per-file loop, one error per file.

:func:`plan_batch` checks a call before anything is loaded (the output format, one output
path per input, the figure); :func:`run_batch` transcribes the files one by one with a loaded
model and yields a :class:`BatchResult` per file, so a file that cannot be read or written is
reported and the others are still processed. ``chordcli transcribe`` is these two functions
plus progress display; :func:`chordcli.api.transcribe_batch` is them for Python callers.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chordcli.errors import ChordcliError, UsageError
from chordcli.formats import OutputFormat
from theory.simplify import VOCABULARIES

if TYPE_CHECKING:
    from chordcli.segments import Transcription
    from models.base import ChordBackend

__all__ = [
    "BatchPlan",
    "BatchResult",
    "TranscribeOptions",
    "check_inputs",
    "parse_tuning",
    "plan_batch",
    "run_batch",
    "summary",
]


@dataclass(frozen=True)
class TranscribeOptions:
    """How each file is transcribed (see :func:`chordcli.pipeline.analyse_audio`).

    Attributes
    ----------
    vocab : {'full', 'sevenths', 'majmin'}
        Chord vocabulary of the labels.
    beat_sync : bool
        Move chord changes to the nearest beat.
    transpose : int
        Semitones to transpose the chords and key by.
    capo : int
        Capo fret (0..11); chords are shown as played with the capo.
    tuning_cents : float or None
        Tuning of the recordings in cents from A = 440 Hz; None estimates it per file.
    views : int or None
        Pitch views of the model (:func:`models.backend.load_backend`), applied where the
        model is loaded; None: the model's own.
    """

    vocab: str = VOCABULARIES[0]  # the richest, as chordcli.pipeline.DEFAULT_VOCAB
    beat_sync: bool = False
    transpose: int = 0
    capo: int = 0
    tuning_cents: float | None = None
    views: int | None = None

    def kwargs(self) -> dict[str, Any]:
        """Return the options as keyword arguments of :func:`chordcli.pipeline.analyse_file`."""
        return {
            "vocab": self.vocab,
            "beat_sync": self.beat_sync,
            "transpose": self.transpose,
            "capo": self.capo,
            "tuning_cents": self.tuning_cents,
        }


@dataclass(frozen=True)
class BatchPlan:
    """A checked batch: each input with its output, the format, the figure.

    Attributes
    ----------
    inputs : tuple of Path
        Audio files in the order given.
    targets : tuple of (Path or None)
        Output file of each input; None sends the (single) result to the ``write_text``
        callback of :func:`run_batch` (standard output in the command line).
    format : OutputFormat
        Format of every output.
    plot : Path or None
        Figure of the CQT with chords and beats (one input only).
    overwrite : bool
        Whether existing outputs may be replaced.
    link_audio : bool
        An HTML page links its recording by a relative path instead of embedding it.
    alternatives : bool
        A lead sheet lists each chord's ranked alternatives below the chart.
    new_directory : Path or None
        The output directory to create when the first result is written (``-o newdir/``).
    """

    inputs: tuple[Path, ...]
    targets: tuple[Path | None, ...]
    format: OutputFormat
    plot: Path | None = None
    overwrite: bool = False
    link_audio: bool = False
    alternatives: bool = False
    new_directory: Path | None = None

    def outputs_pending(self) -> bool:
        """Whether the output directory is still to be created (no output can exist yet)."""
        return self.new_directory is not None and not self.new_directory.is_dir()


@dataclass(frozen=True)
class BatchResult:
    """What became of one input file.

    Attributes
    ----------
    path : Path
        The audio file.
    target : Path or None
        Where the transcription was written (None: given to ``write_text``).
    transcription : Transcription or None
        The result; None if the file failed.
    error : ChordcliError or None
        Why the file failed; None if it succeeded.
    """

    path: Path
    target: Path | None
    transcription: Transcription | None = None
    error: ChordcliError | None = None

    def describe(self) -> str:
        """Return one line: the error, or the key, tempo and chord count and where it went."""
        from theory import key_name

        if self.error is not None:
            return str(self.error)
        t = self.transcription
        assert t is not None
        tempo = f"{t.tempo_bpm:.0f} bpm" if t.tempo_bpm else "no tempo"
        where = f" -> {self.target}" if self.target is not None else ""
        n = len(t.segments)
        chords = "chord" if n == 1 else "chords"
        return f"{self.path}: key {key_name(t.key)}, {tempo}, {n} {chords}{where}"


def parse_tuning(text: str) -> float | None:
    """Parse a ``--tuning`` value into cents, None for ``auto`` (see :mod:`models.tuning`).

    Raises
    ------
    UsageError
        If the value is neither ``auto`` nor cents in -50 .. 50.
    """
    from models.tuning import TuningError
    from models.tuning import parse_tuning as parse

    try:
        return parse(text)
    except TuningError as exc:
        raise UsageError(str(exc), param_hint="'--tuning'") from None


def summary(n_files: int, n_failed: int) -> str | None:
    """Return the last line of a batch (several files or a failure), else None."""
    if n_files > 1 or n_failed:
        files = "file" if n_files == 1 else "files"
        return f"{n_files - n_failed} of {n_files} {files} transcribed, {n_failed} failed"
    return None


def plan_batch(
    audio: Sequence[str | os.PathLike[str]],
    *,
    output: str | os.PathLike[str] | None = None,
    format: OutputFormat | str | None = None,
    plot: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    link_audio: bool = False,
    alternatives: bool = False,
) -> BatchPlan:
    """Check a batch before any model loads and decide where each result goes.

    The output rules are those of :mod:`chordcli.outputs`.

    Parameters
    ----------
    audio : sequence of path
        Audio files.
    output : path, optional
        Output file (one input; its suffix selects the format) or directory (a string ending
        in ``/``, or an existing directory; a missing one is created when the first result is
        written, its parent must exist); None: the single result goes to ``write_text`` (see
        :func:`run_batch`).
    format : OutputFormat or str, optional
        Output format; None takes it from the suffix of `output`, else ``lab``.
    plot : path, optional
        Also save a figure of the CQT with the chords and beats (one input only): PNG, SVG or
        PDF by its suffix.
    overwrite : bool
        Replace outputs that exist (never an input).
    link_audio : bool
        An HTML page links its recording instead of embedding it.
    alternatives : bool
        A lead sheet lists each chord's ranked alternatives below the chart.

    Raises
    ------
    UsageError
        If the outputs do not fit the inputs (see :func:`chordcli.outputs.plan_outputs`: an
        unknown suffix, an output that is an input, ...), `plot` is given with several inputs
        or has no figure suffix, `link_audio` is asked for a format other than HTML, or
        `alternatives` for another format than the lead sheet.
    OutputError
        If the figure cannot be written.
    """
    from chordcli.atomic import check_output_path
    from chordcli.outputs import check_plot_path, plan_outputs

    inputs = tuple(Path(path) for path in audio)
    outputs = plan_outputs(inputs, output, format=format)
    if link_audio and outputs.format is not OutputFormat.HTML:
        raise UsageError(
            f"is for an HTML page (-o FILE.html), not {outputs.format.value} output",
            param_hint="'--link-audio'",
        )
    if alternatives and outputs.format is not OutputFormat.LEADSHEET:
        raise UsageError(
            f"applies to the lead sheet, not {outputs.format.value} (hint: -f leadsheet or "
            "-o song.md)",
            param_hint="'--alternatives'",
        )
    figure = Path(plot) if plot is not None else None
    if figure is not None:
        if len(inputs) > 1:
            raise UsageError("--plot takes one input file only", param_hint="'--plot'")
        targets = [t for t in outputs.targets if t is not None]
        check_plot_path(figure, inputs=inputs, outputs=targets)
        check_output_path(figure, overwrite=overwrite)
    return BatchPlan(
        inputs,
        outputs.targets,
        outputs.format,
        figure,
        overwrite,
        link_audio,
        alternatives,
        outputs.new_directory,
    )


def check_inputs(plan: BatchPlan) -> tuple[BatchPlan, list[BatchResult]]:
    """Check every input (its header only) and output path before any model loads.

    Returns
    -------
    plan : BatchPlan
        The plan of the inputs that can be transcribed.
    rejected : list of BatchResult
        A failed result for each other input, in order, so a missing file fails at once.
    """
    from chordcli.atomic import check_output_path
    from chordcli.audio import check_audio_file

    kept: list[tuple[Path, Path | None]] = []
    rejected = []
    for path, target in zip(plan.inputs, plan.targets, strict=True):
        try:
            check_audio_file(path)
            if target is not None and not plan.outputs_pending():
                check_output_path(target, overwrite=plan.overwrite)
        except ChordcliError as exc:
            rejected.append(BatchResult(path, target, error=exc))
        else:
            kept.append((path, target))
    inputs = tuple(path for path, _ in kept)
    return replace(plan, inputs=inputs, targets=tuple(target for _, target in kept)), rejected


def run_batch(
    plan: BatchPlan,
    *,
    backend: ChordBackend,
    options: TranscribeOptions | None = None,
    on_file: Callable[[Path], None] | None = None,
    on_stage: Callable[[Path, str], None] | None = None,
    write_text: Callable[[str], None] | None = None,
) -> Iterator[BatchResult]:
    """Transcribe and write each file of a plan; yield one result per file as it finishes.

    Parameters
    ----------
    plan : BatchPlan
        From :func:`plan_batch`.
    backend : ChordBackend
        A loaded model (:func:`models.backend.load_backend`).
    options : TranscribeOptions, optional
        How to transcribe; the defaults if None.
    on_file : callable, optional
        Called with each input path before it is transcribed (progress display).
    on_stage : callable, optional
        Called with the input path and each stage's name (:data:`chordcli.pipeline.STAGES`).
    write_text : callable, optional
        Receives the rendered text of a result without an output file; None skips it.

    Yields
    ------
    BatchResult
        Per file, in order; a :class:`~chordcli.errors.ChordcliError` of one file (unreadable
        audio, output that exists) is its result's ``error``, never raised.
    """
    from chordcli.atomic import check_output_path
    from chordcli.outputs import make_directory
    from chordcli.pipeline import analyse_audio

    options = options or TranscribeOptions()
    ahead = _ReadAhead(plan.inputs, backend, options.tuning_cents, on_stage)
    try:
        for i, (path, target) in enumerate(zip(plan.inputs, plan.targets, strict=True)):
            if on_file is not None:
                on_file(path)
            stage = None if on_stage is None else functools.partial(on_stage, path)
            try:
                if target is not None and not plan.outputs_pending():
                    check_output_path(target, overwrite=plan.overwrite)  # an earlier input's?
                result = analyse_audio(  # not held here (no ** call): freed after the network
                    ahead.front(i),
                    backend=backend,
                    vocab=options.vocab,
                    beat_sync=options.beat_sync,
                    transpose=options.transpose,
                    capo=options.capo,
                    keep=plan.plot is not None,
                    on_stage=stage,
                )
                if target is not None and plan.new_directory is not None:
                    make_directory(plan.new_directory)  # only once there is something to write
                _write(result.transcription, target, path, plan=plan, write_text=write_text)
                if plan.plot is not None:
                    _plot(result, plan.plot, backend=backend, overwrite=plan.overwrite)
            except ChordcliError as exc:
                yield BatchResult(path, target, error=exc)
            else:
                yield BatchResult(path, target, transcription=result.transcription)
    finally:
        ahead.close()


class _ReadAhead:
    """Reads the inputs of a batch up to the network, one file ahead of the transcription.

    While the network and the decoder work on file ``i``, a background thread reads file
    ``i + 1`` (decoding, resampling, onset envelope, tuning, CQT and beats:
    :func:`chordcli.pipeline.read_file`); ONNX Runtime and numpy release the interpreter lock,
    so the two overlap on a machine with two or more cores. A single file is read in the
    caller's thread. Stages are reported for the file being read, from the thread reading it.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        backend: ChordBackend,
        tuning_cents: float | None,
        on_stage: Callable[[Path, str], None] | None,
    ) -> None:
        self.paths = list(paths)
        self.config = backend.cqt_config
        self.tuning_cents = tuning_cents
        self.on_stage = on_stage
        self.futures: dict[int, Future[Any]] = {}
        self.pool = ThreadPoolExecutor(1, "chordcli-read") if len(self.paths) > 1 else None

    def _read(self, i: int) -> Any:
        from chordcli.pipeline import read_file

        path = self.paths[i]
        stage = None if self.on_stage is None else functools.partial(self.on_stage, path)
        return read_file(path, config=self.config, tuning_cents=self.tuning_cents, on_stage=stage)

    def front(self, i: int) -> Any:
        """Return file `i` read (:class:`chordcli.pipeline.FrontEnd`); start reading the next.

        Raises
        ------
        chordcli.errors.AudioError
            If file `i` cannot be read or used.
        """
        if self.pool is None:
            return self._read(i)
        for j in [j for j in self.futures if j < i]:  # inputs skipped (their output exists)
            self.futures.pop(j).cancel()
        future = self.futures.pop(i, None) or self.pool.submit(self._read, i)
        if i + 1 < len(self.paths):
            self.futures[i + 1] = self.pool.submit(self._read, i + 1)
        return future.result()

    def close(self) -> None:
        """Stop reading ahead (a read under way finishes in its thread; nothing waits for it)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _write(
    transcription: Transcription,
    target: Path | None,
    audio: Path,
    *,
    plan: BatchPlan,
    write_text: Callable[[str], None] | None,
) -> None:
    """Write a transcription to `target`, or give its text to `write_text` if `target` is None.

    An HTML page gets its recording `audio` (the other formats hold no audio).
    """
    from chordcli import writers

    page = audio if plan.format is OutputFormat.HTML else None
    if target is not None:
        writers.write_transcription(
            transcription,
            target,
            format=plan.format,
            overwrite=plan.overwrite,
            audio=page,
            link_audio=plan.link_audio,
            alternatives=plan.alternatives,
        )
    elif write_text is not None:
        text = writers.format_transcription(
            transcription, format=plan.format, alternatives=plan.alternatives
        )
        write_text(text)


def _plot(result: Any, path: Path, *, backend: ChordBackend, overwrite: bool) -> None:
    """Save the figure of an analysis kept with its features."""
    from chordcli.plot import plot_transcription

    plot_transcription(
        result.transcription,
        result.features,
        path,
        frames_per_second=backend.cqt_config.frames_per_second,
        bins_per_octave=backend.cqt_config.bins_per_octave,
        overwrite=overwrite,
    )
