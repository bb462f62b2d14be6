"""Regenerate the golden files of the text output formats in tests/data/golden/.

    python scripts/make_golden.py

Inputs (written by this script too, then read back like any user file):

* ``example.json``: a transcription with beats, downbeats, a key, confidences, ranked
  alternatives, a tuning, a slash chord, a short chord, a pickup of silence and a held chord;
* ``handmade.lab``: a hand-written LAB file (no key, no beats: the key is estimated and bars
  follow a 120 bpm grid).

Outputs: each input rendered as LAB, lead sheet (Markdown and plain text, and with the
alternatives when it has any) and ChordPro, and
``example.json`` rendered as JSON again. tests/chordcli/test_writers.py renders the inputs and
compares the results with these files exactly; rerun this script only when a format changes on
purpose, and review the diff.
"""

from __future__ import annotations

from pathlib import Path

from chordcli.jsonio import format_json
from chordcli.segments import Alternative, ChordSegment, Transcription
from chordcli.writers import read_transcription, render_transcription

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden"

HANDMADE_LAB = """\
0.000000\t0.520000\tN
0.520000\t2.520000\tG:maj
2.520000\t4.520000\tE:min7
4.520000\t5.520000\tC:maj7
5.520000\t6.520000\tD:sus4(b7)
6.520000\t10.520000\tG:maj
10.520000\t12.520000\tC:maj/3
12.520000\t13.020000\tC#:dim7
13.020000\t14.520000\tD:7
14.520000\t18.520000\tG:maj
18.520000\t19.400000\tN
"""


def example() -> Transcription:
    beats = tuple(round(0.4 + 0.625 * i, 4) for i in range(40))
    labels = [
        (0.0, 0.4, "N", None),
        (0.4, 3.0, "A:min", 0.81),
        (3.0, 5.4, "F:maj7", 0.7),
        (5.4, 6.65, "C:maj/3", 0.66),
        (6.65, 7.9, "G:sus4(b7)", 0.5),
        (7.9, 12.9, "A:min", 0.9),
        (12.9, 15.4, "D:min7", 0.6),
        (15.4, 16.0, "E:7", 0.55),
        (16.0, 20.4, "A:min", 0.9),
        (20.4, 21.0, "Bb:maj7(#11)", 0.3),
        (21.0, 25.0, "N", None),
    ]
    alternatives = {
        "A:min": (("A:min", 0.81), ("A:min7", 0.09), ("C:maj", 0.05)),
        "C:maj/3": (("C:maj", 0.66), ("E:min", 0.18), ("A:min7", 0.0912)),
    }

    def segment(start: float, end: float, label: str, confidence: float | None) -> ChordSegment:
        ranked = tuple(Alternative(*a) for a in alternatives.get(label, ()))
        return ChordSegment(start, end, label, confidence, ranked)

    return Transcription(
        segments=tuple(segment(*item) for item in labels),
        duration_s=25.0,
        key=21,
        key_confidence=0.8,
        tempo_bpm=96.0,
        beats_s=beats,
        downbeats_s=beats[::4],
        beats_per_bar=4,
        source="example.wav",
        model="template",
        tuning_cents=-12.3,
    )


def render_all(transcription: Transcription, stem: str) -> dict[str, str]:
    """The golden file names and contents of one input."""
    outputs = {
        f"{stem}.out.lab": render_transcription(transcription, format="lab"),
        f"{stem}.md": render_transcription(transcription, format="leadsheet"),
        f"{stem}.txt": render_transcription(transcription, format="leadsheet", markdown=False),
        f"{stem}.cho": render_transcription(transcription, format="chordpro"),
    }
    if any(s.alternatives for s in transcription.segments):
        outputs[f"{stem}.alternatives.md"] = render_transcription(
            transcription, format="leadsheet", alternatives=True
        )
    return outputs


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    (GOLDEN / "example.json").write_text(format_json(example()), encoding="utf-8")
    (GOLDEN / "handmade.lab").write_text(HANDMADE_LAB, encoding="utf-8")
    outputs = {"example.out.json": format_json(read_transcription(GOLDEN / "example.json"))}
    for stem in ("example", "handmade"):
        suffix = ".json" if stem == "example" else ".lab"
        transcription = read_transcription(GOLDEN / f"{stem}{suffix}")
        outputs |= render_all(transcription, stem)
    for name, text in outputs.items():
        (GOLDEN / name).write_text(text, encoding="utf-8")
        print(f"wrote {GOLDEN / name}")


if __name__ == "__main__":
    main()
