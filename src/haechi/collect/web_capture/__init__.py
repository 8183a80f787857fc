"""Public pages as evidence: WARC/WACZ, screenshot, RFC 3161 timestamp, posts ingested.

See ``docs/capture.md``. Entry point: :func:`haechi.collect.web_capture.service.capture`.
"""
