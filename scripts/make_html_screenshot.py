"""Screenshot of the HTML chord player for the bundled example (docs/img/html_player.png).

Usage: python scripts/make_html_screenshot.py [--out docs/img/html_player.png]

Writes the example's page as ``chordcli export examples/example.lab --audio
examples/example.flac -o example.html`` does, opens it from the file system in headless
Chromium (Debian packages ``chromium`` and ``chromium-driver``, Python package ``selenium``),
plays it muted up to a chord change in the third bar, pauses and saves the window as a PNG
with a reduced palette. The browser test (tests/chordcli/test_html_browser.py) starts the
browser with :func:`start_browser`.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_LAB = REPO / "examples" / "example.lab"
EXAMPLE_AUDIO = REPO / "examples" / "example.flac"

#: Flags of the headless browser: autoplay without a gesture, and no network (a dead proxy).
BROWSER_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
    "--proxy-server=127.0.0.1:9",
    "--no-first-run",
    "--hide-scrollbars",
)


def find_browser() -> tuple[str | None, str | None]:
    """Paths of Chromium and chromedriver, None where missing."""
    browser = next(
        (shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)),
        None,
    )
    return browser, shutil.which("chromedriver")


def start_browser(*, width: int = 1000, height: int = 700):
    """Start headless Chromium through Selenium, with the browser console log recorded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = find_browser()
    if browser is None or driver is None:
        raise SystemExit("needs the Debian packages chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*BROWSER_FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


def write_example_page(path: Path):
    """Write the example's page to `path`; return its transcription."""
    from chordcli.writers import read_transcription, write_transcription
    from chordcli.writers.html import with_audio_beats

    transcription = with_audio_beats(read_transcription(EXAMPLE_LAB), EXAMPLE_AUDIO)
    write_transcription(transcription, path, audio=EXAMPLE_AUDIO, overwrite=True)
    return transcription


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "html_player.png")
    parser.add_argument("--colors", type=int, default=48, help="palette size of the PNG")
    args = parser.parse_args()

    from PIL import Image

    page = REPO / ".cache" / "example.html"
    page.parent.mkdir(exist_ok=True)
    write_example_page(page)
    browser = start_browser(width=1000, height=560)
    try:
        browser.get(page.as_uri())
        browser.execute_script(
            "const a = document.getElementById('audio'); a.muted = true; a.currentTime = 8.0;"
            "return a.play();"
        )
        time.sleep(0.6)
        browser.execute_script("document.getElementById('audio').pause();")
        shot = page.with_suffix(".png")
        browser.save_screenshot(str(shot))
    finally:
        browser.quit()
    image = Image.open(shot).convert("RGB").quantize(colors=args.colors)
    image.save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
