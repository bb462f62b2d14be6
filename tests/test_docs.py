"""Generated docs match the code that they describe."""

import subprocess
import sys

from conftest import REPO


def test_vocabulary_doc_is_current(shared_data):
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "make_vocabulary_doc.py"),
            "--check",
            "--data",
            str(shared_data),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_cli_reference_is_current():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_cli_doc.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_ci_runs_the_readme_test_command_and_the_readme_names_the_renderer_packages():
    from conftest import FLUIDSYNTH_PACKAGES

    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    block = readme.split("Install and run the tests", 1)[1].split("```bash\n", 1)[1]
    command = block.split("\n```", 1)[0].strip()
    assert ci[-1] == command  # verbatim, last
    assert f"apt-get install {FLUIDSYNTH_PACKAGES}" in readme
    assert f"apt-get install -y -q {FLUIDSYNTH_PACKAGES}" in "\n".join(ci)
