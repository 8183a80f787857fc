"""Synthetic-media evidence: provenance (what the file says about how it was made) and
pixel detectors (what its pixels suggest), combined into a verdict a court can read.

* :mod:`.provenance` — the ``provenance`` analyzer: C2PA, IPTC/XMP DigitalSourceType,
  EXIF, generator metadata, invisible watermarks; every finding keeps its raw evidence.
* :mod:`.detectors` — the ``synthetic`` analyzer: pluggable ONNX detectors and the
  built-in baseline.
* :mod:`.verdict` — provenance first, detector scores second, explained in Korean and
  English.
"""
