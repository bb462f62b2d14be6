"""The structure stays walkable: no import cycle, imports flow chordcli -> models -> theory.

The import graph is built from the source with :mod:`ast`, not by importing anything. Every
``import`` statement counts wherever it stands: at module level, inside functions (the lazy
imports of TensorFlow-free modules) and under ``if TYPE_CHECKING:``, because a cycle through a
function-level import is still a cycle a reader has to untangle. ``from package import name``
is an edge to ``package.name`` when that is a module, else to ``package``. Importing a
submodule also runs its package's ``__init__``; that implicit edge is not counted (a package
re-exporting its submodules is not a cycle).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from conftest import REPO

#: The packages, bottom layer first: a module may import only its own layer or lower ones.
LAYERS = ("theory", "models", "chordcli")
#: What theory may import besides the stdlib and itself.
THEORY_THIRD_PARTY = {"numpy", "scipy"}


def module_files(root: Path, packages: tuple[str, ...] = LAYERS) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the packages under root."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Dotted names of every import in the file, module level or not, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same packages it imports (edges resolved to files)."""
    modules = module_files(root)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        # ``from pkg import sub`` also yields ``pkg``; keep only the submodule then.
        graph[module] = {t for t in targets if not any(o.startswith(t + ".") for o in targets)}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Edges that point from a lower layer to a higher one, as ``'a -> b'``."""
    rank = {package: i for i, package in enumerate(LAYERS)}
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if rank[target.split(".")[0]] > rank[module.split(".")[0]]
    )


def test_no_import_cycle():
    cycle = find_cycle(import_graph(REPO))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_imports_flow_chordcli_models_theory():
    assert upward_imports(import_graph(REPO)) == []


def test_theory_imports_only_numpy_scipy_and_the_stdlib():
    allowed = THEORY_THIRD_PARTY | set(sys.stdlib_module_names) | {"theory"}
    bad = sorted(
        f"{module}: {name}"
        for module, path in module_files(REPO, ("theory",)).items()
        for name in imported_names(module, path)
        if name.split(".")[0] not in allowed
    )
    assert bad == []


def test_the_graph_covers_every_package():
    graph = import_graph(REPO)
    assert {"chordcli.cli", "models.backend", "theory.decode"} <= set(graph)
    assert "models.base" in graph["models.chordnet"]  # a module-level import
    assert "models.template" not in graph["models.backend"]  # loaded by name in the registry


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize(
    "files",
    [
        {  # a module-level cycle inside a package
            "models/__init__.py": "",
            "models/a.py": "from models.b import X\n",
            "models/b.py": "from models import a\n",
        },
        {  # a cycle closed by an import inside a function
            "chordcli/__init__.py": "",
            "chordcli/a.py": "from . import b\n",
            "chordcli/b.py": "def f():\n    from chordcli.a import g\n",
        },
        {  # a cycle through a TYPE_CHECKING import
            "theory/__init__.py": "",
            "theory/a.py": "import theory.b\n",
            "theory/b.py": "if TYPE_CHECKING:\n    from .a import T\n",
        },
    ],
    ids=["module-level", "function-level", "type-checking"],
)
def test_a_cycle_is_found(tmp_path, files):
    _write(tmp_path, files)
    assert find_cycle(import_graph(tmp_path)) is not None


def test_an_upward_import_is_found(tmp_path):
    _write(
        tmp_path,
        {
            "theory/__init__.py": "",
            "theory/a.py": "def f():\n    import models.b\n",
            "models/__init__.py": "",
            "models/b.py": "import theory.a\n",
        },
    )
    graph = import_graph(tmp_path)
    assert upward_imports(graph) == ["theory.a -> models.b"]
    assert find_cycle(graph) == ["models.b", "theory.a", "models.b"]


# ---------------------------------------------------------------------------------------------
# Sizes: a thin command line, short functions.

#: The command line stays a parse-call-report layer (the work is in chordcli.api and below).
MAX_CLI_LINES = 500
MAX_COMMAND_LINES = 60
MAX_FUNCTION_LINES = 80
#: Where functions are measured.
MEASURED = ("chordcli", "models", "theory", "scripts")
#: Functions allowed over MAX_FUNCTION_LINES, each with its reason in docs/architecture.md.
LONG_FUNCTIONS = {
    "chordcli/corpus/billboard.py:parse_salami",
    "chordcli/corpus/band.py:band_parts",
    "chordcli/corpus/band.py:comp_part",
    "chordcli/corpus/build.py:plan_corpus",
    "chordcli/corpus/build.py:render_job",
    "chordcli/evaluate.py:score_song",
    "chordcli/pipeline.py:analyse_audio",
    "theory/decode.py:decode",
    "chordcli/writers/html.py:page_data",
    "chordcli/writers/jamsfile.py:read_jams",
    "chordcli/plot.py:plot_transcription",
    "scripts/ship_model.py:model_card",
    "scripts/tune_decoder.py:main",
}


def function_lengths(root: Path, folders: tuple[str, ...] = MEASURED) -> dict[str, int]:
    """``'path:name'`` -> lines from ``def`` to the end of the body, of every function."""
    lengths = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    key = f"{path.relative_to(root).as_posix()}:{node.name}"
                    lengths[key] = max(lengths.get(key, 0), node.end_lineno - node.lineno + 1)
    return lengths


#: The command-line modules: parse, call the library, report.
CLI_MODULES = ("cli.py", "cli_train.py", "cli_listen.py", "console.py")


def command_functions(path: Path) -> dict[str, int]:
    """Name -> length of every command function of a Typer module.

    A command is decorated with ``*.command(...)`` or ``*.callback(...)``, or, when another
    module registers it, with ``handles_errors`` (every command reports its errors with it).
    """
    lengths = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and any(
            (
                isinstance(d, ast.Call)
                and isinstance(d.func, ast.Attribute)
                and d.func.attr in ("command", "callback")
            )
            or (isinstance(d, ast.Attribute) and d.attr == "handles_errors")
            or (isinstance(d, ast.Name) and d.id == "handles_errors")
            for d in node.decorator_list
        ):
            lengths[node.name] = node.end_lineno - node.lineno + 1
    return lengths


def test_the_cli_modules_are_thin():
    for name in CLI_MODULES:
        lines = len((REPO / "chordcli" / name).read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_CLI_LINES, f"move logic from chordcli/{name} into the library modules"


def test_every_command_is_a_short_parse_call_report_function():
    commands = {}
    for name in CLI_MODULES:
        commands.update(command_functions(REPO / "chordcli" / name))
    assert {"transcribe", "export", "train", "evaluate", "data_render", "listen"} <= set(commands)
    long = {name: n for name, n in commands.items() if n > MAX_COMMAND_LINES}
    assert long == {}, f"command functions over {MAX_COMMAND_LINES} lines"


def test_no_function_is_long_unless_the_architecture_doc_says_why():
    lengths = function_lengths(REPO)
    long = {key for key, n in lengths.items() if n > MAX_FUNCTION_LINES}
    assert long - LONG_FUNCTIONS == set(), f"functions over {MAX_FUNCTION_LINES} lines"
    assert LONG_FUNCTIONS - long == set(), "allowed but no longer long: drop from the list"
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert [key for key in sorted(LONG_FUNCTIONS) if f"`{key}`" not in doc] == []


def test_the_size_checks_measure(tmp_path):
    _write(
        tmp_path,
        {
            "models/__init__.py": "",
            "models/a.py": "def f():\n" + "    x = 1\n" * 90 + "\n\ndef g():\n    pass\n",
        },
    )
    assert function_lengths(tmp_path, ("models",)) == {"models/a.py:f": 91, "models/a.py:g": 2}
    cli = tmp_path / "cli.py"
    cli.write_text(
        "@app.command()\ndef a():\n    pass\n\n\ndef b():\n    pass\n\n\n"
        "@ui.handles_errors\ndef c():\n    pass\n"
    )
    assert command_functions(cli) == {"a": 2, "c": 2}


def test_every_option_text_belongs_to_a_parameter_of_its_command():
    import inspect

    from chordcli import cli, cli_listen, cli_train
    from chordcli.helptext import OPTIONS

    commands = {
        "chordcli": cli._root,
        "transcribe": cli.transcribe,
        "export": cli.export,
        "train": cli_train.train,
        "eval": cli.evaluate,
        "render": cli_train.data_render,
        "listen": cli_listen.listen,
    }
    assert set(OPTIONS) == set(commands)
    for name, function in commands.items():
        assert list(OPTIONS[name]) == list(inspect.signature(function).parameters), name
