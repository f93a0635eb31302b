"""Build step beyond pyproject.toml: the bundled data sets go into the wheel.

``resources/`` stays at the top of the repository (it is data, not code); a built wheel carries a
copy as ``vae_studio/resources`` so an installed app finds MNIST with importlib.resources
(``vae_studio.core.data.bundled.resources_dir``). Editable installs read the repository's folder.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).parent / "resources"


class BuildPyWithResources(build_py):
    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):
            self.copy_tree(str(RESOURCES), str(Path(self.build_lib) / "vae_studio" / "resources"))


setup(cmdclass={"build_py": BuildPyWithResources})
