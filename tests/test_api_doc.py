"""The examples of docs/api.md run as they are and the package stays cheap to import."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from conftest import REPO

API_DOC = REPO / "docs" / "api.md"


def python_blocks(markdown: str) -> list[str]:
    """The code of every block fenced as ```python (other fences are not run)."""
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.MULTILINE | re.DOTALL)


def test_the_doc_has_examples_of_every_api_function():
    code = "\n".join(python_blocks(API_DOC.read_text(encoding="utf-8")))
    for name in ("transcribe", "transcribe_batch", "export", "evaluate_files", "evaluate_audio"):
        assert f"chordcli.{name}(" in code


def test_the_api_doc_examples_run(tmp_path, monkeypatch, capsys):
    """Run the blocks in order in one namespace, from a folder holding the bundled example."""
    (tmp_path / "examples").mkdir()
    for name in ("example.flac", "example.lab", "example.key"):
        shutil.copy(REPO / "examples" / name, tmp_path / "examples" / name)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "api_doc"}
    for i, block in enumerate(python_blocks(API_DOC.read_text(encoding="utf-8"))):
        exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "examples/missing.wav" in printed  # the batch and the error examples reported it
    assert (tmp_path / "out" / "example.cho").is_file()


def test_importing_chordcli_loads_no_api_and_no_tensorflow():
    code = (
        "import sys, chordcli; "
        "heavy = {'chordcli.api', 'chordcli.pipeline', 'models.backend', 'tensorflow', 'keras'}; "
        "loaded = heavy & set(sys.modules); assert not loaded, loaded; "
        "chordcli.transcribe; assert 'chordcli.api' in sys.modules; "
        "assert 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
