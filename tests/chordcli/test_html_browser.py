"""The bundled example's HTML page in a real browser: headless Chromium driven by Selenium.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the ``selenium`` package (in
the ``[test]`` extra); ``.ci/run`` installs them. The page is opened from a ``file://`` URL and
makes no network request: the browser's proxy is a dead port, so any request would fail and log
an error, and the test fails on any console error.
"""

import hashlib
import sys
import time
from pathlib import Path

import pytest

from chordcli.segments import ChordSegment, Transcription
from chordcli.writers import write_transcription
from chordcli.writers.html import page_data

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from make_html_screenshot import find_browser, start_browser, write_example_page  # noqa: E402

_NEEDS = "needs the Debian packages chromium and chromium-driver and selenium ([test] extra)"
pytest.importorskip("selenium.webdriver", reason=_NEEDS)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(None in find_browser(), reason=_NEEDS)]

# How far the highlighted chord may lag or lead the audio clock, in seconds.
TOLERANCE_S = 0.1


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The example's page (chords from its LAB, beats from its audio) and its data."""
    path = tmp_path_factory.mktemp("page") / "example.html"
    return path, page_data(write_example_page(path))


@pytest.fixture(scope="module")
def browser():
    driver = start_browser(width=1000, height=700)
    yield driver
    driver.quit()


_STATE = """
const audio = document.getElementById("audio");
const chord = document.querySelector('.chord[aria-current="true"]');
return [audio.currentTime, audio.paused, chord && +chord.dataset.start, chord && +chord.dataset.end,
        chord && chord.textContent, document.querySelectorAll('[aria-current]').length];
"""


def _state(driver):
    return driver.execute_script(_STATE)


def _wait(predicate, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_page_plays_follows_the_audio_seeks_and_transposes(browser, page, tmp_path):
    path, data = page
    browser.get(path.as_uri())
    ready = "return document.getElementById('audio').readyState"
    assert _wait(lambda: browser.execute_script(ready) >= 1)
    chords = browser.find_elements(By.CSS_SELECTOR, ".chord")
    assert len(chords) == sum(len(bar["chords"]) for bar in data["bars"])
    labels = [data["labels"][c["label"]] for bar in data["bars"] for c in bar["chords"]]
    assert [c.text for c in chords] == [data["symbols"]["full"][0][i] for i in _indices(data)]
    assert browser.find_element(By.ID, "info-key").text == "D major"

    # Play (muted) from 6 s, across four one-beat chords, and sample the highlight.
    browser.execute_script(
        "const a = document.getElementById('audio'); a.muted = true; a.currentTime = 6.0;"
        "return a.play();"
    )
    samples, seen = [], set()
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:
        now, paused, start, end, text, n_current = _state(browser)
        samples.append((now, start, end))
        seen.add(text)
        assert n_current == 1
        time.sleep(0.05)
    assert not paused
    assert samples[-1][0] - samples[0][0] > 3.0  # the audio clock ran
    for now, start, end in samples:
        assert start - TOLERANCE_S <= now <= end + TOLERANCE_S, (now, start, end)
    assert {"Gmaj7", "D6/F#", "Em7", "A7sus4"} <= seen

    # Space pauses; a click on a chord seeks to it and highlights it.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.SPACE)
    assert _wait(lambda: _state(browser)[1])
    target = next(i for i, label in enumerate(labels) if label == "E:min7")
    chords[target].click()
    now, _, start, _, text, _ = _state(browser)
    assert now == pytest.approx(start, abs=0.01)
    assert start == pytest.approx(float(chords[target].get_attribute("data-start")))
    assert chords[target].get_attribute("aria-current") == "true"
    # The right arrow moves to the next bar.
    bar_starts = [bar["start_s"] for bar in data["bars"]]
    bar = max(i for i, s in enumerate(bar_starts) if s <= now + 1e-6)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert _state(browser)[0] == pytest.approx(bar_starts[bar + 1], abs=0.01)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_DOWN)  # a row: 4 bars
    assert _state(browser)[0] == pytest.approx(bar_starts[bar + 5], abs=0.01)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    assert _state(browser)[0] == pytest.approx(bar_starts[bar + 4], abs=0.01)

    # Transpose +2 respells the chart and the key from the embedded tables.
    up = browser.find_element(By.ID, "transpose-up")
    up.click()
    up.click()
    texts = [c.text for c in browser.find_elements(By.CSS_SELECTOR, ".chord")]
    assert texts == [data["symbols"]["full"][2][i] for i in _indices(data)]
    assert texts[0] == "Amaj7"
    assert browser.find_element(By.ID, "info-key").text == "E major"
    # A capo on 2 brings the shapes back to the sounding chords; triads simplify.
    capo = browser.find_element(By.ID, "capo-up")
    capo.click()
    capo.click()
    assert browser.find_element(By.CSS_SELECTOR, ".chord").text == "Gmaj7"
    Select(browser.find_element(By.ID, "simplify")).select_by_value("triads")
    assert browser.find_element(By.CSS_SELECTOR, ".chord").text == "G"

    screenshot = tmp_path / "example-page.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _console_errors(browser) == []


