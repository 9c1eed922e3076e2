"""Importing lib, its checks and its exercises does not import torch (two to five seconds of every
chapter's first cell); only lib.torch_models and a check that compares with torch's BN do."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports_torch(statement: str) -> bool:
    code = f"import sys\n{statement}\nprint('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1] == "True"


def test_lib_and_its_checks_do_not_import_torch():
    assert not _imports_torch("import lib, lib.checks, lib.exercises, lib.experiments")


def test_a_check_against_torch_imports_it_when_it_runs():
    # the control: the same probe sees torch once a check that needs it has run
    assert _imports_torch("import lib.checks\nlib.checks.beyond.weight_normalization(seed=0).require()")
