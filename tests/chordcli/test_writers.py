import dataclasses
import io
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from chordcli.bars import chart_bars
from chordcli.errors import ChordcliError, OutputError, OutputExistsError
from chordcli.formats import SUFFIXES, OutputFormat
from chordcli.segments import ChordSegment, Transcription
from chordcli.writers import (
    FORMATS,
    format_transcription,
    read_transcription,
    render_transcription,
    write_transcription,
)
from chordcli.writers.midi import voicing
from chordcli.writers.musicxml import MUSICXML_KINDS
from theory import parse_chord
from theory.vocabulary import QUALITIES

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "data" / "golden"
sys.path.insert(0, str(REPO / "scripts"))
from make_golden import HANDMADE_LAB, example, render_all  # noqa: E402

# The kind values of the MusicXML 4.0 schema.
MUSICXML_KIND_VALUES = {
    "major", "minor", "augmented", "diminished", "dominant", "major-seventh", "minor-seventh",
    "diminished-seventh", "augmented-seventh", "half-diminished", "major-minor", "major-sixth",
    "minor-sixth", "dominant-ninth", "major-ninth", "minor-ninth", "dominant-11th", "major-11th",
    "minor-11th", "dominant-13th", "major-13th", "minor-13th", "suspended-second",
    "suspended-fourth", "Neapolitan", "Italian", "French", "German", "pedal", "power",
    "Tristan", "other", "none",
}  # fmt: skip


@pytest.fixture
def song() -> Transcription:
    return example()


def every_quality() -> Transcription:
    """One bar per vocabulary quality on varied roots, some inverted, in Eb major."""
    segs, t = [], 0.0
    roots = ["C", "Eb", "F#", "Bb", "A"]
    for i, q in enumerate(QUALITIES):
        label = f"{roots[i % len(roots)]}:{q.harte}"
        if i % 4 == 1 and 4 in parse_chord(label).intervals:
            label += "/3"
        segs.append(ChordSegment(t, t + 2.0, label, 0.5))
        t += 2.0
    segs.append(ChordSegment(t, t + 2.0, "X"))
    return Transcription(tuple(segs), t + 2.0, key=3, tempo_bpm=120.0, source="q.wav")


# ----------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("stem", ["example", "handmade"])
def test_text_formats_match_golden_files(stem):
    source = GOLDEN / (f"{stem}.json" if stem == "example" else f"{stem}.lab")
    transcription = read_transcription(source)
    for name, text in render_all(transcription, stem).items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), name


def test_golden_inputs_are_those_of_the_script():
    assert (GOLDEN / "handmade.lab").read_text(encoding="utf-8") == HANDMADE_LAB
    assert read_transcription(GOLDEN / "example.json") == example()
    text = format_transcription(example(), format="json")
    assert text == (GOLDEN / "example.out.json").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- round trips


def test_lab_round_trips_through_mir_eval(song, tmp_path):
    import mir_eval

    path = write_transcription(song, tmp_path / "song.lab")
    intervals, labels = mir_eval.io.load_labeled_intervals(str(path))
    assert labels == [s.label for s in song.segments]
    assert intervals.tolist() == [[s.start_s, s.end_s] for s in song.segments]
    back = read_transcription(path)
    assert back.segments == tuple(
        dataclasses.replace(s, confidence=None, alternatives=()) for s in song.segments
    )


def test_json_round_trips(song, tmp_path):
    path = write_transcription(song, tmp_path / "song.json")
    assert read_transcription(path) == song


def test_jams_validates_and_round_trips(song, tmp_path):
    import jams

    path = write_transcription(song, tmp_path / "song.jams")
    jam = jams.load(str(path), validate=True, strict=True)
    jam.validate(strict=True)
    (chords,) = jam.search(namespace="chord")
    assert [o.value for o in chords.data] == [s.label for s in song.segments]
    assert chords.annotation_metadata.annotation_tools.startswith("chordcli ")
    assert chords.annotation_metadata.annotator.model == "template"
    assert jam.search(namespace="key_mode")[0].data[0].value == "A:minor"
    assert [o.value for o in jam.search(namespace="beat")[0].data[:5]] == [1, 2, 3, 4, 1]
    assert jam.sandbox.chordcli["tuning_cents"] == song.tuning_cents == -12.3
    ranked = chords.sandbox.alternatives
    assert len(ranked) == len(chords.data)
    assert ranked[1] == [
        {"label": a.label, "probability": a.probability} for a in song.segments[1].alternatives
    ]
    assert [o.confidence for o in chords.data] == [s.confidence for s in song.segments]
    assert read_transcription(path) == song


def test_jams_without_beats_or_key_validates(tmp_path):
    t = Transcription((ChordSegment(0.0, 1.5, "C:maj"),), 2.0)
    back = read_transcription(write_transcription(t, tmp_path / "a.jams"))
    assert back.segments == t.segments and back.key == 24 and back.beats_s == ()


