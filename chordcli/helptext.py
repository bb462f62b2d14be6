"""The command line's options as plain data: spellings, metavars, limits and help texts.

:mod:`chordcli.cli` turns each entry into a Typer option or argument, so the commands there
stay short parse-call-report functions and the texts that ``--help`` and docs/cli.md show
live in one place. Nothing here imports Typer: an entry holds the keyword arguments of
``typer.Option`` (``decls``: its spellings, default ``--<name>``) or, marked
``argument=True``, of ``typer.Argument``. Defaults that a text quotes come from the modules
that own them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chordcli.bars import DEFAULT_TEMPO_BPM
from chordcli.formats import DEFAULT_FORMAT
from chordcli.segments import MAX_BEATS_PER_BAR, TEMPO_RANGE_BPM
from models.train import DEFAULT_TRAIN
from theory.simplify import VOCABULARIES

__all__ = ["COMMANDS", "DEFAULT_VOCABULARY", "OPTIONS", "Engine", "Vocabulary"]

#: Choices of ``--vocab``, from :data:`theory.simplify.VOCABULARIES` (richest first).
Vocabulary = StrEnum("Vocabulary", {name.upper(): name for name in VOCABULARIES})
DEFAULT_VOCABULARY = Vocabulary(VOCABULARIES[0])


class Engine(StrEnum):
    """Where ``transcribe`` runs: in this process, or as a Ray Data job (``chordcli.catalogue``)."""

    LOCAL = "local"
    RAY = "ray"


def _option(*decls: str, **settings: Any) -> dict[str, Any]:
    return {"decls": decls, **settings}


def _argument(**settings: Any) -> dict[str, Any]:
    return {"argument": True, "show_default": False, **settings}


def _flag(name: str, help: str) -> dict[str, Any]:
    return _option(f"--{name}", help=help)


_MODEL = (
    "'template' (the chroma-template baseline), a bundled model name or a model directory. "
    "Default: the bundled model."
)
_LINK_AUDIO = (
    "For an HTML page: link the audio by its path relative to the page instead of embedding it."
)

#: Options by command (``data render`` is ``render``, ``chordcli`` the options before a
#: command) and parameter name.
OPTIONS: dict[str, dict[str, dict[str, Any]]] = {
    "chordcli": {
        "version": _option("--version", is_eager=True, help="Print the version and exit."),
    },
    "transcribe": {
        "audio": _argument(
            metavar="AUDIO",
            help="Audio files: WAV, FLAC, OGG or MP3, any sample rate, mono, stereo or more "
            "(with --engine ray also directories, searched recursively).",
        ),
        "output": _option(
            "-o",
            "--output",
            metavar="FILE|DIR/",
            help="Output file (one input; its suffix selects the format) or directory (ending "
            "in / or existing; created if missing; one file <name>.<format> per input). Never "
            "one of the inputs. Without it, the result of a single input goes to standard "
            "output.",
            show_default=False,
        ),
        "output_format": _option(
            "--format",
            "-f",
            help=f"Output format. Default: from the suffix of -o, else {DEFAULT_FORMAT.value}.",
            show_default=False,
        ),
        "vocab": _option(
            help="Chord vocabulary: full (all 529 chords), sevenths, or majmin (major/minor)."
        ),
        "transpose": _option(
            min=-11, max=11, metavar="N", help="Transpose the chords by N semitones."
        ),
        "capo": _option(
            min=0,
            max=11,
            metavar="N",
            help="Write chord shapes for a guitar with a capo on fret N (sounding pitch - N).",
        ),
        "model": _option(
            metavar="PATH",
            help="Model: 'template' (the chroma-template baseline), a bundled model name, or a "
            "model directory (weights, config.json). Default: the bundled model.",
            show_default=False,
        ),
        "plot": _option(
            metavar="FIGURE",
            help="Also save a figure of the CQT with the chords and beats (one input only): "
            "PNG, SVG or PDF by the suffix.",
            show_default=False,
        ),
        "beat_sync": _flag("beat-sync", "Move chord changes to the nearest beat."),
        "link_audio": _flag("link-audio", _LINK_AUDIO),
        "tuning": _option(
            metavar="auto|CENTS",
            help="Tuning of the recording in cents from A = 440 Hz (-50..50): 'auto' "
            "estimates it from each file; the analysis is centred on it.",
        ),
        "alternatives": _flag(
            "alternatives",
            "Lead sheet: list each chord's most probable alternatives below the chart "
            "(JSON and JAMS always carry them).",
        ),
        "views": _option(
            metavar="N",
            help="Hear each song at N pitches (an odd number, 1..13: shifted -N//2..N//2 "
            "semitones) and average: N times the network's time, steadier chords on "
            "recordings. Default: the model's own (1).",
            show_default=False,
        ),
        "engine": _option(
            help="local: one file after another in this process. ray: a Ray Data job over "
            "files and directories into -o DIR, resumable, with an index.jsonl (needs Ray: "
            "the 'ray' extra of chordcli).",
        ),
        "ray_address": _option(
            metavar="ADDR",
            help="With --engine ray: the Ray cluster to run on (auto, or ray://HOST:10001). "
            "Default: a local Ray, or the cluster of a submitted job.",
            show_default=False,
        ),
        "overwrite": _flag("overwrite", "Replace output files that already exist."),
    },
    "export": {
        "source": _argument(
            metavar="IN",
            help="Transcription to convert: a LAB file, a chordcli JSON transcription or JAMS.",
        ),
        "output": _option(
            "-o",
            "--output",
            metavar="OUT",
            help="Output file (its suffix selects the format unless a format option is given) "
            "or directory (ending in /; gets <name>.<format>). Never the input. Without it, "
            "text formats go to standard output.",
            show_default=False,
        ),
        "musicxml": _flag("musicxml", "Write a MusicXML lead sheet."),
        "leadsheet": _flag("leadsheet", "Write a text lead sheet (Markdown)."),
        "chordpro": _flag("chordpro", "Write a ChordPro chart."),
        "midi": _flag("midi", "Write a MIDI file (needs -o)."),
        "jams": _flag("jams", "Write JAMS."),
        "as_json": _flag("json", "Write chordcli JSON."),
        "lab": _flag("lab", "Write LAB."),
        "tempo": _option(
            min=TEMPO_RANGE_BPM[0],
            max=TEMPO_RANGE_BPM[1],
            metavar="BPM",
            help="Lay bars on a constant grid at this tempo, replacing any beats of the input. "
            "Default: the input's beats or tempo, else the tempo of its chord changes (said "
            f"on standard error), else {DEFAULT_TEMPO_BPM:g} bpm.",
            show_default=False,
        ),
        "beats_per_bar": _option(
            min=1,
            max=MAX_BEATS_PER_BAR,
            metavar="N",
            help="Beats in a bar (N/4 time). Default: the input's, else 4.",
            show_default=False,
        ),
        "audio": _option(
            metavar="FILE",
            help="For an HTML page: the recording it plays (an input without beats takes its "
            "beats from the recording).",
            show_default=False,
        ),
        "link_audio": _flag("link-audio", _LINK_AUDIO),
        "overwrite": _flag("overwrite", "Replace the output file if it exists."),
    },
    "train": {
        "data_dir": _argument(
            metavar="DATA_DIR",
            help="Training data: audio files with LAB annotations of the same name "
            "(and optional .key files), searched recursively; hidden files are skipped.",
        ),
        "out": _option(
            metavar="DIR",
            help="Run directory for checkpoints, history and the trained model. "
            "Default: .cache/runs/chordnet-<date-time>.",
            show_default=False,
        ),
        "epochs": _option(
            min=1,
            metavar="N",
            help="Number of epochs. Default: from the configuration "
            f"({DEFAULT_TRAIN.epochs}); with --resume, from the run.",
            show_default=False,
        ),
        "config": _option(
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="Run configuration (JSON with sections train, chordnet, cqt, augment; "
            "missing values take the defaults).",
            show_default=False,
        ),
        "resume": _flag("resume", "Continue the run in --out from its last checkpoint."),
        "init": _option(
            metavar="MODEL",
            help="Start from this trained model's weights (a name such as chordnet-v1, or a "
            "weights or run directory) instead of random ones. Without --config the run takes "
            "the model's settings.",
            show_default=False,
        ),
        "seed": _option(
            metavar="N",
            help=f"Random seed. Default: from the configuration ({DEFAULT_TRAIN.seed}).",
            show_default=False,
        ),
        "cache": _option(metavar="DIR", help="Feature cache directory (reused by later runs)."),
        "jobs": _option(
            "--jobs",
            "-j",
            min=1,
            help="Processes computing the features of songs not in the cache yet.",
        ),
    },
    "eval": {
        "ref": _argument(
            metavar="REF",
            help="Reference annotations: a LAB or JAMS file, or a directory searched "
            "recursively (a LAB file's key is read from <name>.key beside it). "
            "With --audio: default DIR itself.",
        ),
        "est": _argument(
            metavar="EST",
            help="Estimates to score: a LAB, JAMS or chordcli JSON file, or a directory "
            "paired with REF by file name. With --audio: an existing directory to save the "
            "transcriptions to as chordcli JSON (optional).",
        ),
        "as_json": _flag("json", "Print the scores as JSON."),
        "as_csv": _flag("csv", "Print the scores as CSV, one row per song."),
        "confusion": _option(
            metavar="PNG",
            help="Also save a chord-quality confusion figure to PNG, its matrix to "
            "<PNG name>.csv and per-quality recall/precision to <PNG name>-qualities.csv.",
            show_default=False,
        ),
        "audio": _option(
            metavar="DIR",
            exists=True,
            file_okay=False,
            help="Transcribe the audio files in DIR (searched recursively) and score them "
            "against the LAB files of the same name beside them (or in REF).",
            show_default=False,
        ),
        "model": _option(
            metavar="NAME", help="Model used with --audio: " + _MODEL, show_default=False
        ),
        "overwrite": _flag("overwrite", "Replace confusion or transcription files that exist."),
    },
    "listen": {
        "simulate": _option(
            metavar="FILE",
            help="Play an audio file in real time instead of recording (tests, demos).",
            show_default=False,
        ),
        "device": _option(
            metavar="NAME|INDEX",
            help="Input device (python -m sounddevice lists them). Default: the system's.",
            show_default=False,
        ),
        "lab": _option(
            metavar="FILE",
            help="Also write the chords to a LAB file when the stream ends (or on Ctrl+C).",
            show_default=False,
        ),
        "duration": _option(
            min=0.5,
            metavar="SECONDS",
            help="Stop after this much audio. Default: the end of --simulate, else Ctrl+C.",
            show_default=False,
        ),
        "vocab": _option(
            help="Chord vocabulary: full (all 529 chords), sevenths, or majmin (major/minor)."
        ),
        "tuning": _option(
            metavar="auto|CENTS",
            help="Tuning in cents from A = 440 Hz (-50..50); 'auto' estimates it as it plays.",
        ),
        "model": _option(metavar="PATH", help="Model: " + _MODEL, show_default=False),
        "overwrite": _flag("overwrite", "Replace the LAB file if it exists."),
    },
    "render": {
        "out": _flag("out", "Corpus folder."),
        "sources": _option(help="Comma-separated sources: pop909, billboard, rare (default: all)."),
        "split": _option(help="Which songs to render: train, dev or all."),
        "jobs": _option("--jobs", "-j", min=1, help="Parallel renders."),
        "limit": _option(min=1, help="At most N songs per source (quick runs)."),
        "ids": _option(
            "--ids",
            help="Render only the songs whose ids this text file lists (one per line, "
            "e.g. 001 for POP909, 0003 for Billboard).",
        ),
        "seed": _option(help="Seed of every random choice."),
        "soundfonts": _option(
            help="Comma-separated SoundFont names or paths (default: all installed)."
        ),
        "pop909": _option(help="POP909 folder."),
        "billboard": _option(help="Billboard folder."),
        "billboard_songs": _option(min=1, help="Billboard progressions to use (the first by id)."),
        "lead_db": _option(
            "--lead-db",
            metavar="LOW,HIGH",
            help="Change each file's melody and bridge level by a gain drawn uniformly in "
            "LOW..HIGH dB (e.g. -30,0 for an augmentation corpus; default: the arrangement's "
            "own mix).",
        ),
        "variant": _option(
            help="How to play the songs: 'same' (the corpus arranger), 'cross' (a second "
            "arranger and a SoundFont no training file uses), 'degraded' (the cross file "
            "with room, compression, band limits, noise and a tuning offset) or 'v2' (seven "
            "styles with sung leads, power-chord guitars, drum kits, tuning offsets and a "
            "mixing chain per song); files of a variant go to <split>-<variant>/ "
            "(docs/training.md).",
        ),
        "every": _option(
            min=1, help="Render every K-th song of each source (after the split; a subset)."
        ),
        "overwrite": _option(help="Render finished files again."),
        "dry_run": _option(help="Only print the planned class balance (renders nothing)."),
    },
}


#: Help of each command (``data render`` is ``render``): a summary line, details, examples.
COMMANDS: dict[str, str] = {
    "transcribe": """\
