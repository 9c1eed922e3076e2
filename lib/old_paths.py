"""The module paths of the flat layout, before ``lib`` was divided into folders.

Until every caller imports from the folders (``lib.maths.rayleigh`` rather than ``lib.rayleigh``),
each old path names the same module object as its new path: ``import lib.rayleigh``,
``from lib.instances import random_least_squares`` and ``lib.network.unit_coefficient`` keep
working, and a test that patches ``lib.network.unit_coefficient`` patches the module the solvers
use. The modules that ``import lib`` loads anyway are registered at once; the book's tooling
(matplotlib, ipywidgets) only when an old path is imported.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: old dotted path -> new dotted path
MOVED = {
    "lib._validation": "lib.core.validation",
    "lib.result": "lib.core.result",
    "lib.run_trace": "lib.core.trace",
    "lib.decoupling": "lib.maths.decoupling",
    "lib.rayleigh": "lib.maths.rayleigh",
    "lib.gaussian": "lib.maths.gaussian",
    "lib.gaussian_plane": "lib.maths.gaussian_plane",
    "lib.losses": "lib.maths.losses",
    "lib.bisection": "lib.maths.bisection",
    "lib.moments": "lib.problems.moments",
    "lib.least_squares": "lib.problems.least_squares",
    "lib.halfspace": "lib.problems.halfspace",
    "lib.network": "lib.problems.network",
    "lib.network_gaussian": "lib.problems.network_gaussian",
    "lib.network_line": "lib.problems.network_line",
    "lib.instances": "lib.problems.instances",
    "lib.length_search": "lib.solvers.length_search",
    "lib.bngd": "lib.solvers.bngd",
    "lib.momentum": "lib.solvers.momentum",
    "lib.locally_optimal": "lib.solvers.locally_optimal",
    "lib.rayleigh_ritz": "lib.solvers.rayleigh_ritz",
    "lib.network_training": "lib.solvers.network_training",
    "lib.plotting": "lib.book.plotting",
    "lib.explorer": "lib.book.explorer",
    "lib.experiments": "lib.book.experiments",
    "lib.checks.statements": "lib.book.statements",
    "lib.checks.verification": "lib.book.verification",
}

#: the new packages whose modules are imported only on demand
LAZY = ("lib.book.",)


class OldPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old path of :data:`MOVED` to the module at its new path (the same object)."""

    def __init__(self):
        self.specs = {}

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        self.specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module) -> None:
        """Nothing to run (the module ran under its new path); only give it back its own ``__spec__``,
        which the import system has just replaced by the old path's."""
        module.__spec__ = self.specs[module.__spec__.name]


def install() -> None:
    """Register the old paths: the eager ones in ``sys.modules`` and on their parent, the rest on demand."""
    for old, new in MOVED.items():
        if new.startswith(LAZY) or old in sys.modules:
            continue
        module = importlib.import_module(new)
        sys.modules[old] = module
        parent, _, name = old.rpartition(".")
        if not hasattr(sys.modules[parent], name):  # lib.bngd stays the function, lib.rayleigh becomes the module
            setattr(sys.modules[parent], name, module)
    if not any(isinstance(finder, OldPathFinder) for finder in sys.meta_path):
        sys.meta_path.append(OldPathFinder())