def test_page_is_responsive_and_printable(browser, page):
    path, _ = page
    browser.get(path.as_uri())
    columns = "return getComputedStyle(document.getElementById('chart')).gridTemplateColumns"
    assert len(browser.execute_script(columns).split()) == 4
    browser.set_window_size(390, 800)  # a phone
    try:
        assert _wait(lambda: len(browser.execute_script(columns).split()) == 2)
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        hidden = "return getComputedStyle(document.getElementById('controls')).display"
        assert browser.execute_script(hidden) == "none"
        assert len(browser.execute_script(columns).split()) == 4
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.set_window_size(1000, 700)
    assert _console_errors(browser) == []


_DIGEST = """
const done = arguments[arguments.length - 1];
fetch(document.getElementById("audio").src)
  .then((response) => response.arrayBuffer())
  .then((buffer) => crypto.subtle.digest("SHA-256", buffer))
  .then((digest) => done(Array.from(new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0")).join("")))
  .catch((error) => done("error: " + error));
"""


def test_the_page_gives_back_the_embedded_bytes(browser, page, tmp_path):
    path, _ = page
    browser.get(path.as_uri())
    assert (
        browser.execute_async_script(_DIGEST)
        == hashlib.sha256((REPO / "examples" / "example.flac").read_bytes()).hexdigest()
    )
    # Every byte value, and the sequences an HTML parser would act on, come back unchanged.
    odd = tmp_path / "bytes.wav"
    odd.write_bytes(bytes(range(256)) * 64 + b"</script><!--\r\n\r=\x00" + bytes(range(256))[::-1])
    song = Transcription(segments=(ChordSegment(0.0, 1.0, "C:maj"),), duration_s=1.0)
    write_transcription(song, tmp_path / "bytes.html", audio=odd)
    browser.get((tmp_path / "bytes.html").as_uri())
    assert browser.execute_async_script(_DIGEST) == hashlib.sha256(odd.read_bytes()).hexdigest()
    assert browser.find_elements(By.CSS_SELECTOR, ".chord")[0].text == "C"


def _indices(data):
    return [c["label"] for bar in data["bars"] for c in bar["chords"]]


def _console_errors(browser):
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_a_page_written_for_a_capo_opens_on_that_fret(browser, tmp_path):
    # the shapes played with a capo on 2 (the example's D major sounds as C major shapes)
    song = Transcription(
        segments=(ChordSegment(0.0, 2.0, "C:maj"), ChordSegment(2.0, 4.0, "G:maj")),
        duration_s=4.0,
        key=0,
        tempo_bpm=120.0,
        capo=2,
    )
    path = tmp_path / "capo.html"
    write_transcription(song, path, audio=REPO / "examples" / "example.flac", link_audio=True)
    browser.get(path.as_uri())
    assert browser.find_element(By.ID, "capo").text == "2"
    assert browser.find_element(By.ID, "info-capo").text == "2"
    assert browser.find_element(By.CSS_SELECTOR, ".chord").text == "C"  # as written
    down = browser.find_element(By.ID, "capo-down")
    down.click()
    down.click()  # no capo: the sounding chords
    assert browser.find_element(By.CSS_SELECTOR, ".chord").text == "D"
    assert browser.find_element(By.ID, "info-key").text == "D major"
    assert browser.find_elements(By.ID, "info-capo") == []
    assert _console_errors(browser) == []