Transcribe the chords of audio files.

Each file is transcribed on its own; a file that cannot be read is
reported and the others are still processed.

For example:

    chordcli transcribe song.wav -o song.lab

    chordcli transcribe *.flac -o out/ --format jams

    chordcli transcribe song.mp3 -o song.musicxml --capo 2

    chordcli transcribe song.mp3 -o song.html

    chordcli transcribe song.mp3 -o song.md --alternatives

    chordcli transcribe music/ -o lab/ --engine ray
""",
    "export": """\
Convert a transcription (such as a hand-corrected LAB) to another format.

The format comes from one of the format options, else from the suffix of -o.
A LAB file has no key and no beats: the key is estimated from its chords and
bars follow a constant tempo (--tempo).

For example:

    chordcli export song.lab --leadsheet

    chordcli export song.lab -o song.musicxml --tempo 96 --beats-per-bar 3

    chordcli export song.json -o song.mid

    chordcli export song.lab --audio song.mp3 -o song.html
""",
    "train": """\
Train ChordNet on labelled audio.

Features are computed once and cached. Each epoch is validated on
held-out songs and checkpointed; a stopped run continues with --resume.
Files that cannot be used are reported and skipped (exit status 1 at the
end).

For example:

    chordcli train data/ --out runs/my-run

    chordcli train data/ --out runs/my-run --resume

    chordcli train data/ --out runs/tuned --init chordnet-v1 --config tune.json
