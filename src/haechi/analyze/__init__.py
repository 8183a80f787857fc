"""Analyzers: each turns one stored file into signals (see :mod:`haechi.analyze.base`)."""
