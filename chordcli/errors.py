"""Exception types of chordcli.

Every error that a user can cause (a missing or unreadable file, a malformed
LAB file, an output that already exists) is raised as a subclass of
:class:`ChordcliError`. Messages are a single line that names the offending
file or value and, where one helps, ends with a hint::

    cannot read 'a.xyz': unknown audio format (hint: convert to WAV or FLAC)

The command line prints them as ``error: <message>`` and exits with status 1
(:class:`UsageError`, arguments that do not fit together, exits with status 2).
A result that may be wrong although the run goes on (a truncated recording) is a
:class:`ChordcliWarning`, issued with :func:`warnings.warn` (the command line prints
``warning: <message>``).
Programming errors (wrong argument types, invalid values passed by code) are
plain ``ValueError``/``TypeError`` and are not caught by the command line.
"""

from __future__ import annotations

__all__ = [
    "AudioError",
    "ChordcliError",
    "ChordcliWarning",
    "LabError",
    "OutputError",
    "OutputExistsError",
    "UsageError",
]


class ChordcliError(Exception):
    """Base class of all expected, user-facing errors of chordcli.

    Parameters
    ----------
    message : str
        One line describing what went wrong, naming the file or value.
    hint : str, optional
        What the user can do about it; appended as ``(hint: ...)``.

    Attributes
    ----------
    message : str
        The message without the hint.
    hint : str or None
        The hint, if any.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} (hint: {hint})")


class AudioError(ChordcliError):
    """An audio file cannot be used: missing, unreadable, silent or too short."""


class LabError(ChordcliError):
    """A LAB chord file is malformed; the message names the file and line."""


class OutputError(ChordcliError):
    """An output file cannot be written."""


class OutputExistsError(OutputError):
    """An output file exists already and overwriting was not requested."""


class UsageError(ChordcliError):
    """Options or arguments that do not fit together; the command line exits with status 2.

    Parameters
    ----------
    message : str
        What is wrong with the call.
    param_hint : str, optional
        The option or argument at fault, as the command line shows it (``'-o' / '--output'``).
    hint : str, optional
        What to do instead; appended as ``(hint: ...)``.
    """

    def __init__(
        self, message: str, *, param_hint: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.param_hint = param_hint


class ChordcliWarning(UserWarning):
    """A result that may be wrong although the run goes on (a truncated recording).

    Issued with :func:`warnings.warn`, so Python callers can filter, record or raise it;
    the command line prints it as one ``warning: <message>`` line on standard error.
    """
