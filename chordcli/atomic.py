"""Atomic output files that are never overwritten by accident.

Every output of chordcli is written to a temporary file in the destination
directory and then renamed over the destination, so readers never see a
half-written file and an interrupted run leaves the previous file intact.
An existing destination is replaced only when ``overwrite=True``.

The parent directory must exist: outputs are not written into directories
that were never created, since a typo in ``-o`` would otherwise scatter files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chordcli.errors import OutputError, OutputExistsError

__all__ = ["atomic_path", "check_output_path", "write_bytes_atomic", "write_text_atomic"]


def check_output_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check that `path` can be created as an output file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    overwrite : bool, optional
        Whether an existing file at `path` may be replaced.

    Returns
    -------
    Path
        `path` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputError
        If the parent directory does not exist or `path` is a directory.
    OutputExistsError
        If `path` exists and `overwrite` is false.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        if parent.exists():
            raise OutputError(f"cannot write '{path}': '{parent}' is not a directory")
        raise OutputError(
            f"cannot write '{path}': directory '{parent}' does not exist",
            hint="create it first",
        )
    if path.is_dir():
        raise OutputError(f"cannot write '{path}': it is a directory")
    if not overwrite and os.path.lexists(path):
        raise OutputExistsError(f"'{path}' already exists", hint="use --overwrite to replace it")
    return path


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Give a temporary path that becomes `path` when the block succeeds.

    Use this for writers that insist on a file name of their own
    (matplotlib, music21, jams). The temporary file lies in the same
    directory as `path` and keeps its suffix, so format detection by suffix
    still works. If the block raises, the temporary file is removed and
    `path` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    overwrite : bool, optional
        Whether an existing file at `path` may be replaced.

    Yields
    ------
    Path
        Temporary file (created empty) to write the output to.

    Raises
    ------
    OutputError
        If the destination cannot be written (see :func:`check_output_path`).
    OutputExistsError
        If `path` exists and `overwrite` is false, checked both before the
        block runs and again when the file is moved into place.

    Examples
    --------
    >>> with atomic_path("chords.png", overwrite=True) as tmp:  # doctest: +SKIP
    ...     figure.savefig(tmp)
    """
    path = check_output_path(path, overwrite=overwrite)
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}"
        )
    except OSError as exc:
        raise OutputError(f"cannot write '{path}': {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _move_into_place(tmp, path, overwrite=overwrite)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, overwrite: bool = False, encoding: str = "utf-8"
) -> Path:
    """Write `text` to `path` atomically.

    Line endings are written exactly as they appear in `text` (no
    platform translation).

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its parent directory must exist.
    text : str
        Content to write.
    overwrite : bool, optional
        Whether an existing file at `path` may be replaced.
    encoding : str, optional
        Text encoding, UTF-8 by default.

    Returns
    -------
    Path
        The destination path.

    Raises
    ------
    OutputError
        If the file cannot be written.
    OutputExistsError
        If `path` exists and `overwrite` is false.
    """
    return write_bytes_atomic(path, text.encode(encoding), overwrite=overwrite)


def write_bytes_atomic(
    path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False
) -> Path:
    """Write `data` to `path` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its parent directory must exist.
    data : bytes
        Content to write.
    overwrite : bool, optional
        Whether an existing file at `path` may be replaced.

    Returns
    -------
    Path
        The destination path.

    Raises
    ------
    OutputError
        If the file cannot be written.
    OutputExistsError
        If `path` exists and `overwrite` is false.
    """
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise OutputError(f"cannot write '{path}': {exc.strerror or exc}") from exc
    return path


def _move_into_place(tmp: Path, path: Path, *, overwrite: bool) -> None:
    """Rename `tmp` to `path`, refusing to replace `path` unless `overwrite`."""
    try:
        os.chmod(tmp, _final_mode(path))
        if overwrite:
            os.replace(tmp, path)
            return
        try:
            # A hard link fails atomically if `path` appeared in the meantime.
            os.link(tmp, path)
        except FileExistsError:
            raise OutputExistsError(
                f"'{path}' already exists", hint="use --overwrite to replace it"
            ) from None
        except OSError:
            # No hard links on this file system: check, then rename.
            if os.path.lexists(path):
                raise OutputExistsError(
                    f"'{path}' already exists", hint="use --overwrite to replace it"
                ) from None
            os.replace(tmp, path)
        else:
            tmp.unlink()
    except OutputExistsError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write '{path}': {exc.strerror or exc}") from exc


def _final_mode(path: Path) -> int:
    """Permission bits for the output: those of the file replaced, else from the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
