"""A custom import-linter contract: modules may import the standard library and an allow-list, nothing else.

import-linter's own ``forbidden`` contract takes a deny-list, which says nothing about a
package nobody thought to list (a new driver, an HTTP client added next year). The pure
core and every service's domain and application are defined by what they MAY use, so
this contract checks the opposite way: each direct import of a source module must be
the standard library, the source package itself or one of ``allowed_modules``.
Direct imports suffice: whatever an allowed module imports is that module's own
contract's business.

Registered in pyproject.toml under ``[tool.importlinter] contract_types``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules

_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def _within(module: str, packages: set[str]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


class AllowedImportsContract(Contract):
    """Configuration: ``source_modules`` (checked, with their descendants) and ``allowed_modules``
    (internal modules or top-level external packages they may import besides the standard library)."""

    type_name = "allowed_imports"

    source_modules = fields.SetField(subfield=fields.ModuleExpressionField())
    allowed_modules = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources = {m.name for m in module_expressions_to_modules(graph, self.source_modules)}  # type: ignore[arg-type]
        allowed = {m.name for m in module_expressions_to_modules(graph, self.allowed_modules or [])}  # type: ignore[arg-type]
        if not sources:
            # A contract over nothing cannot fail: refuse it rather than pass silently.
            return ContractCheck(kept=False, metadata={"breaches": [], "empty": True})
        breaches = sorted(self._breaches(graph, sources, allowed | sources))
        return ContractCheck(kept=not breaches, metadata={"breaches": breaches, "empty": False})

    def _breaches(
        self, graph: ImportGraph, sources: set[str], allowed: set[str]
    ) -> Iterator[tuple[str, str, int | None]]:
        checked = {d for s in sources for d in graph.find_descendants(s)} | sources
        for importer in checked:
            for imported in graph.find_modules_directly_imported_by(importer):
                if imported.split(".")[0] in _STDLIB or _within(imported, allowed):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                yield importer, imported, details[0]["line_number"] if details else None

    def render_broken_contract(self, check: ContractCheck) -> None:
        if check.metadata["empty"]:
            output.print_error("No module matched source_modules.", bold=False)
            return
        for importer, imported, line in check.metadata["breaches"]:
            output.print_error(f"{importer} -> {imported} (l.{line})", bold=False)
        output.new_line()