def test_musicxml_parses_back_with_measures_and_chord_symbols(tmp_path):
    from music21 import converter, harmony, stream

    t = every_quality()
    path = write_transcription(t, tmp_path / "q.musicxml")
    xml = path.read_text(encoding="utf-8")
    kinds = {k.text for k in ET.fromstring(xml.split("\n", 2)[2]).iter("kind")}
    assert kinds <= MUSICXML_KIND_VALUES
    grid, bars, _ = chart_bars(t)
    score = converter.parse(str(path))
    measures = list(score.parts[0].getElementsByClass(stream.Measure))
    assert len(measures) == len(bars)
    for measure in measures:
        assert measure.duration.quarterLength == grid.beats_per_bar
    expected = [
        (number, part.beat, part.label)
        for number, bar in enumerate(bars, start=1)
        for part in bar
        if not part.continued
    ]
    symbols = [
        (h.measureNumber, h.offset, h) for h in score.recurse().getElementsByClass(harmony.Harmony)
    ]
    assert len(symbols) == len(expected)
    for (number, beat, label), (m_number, offset, symbol) in zip(expected, symbols, strict=True):
        assert (m_number, offset) == (number, beat)
        chord = parse_chord(label)
        if chord.root_pc is None:
            assert isinstance(symbol, harmony.NoChord)
            assert symbol.chordKindStr == ("N.C." if label == "N" else "X")
            continue
        assert symbol.root().pitchClass == chord.root_pc
        assert symbol.bass().pitchClass == chord.bass_pc
        assert {p.pitchClass for p in symbol.pitches} == set(chord.pitch_classes)


def test_musicxml_kinds_cover_the_vocabulary():
    assert set(MUSICXML_KINDS) == {q.harte for q in QUALITIES}


def test_musicxml_key_time_and_tempo(song, tmp_path):
    from music21 import converter, key, meter, tempo

    song = dataclasses.replace(song, beats_per_bar=3, downbeats_s=song.beats_s[::3])
    score = converter.parse(str(write_transcription(song, tmp_path / "s.xml")))
    first = score.parts[0].getElementsByClass("Measure")[0]
    assert first.getElementsByClass(meter.TimeSignature)[0].ratioString == "3/4"
    k = first.getElementsByClass(key.KeySignature)[0]
    assert k.sharps == 0 and getattr(k, "mode", "minor") == "minor"
    assert first.getElementsByClass(tempo.MetronomeMark)[0].number == 96
    assert score.metadata.bestTitle == "example"


def test_mxl_is_a_compressed_musicxml_archive(song, tmp_path):
    from music21 import converter

    path = write_transcription(song, tmp_path / "song.mxl")
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert "META-INF/container.xml" in archive.namelist()
    assert len(converter.parse(str(path)).parts[0].getElementsByClass("Measure")) > 0


def test_midi_notes_match_the_segments(song, tmp_path):
    import mido

    path = write_transcription(song, tmp_path / "song.mid")
    midi = mido.MidiFile(str(path))
    assert midi.ticks_per_beat == 480 and len(midi.tracks) == 2
    now, onsets = 0.0, {}
    for message in midi:  # times in seconds, through the tempo map
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            onsets.setdefault(round(now, 2), []).append(message.note)
        if message.type == "time_signature":
            assert (message.numerator, message.denominator) == (4, 4)
        if message.type == "key_signature":
            assert message.key == "Am"
    sounding = [s for s in song.segments if parse_chord(s.label).root_pc is not None]
    assert len(onsets) == len(sounding)
    for seg, (time_s, notes) in zip(sounding, sorted(onsets.items()), strict=True):
        assert time_s == pytest.approx(seg.start_s, abs=0.011)
        assert sorted(notes) == voicing(seg.label)
    assert now == pytest.approx(song.segments[-2].end_s, abs=0.01)  # last note-off


def test_voicing():
    assert voicing("C:maj") == [36, 48, 52, 55]
    assert voicing("A:min/b3") == [36, 57, 60, 64]
    assert voicing("N") == [] and voicing("X") == []


# ----------------------------------------------------------------------------- files


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_writes_atomically_and_never_overwrites(fmt, song, tmp_path):
    path = tmp_path / f"song{SUFFIXES[fmt][0]}"
    write_transcription(song, path)
    first = path.read_bytes()
    assert first
    with pytest.raises(OutputExistsError, match="already exists"):
        write_transcription(song, path)
    assert path.read_bytes() == first
    other = dataclasses.replace(song, segments=song.segments[:3])
    write_transcription(other, path, overwrite=True)
    assert path.read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert FORMATS[fmt].binary == isinstance(render_transcription(song, format=fmt), bytes)


def test_format_comes_from_the_suffix_or_the_argument(song, tmp_path):
    write_transcription(song, tmp_path / "a.txt")
    assert (tmp_path / "a.txt").read_text().startswith("example\n")
    write_transcription(song, tmp_path / "b.out", format="chordpro")
    assert (tmp_path / "b.out").read_text().startswith("{title: example}")
    with pytest.raises(OutputError, match="'.wav'"):
        write_transcription(song, tmp_path / "c.wav")
    with pytest.raises(OutputError, match="does not exist"):
        write_transcription(song, tmp_path / "missing" / "a.lab")
    with pytest.raises(ValueError, match="binary"):
        format_transcription(song, format="midi")


