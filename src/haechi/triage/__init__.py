"""Triage services the CLI, the web UI and reports call (they never read these tables
themselves): the review queue ordered by nudity score, the verdict on a file with its
explanation, and the safe preview (and heat map) made at analysis time.

* :func:`haechi.triage.queue.review_queue`
* :func:`haechi.triage.verdicts.file_verdict`
* :func:`haechi.triage.previews.safe_preview`, :func:`haechi.triage.previews.heatmap`
* :func:`haechi.triage.resolve.resolve_file` (a SHA-256, a unique prefix or a local file)

See docs/triage.md "For other capabilities".
"""
