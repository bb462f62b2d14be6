import math

import numpy as np
import pytest

from chordcli.errors import LabError, OutputError, OutputExistsError
from chordcli.lab import (
    OVERLAP_TOLERANCE_S,
    ChordSegment,
    format_lab,
    parse_lab,
    read_lab,
    write_lab,
)
from chordcli.segments import ChordSegment as SharedChordSegment

SEGMENTS = [
    ChordSegment(0.0, 0.5, "N"),
    ChordSegment(0.5, 2.25, "C:maj"),
    ChordSegment(2.25, 3.1, "A:min/b3"),
    ChordSegment(4.0, 6.123456, "G:7(b9,*5)"),  # a gap before it is allowed
    ChordSegment(6.123456, 7.0, "X"),
]


def test_chord_segment_is_shared_and_frozen():
    assert ChordSegment is SharedChordSegment
    seg = ChordSegment(1.0, 2.5, "C:maj", confidence=0.9)
    assert seg.duration_s == 1.5
    with pytest.raises(AttributeError):
        seg.label = "D:maj"


def test_parse_accepts_tabs_spaces_comments_blank_lines_and_exponents():
    text = (
        "\ufeff# made by hand\n"
        "0 0.5\tN\n"
        "\n"
        "   # indented comment\n"
        "0.5   2.25 C:maj\r\n"
        "2.25\t3.1e0\tA:min/b3\n"
        "  4.0 6.123456 G:7(b9,*5)  \n"
        "6.123456 7 X"
    )
    assert parse_lab(text.removeprefix("\ufeff")) == SEGMENTS


def test_empty_file_has_no_segments(tmp_path):
    path = tmp_path / "empty.lab"
    path.write_text("# nothing annotated\n\n")
    assert read_lab(path) == []


def test_read_accepts_utf8_byte_order_mark(tmp_path):
    path = tmp_path / "bom.lab"
    path.write_bytes(b"\xef\xbb\xbf0.0\t1.0\tC:maj\n")
    assert read_lab(path) == [ChordSegment(0.0, 1.0, "C:maj")]


def test_overlap_within_tolerance_is_accepted_and_kept_as_written():
    prev_end = 1.5
    start = prev_end - OVERLAP_TOLERANCE_S / 2
    segments = parse_lab(f"0 {prev_end!r} C:maj\n{start!r} 3 G:maj\n")
    assert segments[1].start_s == start


PARSE_ERRORS = [
    # text, line number, message fragment
    ("0 1 C:maj\n1 2\n", 2, "expected 3 fields (start end label), found 2"),
    ("0 1 C:maj extra\n", 1, "expected 3 fields (start end label), found 4"),
    ("# header\n\n0 1 C maj\n", 3, "found 4"),
    ("zero 1 C:maj\n", 1, "start time 'zero' is not a number"),
    ("0 1,5 C:maj\n", 1, "end time '1,5' is not a number"),
    ("0 nan C:maj\n", 1, "end time 'nan' is not a finite number"),
    ("-inf 1 C:maj\n", 1, "start time '-inf' is not a finite number"),
    ("-0.5 1 C:maj\n", 1, "start time -0.5 is negative"),
    ("0 1 N\n3.2 3.1 C:maj\n", 2, "start 3.2 is not before end 3.1"),
    ("2 2 C:maj\n", 1, "start 2 is not before end 2"),
    (
        "0 3.2 C:maj\n3.1 4 G:maj\n",
        2,
        "start 3.1 is before the end 3.2 of the previous segment (line 1)",
    ),
    ("5 6 C:maj\n\n1 2 G:maj\n", 3, "before the end 6 of the previous segment (line 1)"),
    ("0 1 Cmaj\n", 1, "invalid chord label 'Cmaj'"),
    ("0 1 N\n1 2 C:foo\n", 2, "unknown quality 'foo'"),
    ("0 1 H:min\n", 1, "invalid chord label 'H:min'"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), PARSE_ERRORS)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, fragment):
    path = tmp_path / "song.lab"
    path.write_text(text)
    with pytest.raises(LabError) as info:
        read_lab(path)
    message = str(info.value)
    assert message.startswith(f"'{path}' line {line}: ")
    assert fragment in message
    assert "\n" not in message


def test_error_message_format_is_exact():
    with pytest.raises(LabError) as info:
        text = "".join(f"{i} {i + 0.25} N\n" for i in range(11)) + "3.2 3.1 C:maj\n"
        parse_lab(text, source="song.lab")
    assert str(info.value) == "'song.lab' line 12: start 3.2 is not before end 3.1"


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p, "file not found"),
        (lambda p: p.mkdir() or p, "is a directory"),
        (lambda p: p.write_bytes(b"\x00\xff\xfe binary") and p, "not a text file"),
    ],
)
def test_unreadable_files(tmp_path, make, fragment):
    path = make(tmp_path / "x.lab")
    with pytest.raises(LabError) as info:
        read_lab(path)
    assert f"cannot read '{path}'" in str(info.value)
    assert fragment in str(info.value)


