"""The package as pip sees it: pyproject.toml's metadata, py.typed, type hints on every function,
mypy --strict (where mypy is installed), and an install with pip into a fresh directory.

Run: python3 -m unittest discover -v -s tests   (in examples/python)
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import unittest
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
SRC = os.path.join(PACKAGE_ROOT, "src")
sys.path.insert(0, SRC)

import datakernel_producer  # noqa: E402


class PackagingTest(unittest.TestCase):
    def test_pyproject_names_the_package_and_its_dependencies(self) -> None:
        try:
            import tomllib
        except ImportError:  # Python < 3.11
            self.skipTest("tomllib needs Python 3.11")
        with open(os.path.join(PACKAGE_ROOT, "pyproject.toml"), "rb") as f:
            project = tomllib.load(f)
        self.assertEqual(project["project"]["name"], "datakernel-producer")
        self.assertEqual(project["project"]["version"], datakernel_producer.__version__)
        requirements = {r.split(">")[0].split("=")[0].split("<")[0].strip() for r in project["project"]["dependencies"]}
        self.assertEqual(requirements, {"redis", "cryptography"})
        self.assertEqual(project["tool"]["setuptools"]["package-data"]["datakernel_producer"], ["py.typed"])
        self.assertTrue(os.path.isfile(os.path.join(SRC, "datakernel_producer", "py.typed")))

    def test_every_function_is_annotated(self) -> None:
        missing = []
        checked = 0
        for info in pkgutil.iter_modules(datakernel_producer.__path__):
            module = importlib.import_module("datakernel_producer." + info.name)
            for name, obj in vars(module).items():
                if getattr(obj, "__module__", None) != module.__name__:
                    continue  # imported from elsewhere
                functions: list[tuple[str, Any]] = [(name, obj)] if inspect.isfunction(obj) else []
                if inspect.isclass(obj):
                    functions += [("%s.%s" % (name, n), f) for n, f in vars(obj).items()
                                  if inspect.isfunction(f) or isinstance(f, (classmethod, staticmethod, property))]
                for qualified, function in functions:
                    if isinstance(function, (classmethod, staticmethod)):
                        function = function.__func__
                    if isinstance(function, property):
                        function = function.fget
                    if function.__code__.co_filename != module.__file__:
                        continue  # written by @dataclass
                    checked += 1
                    signature = inspect.signature(function)
                    unannotated = [p for p in signature.parameters.values()
                                   if p.annotation is inspect.Parameter.empty and p.name not in ("self", "cls")]
                    if unannotated or "return" not in function.__annotations__:
                        missing.append("%s.%s" % (module.__name__, qualified))
        self.assertGreater(checked, 40)
        self.assertEqual(missing, [])

    def test_mypy_strict(self) -> None:
        try:
            import mypy  # noqa: F401
        except ImportError:
            self.skipTest("mypy is not installed (pip install mypy)")
        # The configuration ([tool.mypy] in pyproject.toml: strict, the package, the example, the tests).
        done = subprocess.run([sys.executable, "-m", "mypy"], cwd=PACKAGE_ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        self.assertEqual(done.returncode, 0, done.stdout)
        self.assertIn("Success: no issues found", done.stdout)

    def test_pip_installs_it(self) -> None:
        # Built from a copy, so the build leaves nothing in the source tree.
        work = tempfile.mkdtemp(prefix="dk-py-pip-")
        self.addCleanup(shutil.rmtree, work, True)
        source = os.path.join(work, "source")
        shutil.copytree(PACKAGE_ROOT, source, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info", "build"))
        target = os.path.join(work, "site")
        # No index and no build isolation: the build uses the setuptools installed here, and
        # the dependencies are already installed (the tests import them).
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
                               "--target", target, source], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0 and "bdist_wheel" in done.stdout:
            self.skipTest("this setuptools cannot build wheels without the `wheel` package, and there is no "
                          "index to fetch either from")
        self.assertEqual(done.returncode, 0, done.stdout)
        self.assertTrue(os.path.isfile(os.path.join(target, "datakernel_producer", "py.typed")))
        probe = ("import datakernel_producer, datakernel_producer.market as m; "
                 "print(datakernel_producer.__file__); print(sorted(m.SCHEMAS))")
        shown = subprocess.run([sys.executable, "-c", probe], cwd=work, env=dict(os.environ, PYTHONPATH=target),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(shown.returncode, 0, shown.stdout)
        self.assertEqual(shown.stdout.splitlines(),
                         [os.path.join(target, "datakernel_producer", "__init__.py"), "['bar', 'book', 'quote', 'trade']"])


if __name__ == "__main__":
    unittest.main()