""",
    "eval": """\
Score chord estimates against references with the mir_eval chord metrics.

Prints root, majmin, majmin_inv, mirex, thirds, triads, sevenths, tetrads
(and their _inv forms), overseg, underseg and seg, duration-weighted over
all songs (as MIREX) and as the mean over songs, the class-wise recall
acc_class (the mean over chord qualities of the share of each quality's
time estimated with its root and quality), and the key score where both
sides have a key. Files without a partner are listed on standard
error; the exit status is 1 if a file could not be read or nothing was
scored.

For example:

    chordcli eval refs/ ests/ --confusion confusion.png

    chordcli eval song.lab song.json --json

    chordcli eval --audio data/dev --model template
""",
    "listen": """\
Transcribe chords live from the microphone (or a file played in real time).

Each chord is printed as it changes, "time  chord", on standard output, less
than a second after it starts. Recording needs the optional sounddevice
package (the 'listen' extra of chordcli) and PortAudio.

For example:

    chordcli listen --lab session.lab

    chordcli listen --simulate song.wav
""",
    "render": """\
Render POP909 songs, Billboard progressions and rare pieces to FLAC + LAB.

Files already rendered are skipped, so an interrupted run resumes. At the
end the manifest (manifest.jsonl) and the class balance (balance.md,
balance.csv: minutes per quality and per root) are rebuilt in the corpus
folder, and the balance is printed.
""",
}
