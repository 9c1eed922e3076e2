r"""What a submission's source shows that a lecturer should look at: delegation to lib, and tampering.

Grading judges the values a student's function returns (:mod:`course.grade`), so a function
that returns them by calling the very function of :mod:`lib` the exercise re-implements gets
the points. This module reads the submitted code (nothing runs) and flags what it can see, for
the lecturer to decide:

* **delegation**: the code that defines the exercise's function (its ``def``, or an assignment
  to its name) refers to one of the exercise's *delegates*
  (:attr:`lib.exercises.CodingExercise.delegates`), by attribute (``lib.rayleigh_gradient``,
  ``problem.rho_grad``), through a name imported from :mod:`lib` (``from lib import
  rayleigh_gradient as rg``), by its name as a string (``getattr(lib, "rayleigh_gradient")``),
  or through a name assigned from any of these anywhere in the notebook;
* **tampering**: the notebook assigns to or deletes an attribute of :mod:`lib` or of a module
  imported from it (``lib.exercises.record_outcomes = ...``), calls ``setattr``/``delattr`` on
  one, reads ``lib.exercises`` beyond its ``check_*`` functions and ``points``, reads the namespace
  of a module of :mod:`lib` (``vars``, ``__dict__``), touches ``sys.modules``, or
  runs code it builds at run time (``exec``, ``eval``, ``compile``, ``__import__``,
  ``getattr`` with a computed name), which would hide the rest from this reading.

Cells that are not Python (a cell magic) are skipped; lines of IPython syntax (``%``, ``!``)
are read as blank lines. A flag is a sentence; flags decide nothing.
"""

from __future__ import annotations

import ast

__all__ = ["delegation", "parse_cells", "tampering"]

_DYNAMIC = ("exec", "eval", "compile", "__import__")


def parse_cells(sources: list[str]) -> list[ast.Module]:
    """The syntax trees of the code cells that parse as Python (IPython's ``%`` and ``!`` lines blanked)."""
    trees = []
    for source in sources:
        if source.lstrip().startswith("%%"):
            continue
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
        try:
            trees.append(ast.parse("\n".join(lines)))
        except (SyntaxError, ValueError):
            continue
    return trees


def _nodes(trees: list[ast.Module]):
    for tree in trees:
        yield from ast.walk(tree)


def _root(node: ast.AST) -> str | None:
    """The name at the root of an attribute chain (``lib`` for ``lib.exercises.x``), or None."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _lib_names(trees: list[ast.Module]) -> set[str]:
    """The names a notebook binds to :mod:`lib` or to what it imports from it."""
    names = set()
    for node in _nodes(trees):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                      if alias.name == "lib" or alias.name.startswith("lib.")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "lib" or node.module.startswith("lib.")):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _bound_names(node: ast.AST) -> list[str]:
    """The plain names an assignment binds."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)]


def _local_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The parameters of a function and the names it assigns: they hide the notebook's names of the same spelling."""
    arguments = function.args
    names = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    return names | {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def delegation(trees: list[ast.Module], function_name: str, delegates: tuple[str, ...]) -> list[str]:
    """What the definition of ``function_name`` uses of the exercise's ``delegates`` (dotted names), as flags.

    Returns
    -------
    list of str
        One sentence, or none.
    """
    targets = {name.rsplit(".", 1)[-1] for name in delegates}
    top = [node for tree in trees for node in tree.body]
    tainted = {alias.asname or alias.name for node in top
               if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lib"
               for alias in node.names if alias.name in targets}

    def used(node: ast.AST, hidden: set[str] = frozenset()) -> set[str]:
        # by attribute, by a name that carries it, or by its name as a string (getattr(lib, "..."), vars(lib)["..."])
        return ({n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr in targets}
                | {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in tainted - hidden}
                | {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in targets})

    assignments = [node for node in top if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value]
    growing = True
    while growing:  # the notebook's names assigned from a delegate, or from such a name, carry it
        before = len(tainted)
        for node in assignments:
            if used(node.value):
                tainted |= set(_bound_names(node))
        growing = len(tainted) > before
    found = set()
    for node in _nodes(trees):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function_name:
            found |= used(node, _local_names(node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value and function_name in _bound_names(node):
            found |= used(node.value)
    if not found:
        return []
    return [f"{function_name} uses {', '.join(sorted(found))}, which {'computes' if len(found) == 1 else 'compute'} "
            f"the answer in lib ({', '.join(delegates)}): the exercise asks for it to be written"]


def tampering(trees: list[ast.Module]) -> list[str]:
    """What the notebook does to :mod:`lib` or to the interpreter that grading could be fooled by, as flags."""
    lib_names = _lib_names(trees) | {"lib"}
    found, changed = [], set()
    for node in _nodes(trees):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            changed |= {id(part) for part in ast.walk(target)}
            if isinstance(target, (ast.Attribute, ast.Subscript)) and _root(target) in lib_names:
                found.append(f"changes {ast.unparse(target)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("setattr", "delattr") and node.args and _root(node.args[0]) in lib_names:
                found.append(f"calls {node.func.id} on {ast.unparse(node.args[0])}")
            elif node.func.id in _DYNAMIC:
                found.append(f"runs code built at run time ({node.func.id})")
            elif node.func.id == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
                found.append(f"reads an attribute by a computed name ({ast.unparse(node)[:80]})")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "vars" and node.args \
                and _root(node.args[0]) in lib_names:
            found.append(f"reads the namespace of {ast.unparse(node.args[0])} (vars)")
        if isinstance(node, ast.Attribute) and node.attr == "__dict__" and _root(node) in lib_names:
            found.append(f"reads {ast.unparse(node)}")
        if isinstance(node, ast.Attribute) and node.attr == "modules" and _root(node) == "sys":
            found.append("touches sys.modules")
        elif (isinstance(node, ast.Attribute) and id(node) not in changed  # what it changes is said above
              and isinstance(node.value, ast.Attribute) and node.value.attr == "exercises"
              and _root(node) in lib_names and not node.attr.startswith("check_") and node.attr != "points"):
            found.append(f"reads {ast.unparse(node)}")
    return sorted(set(found), key=found.index)
