"""The layout is the architecture: no import cycles, plugins that keep to the plugin API,
a core that names no plugin, and start-up that loads only what it uses.

Imports are read with the standard library's ast, everywhere in a module: at the top and
inside functions, where a cycle would otherwise hide.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("blog", "plugins")
# What a plugin may import of the core (STYLE.md, "Plugin rules").
PLUGIN_API = {"blog.plugin_api", "blog.models", "blog.database", "blog.forms"}
# The core's pages: a plugin importing one would lean on how the core draws a page.
CORE_VIEWS = ("blog.posts", "blog.admin", "blog.auth", "blog.wordpress.views")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "versions" not in path.parts  # Alembic revisions are loaded by Alembic, by path
    }


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules that `name` imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # "from blog import search" imports the module blog.search, not blog/__init__.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # "blog.media.usage.record_uses" -> module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def later():\n    import a\n")
    known = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}

    graph = {name: imported(name, path, known) for name, path in known.items()}

    assert cycles(graph) == [["a", "b"]]


def test_no_module_imports_itself_back():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(
    "plugin",
    sorted(
        p.name for p in (ROOT / "plugins").iterdir() if p.is_dir() and (p / "__init__.py").exists()
    ),
)
def test_a_plugin_imports_only_the_plugin_api_and_itself(plugin):
    graph = import_graph()
    own = f"plugins.{plugin}"

    imports = {
        target
        for name, targets in graph.items()
        if name == own or name.startswith(own + ".")
        for target in targets
    }

    other_plugins = {t for t in imports if t.startswith("plugins.") and not t.startswith(own)}
    views = {t for t in imports if t.startswith(CORE_VIEWS)}
    core = {t for t in imports if t.startswith("blog")} - PLUGIN_API
    assert other_plugins == set(), f"{plugin} imports another plugin"
    assert views == set(), f"{plugin} imports the core's views"
    assert core == set(), f"{plugin} imports the core beyond the plugin API"


# Where the core may say a built-in plugin's name, and why.
NAMED_ON_PURPOSE = {
    ("blog/config.py", "*"): "the first config.toml enables the built-in plugins",
    ("*", "categories"): "categories are core data (DESIGN.md); the plugin owns their pages",
    ("blog/wordpress/exporter.py", "comments"): "counts the <wp:comment> elements written",
    ("blog/headings.py", "comments"): "an id on post pages that headings must leave free",
}


def test_the_core_names_no_plugin():
    graph = import_graph()
    plugin_names = [p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()]

    imports = {t for name, targets in graph.items() if name.startswith("blog") for t in targets}
    named = []
    for path in (ROOT / "blog").rglob("*.py"):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            for plugin in plugin_names:
                # A plugin's endpoint ("comments.approve"), table ("comments_comment") or name.
                if node.value.startswith((f"{plugin}.", f"{plugin}_")) or (
                    node.value == plugin
                    and not {(where, "*"), ("*", plugin), (where, plugin)} & set(NAMED_ON_PURPOSE)
                ):
                    named.append(f"{where}: {node.value!r}")

    assert {t for t in imports if t.startswith("plugins")} == set()
    assert named == []


def run_python(code: str, tmp_path: Path) -> dict:
    """Run `code` in a fresh interpreter (sys.modules as a new process has it); its JSON."""
    env = {"PATH": "/usr/bin:/bin", "PRESSROOM_INSTANCE": str(tmp_path / "instance")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_plugin_api_and_host_load_nothing_heavy(tmp_path):
    loaded = run_python(
        "import json, sys\n"
        "import blog.plugin_api, blog.plugins\n"
        "print(json.dumps(sorted(m for m in ('lxml', 'markdownify', 'bs4') if m in sys.modules)))",
        tmp_path,
    )

    assert loaded == []


def test_a_disabled_plugin_is_never_imported(tmp_path):
    database = tmp_path / "site.sqlite3"
    loaded = run_python(
        "import json, sys\n"
        "from blog import create_app\n"
        f"app = create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{database}',"
        " 'SECRET_KEY': 'x', 'SITE': {}, 'PLUGINS': {'enabled': ['categories']}})\n"
        "runner = app.test_cli_runner()\n"
        "for args in (['db', 'upgrade'], ['plugins'], ['alembic', 'heads']):\n"
        "    result = runner.invoke(args=args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "listing = runner.invoke(args=['plugins']).output\n"
        "print(json.dumps({'modules': sorted(m for m in sys.modules if m.startswith('plugins.')),"
        " 'listing': listing}))",
        tmp_path,
    )

    assert loaded["modules"] == ["plugins.categories", "plugins.categories.views"]
    # Described from their files all the same, and their branches known to Alembic.
    assert "comments         disabled plugins/       Comments: threaded" in loaded["listing"]


def test_only_the_one_road_fires_the_post_hooks():
    """blog/editing.py's promise, kept as features arrive: post_saved and post_deleted are
    called from there alone, so no path can change a post without plugins hearing of it."""
    callers = set()
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("post_saved", "post_deleted")
            ):
                callers.add(name)

    assert callers == {"blog.editing"}
