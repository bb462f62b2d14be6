"""The HTML chord player: its data (bars, chords, times, spellings) and the file written."""

import dataclasses
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from chordcli.cli import app
from chordcli.errors import ChordcliError
from chordcli.lab import read_lab
from chordcli.segments import ChordSegment, Transcription
from chordcli.writers import (
    format_transcription,
    read_transcription,
    render_transcription,
    write_transcription,
)
from chordcli.writers.charts import format_leadsheet
from chordcli.writers.html import (
    check_audio,
    embed_bytes,
    embedding_key,
    format_html,
    page_data,
    with_audio_beats,
)
from theory.keys import parse_key
from theory.transpose import transpose_key, transpose_label

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_LAB = REPO / "examples" / "example.lab"
EXAMPLE_AUDIO = REPO / "examples" / "example.flac"
BEAT_S = 3.343229 / 4  # the example is one bar of 4/4 every 3.343229 s


def _example(**changes) -> Transcription:
    """The bundled example's reference chords with its beats (from 0 s, 4 to a bar)."""
    t = read_transcription(EXAMPLE_LAB)
    n = round(t.duration_s / BEAT_S)
    beats = tuple(i * BEAT_S for i in range(n + 1))
    t = dataclasses.replace(t, beats_s=beats, downbeats_s=beats[::4], tempo_bpm=60 / BEAT_S)
    return dataclasses.replace(t, **changes)


def _timeline(data: dict) -> list[tuple[float, float, str]]:
    """The page's chords in time order, held chords merged: (start_s, end_s, label)."""
    out: list[tuple[float, float, str]] = []
    for bar in data["bars"]:
        for chord in bar["chords"]:
            label = data["labels"][chord["label"]]
            if out and out[-1][2] == label and out[-1][1] == chord["start_s"]:
                out[-1] = (out[-1][0], chord["end_s"], label)
            else:
                out.append((chord["start_s"], chord["end_s"], label))
    return out


def test_page_chords_and_times_match_the_lab_on_its_beats():
    data = page_data(_example())
    reference = read_lab(EXAMPLE_LAB)
    timeline = _timeline(data)
    assert [label for _, _, label in timeline] == [s.label for s in reference]
    for (start, end, _), seg in zip(timeline, reference, strict=True):
        assert start == pytest.approx(seg.start_s, abs=1e-3)
        assert end == pytest.approx(seg.end_s, abs=1e-3)
    # 8 bars of 4 beats, contiguous; every chord lies in its bar and knows its beats.
    assert len(data["bars"]) == 8
    for bar, following in zip(data["bars"], data["bars"][1:], strict=False):
        assert bar["end_s"] == following["start_s"]
    for bar in data["bars"]:
        assert sum(chord["beats"] for chord in bar["chords"]) == 4
        assert bar["chords"][0]["start_s"] == bar["start_s"]
        assert bar["chords"][-1]["end_s"] == bar["end_s"]
        for chord in bar["chords"]:
            assert chord["end_s"] - chord["start_s"] == pytest.approx(
                chord["beats"] * BEAT_S, abs=1e-3
            )
    third = data["bars"][2]["chords"]
    assert [data["labels"][c["label"]] for c in third] == [
        "G:maj7", "D:maj6/3", "E:min7", "A:sus4(b7)"
    ]  # fmt: skip
    assert [c["beat"] for c in third] == [0, 1, 2, 3]


def test_without_beats_changes_land_within_half_a_beat_of_the_lab():
    t = read_transcription(EXAMPLE_LAB)  # no beats: a constant 120 bpm grid
    data = page_data(t)
    half_beat = 60 / 120 / 2
    reference = read_lab(EXAMPLE_LAB)
    timeline = _timeline(data)
    *timeline, (start, end, last) = timeline  # A:7 ends on the beat nearest the end
    assert last == "N" and end - start < half_beat
    assert [label for _, _, label in timeline] == [s.label for s in reference]
    for (start, _, _), seg in zip(timeline, reference, strict=True):
        assert abs(start - seg.start_s) <= half_beat + 1e-6
    assert data["bars"][0]["start_s"] == 0.0
    assert data["bars"][-1]["end_s"] == pytest.approx(t.duration_s, abs=1e-3)


