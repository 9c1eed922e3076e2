"""JupyterLab for the book's notebooks, the configuration of `make lab` (README.md, "Running locally").

`make lab` runs ``jupyter lab --config=jupyter/jupyter_lab_config.py``, and so does the JupyterLab
test (tests/test_jupyterlab.py). It sets only what the book needs; it never reads or writes the
user's own Jupyter configuration (~/.jupyter), whose settings (theme, shortcuts) still apply.
"""

import importlib.util
import sys
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import default

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

c = get_config()  # noqa: F821 (defined by the loader of Jupyter's configuration files)

# the book's folder, whatever folder `jupyter lab` was started from
c.ServerApp.root_dir = str(ROOT / "book")
# containers, cloud machines and many lab computers run as root; JupyterLab refuses root without this
c.ServerApp.allow_root = True
# no "Would you like to get notified about official Jupyter news?" pop-up, no update check: the
# defaults of these two settings are overridden in jupyter/settings/overrides.json
c.LabApp.app_settings_dir = str(HERE / "settings")
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"


class EnvironmentKernels(KernelSpecManager):
    """The kernels of the environment that runs JupyterLab only: its python3 is that Python
    (.venv, where `lib` is installed), never a kernel named python3 from the user's own folders
    (``python -m ipykernel install --user`` writes one, for another Python)."""

    @default("kernel_dirs")
    def _kernel_dirs_default(self):
        return [str(Path(sys.prefix) / "share" / "jupyter" / "kernels")]


c.ServerApp.kernel_spec_manager_class = EnvironmentKernels
# references to another chapter and citations, which jupyterlab-myst cannot resolve inside one
# notebook, read as the book prints them (see jupyter/book_labels.py)
c.LabApp.extra_labextensions_path = [str(HERE / "labextensions")]

_spec = importlib.util.spec_from_file_location("book_labels", HERE / "book_labels.py")
book_labels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book_labels)
book_labels.write_quietly(ROOT, HERE / "labextensions" / book_labels.EXTENSION / "static" / "labels.json")
