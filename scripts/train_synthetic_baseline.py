#!/usr/bin/env python3
"""Train the built-in synthetic-image baseline and write it into the package.

    .venv/bin/python scripts/train_synthetic_baseline.py [--per-class N] [--seed N] [--out P]

The same as ``python -m haechi.analyze.synthetic.training``; see that module and
``haechi.analyze.synthetic.simulate`` for what the training data is (made here from benign
camera photos that installed packages ship, never ../shared/data). Run without options
(``--per-class 600 --seed 20240901``) it rewrites the shipped model identically apart from
the time stamp, in 2 to 3 minutes on a 2-core machine; run it with ``nice`` on a shared one.
"""

from __future__ import annotations

import sys

from haechi.analyze.synthetic.training import main

if __name__ == "__main__":
    sys.exit(main())