def test_header_fields():
    data = page_data(_example(model="chordnet-v1"))
    assert data["title"] == "example"
    assert data["model"] == "chordnet-v1"
    assert data["tempo_bpm"] == pytest.approx(71.8, abs=0.05)
    assert data["beats_per_bar"] == 4
    assert data["tuning"] is None
    assert data["keys"][0] == "D major" and data["keys"][2] == "E major"
    assert data["levels"] == ["full", "sevenths", "triads"]


def test_every_transposition_is_spelled_like_the_lead_sheet():
    """Table `shift` holds the symbols the lead sheet writes after ``--transpose shift``."""
    t = _example()
    data = page_data(t)
    for shift in range(12):
        moved = dataclasses.replace(
            t,
            key=transpose_key(t.key, shift),
            segments=tuple(
                dataclasses.replace(s, label=transpose_label(s.label, shift)) for s in t.segments
            ),
        )
        sheet = format_leadsheet(moved)
        chart = sheet.split("```")[1]
        # (the lead sheet closes the last bar with N.C. after the recording; the page stops)
        sheet_symbols = set(re.findall(r"[^\s|]+", chart)) - {"%", ".", "N.C."}
        page_symbols = {
            data["symbols"]["full"][shift][c["label"]]
            for bar in data["bars"]
            for c in bar["chords"]
        }
        assert page_symbols == sheet_symbols, shift
    labels = data["labels"]
    assert data["symbols"]["full"][0][labels.index("D:maj6/3")] == "D6/F#"
    assert data["symbols"]["full"][2][labels.index("D:maj6/3")] == "E6/G#"
    assert data["symbols"]["sevenths"][0][labels.index("A:sus4(b7)")] == "A7"
    assert data["symbols"]["triads"][0][labels.index("G:maj7")] == "G"
    assert data["symbols"]["triads"][1][labels.index("E:min7")] == "Fm"


def test_flat_keys_spell_with_flats():
    t = _example(key=parse_key("F:maj"))
    data = page_data(t)
    g = data["labels"].index("G:maj7")
    assert data["symbols"]["full"][3][g] == "Bbmaj7"  # Bb major after +3
    assert data["keys"][3] == "Ab major"


def test_alternatives_are_indexed_and_spelled_where_segments_have_them():
    segments = [
        SimpleNamespace(
            start_s=s.start_s,
            end_s=s.end_s,
            label=s.label,
            confidence=0.8,
            alternatives=(("E:min7", 0.15), ("G:maj7", 0.8)) if s.label == "G:maj7" else (),
        )
        for s in _example().segments
    ]
    data = page_data(_example(segments=tuple(segments)))
    labels = data["labels"]
    first = data["bars"][0]["chords"][0]
    assert labels[first["label"]] == "G:maj7"
    assert first["alternatives"] == [[labels.index("E:min7"), 0.15]]  # its own label left out
    assert data["bars"][1]["chords"][0]["alternatives"] == []
    assert data["symbols"]["full"][2][labels.index("E:min7")] == "F#m7"


def test_tuning_is_shown_when_the_transcription_has_one():
    assert page_data(_example(tuning_cents=40.0))["tuning"] == "+40 cents (A = 450.3 Hz)"


def test_the_capo_the_chords_are_written_for_is_in_the_data():
    assert page_data(_example())["capo"] == 0
    assert page_data(_example(capo=3))["capo"] == 3


def _embedded_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html)
    assert match is not None
    return json.loads(match.group(1))


def _unembed(escaped: bytes, key: int = 0) -> bytes:
    """The page's reader: "=" escapes the next byte, shifted by 64; then XOR with the key."""
    out, i = bytearray(), 0
    while i < len(escaped):
        if escaped[i] == ord("="):
            out.append(((escaped[i + 1] - 64) % 256) ^ key)
            i += 2
        else:
            out.append(escaped[i] ^ key)
            i += 1
    return bytes(out)


