"""Where outputs go: the output paths, the formats their suffixes select, and what is refused.

The rules, shared by ``chordcli transcribe`` and ``chordcli export`` (and their functions in
:mod:`chordcli.api`):

- ``-o`` ending in ``/`` (or naming an existing directory) is a directory: one file
  ``<input stem>.<format suffix>`` per input goes there. A missing directory is created when
  the first output is written (its parent must exist, so a typo does not scatter folders).
- Otherwise ``-o`` is a file whose suffix selects the format (:data:`chordcli.formats.SUFFIXES`).
  A suffix that selects no format is a usage error listing the known ones, unless a format is
  given explicitly (``--format`` wins over the suffix).
- An output is never one of the inputs (the same path, or the same file through a link): that
  would replace a recording or an annotation with the output, even with ``--overwrite``.
- ``--plot`` writes a figure in the format of its suffix: PNG, SVG or PDF.

The checks raise :class:`chordcli.errors.UsageError`, which the command line reports as a usage
error (exit status 2), before any model is loaded or file written. :func:`check_run_dir` checks
the run directory of ``chordcli train --out``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chordcli.errors import ChordcliError, OutputError, UsageError
from chordcli.formats import DEFAULT_FORMAT, SUFFIXES, OutputFormat, format_from_suffix

__all__ = [
    "PLOT_SUFFIXES",
    "OutputPlan",
    "check_new_directory",
    "check_plot_path",
    "check_run_dir",
    "format_of",
    "known_formats",
    "make_directory",
    "means_directory",
    "plan_outputs",
    "refuse_inputs",
    "same_file",
]

#: Figure formats of ``--plot``, by suffix.
PLOT_SUFFIXES: tuple[str, ...] = (".png", ".svg", ".pdf")
_OUTPUT = "'-o' / '--output'"


@dataclass(frozen=True)
class OutputPlan:
    """The format and output files of a call.

    Attributes
    ----------
    format : OutputFormat
        Format of every output.
    targets : tuple of (Path or None)
        Output file of each input; None: standard output.
    new_directory : Path or None
        The output directory to create before the first output is written (``-o newdir/``).
    """

    format: OutputFormat
    targets: tuple[Path | None, ...]
    new_directory: Path | None = None


def known_formats() -> str:
    """Return the formats and their suffixes, for messages: ``lab (.lab), json (.json), ...``."""
    return ", ".join(f"{fmt.value} ({' '.join(suffixes)})" for fmt, suffixes in SUFFIXES.items())


def means_directory(output: str | os.PathLike[str]) -> bool:
    """Return whether ``-o`` names a directory: a trailing slash, or an existing directory."""
    text = os.fspath(output)
    return text.endswith(("/", os.sep)) or Path(text).is_dir()


def plan_outputs(
    inputs: Sequence[Path],
    output: str | os.PathLike[str] | None,
    *,
    format: OutputFormat | str | None = None,
) -> OutputPlan:
    """Choose the output format and the output file of each input.

    Parameters
    ----------
    inputs : sequence of Path
        The input files, in order.
    output : str or PathLike or None
        ``-o`` as typed (a trailing slash means a directory); None: standard output.
    format : OutputFormat or str, optional
        ``--format``; None takes the format from the suffix of `output`, else the default.

    Returns
    -------
    OutputPlan
        The format, one target per input and the directory to create, if any.

    Raises
    ------
    UsageError
        If the output cannot hold the inputs (several inputs and a file, binary output on the
        terminal, two inputs of the same name), its suffix selects no format, a directory to
        create has no parent, or an output is an input.
    """
    chosen = OutputFormat(format) if format is not None else None
    if output is None:
        fmt = chosen or DEFAULT_FORMAT
        if len(inputs) > 1:
            raise UsageError("several inputs need an output directory", param_hint=_OUTPUT)
        if fmt.is_binary:
            raise UsageError(f"{fmt.value} output needs a file", param_hint=_OUTPUT)
        return OutputPlan(fmt, (None,))
    new_directory = None
    if means_directory(output):
        fmt = chosen or DEFAULT_FORMAT
        folder = Path(output)
        new_directory = None if folder.is_dir() else check_new_directory(folder)
        targets: tuple[Path | None, ...] = tuple(folder / (p.stem + fmt.suffix) for p in inputs)
        if len(set(targets)) < len(targets):
            raise UsageError(
                "several inputs have the same name; give them separate runs",
                param_hint="'AUDIO...'",
            )
    else:
        path = Path(output)
        fmt = chosen or format_of(path)
        if len(inputs) > 1:
            raise UsageError(
                f"'{output}' is not a directory; several inputs need an output directory "
                "(end it with / to create one)",
                param_hint=_OUTPUT,
            )
        targets = (path,)
    refuse_inputs([t for t in targets if t is not None], inputs)
    return OutputPlan(fmt, targets, new_directory)


def format_of(path: Path, *, option: str = "--format") -> OutputFormat:
    """Return the format that the suffix of an output file selects.

    Raises
    ------
    UsageError
        If the suffix selects no format; the message lists the known formats.
    """
    fmt = format_from_suffix(path)
    if fmt is None:
        suffix = f"the suffix '{path.suffix}'" if path.suffix else "no suffix"
        raise UsageError(
            f"'{path}' has {suffix}, which selects no output format; known: {known_formats()}",
            param_hint=_OUTPUT,
            hint=f"give {option}, or end -o with / for a directory",
        )
    return fmt


def check_new_directory(folder: Path) -> Path:
    """Check that the output directory `folder` (missing) can be created; return it.

    Raises
    ------
    UsageError
        If `folder` is an existing file or its parent is not a directory.
    """
    if folder.exists() or folder.is_symlink():
        raise UsageError(f"'{folder}' is a file, not a directory", param_hint=_OUTPUT)
    if not folder.parent.is_dir():
        raise UsageError(
            f"cannot create '{folder}/': directory '{folder.parent}' does not exist",
            param_hint=_OUTPUT,
            hint="directories are created one level deep only",
        )
    return folder


def make_directory(folder: Path) -> None:
    """Create a planned output directory (nothing if it exists now).

    Raises
    ------
    OutputError
        If it cannot be created.
    """
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create '{folder}/': {exc.strerror or exc}") from None


def refuse_inputs(
    outputs: Sequence[Path], inputs: Sequence[Path], *, option: str = _OUTPUT
) -> None:
    """Refuse an output that is one of the inputs.

    Parameters
    ----------
    outputs, inputs : sequence of Path
        Output and input files. An output is an input if both paths resolve to the same
        place, or both exist and are the same file (hard or symbolic links).
    option : str
        The option that named the outputs, for the message.

    Raises
    ------
    UsageError
        Naming the output and the input.
    """
    for out in outputs:
        for source in inputs:
            if same_file(out, source):
                raise UsageError(
                    f"'{out}' is the input '{source}'; chordcli never writes over an input",
                    param_hint=option,
                )


def check_plot_path(
    plot: Path,
    *,
    inputs: Sequence[Path],
    outputs: Sequence[Path] = (),
    suffixes: Sequence[str] = PLOT_SUFFIXES,
    option: str = "'--plot'",
) -> None:
    """Check a figure file (``--plot``): a figure suffix, and neither an input nor an output.

    Parameters
    ----------
    plot : Path
        The figure file.
    inputs, outputs : sequence of Path
        The files it must not be.
    suffixes : sequence of str
        The figure formats written (default :data:`PLOT_SUFFIXES`).
    option : str
        The option that names the figure, for messages.

    Raises
    ------
    UsageError
        If the suffix is not one of `suffixes` or the file is an input or output.
    """
    if plot.suffix.lower() not in suffixes:
        raise UsageError(
            f"'{plot}' is not a figure file: its suffix must be {', '.join(suffixes)}",
            param_hint=option,
        )
    refuse_inputs([plot], [*inputs, *outputs], option=option)


def check_run_dir(out: Path, *, resume: bool) -> None:
    """Check the run directory of ``chordcli train --out``.

    Parameters
    ----------
    out : Path
        The run directory.
    resume : bool
        Whether the run continues (the directory must exist) or starts (it must be missing
        or empty).

    Raises
    ------
    ChordcliError
        If `out` is a file, or exists and is not empty for a new run, or is missing for
        `resume`.
    """
    if out.exists() and not out.is_dir():
        raise ChordcliError(
            f"cannot use '{out}' as the run directory: it is a file",
            hint="give a directory to --out",
        )
    if resume and not out.is_dir():
        raise ChordcliError(f"cannot resume '{out}': directory not found")
    if not resume and out.is_dir() and any(out.iterdir()):
        raise ChordcliError(
            f"run directory '{out}' already exists and is not empty",
            hint="use --resume to continue it, or choose another --out",
        )


def same_file(a: Path, b: Path) -> bool:
    """Return whether two paths name the same file."""
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