def test_format_lab_is_tab_separated_with_six_decimals():
    text = format_lab(SEGMENTS[:3])
    assert text == (
        "0.000000\t0.500000\tN\n0.500000\t2.250000\tC:maj\n2.250000\t3.100000\tA:min/b3\n"
    )
    assert format_lab([]) == ""


def test_write_then_read_round_trips(tmp_path):
    path = write_lab(SEGMENTS, tmp_path / "out.lab")
    assert path == tmp_path / "out.lab"
    assert read_lab(path) == SEGMENTS


def test_written_lab_loads_in_mir_eval(tmp_path):
    import mir_eval

    rng = np.random.default_rng(0)
    bounds = np.cumsum(rng.uniform(0.01, 3.0, 41))
    labels = ["C:maj", "A:min7/b7", "N", "F#:hdim7", "Bb:sus4(b7)", "X", "E:(3,5)"]
    segments = [
        ChordSegment(float(a), float(b), labels[i % len(labels)])
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]
    path = write_lab(segments, tmp_path / "est.lab")
    intervals, loaded = mir_eval.io.load_labeled_intervals(str(path))
    np.testing.assert_allclose(intervals[:, 0], [s.start_s for s in segments], atol=1e-6, rtol=0)
    np.testing.assert_allclose(intervals[:, 1], [s.end_s for s in segments], atol=1e-6, rtol=0)
    assert loaded == [s.label for s in segments]
    mir_eval.chord.validate(loaded, loaded)


@pytest.mark.parametrize(
    "relative",
    ["billboard/billboard-2.0.1-lab/0003/full.lab", "pop909/001/chord_midi.txt"],
)
def test_real_annotation_files_read_like_mir_eval(shared_data, tmp_path, relative):
    import mir_eval

    path = shared_data / relative
    segments = read_lab(path)
    # mir_eval rejects the blank last line of the Billboard files; give it the rest.
    lines = [line for line in path.read_text().splitlines(keepends=True) if line.strip()]
    (tmp_path / "copy.lab").write_text("".join(lines))
    intervals, labels = mir_eval.io.load_labeled_intervals(str(tmp_path / "copy.lab"))
    assert len(segments) == len(labels) > 10
    assert [s.label for s in segments] == labels
    np.testing.assert_array_equal([[s.start_s, s.end_s] for s in segments], intervals)


def test_float_rounding_overlaps_in_real_data_are_accepted(shared_data):
    # Billboard files hold adjacent times that differ by ~1e-12 s.
    paths = sorted((shared_data / "billboard" / "billboard-2.0.1-lab").glob("00[0-4]*/full.lab"))
    assert paths
    overlapping = 0
    for path in paths:
        segments = read_lab(path)
        pairs = zip(segments[:-1], segments[1:], strict=True)
        overlapping += sum(b.start_s < a.end_s for a, b in pairs)
    assert overlapping > 0


def test_corrupt_real_file_is_rejected_with_its_line(shared_data):
    # Song 0974 of Billboard 2.0.1 has times running backwards from line 73.
    path = shared_data / "billboard" / "billboard-2.0.1-lab" / "0974" / "full.lab"
    with pytest.raises(LabError, match=r"line 73: start 143\.537732426 is not before end"):
        read_lab(path)


def test_write_lab_refuses_to_overwrite(tmp_path):
    path = tmp_path / "out.lab"
    path.write_text("keep me\n")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_lab(SEGMENTS, path)
    assert path.read_text() == "keep me\n"
    write_lab(SEGMENTS, path, overwrite=True)
    assert read_lab(path) == SEGMENTS
    assert [p.name for p in tmp_path.iterdir()] == ["out.lab"]  # no temp file left


def test_write_lab_needs_existing_directory(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_lab(SEGMENTS, tmp_path / "missing" / "out.lab")


def test_invalid_segments_are_not_written(tmp_path):
    path = tmp_path / "out.lab"
    with pytest.raises(ValueError, match="segment 1"):
        write_lab([ChordSegment(0, 1, "C:maj"), ChordSegment(1, 2, "Cmaj")], path)
    assert not path.exists()


@pytest.mark.parametrize(
    ("segments", "fragment"),
    [
        ([ChordSegment(1.0, 1.0, "C:maj")], "not before end"),
        ([ChordSegment(1.0, 1.0000001, "C:maj")], "microsecond"),
        ([ChordSegment(-1.0, 1.0, "C:maj")], "finite time >= 0"),
        ([ChordSegment(0.0, math.inf, "C:maj")], "finite time >= 0"),
        ([ChordSegment(0.0, math.nan, "C:maj")], "finite time >= 0"),
        ([ChordSegment(0, 2, "N"), ChordSegment(1, 3, "N")], "before the end"),
        ([ChordSegment(0, 2, " C:maj")], "white space"),
    ],
)
def test_format_rejects_what_read_would_reject(segments, fragment):
    with pytest.raises(ValueError, match=fragment):
        format_lab(segments)


def test_negative_zero_is_written_as_zero():
    assert format_lab([ChordSegment(-0.0, 1.0, "N")]).startswith("0.000000\t")


def test_confidence_is_dropped_in_lab():
    assert (
        format_lab([ChordSegment(0, 1, "C:maj", confidence=0.7)]) == "0.000000\t1.000000\tC:maj\n"
    )
