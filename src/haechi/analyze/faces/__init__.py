"""Face analysis: detection, alignment and embedding with dlib (see docs/faces.md)."""

from haechi.analyze.faces.analyzer import FaceAnalyzer, FaceSettings

__all__ = ["FaceAnalyzer", "FaceSettings"]
