"""Bad input never loses data, hangs or lies: the cases of docs/reliability.md, one row each.

Every case runs one command line in a fresh copy of a folder of inputs and checks

- the exit status;
- for exit status 1, exactly one ``error:`` line, naming the file at fault and the problem
  (``chordcli eval`` may add its summary ``error: nothing was scored``); for exit status 2,
  Typer's usage message with the problem; for exit status 0, no ``error:`` line;
- the ``warning:`` lines expected (none unless the case says so);
- no traceback;
- that no file other than the case's outputs was written, changed or removed (inputs are
  untouched, and nothing partial or temporary is left).

The table in docs/reliability.md lists the same cases, commands and exit statuses (checked
below). Commands that need a model use ``--model template`` (the doc leaves it out).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

from chordcli.cli import app
from chordcli.lab import read_lab
from tests.synth_audio import chord_progression

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "reliability.md"
SR = 22050
TEMPLATE = ("--model", "template")
LONG_LABEL = "C:(" + ",".join(["1"] * 1000) + ",x)"
SONG = ["C:maj", "A:min", "F:maj", "G:7"]


@dataclass(frozen=True)
class Case:
    """One command line and what it must do.

    Attributes
    ----------
    id : str
        The case's name (the first column of the doc's table).
    args : tuple of str
        The command line after ``chordcli`` (``--model template`` is added to transcribe).
    exit : int
        Exit status.
    stderr : str
        A fragment of the error line (exit 1), of the usage message (exit 2), or of standard
        error (exit 0).
    names : str
        The file (or folder) the error line names, quoted (exit 1).
    writes : tuple of str
        The files the case may create, relative to its folder.
    warns : int
        ``warning:`` lines expected on standard error.
    check : str or None
        A further check of the outputs (:data:`CHECKS`).
    """

    id: str
    args: tuple[str, ...]
    exit: int
    stderr: str = ""
    names: str = ""
    writes: tuple[str, ...] = ()
    warns: int = 0
    check: str | None = None

    def command(self) -> list[str]:
        """The arguments run, with the template model where a model is used."""
        uses_model = self.args[0] == "transcribe" and "--model" not in self.args
        return [*self.args, *TEMPLATE] if uses_model else list(self.args)


def _c(id: str, line: str, exit: int, stderr: str = "", **kwargs: object) -> Case:
    return Case(id, tuple(line.split()), exit, stderr, **kwargs)  # type: ignore[arg-type]


CASES = [
    # -- transcribe: where outputs go --------------------------------------------------------
    _c("transcribe-ok", "transcribe song.wav -o out.lab", 0, writes=("out.lab",)),
    _c("transcribe-stdout", "transcribe song.wav", 0, "song.wav: key", check="stdout_lab"),
    _c("transcribe-over-input", "transcribe song.wav -o song.wav --overwrite", 2,
       "'song.wav' has the suffix '.wav', which selects no output format; known: lab (.lab)"),
    _c("transcribe-over-input-format",
       "transcribe song.wav -o song.wav --format lab --overwrite", 2,
       "'song.wav' is the input 'song.wav'; chordcli never writes over an input"),
    _c("transcribe-over-input-link", "transcribe song.wav -o link.lab --overwrite", 2,
       "'link.lab' is the input 'song.wav'"),
    _c("transcribe-unknown-suffix", "transcribe song.wav -o out.wav", 2,
       "selects no output format; known: lab (.lab), json (.json)"),
    _c("transcribe-no-suffix", "transcribe song.wav -o out", 2,
       "'out' has no suffix, which selects no output format"),
    _c("transcribe-format-wins", "transcribe song.wav -o out.txt --format lab", 0,
       writes=("out.txt",), check="txt_is_lab"),
    _c("transcribe-new-dir", "transcribe song.wav -o newdir/", 0, writes=("newdir/song.lab",)),
    _c("transcribe-new-dir-failed", "transcribe nope.wav -o newdir/", 1, "file not found",
       names="nope.wav"),
    _c("transcribe-new-dir-no-parent", "transcribe song.wav -o no/such/", 2,
       "cannot create 'no/such/': directory 'no' does not exist"),
    _c("transcribe-dir-is-a-file", "transcribe song.wav -o ref.lab/", 2,
       "'ref.lab' is a file, not a directory"),
    _c("transcribe-several-to-file", "transcribe song.wav noise.wav -o x.lab", 2,
       "'x.lab' is not a directory; several inputs need an output directory"),
    _c("transcribe-several-to-dir", "transcribe song.wav noise.wav -o batch/", 0,
       writes=("batch/song.lab", "batch/noise.lab")),
    _c("transcribe-same-name", "transcribe song.wav folder/song.wav -o batch/", 2,
       "several inputs have the same name"),
    _c("transcribe-exists", "transcribe song.wav -o ref.lab", 1, "already exists",
       names="ref.lab"),
    _c("transcribe-exists-in-dir", "transcribe song.wav -o taken", 1, "already exists",
       names="taken/song.lab"),
    _c("transcribe-midi-to-terminal", "transcribe song.wav --format midi", 2,
       "midi output needs a file"),
    _c("transcribe-link-audio-not-html", "transcribe song.wav -o out.lab --link-audio", 2,
       "'--link-audio': is for an HTML page (-o FILE.html), not lab output"),
    _c("transcribe-plot-suffix", "transcribe song.wav -o out.lab --plot fig.wav", 2,
       "'fig.wav' is not a figure file: its suffix must be .png, .svg, .pdf"),
    _c("transcribe-plot-svg", "transcribe song.wav -o out.lab --plot fig.svg --capo 2", 0,
       writes=("out.lab", "fig.svg"), check="svg_capo"),
    _c("transcribe-plot-several", "transcribe song.wav noise.wav -o batch/ --plot fig.png", 2,
       "--plot takes one input file only"),
    # -- transcribe: options ---------------------------------------------------------------
    _c("transcribe-bad-tuning", "transcribe song.wav -o out.lab --tuning 99", 2, "'--tuning'"),
    _c("transcribe-bad-capo", "transcribe song.wav -o out.lab --capo 12", 2, "'--capo'"),
    _c("transcribe-unknown-model", "transcribe song.wav -o out.lab --model no/such/model", 1,
       "no/such/model", names="no/such/model"),
    # -- transcribe: inputs ----------------------------------------------------------------
    _c("transcribe-missing", "transcribe nope.wav -o out.lab", 1, "file not found",
       names="nope.wav"),
    _c("transcribe-dangling-link", "transcribe dangling.wav -o out.lab", 1, "file not found",
       names="dangling.wav"),
    _c("transcribe-directory", "transcribe folder -o out.lab", 1, "it is a directory",
       names="folder"),
    _c("transcribe-empty", "transcribe empty.wav -o out.lab", 1, "the file is empty",
       names="empty.wav"),
    _c("transcribe-not-audio", "transcribe text.wav -o out.lab", 1, "unknown audio format",
       names="text.wav"),
    _c("transcribe-garbage", "transcribe garbage.wav -o out.lab", 1, "unknown audio format",
       names="garbage.wav"),
    _c("transcribe-nan", "transcribe nan.wav -o out.lab", 1, "NaN or infinite samples",
       names="nan.wav"),
    _c("transcribe-silent", "transcribe zeros.wav -o out.lab", 1, "the audio is silent",
       names="zeros.wav"),
    _c("transcribe-too-short", "transcribe short.wav -o out.lab", 1, "it is too short",
       names="short.wav"),
    _c("transcribe-batch-one-bad", "transcribe song.wav text.wav -o batch/", 1,
       "unknown audio format", names="text.wav", writes=("batch/song.lab",)),
    # -- transcribe: results that could lie --------------------------------------------------
    _c("transcribe-truncated", "transcribe trunc.wav -o out.lab", 0,
       "warning: 'trunc.wav' is truncated: its header declares 16.0 s of audio but the file "
       "holds 5.3 s", writes=("out.lab",), warns=1),
    _c("transcribe-noise", "transcribe noise.wav -o out.lab", 0, writes=("out.lab",),
       check="mostly_n"),
    _c("transcribe-gap", "transcribe gap.wav -o out.lab", 0, writes=("out.lab",),
       check="gap_is_n"),
    _c("transcribe-beat-sync", "transcribe song.wav -o out.lab --beat-sync", 0,
       writes=("out.lab",), check="every_change"),
    _c("transcribe-capo", "transcribe song.wav -o out.md --capo 2", 0, writes=("out.md",),
       check="capo"),
    # -- export ----------------------------------------------------------------------------
    _c("export-ok", "export ref.lab -o out.md", 0, writes=("out.md",)),
    _c("export-into-new-dir", "export ref.lab --chordpro -o charts/", 0,
       writes=("charts/ref.cho",)),
    _c("export-over-input", "export ref.lab -o ref.lab --overwrite", 2,
       "'ref.lab' is the input 'ref.lab'; chordcli never writes over an input"),
    _c("export-over-input-dir", "export ref.lab --lab -o ./ --overwrite", 2,
       "is the input 'ref.lab'"),
    _c("export-over-audio", "export ref.lab --audio page.html -o page.html --overwrite", 2,
       "'page.html' is the input 'page.html'"),
    _c("export-unknown-suffix", "export ref.lab -o out.wav", 2,
       "'out.wav' has the suffix '.wav', which selects no output format"),
    _c("export-no-format", "export ref.lab", 2, "give a format option"),
    _c("export-exists", "export ref.lab -o ref.md", 1, "already exists", names="ref.md"),
    _c("export-missing", "export nope.lab --leadsheet", 1, "file not found", names="nope.lab"),
    _c("export-empty", "export empty.lab --leadsheet", 1, "has no chord segments",
       names="empty.lab"),
    _c("export-huge-time", "export huge.lab --leadsheet", 1,
       "end time 1e9 is beyond 86400 s (24 h)", names="huge.lab"),
    _c("export-nan-time", "export nan.lab --leadsheet", 1, "is not a finite number",
       names="nan.lab"),
    _c("export-inf-time", "export inf.lab --leadsheet", 1, "is not a finite number",
       names="inf.lab"),
    _c("export-negative-time", "export negative.lab --leadsheet", 1, "is negative",
       names="negative.lab"),
    _c("export-backwards", "export backwards.lab --leadsheet", 1,
       "start 2.0 is not before end 1.0", names="backwards.lab"),
    _c("export-missing-label", "export nolabel.lab --leadsheet", 1, "expected 3 fields",
       names="nolabel.lab"),
    _c("export-bad-label", "export badlabel.lab --leadsheet", 1, "C:major7",
       names="badlabel.lab"),
    _c("export-long-label", "export long.lab --leadsheet", 1, "invalid chord label",
       names="long.lab"),
    _c("export-aug7", "export aug7.lab --leadsheet", 1, "is not read by mir_eval",
       names="aug7.lab"),
    _c("export-overlap", "export overlap.lab --leadsheet", 1,
       "is before the end 2.0 of the previous segment", names="overlap.lab"),
    _c("export-not-text", "export binary.lab --leadsheet", 1, "not a text file",
       names="binary.lab"),
    _c("export-json-garbage", "export garbage.json --leadsheet", 1, "not JSON",
       names="garbage.json"),
    _c("export-json-huge-time", "export huge.json --leadsheet", 1, "is beyond 86400 s (24 h)",
       names="huge.json"),
    _c("export-json-huge-tempo", "export tempo.json --leadsheet", 1,
       "tempo 1e+12 bpm is outside 1..400 bpm", names="tempo.json"),
    _c("export-json-huge-metre", "export metre.json --leadsheet", 1,
       "1e+09 beats per bar (1..16 are read)", names="metre.json"),
    _c("export-json-dense-beats", "export beats.json --leadsheet", 1,
       "the beats are faster than 400 bpm", names="beats.json"),
    _c("export-json-backwards-beats", "export backbeats.json --leadsheet", 1,
       "the beat times are not increasing", names="backbeats.json"),
    _c("export-json-bad-capo", "export capo.json --leadsheet", 1, "capo 40 is not a fret",
       names="capo.json"),
    _c("export-jams-garbage", "export garbage.jams --leadsheet", 1, "not a valid JAMS file",
       names="garbage.jams"),
    _c("export-jams-no-chords", "export nochord.jams --leadsheet", 1, "no 'chord' annotation",
       names="nochord.jams"),
    _c("export-jams-huge-time", "export huge.jams --leadsheet", 1, "is beyond 86400 s (24 h)",
       names="huge.jams"),
    _c("export-lab-tempo", "export example.lab --leadsheet -o lead.md", 0,
       "example.lab: tempo 72 bpm estimated from the chord changes", writes=("lead.md",),
       check="bars"),
    _c("export-lab-tempo-assumed", "export irregular.lab --chordpro", 0,
       "irregular.lab: tempo 120 bpm assumed (no steady beat in the chord changes)"),
    _c("export-midi-to-terminal", "export ref.lab --midi", 2, "midi output needs a file"),
    _c("export-bad-tempo", "export ref.lab --leadsheet --tempo 0", 2, "'--tempo'"),
    # -- eval ------------------------------------------------------------------------------
    _c("eval-ok", "eval ref.lab ref.lab", 0),
    _c("eval-missing", "eval ref.lab nope.lab", 1, "file not found", names="nope.lab"),
    _c("eval-long-label", "eval ref.lab long.lab", 1, "invalid chord label", names="long.lab"),
    _c("eval-aug7", "eval aug7.lab ref.lab", 1, "is not read by mir_eval", names="aug7.lab"),
    _c("eval-huge-time", "eval ref.lab huge.lab", 1, "is beyond 86400 s", names="huge.lab"),
    _c("eval-json-garbage", "eval ref.lab garbage.json", 1, "not JSON", names="garbage.json"),
    _c("eval-confusion-over-input", "eval ref.lab other.lab --confusion ref.lab --overwrite", 2,
       "'ref.lab' is not a figure file: its suffix must be .png"),
    _c("eval-json-and-csv", "eval ref.lab ref.lab --json --csv", 2,
       "choose one of --json and --csv"),
    # -- train (the paths are checked before TensorFlow loads) -------------------------------
    _c("train-out-is-a-file", "train folder --out ref.lab", 1,
       "cannot use 'ref.lab' as the run directory: it is a file", names="ref.lab"),
    _c("train-resume-missing", "train folder --out norun --resume", 1,
       "cannot resume 'norun': directory not found", names="norun"),
    _c("train-resume-no-out", "train folder --resume", 2,
       "--resume needs the run directory in --out"),
    _c("train-out-not-empty", "train folder --out taken", 1,
       "run directory 'taken' already exists and is not empty", names="taken"),
    _c("train-data-missing", "train nodata --out run", 1, "directory not found",
       names="nodata"),
    _c("train-data-is-a-file", "train ref.lab --out run", 1, "it is not a directory",
       names="ref.lab"),
]  # fmt: skip


# --- the inputs ---------------------------------------------------------------------------


def _write_wav(path: Path, samples: np.ndarray, subtype: str = "PCM_16") -> None:
    soundfile.write(path, samples.astype(np.float32), SR, subtype=subtype)


def _write_audio(root: Path) -> None:
    song = chord_progression(SONG, sample_rate_hz=SR)
    _write_wav(root / "song.wav", song)
    (root / "folder").mkdir()
    _write_wav(root / "folder" / "song.wav", song[: SR * 2])
    os.symlink("song.wav", root / "link.lab")
    os.symlink("nowhere.wav", root / "dangling.wav")
    rng = np.random.default_rng(0)
    _write_wav(root / "noise.wav", 0.1 * rng.standard_normal(10 * SR))
    _write_wav(root / "gap.wav", np.concatenate([song, np.zeros(4 * SR), song]))
    _write_wav(root / "zeros.wav", np.zeros(3 * SR))
    _write_wav(root / "short.wav", song[:100])
    nan = song[: 2 * SR].copy()
    nan[SR] = np.nan
    _write_wav(root / "nan.wav", nan, subtype="FLOAT")
    full = root / "full.wav"
    _write_wav(full, np.sin(2 * np.pi * 220 * np.arange(16 * SR) / SR) * 0.2)
    (root / "trunc.wav").write_bytes(full.read_bytes()[: 44 + int(5.3 * SR) * 2])
    full.unlink()
    (root / "empty.wav").write_bytes(b"")
    (root / "text.wav").write_text("not audio\n")
    (root / "garbage.wav").write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    (root / "page.html").write_bytes(b"")


def _transcription_json(**fields: object) -> str:
    data = {
        "format": "chordcli-transcription",
        "segments": [{"start_s": 0.0, "end_s": 8.0, "label": "C:maj"}],
        **fields,
    }
    return json.dumps(data)


def _write_annotations(root: Path) -> None:
    (root / "ref.lab").write_text("0.0\t2.0\tC:maj\n2.0\t4.0\tG:7\n")
    (root / "other.lab").write_text("0.0\t2.0\tC:maj\n2.0\t4.0\tG:maj\n")
    (root / "ref.md").write_text("mine\n")
    (root / "taken").mkdir()
    (root / "taken" / "song.lab").write_text("mine\n")
    labs = {
        "empty": "",
        "huge": "0.0 1e9 C:maj\n",
        "nan": "0.0 nan C:maj\n",
        "inf": "0.0 2.0 C:maj\n2.0 inf G:maj\n",
        "negative": "-1.0 2.0 C:maj\n",
        "backwards": "2.0 1.0 C:maj\n",
        "nolabel": "0.0 2.0\n",
        "badlabel": "0.0 2.0 C:major7\n",
        "long": f"0.0 2.0 {LONG_LABEL}\n",
        "aug7": "0.0 2.0 C:aug7\n",
        "overlap": "0.0 2.0 C:maj\n1.0 3.0 G:maj\n",
        "irregular": "".join(
            f"{a} {b} {c}\n"
            for a, b, c in [(0, 1.0, "C:maj"), (1.0, 2.37, "G:maj"), (2.37, 3.11, "A:min"),
                            (3.11, 5.93, "F:maj"), (5.93, 6.41, "C:maj"), (6.41, 8.88, "G:maj"),
                            (8.88, 9.05, "C:maj")]
        ),
    }  # fmt: skip
    for name, text in labs.items():
        (root / f"{name}.lab").write_text(text)
    (root / "binary.lab").write_bytes(b"\xff\xfe\x00\x01garbage")
    (root / "garbage.json").write_text("{not json")
    huge = {"segments": [{"start_s": 0.0, "end_s": 1e12, "label": "C:maj"}]}
    files = {
        "huge.json": _transcription_json(**huge),
        "tempo.json": _transcription_json(tempo_bpm=1e12),
        "metre.json": _transcription_json(beats_per_bar=10**9),
        "beats.json": _transcription_json(beats_s=[0.0, 1e-9, 2e-9]),
        "backbeats.json": _transcription_json(beats_s=[1.0, 0.5]),
        "capo.json": _transcription_json(capo=40),
        "garbage.jams": "{not json",
        "nochord.jams": "{}",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    _write_jams(root / "huge.jams")
    shutil.copy(REPO / "examples" / "example.lab", root / "example.lab")


def _write_jams(path: Path) -> None:
    import jams

    jam = jams.JAMS()
    jam.file_metadata.duration = 2.0
    annotation = jams.Annotation(namespace="chord")
    annotation.append(time=0.0, duration=1e9, value="C:maj", confidence=None)
    jam.annotations.append(annotation)
    jam.save(str(path), strict=False)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """The folder of inputs that every case starts from (a fresh copy each time)."""
    root = tmp_path_factory.mktemp("inputs")
    _write_audio(root)
    _write_annotations(root)
    return root


def _state(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a digest of its content (links by target)."""
    state = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            state[key] = "-> " + os.readlink(path)
        elif path.is_dir():
            state[key] = "dir"
        else:
            state[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def _flat(text: str) -> str:
    """Standard error without the usage box's frame and line breaks."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", text).split())


# --- the cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    work = tmp_path / "work"
    shutil.copytree(inputs, work, symlinks=True)
    monkeypatch.chdir(work)
    before = _state(work)
    result = CliRunner().invoke(app, case.command(), env={"COLUMNS": "250"})
    stderr = result.stderr
    assert result.exit_code == case.exit, (stderr, result.exception)
    assert "Traceback" not in stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    if case.exit == 1:
        assert case.names and case.stderr, "an exit-1 case names its file and problem"
        first, *rest = errors
        assert case.stderr in first and f"'{case.names}'" in first, stderr
        assert rest in ([], ["error: nothing was scored"]), stderr  # eval's summary
        assert len(first) < 300
    elif case.exit == 2:
        assert not errors and "Usage: chordcli" in stderr
        assert case.stderr in _flat(stderr), stderr
    else:
        assert not errors, stderr
        assert case.stderr in stderr, stderr
    assert len(warnings) == case.warns, stderr
    after = _state(work)
    changed = sorted(k for k in before if after.get(k) != before[k])
    assert not changed, f"inputs changed or removed: {changed}"
    added = {k for k in set(after) - set(before) if after[k] != "dir"}
    assert added == set(case.writes), added
    new_dirs = {k for k in set(after) - set(before) if after[k] == "dir"}
    assert new_dirs <= {Path(w).parent.as_posix() for w in case.writes}, new_dirs
    if case.check:
        CHECKS[case.check](work, result.stdout)


def _n_share(path: Path) -> float:
    segments = read_lab(path)
    total = segments[-1].end_s - segments[0].start_s
    return sum(s.duration_s for s in segments if s.label == "N") / total


def _check_svg_capo(work: Path, stdout: str) -> None:
    text = (work / "fig.svg").read_text()
    assert text.lstrip().startswith("<?xml") and "capo 2" in text


def _check_bars(work: Path, stdout: str) -> None:
    text = (work / "lead.md").read_text()
    assert "Tempo: 72 bpm" in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    # the first chord starts at 0 s: the first bar is that chord (no N.C. bar before it), and
    # every chord of the 72 bpm example starts on a beat (none straddles a bar line)
    assert rows[0].split("|")[1].strip() == "Gmaj7"
    assert not any("N.C." in row for row in rows)


def _check_every_change(work: Path, stdout: str) -> None:
    labels = [s.label for s in read_lab(work / "out.lab") if s.label != "N"]
    assert [label for i, label in enumerate(labels) if i == 0 or labels[i - 1] != label] == SONG


def _check_stdout_lab(work: Path, stdout: str) -> None:
    from chordcli.lab import parse_lab

    assert [s.label for s in parse_lab(stdout) if s.duration_s > 0.5] == SONG


def _check(condition: Callable[[Path], bool]) -> Callable[[Path, str], None]:
    def check(work: Path, stdout: str) -> None:
        assert condition(work)

    return check


CHECKS: dict[str, Callable[[Path, str], None]] = {
    "stdout_lab": _check_stdout_lab,
    "txt_is_lab": _check(lambda work: [s.label for s in read_lab(work / "out.txt")] != []),
    "mostly_n": _check(lambda work: _n_share(work / "out.lab") >= 0.8),
    "gap_is_n": _check(
        lambda work: any(s.label == "N" and s.duration_s >= 3.0 for s in read_lab(work / "out.lab"))
    ),
    "every_change": _check_every_change,
    "svg_capo": _check_svg_capo,
    "capo": _check(lambda work: "Capo 2" in (work / "out.md").read_text()),
    "bars": _check_bars,
}


# --- the table and the doc ------------------------------------------------------------------


def test_there_are_at_least_forty_cases_with_distinct_ids_and_known_checks():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.check for c in CASES if c.check} == set(CHECKS)


def _doc_command(case: Case) -> str:
    return "chordcli " + " ".join(case.args)


def test_the_doc_lists_the_same_cases_commands_and_exit_statuses():
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| `([^`]*)` \| (\d) \|", DOC.read_text(), flags=re.M)
    assert rows == [(c.id, _doc_command(c), str(c.exit)) for c in CASES]
