"""lib.book.setup.start_chapter: the first cell of every chapter."""

import subprocess
import sys

import numpy as np
import pytest


def _in_a_fresh_process(code: str) -> str:
    """Run ``code`` in a new interpreter (thread pools and torch's generator are process-wide) and return its output."""
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout


def test_start_chapter_pins_styles_and_seeds_numpy_and_torch():
    out = _in_a_fresh_process(
        "import torch, numpy as np, matplotlib as mpl\n"
        "from threadpoolctl import threadpool_info\n"
        "from lib.book.setup import start_chapter\n"
        "mpl.rcParams['font.size'] = 31.0\n"
        "rng, pinned = start_chapter(seed=3)\n"
        "first = torch.rand(2).tolist()\n"
        "torch.manual_seed(3)\n"
        "again = torch.rand(2).tolist()\n"
        "print(rng.integers(10**9), np.random.default_rng(3).integers(10**9))\n"
        "print(first == again)  # exact: the same generator state draws the same numbers\n"
        "print(torch.get_num_threads(), sorted({p['num_threads'] for p in threadpool_info()}))\n"
        "print(mpl.rcParams['font.size'], 'torch 1' in pinned)\n")
    draws, torch_seeded, threads, style = out.splitlines()
    left, right = draws.split()
    assert left == right  # exact: integers drawn from generators of one seed
    assert torch_seeded == "True"
    assert threads == "1 [1]"
    assert style == "9.0 True"  # exact: the literal 9.0 that use_book_style sets, printed; the style replaced the 31-point font


def test_start_chapter_without_torch_does_not_import_it():
    out = _in_a_fresh_process("import sys\nfrom lib.book.setup import start_chapter\nstart_chapter()\n"
                              "print('torch' in sys.modules)\n")
    assert out.strip() == "False"


def test_start_chapter_refuses_a_bad_seed():
    from lib.book.setup import start_chapter

    with pytest.raises(TypeError, match="seed"):
        start_chapter(seed=np.random.default_rng(0))
    with pytest.raises(TypeError, match="seed"):
        start_chapter(seed=1.5)
    with pytest.raises(ValueError):
        start_chapter(seed=-1)