@pytest.mark.parametrize("key", [0, 61, 255])
def test_embedded_bytes_avoid_what_the_html_parser_changes(key):
    data = bytes(range(256)) * 3 + b"</script><!--\r\n=@"
    escaped = embed_bytes(data, key=key)
    assert not set(escaped) & {0x00, 0x0D, ord("<")}
    assert _unembed(escaped, key) == data
    special = {b ^ key for b in b"\x00\r<="}
    assert len(escaped) == len(data) + sum(b in special for b in data)


def test_the_key_leaves_the_fewest_escapes():
    data = b"\x00" * 100 + bytes(range(256))  # zero bytes abound, as in MP3 frames
    key = embedding_key(data)
    assert key not in (0x00, 0x0D, 0x3C, 0x3D)  # zero must not become an escaped byte
    assert len(embed_bytes(data, key=key)) == len(data) + 4
    assert len(embed_bytes(data)) == len(data) + 104


def test_page_is_self_contained_with_the_audio_embedded(tmp_path):
    out = write_transcription(_example(), tmp_path / "song.html", audio=EXAMPLE_AUDIO)
    page = out.read_bytes()
    match = re.search(
        rb'<script type="application/octet-stream" id="audio-data" data-type="audio/flac" '
        rb'data-bytes="(\d+)" data-key="(\d+)">(.*?)</script>',
        page,
        flags=re.DOTALL,
    )
    assert match is not None
    audio = EXAMPLE_AUDIO.read_bytes()
    assert int(match.group(1)) == len(audio)
    assert int(match.group(2)) == embedding_key(audio)
    assert _unembed(match.group(3), int(match.group(2))) == audio
    # Everything else is ASCII, declared as windows-1252 (one character per byte).
    html = (page[: match.start()] + page[match.end() :]).decode("ascii")
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="windows-1252">' in html
    assert len(page) - len(audio) < 200_000
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "<script src" not in html and 'rel="stylesheet"' not in html
    assert _embedded_data(html) == json.loads(json.dumps(page_data(_example())))
    assert "@media print" in html and "@media (max-width" in html


def test_link_audio_writes_a_relative_link(tmp_path):
    page_dir = tmp_path / "pages"
    page_dir.mkdir()
    out = write_transcription(
        _example(), page_dir / "song.html", audio=EXAMPLE_AUDIO, link_audio=True
    )
    html = out.read_text(encoding="ascii")
    src = re.search(r'<audio id="audio"[^>]* src="([^"]+)"', html).group(1)
    assert not src.startswith("data:")
    assert (page_dir / src).resolve() == EXAMPLE_AUDIO.resolve()
    assert len(html) < 100_000 and "application/octet-stream" not in html


def test_markup_in_names_cannot_break_the_page():
    t = _example(source="/x/a<b>&c\u00e9.lab", model="</script><b>")
    html = format_html(t).decode("ascii")
    assert "<title>a&lt;b&gt;&amp;c&#233;</title>" in html
    assert "</script><b>" not in html
    data = _embedded_data(html)
    assert data["title"] == "a<b>&c\u00e9" and data["model"] == "</script><b>"
    assert "No audio" in html and "<audio" not in html


def test_audio_errors_name_the_file(tmp_path):
    with pytest.raises(ChordcliError, match="cannot read '.*missing.mp3': file not found"):
        check_audio(tmp_path / "missing.mp3")
    with pytest.raises(ChordcliError, match=r"'.*song.xyz'.*browsers do not play"):
        check_audio(tmp_path / "song.xyz")


def test_with_audio_beats_takes_the_recordings_beats():
    t = read_transcription(EXAMPLE_LAB)
    beaten = with_audio_beats(t, EXAMPLE_AUDIO)
    assert beaten.tempo_bpm == pytest.approx(60 / BEAT_S, rel=0.02)
    assert beaten.segments == t.segments
    # Chord changes fall on downbeats of the tracked bars (within 50 ms).
    for seg in read_lab(EXAMPLE_LAB)[1:2]:
        assert min(abs(d - seg.start_s) for d in beaten.downbeats_s) < 0.05
    assert with_audio_beats(beaten, EXAMPLE_AUDIO) is beaten  # beats already: unchanged


