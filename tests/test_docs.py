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
