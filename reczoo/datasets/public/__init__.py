"""The public datasets: one module each (or one per family of releases),
imported here, where each registers its files and readers
(`reczoo.datasets.catalog`). Adding one is a new module in this folder:
docs/adding_a_dataset.md."""

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")
