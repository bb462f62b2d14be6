"""What the command-line modules share: reporting on standard error, progress bars, tables.

Standard output carries data only; progress, summaries and errors go to standard error through
:func:`report`. :func:`handles_errors` turns the project's exceptions into one ``error:`` line
and an exit status (2 for usage errors, 1 for the others). :func:`param` builds the Typer option
or argument that :data:`chordcli.helptext.OPTIONS` describes. While a command runs, a
:class:`~chordcli.errors.ChordcliWarning` (a truncated recording) is printed as one
``warning: <message>`` line on standard error, every time it is issued.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from chordcli.errors import ChordcliError, ChordcliWarning, UsageError
from chordcli.helptext import OPTIONS
from models.base import ModelError

if TYPE_CHECKING:
    from rich.progress import Progress

    from chordcli.tables import TextTable

__all__ = [
    "error_text",
    "handles_errors",
    "param",
    "print_tables",
    "progress_bar",
    "report",
    "stderr",
    "warning_text",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def stderr() -> Console:
    """Console on the current standard error (looked up at each call, for test runners)."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


def error_text(message: str) -> Text:
    """Return ``error: <message>`` with the prefix in bold red."""
    return Text.assemble(("error:", "bold red"), " ", message)


def warning_text(message: str) -> Text:
    """Return ``warning: <message>`` with the prefix in bold yellow."""
    return Text.assemble(("warning:", "bold yellow"), " ", message)


def report(message: str, *, error: bool = False) -> None:
    """Print a progress or summary line, or ``error: <message>``, on standard error."""
    stderr().print(error_text(message) if error else Text(message))


def handles_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Report an expected error of `command`: usage errors exit 2, the others 1.

    Warnings of chordcli issued meanwhile are printed as ``warning: <message>`` lines.
    """

    @functools.wraps(command)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with warnings.catch_warnings():
            warnings.simplefilter("always", ChordcliWarning)
            warnings.showwarning = functools.partial(_show_warning, warnings.showwarning)
            try:
                return command(*args, **kwargs)
            except UsageError as exc:
                raise typer.BadParameter(str(exc), param_hint=exc.param_hint) from None
            except (ChordcliError, ModelError) as exc:
                report(str(exc), error=True)
                raise typer.Exit(1) from None

    return wrapper


def _show_warning(
    show: Callable[..., None],
    message: Warning | str,
    category: type[Warning],
    *args: Any,
    **kwargs: Any,
) -> None:
    """Print a ChordcliWarning as one line on standard error; pass the others to `show`."""
    if issubclass(category, ChordcliWarning):
        stderr().print(warning_text(str(message)))
    else:
        show(message, category, *args, **kwargs)


def progress_bar(
    *, timed: bool = False, metrics: bool = False, transient: bool = False
) -> Progress:
    """Return a progress bar on standard error: description, bar, count (and times, metrics)."""
    from rich import progress as p

    columns = [p.TextColumn("{task.description}"), p.BarColumn(), p.MofNCompleteColumn()]
    if timed:
        columns += [p.TimeElapsedColumn(), p.TimeRemainingColumn()]
    if metrics:
        columns.append(p.TextColumn("{task.fields[metrics]}"))
    return p.Progress(*columns, console=stderr(), transient=transient)


def print_tables(tables: Iterable[TextTable], console: Console, **style: object) -> None:
    """Draw text tables with rich (numbers right-aligned)."""
    from rich.table import Table

    for table in tables:
        drawn = Table(title=table.title, **style)  # type: ignore[arg-type]
        for name, right in zip(table.columns, table.right, strict=True):
            drawn.add_column(name, justify="right" if right else "left")
        for row in table.rows:
            drawn.add_row(*row)
        console.print(drawn)


def param(command: str, name: str, **extra: Any) -> Any:
    """Return the Typer option or argument that :data:`OPTIONS` describes."""
    spec = {**OPTIONS[command][name], **extra}
    if spec.pop("argument", False):
        return typer.Argument(**spec)
    return typer.Option(*spec.pop("decls", ()), **spec)