def test_read_lab_estimates_the_key_and_sniffs_txt(tmp_path):
    path = tmp_path / "chords.txt"
    path.write_text(HANDMADE_LAB)
    t = read_transcription(path)
    assert t.key == 7 and t.beats_s == () and t.duration_s == pytest.approx(19.4)
    assert t.source == str(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.lab", "0 1 C:maj\n1 2 H:min\n", "'{path}' line 2"),
        ("bad.json", "{not json", "cannot read '{path}': not JSON"),
        ("bad.jams", '{"annotations": 3}', "cannot read '{path}': not a valid JAMS"),
        ("song.mid", "MThd", "cannot read '{path}': midi files cannot be read back"),
    ],
)
def test_read_errors_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ChordcliError) as info:
        read_transcription(path)
    assert message.format(path=path) in str(info.value)
    assert "\n" not in str(info.value)


def test_read_missing_file(tmp_path):
    for name in ("a.lab", "a.json", "a.jams"):
        with pytest.raises(ChordcliError, match="file not found"):
            read_transcription(tmp_path / name)


def test_jams_without_chords_is_an_error(tmp_path):
    import jams

    jam = jams.JAMS()
    jam.file_metadata.duration = 3.0
    path = tmp_path / "empty.jams"
    jam.save(str(path))
    with pytest.raises(ChordcliError, match="no 'chord' annotation"):
        read_transcription(path)


def test_render_to_memory_is_deterministic(song):
    for fmt in ("lab", "json", "jams", "leadsheet", "chordpro", "midi"):
        assert render_transcription(song, format=fmt) == render_transcription(song, format=fmt)
    assert io.BytesIO(render_transcription(song, format="midi")).read(4) == b"MThd"


def test_capo_is_said_by_charts_json_and_jams_and_read_back(tmp_path):
    capo = dataclasses.replace(example(), capo=2)
    assert "Capo 2" in format_transcription(capo, format="leadsheet")
    assert "{capo: 2}" in format_transcription(capo, format="chordpro")
    for name in ("c.json", "c.jams"):
        write_transcription(capo, tmp_path / name)
        assert read_transcription(tmp_path / name).capo == 2
    # without a capo nothing changes (the golden files hold no capo)
    plain = example()
    assert "Capo" not in format_transcription(plain, format="leadsheet")
    assert '"capo"' not in format_transcription(plain, format="json")
    assert "capo" not in format_transcription(plain, format="chordpro")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"capo": 12}, "capo 12 is not a fret 0..11"),
        ({"capo": 1.5}, "capo 1.5 is not a fret number"),
        ({"tempo_bpm": 0.5}, "tempo 0.5 bpm is outside 1..400 bpm"),
        ({"tempo_bpm": 1e12}, "outside 1..400 bpm"),
        ({"beats_per_bar": 0}, "0 beats per bar"),
        ({"beats_per_bar": 17}, "17 beats per bar (1..16 are read)"),
        ({"beats_s": [0.0, 0.1, 0.2]}, "the beats are faster than 400 bpm"),
        ({"beats_s": [1.0, 1.0]}, "the beat times are not increasing"),
        ({"beats_s": [1e6]}, "is beyond 86400 s"),
    ],
)
def test_json_with_an_absurd_bar_grid_is_refused(fields, problem):
    import json

    from chordcli.jsonio import parse_json

    data = json.loads(format_transcription(example(), format="json")) | fields
    with pytest.raises(ChordcliError, match=re.escape(problem)):
        parse_json(json.dumps(data), source="x.json")


def test_jams_with_an_absurd_bar_grid_is_refused(tmp_path):
    import jams

    path = tmp_path / "dense.jams"
    write_transcription(example(), path)
    jam = jams.load(str(path))
    beats = jams.Annotation(namespace="beat")
    for i in range(3):
        beats.append(time=i * 1e-6, duration=0.0, value=1 + i % 4)
    jam.annotations = jams.AnnotationArray([a for a in jam.annotations if a.namespace != "beat"])
    jam.annotations.append(beats)
    jam.save(str(path))
    with pytest.raises(ChordcliError, match="the beats are faster than 400 bpm"):
        read_transcription(path)
    jam.sandbox.chordcli["tempo_bpm"] = 1e12
    jam.annotations = jams.AnnotationArray([a for a in jam.annotations if a.namespace != "beat"])
    jam.save(str(path))
    with pytest.raises(ChordcliError, match=r"'.*dense\.jams': tempo 1e\+12 bpm"):
        read_transcription(path)


def test_an_html_page_is_never_written_over_its_recording(tmp_path):
    page = tmp_path / "song.html"
    page.write_bytes(b"RIFF audio")
    with pytest.raises(OutputError, match="it is the page's recording"):
        write_transcription(example(), page, audio=page, overwrite=True)
    assert page.read_bytes() == b"RIFF audio"