def test_html_is_a_format_by_suffix(tmp_path):
    song = Transcription(segments=(ChordSegment(0.0, 2.0, "C:maj"),), duration_s=2.0)
    write_transcription(song, tmp_path / "a.htm")
    assert (tmp_path / "a.htm").read_text().startswith("<!DOCTYPE html>")
    assert isinstance(render_transcription(song, format="html"), bytes)
    with pytest.raises(ValueError, match="binary"):
        format_transcription(song, format="html")


# ----------------------------------------------------------------------------- command line


@pytest.fixture
def runner():
    return CliRunner()


def test_export_lab_with_audio_writes_the_page(runner, tmp_path):
    out = tmp_path / "example.html"
    result = runner.invoke(
        app, ["export", str(EXAMPLE_LAB), "--audio", str(EXAMPLE_AUDIO), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_bytes().decode("latin-1")
    assert 'id="audio-data" data-type="audio/flac"' in html
    data = _embedded_data(html)
    assert data["tempo_bpm"] == pytest.approx(60 / BEAT_S, abs=1.0)  # beats from the audio
    assert [label for *_, label in _timeline(data)] == [s.label for s in read_lab(EXAMPLE_LAB)]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--audio", "{audio}", "--leadsheet"], "HTML page"),
        (["--link-audio", "-o", "{tmp}/a.html"], "needs --audio"),
    ],
)
def test_export_audio_usage_errors_exit_2(runner, tmp_path, args, fragment):
    args = [a.format(audio=EXAMPLE_AUDIO, tmp=tmp_path) for a in args]
    result = runner.invoke(app, ["export", str(EXAMPLE_LAB), *args])
    assert result.exit_code == 2
    assert fragment in result.output


def test_export_missing_audio_exits_1_naming_it(runner, tmp_path):
    out = tmp_path / "a.html"
    result = runner.invoke(
        app, ["export", str(EXAMPLE_LAB), "--audio", str(tmp_path / "gone.mp3"), "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "gone.mp3" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_transcribe_to_html_embeds_the_input(runner, tmp_path):
    out = tmp_path / "example.html"
    result = runner.invoke(
        app, ["transcribe", str(EXAMPLE_AUDIO), "--model", "template", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_bytes().decode("latin-1")
    assert 'id="audio-data" data-type="audio/flac"' in html
    data = _embedded_data(html)
    assert data["model"] == "template" and data["bars"]
    linked = tmp_path / "linked.html"
    result = runner.invoke(
        app,
        ["transcribe", str(EXAMPLE_AUDIO), "--model", "template", "-o", str(linked)]
        + ["--link-audio"],
    )
    assert result.exit_code == 0, result.output
    assert "application/octet-stream" not in linked.read_text(encoding="ascii")
    result = runner.invoke(
        app, ["transcribe", str(EXAMPLE_AUDIO), "--model", "template", "--format", "html"]
    )
    assert result.exit_code == 2 and "needs a file" in result.output


def test_a_sliver_after_the_last_bar_line_joins_the_last_chord():
    beats = tuple(0.5 * i for i in range(17))  # 4 bars of 4/4 at 120 bpm
    song = Transcription(
        segments=(ChordSegment(0.0, 4.0, "C:maj"), ChordSegment(4.0, 8.01, "G:maj")),
        duration_s=8.01,
        beats_s=beats,
        downbeats_s=beats[::4][:-1],
    )
    data = page_data(song)
    assert len(data["bars"]) == 4
    assert data["bars"][-1]["end_s"] == data["bars"][-1]["chords"][-1]["end_s"] == 8.01
    assert _timeline(data) == [(0.0, 4.0, "C:maj"), (4.0, 8.01, "G:maj")]
