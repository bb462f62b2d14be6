"""``python -m chordcli``: the same as the ``chordcli`` command."""

from chordcli.cli import main

if __name__ == "__main__":
    main()
