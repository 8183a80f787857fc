"""Hash analyzers: PDQ for pictures (``pdq``), vPDQ for videos (``vpdq``).

md5 and SHA-256 are computed by the vault at capture (``blobs``) and are not repeated
here. ``pdqcore`` is a numpy PDQ, bit-identical with Meta's C++ and much faster on large
pictures; ``decode`` holds the decoding policies (modes, EXIF, animations, fast JPEG).
"""
