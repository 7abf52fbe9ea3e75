"""The shape of the code, checked on its syntax trees (never by matching text): no import cycles, `index` never
imports `assistant`, the factory is the only place that builds, settings stop at the factory (no part holds
one), the store's sides stay inside `index/storage/` (nothing reaches past the Corpus into Chroma), and the
light commands load no model (no PyTorch, no transformers, no llama-index) and close quietly when their reader
goes away."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES

PACKAGES = ("assistant", "index")
HEAVY = ("torch", "transformers", "sentence_transformers", "llama_index", "gradio")

# What only `assistant.factory` may build: the assistant, its parts and what reaches the network or the disk.
# A class here that no longer exists where it is named fails `test_the_factory_only_list_names_real_classes`,
# so a move or a rename cannot quietly switch its check off.
FACTORY = "assistant.factory"
FACTORY_ONLY = (
    "assistant.service.Assistant",
    "assistant.retrieval.hybrid.HybridRetriever",
    "assistant.answering.extractive.ExtractiveAnswerer",
    "assistant.answering.reader.ReaderAnswerer",
    "assistant.answering.generative.GenerativeAnswerer",
    "assistant.answering.generative.LLMCondenser",
    "index.indexer.Indexer",
    "index.storage.store.Corpus",
    "index.sources.Sources",
    "index.intake.fetch.Fetcher",
    "index.models.embedding.MiniLMEmbedding",
    "index.models.embedding.HashingEmbedding",
)

# Who may name `Settings` at all: the settings themselves, the configs the factory makes of them, the factory,
# and the edges that build them (the commands, the app's `main`). Everything else gets a typed config or
# plain arguments. A module here that no longer exists fails `test_the_settings_lists_name_real_modules`.
SETTINGS = "assistant.settings.Settings"
SETTINGS_READERS = (
    "assistant.settings",
    "assistant.configs",
    FACTORY,
    "assistant.cli.commands",
    "assistant.cli.console",
    "assistant.cli.sources",
    "assistant.cli.evaluate",
    "assistant.web.ui",
)

# The floors of `index/`, lowest first: a module imports only from its own floor or the floors below it.
# `index.errors` is shared by all; the orchestration (`indexer`, `sources`, `watch`) sits on the top floor
# and uses the rest. A module of `index` on no floor fails `test_every_index_module_has_a_floor`.
INDEX_FLOORS = (
    ("index", "index.errors"),
    ("index.text",),
    ("index.storage",),
    ("index.models",),
    ("index.intake",),
    ("index.indexer", "index.sources", "index.watch"),
)
# The command line is the assistant's edge: only its own modules import it.
CLI = "assistant.cli"

# A store's own attributes: the Corpus's two sides and the Chroma collection behind them. Only the storage
# floor names them; the app, the rest of `index`, the tests and the benchmarks use the Corpus's methods, and
# whoever needs Chroma itself builds the client the Corpus is built on (tests/chroma_seam.py). An entry of
# STORE_READERS that no longer exists is reported, so a move cannot quietly switch the check off.
STORE_PRIVATE = frozenset({"_vectors", "_lexical", "_collection"})
STORE_HOME = "index/storage"
STORE_READERS = ("assistant", "index", "tests", "benchmarks", "scripts", "app.py")


# ----------------------------------------------------------------------------------- reading the tree


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool
    where: Path  # relative to the root, for messages

    def absolute(self, node: ast.ImportFrom) -> str:
        """The module an `from ... import` names, relative imports resolved."""
        if not node.level:
            return node.module or ""
        package = self.name.split(".") if self.is_package else self.name.split(".")[:-1]
        base = package[: len(package) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))


def _modules(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Module]:
    out = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            out[name] = Module(name, path, ast.parse(path.read_text(), filename=str(path)), is_package,
                               path.relative_to(root))
    return out


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:` (imports for annotations only: no run-time edge)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    return skip


def _imported_names(module: Module) -> list[str]:
    """Every module name `module` imports at run time, anywhere (a lazy import inside a function counts: a
    cycle through one is still a cycle): `import x`, `from x import y` (relative ones resolved; `x.y` too,
    as y may be a submodule) and `importlib.import_module("x")` / `__import__("x")` with a literal name."""
    skip = _type_checking_only(module.tree)
    names: list[str] = []
    for node in ast.walk(module.tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = module.absolute(node)
            names += [base] + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) \
                and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__"):
            names.append(node.args[0].value)
    return names


def _graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """module -> the project modules it imports (a name is cut back to the longest known module)."""
    graph = {}
    for name, module in modules.items():
        found = set()
        for imported in _imported_names(module):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                found.add(imported)
        graph[name] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def _upward_imports(graph: dict[str, set[str]], lower: str = "index", upper: str = "assistant") -> list[str]:
    return [f"{m} imports {d}" for m, deps in sorted(graph.items()) if m.split(".")[0] == lower
            for d in sorted(deps) if d.split(".")[0] == upper]


def _floor(module: str, floors: tuple[tuple[str, ...], ...]) -> int | None:
    """The floor a module is on: the one naming it or the folder it is in (the longest name wins)."""
    best, found = -1, None
    for level, names in enumerate(floors):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, found = len(name), level
    return found


def _imports_up_a_floor(graph: dict[str, set[str]], floors: tuple[tuple[str, ...], ...]) -> list[str]:
    """Every import from a module to one on a higher floor (both on some floor)."""
    found = []
    for module, deps in sorted(graph.items()):
        mine = _floor(module, floors)
        for dep in sorted(deps):
            theirs = _floor(dep, floors)
            if mine is not None and theirs is not None and theirs > mine:
                found.append(f"{module} imports {dep}")
    return found


def _imports_of_the_edge(graph: dict[str, set[str]], edge: str) -> list[str]:
    """Every import of the `edge` package (or a module in it) from outside it."""
    def inside(module: str) -> bool:
        return module == edge or module.startswith(edge + ".")

    return [f"{m} imports {d}" for m, deps in sorted(graph.items()) if not inside(m)
            for d in sorted(deps) if inside(d)]


def _symbols(module: Module) -> dict[str, str]:
    """Local name -> what it stands for, fully qualified: imports (aliases included), the module's own
    classes and functions, and plain aliases (`Build = Corpus`)."""
    table: dict[str, str] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                table[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = module.absolute(node)
            for a in node.names:
                table[a.asname or a.name] = f"{base}.{a.name}"
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node in module.tree.body:
            table.setdefault(node.name, f"{module.name}.{node.name}")
    for node in ast.walk(module.tree):  # aliases last, so that they can name anything above
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, (ast.Name, ast.Attribute)):
            target = _qualified(node.value, table)
            if target:
                table[node.targets[0].id] = target
    return table


def _qualified(node: ast.expr, table: dict[str, str]) -> str:
    """`Corpus` or `store.Corpus` as the fully qualified name it stands for in a module ('' if unknown)."""
    if isinstance(node, ast.Name):
        return table.get(node.id, "")
    if isinstance(node, ast.Attribute):
        base = _qualified(node.value, table)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _origin(name: str, modules: dict[str, Module], tables: dict[str, dict[str, str]]) -> str:
    """Follow re-exports (`from index.storage.store import Corpus` in `index/__init__.py`, then
    `index.Corpus`) to where a name is defined."""
    for _ in range(20):
        module, _, attr = name.rpartition(".")
        if module not in modules or attr not in tables[module] or tables[module][attr] == name:
            return name
        name = tables[module][attr]
    return name


def _uses_outside_the_factory(modules: dict[str, Module], guarded: tuple[str, ...] = FACTORY_ONLY,
                              factory: str = FACTORY) -> list[str]:
    """Every place outside the factory that builds a guarded class, or hands it on to be built: a call
    (`Corpus(...)`, `store.Corpus(...)`, through an alias), a classmethod call (`Corpus.open(...)`) or the
    class passed as a value (`partial(Corpus, ...)`). Annotations, `isinstance`/`issubclass` checks, base
    classes and imports are not uses."""
    tables = {name: _symbols(m) for name, m in modules.items()}
    offenders = []
    for name, module in modules.items():
        if name == factory:
            continue
        harmless: set[int] = set()
        for node in ast.walk(module.tree):
            annotations: list[ast.AST | None] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                every = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                         node.args.vararg, node.args.kwarg]
                annotations += [a.annotation for a in every if a is not None] + [node.returns]
            elif isinstance(node, ast.AnnAssign):
                annotations.append(node.annotation)
            elif isinstance(node, ast.ClassDef):
                annotations += node.bases
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("isinstance", "issubclass") and len(node.args) == 2:
                annotations.append(node.args[1])
            for a in annotations:
                if a is not None:
                    harmless.update(id(n) for n in ast.walk(a))
        for node in ast.walk(module.tree):
            if id(node) in harmless or not isinstance(node, (ast.Name, ast.Attribute)) \
                    or not isinstance(node.ctx, ast.Load):
                continue
            target = _origin(_qualified(node, tables[name]), modules, tables)
            if target in guarded:
                offenders.append(f"{module.where}:{node.lineno}: {ast.unparse(node)} ({target})")
    return offenders


def _annotation_names(node: ast.AST | None, table: dict[str, str]) -> set[str]:
    """The qualified names an annotation mentions (`Settings`, `Settings | None`, `"Settings"`)."""
    if node is None:
        return set()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return set()
    return {_qualified(n, table) for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute))} - {""}


def _settings_outside_readers(modules: dict[str, Module], settings: str = SETTINGS,
                              readers: tuple[str, ...] = SETTINGS_READERS) -> list[str]:
    """Every module outside `readers` that names the settings class: imports it (for annotations too),
    annotates with it or calls it."""
    tables = {name: _symbols(m) for name, m in modules.items()}
    found = []
    for name, module in modules.items():
        if name in readers:
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom):
                base = module.absolute(node)
                if any(_origin(f"{base}.{a.name}", modules, tables) == settings for a in node.names):
                    found.append(f"{module.where}:{node.lineno}: imports {settings}")
            elif isinstance(node, (ast.Name, ast.Attribute)) \
                    and _origin(_qualified(node, tables[name]), modules, tables) == settings:
                found.append(f"{module.where}:{node.lineno}: {ast.unparse(node)}")
    return found


def _settings_kept(modules: dict[str, Module], settings: str = SETTINGS) -> list[str]:
    """Every place that keeps a settings object in a part, or reaches into one for it:
    - an attribute named `settings`, set or read (`self.settings = ...`, `assistant.settings.host`), that is
      not a module (`assistant.settings.Settings` is);
    - a parameter annotated with the settings class stored on an object (`self.conf = settings`);
    - a class field annotated with it (a dataclass or pydantic model holding one)."""
    tables = {name: _symbols(m) for name, m in modules.items()}
    found = []
    for name, module in modules.items():
        table = tables[name]
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Attribute) and node.attr == "settings" \
                    and _qualified(node, table) not in modules:
                found.append(f"{module.where}:{node.lineno}: {ast.unparse(node)}")
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and any(
                            _origin(n, modules, tables) == settings
                            for n in _annotation_names(item.annotation, table)):
                        found.append(f"{module.where}:{item.lineno}: field {ast.unparse(item.target)} of "
                                     f"{node.name}")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                every = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                held = {a.arg for a in every if any(_origin(n, modules, tables) == settings
                                                    for n in _annotation_names(a.annotation, table))}
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Assign, ast.AnnAssign)) and isinstance(inner.value, ast.Name) \
                            and inner.value.id in held:
                        targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
                        if any(isinstance(t, ast.Attribute) for t in targets):
                            found.append(f"{module.where}:{inner.lineno}: {ast.unparse(inner)}")
    return found


def _reaches_into_the_store(root: Path = ROOT, readers: tuple[str, ...] = STORE_READERS,
                            home: str = STORE_HOME, private: frozenset[str] = STORE_PRIVATE) -> list[str]:
    """Every place in `readers` (folders, walked whole, or files) outside `home` that names one of a store's
    own attributes: `x._vectors` (read, written or deleted, at any depth: `app.store._lexical.index`) or
    `getattr(x, "_vectors")` (also `setattr`, `hasattr`, `delattr`) with the name written out."""
    found = []
    for entry in readers:
        top = root / entry
        if not top.exists():
            found.append(f"{entry}: not found")
            continue
        for path in [top] if top.is_file() else sorted(top.rglob("*.py")):
            where = path.relative_to(root)
            if where.is_relative_to(home):
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                named = node.attr if isinstance(node, ast.Attribute) else None
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) >= 2 \
                        and node.func.id in ("getattr", "setattr", "hasattr", "delattr") \
                        and isinstance(node.args[1], ast.Constant):
                    named = node.args[1].value
                if named in private:
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


# ----------------------------------------------------------------------------------- the checks


def test_the_graph_sees_the_known_edges():
    graph = _graph(_modules())
    assert FACTORY in graph["assistant.cli.commands"]
    assert "index.storage.store" in graph["index.indexer"]


def test_no_import_cycles():
    cycles = _cycles(_graph(_modules()))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_index_never_imports_assistant():
    upward = _upward_imports(_graph(_modules()))
    assert not upward, upward


def test_every_index_module_has_a_floor():
    modules = _modules()
    assert not [m for m in modules if m.startswith("index") and _floor(m, INDEX_FLOORS) is None]
    assert not [n for names in INDEX_FLOORS for n in names if n not in modules]


def test_index_imports_only_down_its_floors():
    up = _imports_up_a_floor(_graph(_modules()), INDEX_FLOORS)
    assert not up, up


def test_only_the_command_line_imports_the_command_line():
    graph = _graph(_modules())
    assert CLI in graph and f"{CLI}.commands" in graph[CLI]
    inward = _imports_of_the_edge(graph, CLI)
    assert not inward, inward


ANSWERERS = ("assistant.answering.extractive", "assistant.answering.reader", "assistant.answering.generative")


def test_answerers_share_types_through_the_interfaces_module_not_each_other():
    """The service and the generative answerer see the rule-based answerer's module only for what it is
    (the reader extends it; the factory builds it): `Answerer`, `Draft` and `Sentence` live in `interfaces`."""
    graph = _graph(_modules())
    interfaces = "assistant.answering.interfaces"
    assert interfaces in graph["assistant.service"] and interfaces in graph["assistant.answering.generative"]
    allowed = {"assistant.answering.reader", FACTORY}  # the subclass, and the builder
    users = sorted(m for m, imported in graph.items() if "assistant.answering.extractive" in imported and m not in allowed)
    assert not users, users
    assert not graph[interfaces] & set(ANSWERERS)


def test_the_factory_only_list_names_real_classes():
    modules = _modules()
    for qualified in FACTORY_ONLY:
        module, _, cls = qualified.rpartition(".")
        assert module in modules, f"{qualified}: no module {module}"
        assert any(isinstance(n, ast.ClassDef) and n.name == cls for n in modules[module].tree.body), \
            f"{qualified}: {module} defines no class {cls}"


def test_only_the_factory_builds_the_assistant_and_its_parts():
    offenders = _uses_outside_the_factory(_modules())
    assert not offenders, offenders


def test_the_settings_lists_name_real_modules():
    modules = _modules()
    module, _, cls = SETTINGS.rpartition(".")
    assert any(isinstance(n, ast.ClassDef) and n.name == cls for n in modules[module].tree.body)
    assert not [m for m in SETTINGS_READERS if m not in modules]


def test_only_the_factory_and_the_edges_name_the_settings():
    offenders = _settings_outside_readers(_modules())
    assert not offenders, offenders


def test_no_part_keeps_the_settings_or_reaches_into_another_for_them():
    offenders = _settings_kept(_modules())
    assert not offenders, offenders


def test_nothing_outside_the_storage_floor_reaches_into_a_store():
    offenders = _reaches_into_the_store()
    assert not offenders, offenders
    # the names are real: the storage floor itself uses each of them, and the walk sees it when it is not home
    inside = _reaches_into_the_store(readers=(STORE_HOME,), home="nowhere")
    assert {name for name in STORE_PRIVATE if any(f".{name}" in f for f in inside)} == STORE_PRIVATE, inside


def test_the_corpus_hands_out_no_chroma_handle(settings):
    """No `vectors`, `collection` or `client` on a Corpus, and no public attribute or property that holds its
    vector side or anything of chromadb: Chroma is reached through the client the Corpus is built on."""
    from assistant.factory import build_store
    from index.storage.store import Corpus
    from index.storage.vectors import ChromaVectors

    store = build_store(settings)
    for name in ("vectors", "collection", "client"):
        assert not hasattr(Corpus, name) and not hasattr(store, name), name
    for name in dir(store):
        if name.startswith("_"):
            continue
        value = getattr(store, name)
        assert not isinstance(value, ChromaVectors), name
        assert not type(value).__module__.startswith("chromadb"), f"Corpus.{name} is a {type(value)}"
    store.close()


# ----------------------------------------------------------------------------------- the checks can fail

MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 300


def _size_faults(modules: dict[str, Module]) -> list[str]:
    """Functions over MAX_FUNCTION_LINES lines, and modules over MAX_MODULE_LINES whose docstring does not
    say why ("Over 300 lines because ...", or "... over 300 lines ..." with its reason)."""
    faults = []
    for module in modules.values():
        for node in ast.walk(module.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    faults.append(f"{module.where}:{node.lineno} {node.name} is {length} lines")
        lines = len(module.path.read_text().splitlines())
        if lines > MAX_MODULE_LINES and "300 lines" not in (ast.get_docstring(module.tree) or ""):
            faults.append(f"{module.where} is {lines} lines and its docstring does not say why")
    return faults


def test_no_long_function_and_no_long_module_without_a_reason():
    assert _size_faults(_modules()) == []


# Each check above runs on a small tree written here with the fault it exists to find, so that a check that
# stopped seeing anything (a walk that finds no module, a resolution that never matches) fails here.

FAKE_FACTORY_ONLY = ("core.store.Corpus", "core.fetch.Fetcher")


def _tree(root: Path, files: dict[str, str]) -> dict[str, Module]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return _modules(root, ("core", "app"))


CLEAN = {
    "core/__init__.py": "from core.store import Corpus\n",
    "core/store.py": "class Corpus:\n    @classmethod\n    def open(cls):\n        return cls()\n",
    "core/fetch.py": "class Fetcher:\n    pass\n",
    "app/__init__.py": "",
    "app/factory.py": """
        from core.fetch import Fetcher
        from core.store import Corpus

        def build():
            return Corpus(), Fetcher()
    """,
    "app/service.py": """
        from __future__ import annotations
        from typing import TYPE_CHECKING
        from core.store import Corpus
        if TYPE_CHECKING:
            from app.factory import build

        class Service:
            def __init__(self, store: Corpus) -> None:
                assert isinstance(store, Corpus)
                self.store: Corpus = store
    """,
}


def test_the_checks_pass_a_clean_tree(tmp_path):
    modules = _tree(tmp_path, CLEAN)
    assert len(modules) == 6
    graph = _graph(modules)
    assert graph["app.factory"] == {"core.fetch", "core.store"}
    assert not _cycles(graph) and not _upward_imports(graph, "core", "app")
    assert not _uses_outside_the_factory(modules, FAKE_FACTORY_ONLY, "app.factory")


@pytest.mark.parametrize("files,cycle", [
    ({"app/service.py": "import app.factory\n", "app/factory.py": "from app import service\n"},
     ["app.factory", "app.service", "app.factory"]),
    ({"app/service.py": "def late():\n    from .factory import build\n",  # lazy and relative
      "app/factory.py": "from app.service import late\n"},
     ["app.factory", "app.service", "app.factory"]),
])
def test_a_cycle_is_found(tmp_path, files, cycle):
    assert _cycles(_graph(_tree(tmp_path, {**CLEAN, **files}))) == [cycle]


@pytest.mark.parametrize("text", [
    "import app.service\n",
    "from app import service\n",
    "from ..app import service\n",
    "def late():\n    import importlib\n    return importlib.import_module('app.service')\n",
])
def test_an_upward_import_is_found(tmp_path, text):
    upward = _upward_imports(_graph(_tree(tmp_path, {**CLEAN, "core/fetch.py": text})), "core", "app")
    assert "core.fetch imports app.service" in upward, upward


@pytest.mark.parametrize("text", [
    "from core.store import Corpus\nstore = Corpus()\n",
    "from core.store import Corpus as Store\ndef make():\n    return Store()\n",
    "import core.store\nstore = core.store.Corpus()\n",
    "import core.store as s\nstore = s.Corpus()\n",
    "from core import Corpus\nstore = Corpus()\n",  # re-exported by core/__init__.py
    "from core.store import Corpus\nstore = Corpus.open()\n",
    "from functools import partial\nfrom core.store import Corpus\nmake = partial(Corpus)\n",
    "from core.store import Corpus\nBuild = Corpus\nstore = Build()\n",
    "def late():\n    from core.fetch import Fetcher\n    return Fetcher()\n",
    'def late():\n    from core.fetch import Fetcher\n    return Fetcher(name="a \\"quoted\\" name")\n',
])
def test_a_construction_outside_the_factory_is_found(tmp_path, text):
    modules = _tree(tmp_path, {**CLEAN, "app/cli.py": text})
    found = _uses_outside_the_factory(modules, FAKE_FACTORY_ONLY, "app.factory")
    assert found and all(f.startswith("app/cli.py:") for f in found), found


FAKE_FLOORS = (("core", "core.store"), ("core.fetch",))


def test_the_floor_checks_pass_a_clean_tree(tmp_path):
    graph = _graph(_tree(tmp_path, CLEAN))
    assert not _imports_up_a_floor(graph, FAKE_FLOORS)
    assert not _imports_of_the_edge(graph, "app.cli")


@pytest.mark.parametrize("text", [
    "from core.fetch import Fetcher\n",
    "def late():\n    from . import fetch\n",
])
def test_an_import_up_a_floor_is_found(tmp_path, text):
    graph = _graph(_tree(tmp_path, {**CLEAN, "core/store.py": text}))
    assert _imports_up_a_floor(graph, FAKE_FLOORS) == ["core.store imports core.fetch"]


def test_an_import_of_the_edge_is_found(tmp_path):
    graph = _graph(_tree(tmp_path, {**CLEAN, "app/cli/__init__.py": "", "app/cli/console.py": "",
                                    "app/service.py": "from app.cli.console import x\n"}))
    assert _imports_of_the_edge(graph, "app.cli") == ["app.service imports app.cli.console"]


FAKE_SETTINGS = "app.settings.Settings"
SETTINGS_TREE = {
    **CLEAN,
    "app/settings.py": "class Settings:\n    host = ''\n",
    "app/factory.py": """
        from app.service import Service
        from app.settings import Settings

        def build(settings: Settings):
            return Service(host=settings.host)
    """,
    "app/service.py": """
        class Service:
            def __init__(self, *, host: str) -> None:
                self.host = host
    """,
}


def test_the_settings_checks_pass_a_clean_tree(tmp_path):
    modules = _tree(tmp_path, SETTINGS_TREE)
    assert not _settings_outside_readers(modules, FAKE_SETTINGS, ("app.settings", "app.factory"))
    assert not _settings_kept(modules, FAKE_SETTINGS)


@pytest.mark.parametrize("text", [
    "from app.settings import Settings\n",
    ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
    "    from app.settings import Settings\ndef f(s: Settings) -> None: ...\n"),
    "from . import settings\ndef f():\n    return settings.Settings()\n",
    "import app.settings as s\nS = s.Settings\n",
])
def test_a_part_naming_the_settings_is_found(tmp_path, text):
    modules = _tree(tmp_path, {**SETTINGS_TREE, "app/part.py": text})
    found = _settings_outside_readers(modules, FAKE_SETTINGS, ("app.settings", "app.factory"))
    assert found and all(f.startswith("app/part.py:") for f in found), found


@pytest.mark.parametrize("text", [
    # the assistant keeping what it was built from, under its own name or another
    "class Service:\n    def __init__(self, settings):\n        self.settings = settings\n",
    ("from app.settings import Settings\nclass Service:\n    def __init__(self, s: Settings):\n"
    "        self.conf = s\n"),
    ("from __future__ import annotations\nfrom app.settings import Settings\nclass Service:\n"
    "    def __init__(self, s: Settings | None = None):\n        self.conf: object = s\n"),
    # a record holding one
    ("from dataclasses import dataclass\nfrom app.settings import Settings\n@dataclass\nclass Parts:\n"
    "    settings: Settings\n"),
    ("from dataclasses import dataclass\nfrom app import settings as s\n@dataclass\nclass Parts:\n"
    "    config: 's.Settings'\n"),
    # a web part reaching into the assistant for them
    "def panel(assistant):\n    return assistant.settings.host\n",
])
def test_a_part_keeping_the_settings_is_found(tmp_path, text):
    modules = _tree(tmp_path, {**SETTINGS_TREE, "app/service.py": text})
    found = _settings_kept(modules, FAKE_SETTINGS)
    assert found and all(f.startswith("app/service.py:") for f in found), found


FAKE_STORE = {  # a storage floor that uses its own attributes, and readers that use only its methods
    "core/__init__.py": "",
    "core/storage/__init__.py": "",
    "core/storage/store.py": """
        class Corpus:
            def __init__(self, vectors, lexical):
                self._vectors, self._lexical = vectors, lexical
                self._collection = getattr(vectors, "_collection")

            def count(self):
                return self._vectors.count()
    """,
    "app/__init__.py": "",
    "app/service.py": "def count(store):\n    return store.count(), store.vectors_wanted, store._cache\n",
    "tests/test_store.py": "def test_count(store):\n    assert getattr(store, 'count')() == 0\n",
    "main.py": "from app.service import count\n",
}
FAKE_READERS = ("core", "app", "tests", "main.py")


def test_the_store_check_passes_a_clean_tree(tmp_path):
    _tree(tmp_path, FAKE_STORE)
    assert _reaches_into_the_store(tmp_path, FAKE_READERS, "core/storage") == []


@pytest.mark.parametrize("name,text", [
    ("app/service.py", "def delete(store, ids):\n    store._vectors.delete(ids)\n"),
    ("app/service.py", "def index(app):\n    return app.store._lexical.index\n"),
    ("core/indexer.py", "def fault(store):\n    store._collection = None\n"),
    ("tests/test_store.py", "def test_fault(store):\n    del store._vectors\n"),
    ("tests/test_store.py", "def test_fault(store):\n    getattr(store, '_vectors').max_batch = 5\n"),
    ("tests/test_store.py", "def test_fault(store, spy):\n    setattr(store._lexical, 'x', spy)\n"),
    ("main.py", "import app\nprint(app.store._collection.count())\n"),
])
def test_a_reach_into_a_store_is_found(tmp_path, name, text):
    _tree(tmp_path, {**FAKE_STORE, name: text})
    found = _reaches_into_the_store(tmp_path, FAKE_READERS, "core/storage")
    assert found and all(f.startswith(f"{name}:") for f in found), found


def test_a_missing_reader_is_reported(tmp_path):
    _tree(tmp_path, FAKE_STORE)
    assert _reaches_into_the_store(tmp_path, (*FAKE_READERS, "gone"), "core/storage") == ["gone: not found"]


def _run_and_list_heavy(args: list[str], data_dir: Path) -> tuple[int, list[str], str]:
    code = (
        "import sys, json\n"
        "from assistant.cli import main\n"
        "try:\n"
        f"    rc = main({args!r})\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))\n"
        "print('HEAVY=' + json.dumps(heavy))\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**_env(), "ASSISTANT_DATA_DIR": str(data_dir)}, check=False)
    line = [x for x in done.stdout.splitlines() if x.startswith("HEAVY=")]
    assert line, done.stdout + done.stderr
    return done.returncode, json.loads(line[-1][len("HEAVY="):]), done.stdout + done.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}


def test_help_loads_nothing_heavy(tmp_path):
    rc, heavy, out = _run_and_list_heavy(["--help"], tmp_path)
    assert rc == 0 and "usage: assistant" in out
    assert heavy == [], f"--help imported {heavy}"


@pytest.fixture(scope="module")
def indexed_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("arch-data")
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(SAMPLES), "--embedding", "hashing"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
                          env={**_env(), "ASSISTANT_DATA_DIR": str(data)})
    assert done.returncode == 0, done.stderr
    return data


def test_stats_and_remove_load_no_model(indexed_dir):
    rc, heavy, out = _run_and_list_heavy(["stats", "--json", "--embedding", "hashing"], indexed_dir)
    assert rc == 0, out
    stats = json.loads(out.splitlines()[0])
    assert stats["articles"] > 5 and stats["embedding_model"] == "hashing-256"
    assert heavy == [], f"stats imported {heavy}"
    rc, heavy, out = _run_and_list_heavy(["remove", "no-such-article", "--embedding", "hashing"], indexed_dir)
    assert rc == 1 and "not in the index: no-such-article" in out
    assert heavy == [], f"remove imported {heavy}"


def test_a_closed_pipe_ends_quietly(indexed_dir):
    """`assistant stats | head -0`: the reader is gone before the first line; exit 0, no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "stats", "--embedding", "hashing"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**_env(), "ASSISTANT_DATA_DIR": str(indexed_dir)})
    proc.stdout.close()  # before the child has imported anything, so its first write meets a closed pipe
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 0, err.decode()


def test_the_size_check_finds_a_long_function_and_an_unexplained_long_module(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    padding = "".join(f"Y{i} = {i}\n" for i in range(MAX_MODULE_LINES))
    modules = _tree(tmp_path, {"core/__init__.py": "", "app/__init__.py": "",
                               "core/long.py": f"def long():\n{body}",
                               "core/big.py": f'"""A big module."""\n{padding}',
                               "core/explained.py": f'"""A big one. Over 300 lines because it must be."""\n{padding}',
                               "core/short.py": "def short():\n    return 1\n"})
    faults = _size_faults(modules)
    assert len(faults) == 2, faults
    assert "long is 81 lines" in faults[0] or "long is 81 lines" in faults[1]
    assert any("big.py" in f and "does not say why" in f for f in faults)
