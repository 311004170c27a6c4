"""No import cycle among fitsync's own modules, counting imports inside functions too: a cycle held apart
only by a function-level import is still one (the route table names its functions by dotted path)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("fitsync", "integrations")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            found.update(f"{base}.{alias.name}" for alias in node.names)
            found.add(base)
    return found


def project_graph() -> dict[str, set[str]]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    modules = {module_name(p): p for p in files}
    graph = {}
    for name, path in modules.items():
        targets = {target for target in imports_of(path, name) if target in modules and target != name}
        # Importing a package's module also runs the package's __init__, which is harmless here.
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_project_has_no_import_cycle():
    assert cycles(project_graph()) == []


def test_the_check_sees_a_cycle_through_a_function_level_import():
    graph = {"fitsync.sync": {"fitsync.imports"}, "fitsync.imports": {"fitsync.sync"}}
    assert cycles(graph) == [["fitsync.imports", "fitsync.sync", "fitsync.imports"]]


def test_the_fit_encoder_and_the_fakes_file_builder_need_no_django():
    """The FIT activity encoder and the sandbox's FIT reader and watch recordings are plain code: they import
    (and so run in the fakes' own process) without Django's settings."""
    environment = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    code = "import integrations.garmin.strength_fit, sandbox.fit_activity"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
