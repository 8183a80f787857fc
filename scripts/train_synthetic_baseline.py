#!/usr/bin/env python3
"""Train the built-in synthetic-image baseline and write it into the package.

    .venv/bin/python scripts/train_synthetic_baseline.py [--per-class N] [--seed N] [--out P]

The same as ``python -m haechi.analyze.synthetic.training``; see that module for what the
training data is (made here from installed sample photos, never ../shared/data).
"""

from __future__ import annotations

import sys

from haechi.analyze.synthetic.training import main

if __name__ == "__main__":
    sys.exit(main())
