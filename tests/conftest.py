"""Shared test fixtures and paths."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# No timed tests: Hypothesis's per-example deadline (200 ms) fails on a slow or busy machine.
settings.register_profile("chordcli", deadline=None)
settings.load_profile("chordcli")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared datasets beside the checkout (POP909, Billboard)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}; clone the project beside shared/")
    return SHARED_DATA


FLUIDSYNTH_PACKAGES = "fluidsynth timgm6mb-soundfont"
REQUIRE_FLUIDSYNTH = "CHORDCLI_REQUIRE_FLUIDSYNTH"  # set by .ci/run: missing -> fail, not skip


def missing_renderer() -> str | None:
    """Why the FluidSynth renderer cannot run here, or None when it can."""
    from chordcli.corpus.render import find_soundfonts

    if shutil.which("fluidsynth") is None:
        return "the fluidsynth program is not on PATH"
    if "TimGM6mb.sf2" not in [s.name for s in find_soundfonts()]:
        return "the TimGM6mb SoundFont is not installed"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``fluidsynth`` (with the Debian packages to install) when the
    renderer is missing, unless CI asked for them to run."""
    marked = [item for item in items if item.get_closest_marker("fluidsynth")]
    if not marked or os.environ.get(REQUIRE_FLUIDSYNTH):
        return
    problem = missing_renderer()
    if problem is None:
        return
    install = f"apt-get install {FLUIDSYNTH_PACKAGES}"
    skip = pytest.mark.skip(reason=f"{problem}: {install} (Debian packages; .ci/run installs them)")
    for item in marked:
        item.add_marker(skip)
