"""The layout's rules, read from the source (docs/ARCHITECTURE.md): imports run one way, none is
hidden inside a function to dodge a cycle, firecrawl_api stands alone, and domain code never
reaches up into the task layer."""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("firecrawl_api", "firecrawl_dash", "accounts", "keys", "jobs", "notifications", "api")
PROJECT = (*PRODUCTION, "fakecrawl", "bench", "tests")

# docs/ARCHITECTURE.md's rows, bottom first: a module imports from its own row or those below.
# The longest matching prefix places a module; production modules matching none are "top".
ROWS = {
    "firecrawl_api": 0,
    "keys.models": 1,
    "keys.allowlist": 1,
    "keys.encryption": 1,
    "keys.budget": 1,
    "keys.clients": 1,
    "keys.forms.choice": 1,
    "jobs.models": 2,
    "jobs.sync": 2,
    "jobs.prefetch": 2,
    "jobs.tasks": 2,
    "jobs.starting": 2,
    "jobs.start_options": 2,
    "jobs.webhooks": 2,
    "jobs.search": 2,
    "jobs.screenshots": 2,
    "jobs.progress": 2,
    "jobs.pagination": 2,
    "jobs.export": 2,
    "jobs.zipwriter": 2,
    "jobs.spreadsheet": 2,
    "jobs.safe_markdown": 2,
    "jobs.checks": 2,
    "keys.listings": 2,
    "notifications.models": 3,
    "notifications.events": 3,
    "notifications.digests": 3,
    "notifications.content": 3,
    "notifications.sending": 3,
    "notifications.outgoing": 3,
    "notifications.signatures": 3,
    "notifications.unsubscribe": 3,
    "notifications.checks": 3,
}
TOP = 4
# Who may queue background work: the task layer itself and what sits above the domain.
TASK_LAYER = "jobs.tasks"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def production_modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield module_name(path), ast.parse(path.read_text(), str(path))


def placed_by(module: str) -> str | None:
    """The entry of ROWS that places `module` (the longest matching prefix), if any."""
    matches = [prefix for prefix in ROWS if module == prefix or module.startswith(prefix + ".")]
    return max(matches, key=len) if matches else None


def row(module: str) -> int:
    prefix = placed_by(module)
    return TOP if prefix is None else ROWS[prefix]


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The modules an import statement names, absolute (`from . import x` resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".")[: -node.level] if node.level else []
        base = ".".join([*package, base] if base else package)
    # `from jobs import tasks` names jobs.tasks; `from jobs.models import Job`, jobs.models.
    return [_submodule(base, alias.name) for alias in node.names]


def _submodule(base: str, name: str) -> str:
    path = ROOT.joinpath(*base.split("."), name)
    return f"{base}.{name}" if path.with_suffix(".py").exists() or path.is_dir() else base


Import = tuple[ast.Import | ast.ImportFrom, list[str], str | None]


def imports(tree: ast.Module, module: str) -> Iterator[Import]:
    """Every import statement at run time: (node, modules named, enclosing function or None).
    Imports under `if TYPE_CHECKING:` never run, and are left out."""

    def walk(nodes: list[ast.AST], function: str | None) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.If) and is_type_checking(node):
                yield from walk(list(node.orelse), function)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                yield node, imported(node, module), function
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from walk(list(ast.iter_child_nodes(node)), node.name)
            else:
                yield from walk(list(ast.iter_child_nodes(node)), function)

    yield from walk(list(tree.body), None)


def project_module(name: str) -> bool:
    return name.split(".")[0] in PROJECT


def test_no_project_module_is_imported_inside_a_function() -> None:
    # A management command's `handle` may import what only it needs; nothing else hides an
    # import in a function (that is how cycles were dodged).
    found = [
        f"{module}:{node.lineno} imports {names[0]} inside {function}()"
        for module, tree in production_modules()
        for node, names, function in imports(tree, module)
        if function is not None
        and any(project_module(name) for name in names)
        and not (".management.commands." in module and function == "handle")
    ]
    assert found == []


def test_firecrawl_api_imports_nothing_of_django_or_the_apps() -> None:
    found = [
        f"{module}:{node.lineno} imports {name}"
        for module, tree in production_modules()
        if module.split(".")[0] == "firecrawl_api"
        for node, names, _ in imports(tree, module)
        for name in names
        if name.split(".")[0] in {"django", *PROJECT} - {"firecrawl_api"}
    ]
    assert found == []


def test_imports_run_one_way_from_the_views_to_the_client() -> None:
    found = [
        f"{module} (row {row(module)}) imports {name} (row {row(name)})"
        for module, tree in production_modules()
        for _, names, _ in imports(tree, module)
        for name in names
        if project_module(name) and name.split(".")[0] in PRODUCTION and row(name) > row(module)
    ]
    assert found == []


def test_only_the_callers_above_the_domain_queue_background_work() -> None:
    # Domain code returns what it tracked or resumed; views, the task layer and commands queue
    # the sync (jobs.tasks.request_sync).
    found = [
        f"{module} imports {name}"
        for module, tree in production_modules()
        if row(module) < TOP and module != TASK_LAYER
        for _, names, _ in imports(tree, module)
        for name in names
        if name == TASK_LAYER or name.startswith(TASK_LAYER + ".")
    ]
    assert found == []


def test_the_rows_name_only_modules_that_exist() -> None:
    modules = {module for module, _ in production_modules()}
    stale = [
        prefix
        for prefix in ROWS
        if not any(m == prefix or m.startswith(prefix + ".") for m in modules)
    ]
    assert stale == []
