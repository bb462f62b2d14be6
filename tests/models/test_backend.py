"""The backend registry: models found by name or directory, backends imported only when loaded."""

import subprocess
import sys

import pytest

from models import backend
from models.backend import ModelError, load_backend
from models.base import ModelOutput
from models.template import TemplateBackend


def test_a_builtin_name_loads_its_backend():
    assert isinstance(load_backend("template"), TemplateBackend)


def test_registering_a_builtin_is_one_entry(monkeypatch):
    monkeypatch.setitem(backend.BUILTIN_BACKENDS, "fixed", "models.template:TemplateBackend")
    assert isinstance(load_backend("fixed"), TemplateBackend)


def test_registering_a_runtime_is_one_entry(monkeypatch, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setitem(backend.RUNTIMES, "probe", "pathlib:Path")  # called with the directory
    assert load_backend(tmp_path, runtime="probe") == tmp_path


def test_an_unknown_runtime_names_the_known_ones(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="unknown model runtime 'nope'.*keras"):
        load_backend(tmp_path, runtime="nope")


def test_an_unknown_model_names_the_builtins(tmp_path):
    with pytest.raises(ModelError, match="not found.*template"):
        load_backend(tmp_path / "missing")


def test_the_shared_types_are_the_registrys():
    assert backend.ModelError is ModelError and backend.ModelOutput is ModelOutput


def test_importing_the_registry_imports_no_backend():
    code = (
        "import sys, models.backend; "
        "heavy = {'models.template', 'models.chordnet', 'tensorflow', 'keras'}; "
        "loaded = heavy & set(sys.modules); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
