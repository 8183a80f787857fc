"""Tables of the capabilities built on the foundation, one module per capability.

Every module in this package is imported (found with ``pkgutil``, so adding a capability
never edits a shared list) and its classes join ``Base.metadata``: Alembic, ``create_all``
and the schema test see one schema. A module here imports ``Base`` from
:mod:`haechi.store.models` and nothing from ``web`` or ``cli``.
"""

from __future__ import annotations

import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_info.name}")
