"""The mutation list of `make mutation` stays in step with lib and covers what the theorems use.

Running the mutants takes 7 to 35 minutes on 2 cores (tools/mutate.py); these tests only check that every
mutation still applies, that the list is large enough, and that each module behind a theorem of
chapters 1-5 has mutations.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import mutate  # noqa: E402

#: The modules of lib that the statements of chapters 1-5 rest on.
THEOREM_MODULES = {
    "lib/maths/decoupling.py", "lib/maths/rayleigh.py", "lib/maths/gaussian.py", "lib/maths/gaussian_plane.py",
    "lib/maths/losses.py", "lib/maths/bisection.py",
    "lib/problems/moments.py", "lib/problems/least_squares.py", "lib/problems/halfspace.py", "lib/problems/network.py",
    "lib/problems/network_line.py", "lib/problems/network_gaussian.py", "lib/problems/instances.py",
    "lib/solvers/descent.py", "lib/solvers/network_training.py", "lib/solvers/bngd.py",
    "lib/torch_models/bn_unit.py",
}


def test_every_mutation_applies_to_todays_lib():
    mutate.stale_check(mutate.load_mutations())


def test_the_list_is_large_and_covers_every_theorem_module():
    mutations = mutate.load_mutations()
    assert len(mutations) >= 40
    assert not THEOREM_MODULES - {m.file for m in mutations}, "modules without a mutation"
    assert all(m.find != m.replace and m.what for m in mutations)


def test_a_mutation_changes_a_copy_and_never_the_source(tmp_path):
    mutation = mutate.load_mutations()[0]
    (tmp_path / Path(mutation.file).parent).mkdir(parents=True)
    original = (ROOT / mutation.file).read_text()
    (tmp_path / mutation.file).write_text(original)
    mutation.apply(tmp_path)
    assert mutation.replace in (tmp_path / mutation.file).read_text()
    assert (ROOT / mutation.file).read_text() == original
    with pytest.raises(ValueError, match="occurs 0 times"):
        mutation.apply(tmp_path)  # applied already: the text is gone


def test_the_test_files_a_mutation_names_exist():
    named = {test for m in mutate.load_mutations() for test in m.tests}
    assert named, "no mutation names a test file of its own (the fast paths' mutants need them)"
    assert not {test for test in named if not (ROOT / test).is_file()}, "named test files that do not exist"
