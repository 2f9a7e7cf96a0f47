"""Imports run one way, down the data path: no module imports from a layer above its own.

Inside `orders_platform/` each folder (or top-level module) is a part of the path order data
takes: landed (ingestion), built (transform), checked (checks), noticed and scheduled
(sensors, schedules, jobs), announced (notify). A module may import from its own layer and
from those below; an import from above would make an earlier step depend on a later one, so
neither could be read, tested or changed without the other. The layers are defined once, here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import orders_platform

PACKAGE = orders_platform.__name__
PACKAGE_DIR = Path(orders_platform.__file__).parent

# Lowest first. A part is a folder of the package or one of its top-level modules.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    # what anyone may import: runtime settings, the partitioning, resources (warehouse,
    # landing zone, Spark, the revision notifier's type), the dbt project, UI metadata
    # renderers, the synthetic producer that writes landing files, and the one module that
    # holds every private Dagster / dagster-dbt name the platform relies on
    (
        "foundations",
        frozenset(
            {
                "settings",
                "partitions",
                "resources",
                "dbt_project",
                "metadata",
                "synthetic",
                "dagster_internals",
            }
        ),
    ),
    ("ingestion", frozenset({"ingestion"})),
    # the dbt assets, and the lateness models they build read back as their metadata
    ("transform", frozenset({"transform", "lateness"})),
    # checks on what was built, and the independent per-day reconciliation of the marts
    ("checks", frozenset({"checks", "reconciliation"})),
    ("sensors and schedules", frozenset({"sensors", "schedules", "jobs"})),
    ("notify", frozenset({"notify"})),
    # what puts the platform together or drives it: the code location, `make demo`
    ("entry points", frozenset({"definitions", "demo"})),
)
LAYER_OF = {part: index for index, (_, parts) in enumerate(LAYERS) for part in parts}


def part_of(dotted: str) -> str | None:
    """The part of the package a dotted module name lies in (None: outside the package)."""
    names = dotted.split(".")
    if names[0] != PACKAGE:
        return None
    return names[1] if len(names) > 1 else PACKAGE


def module_name(path: Path) -> str:
    """The dotted name of the module at `path` (a package's `__init__.py`: the package)."""
    relative = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    names = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(names)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import in `path`, those inside functions too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            if base != PACKAGE:
                yield node.lineno, base
            else:  # `from orders_platform import settings` imports orders_platform.settings
                yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)


def package_modules() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def layer_index(part: str) -> int:
    # the package's own __init__ counts as a foundation: it may import nothing above them
    return 0 if part == PACKAGE else LAYER_OF[part]


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(module_name(path)) for path in package_modules()} - {PACKAGE}
    assert parts, f"no modules found under {PACKAGE_DIR}"
    assert sorted(parts - set(LAYER_OF)) == [], "place each new part in LAYERS"


def test_no_module_imports_from_a_layer_above_its_own():
    upward = []
    seen = 0
    for path in package_modules():
        own = layer_index(part_of(module_name(path)))
        for line, imported in imported_modules(path):
            part = part_of(imported)
            if part is None:
                continue
            seen += 1
            theirs = layer_index(part)
            if theirs > own:
                upward.append(
                    f"{path.relative_to(PACKAGE_DIR.parent)}:{line} ({LAYERS[own][0]}) imports "
                    f"{imported} ({LAYERS[theirs][0]})"
                )
    assert seen, "no imports of the package were found: the parser saw nothing"
    assert upward == [], "imports that run back up the data path:\n" + "\n".join(upward)


def test_the_package_never_imports_the_benchmarks():
    # `benchmarks/` sits beside the package and is not shipped with it
    imports = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{line}"
        for path in package_modules()
        for line, imported in imported_modules(path)
        if imported.split(".")[0] == "benchmarks"
    ]
    assert imports == []
