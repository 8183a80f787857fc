"""Review: what people decide about what triage and matching raised — a file's category
(set from the keyboard on the triage page), a bank match confirmed or dismissed, banks
built from those decisions — and the tags they put on files, messages and chats.

Used alike by the web pages, the REST API and ``haechi review`` / ``haechi tag``; every
function takes the :class:`haechi.app.App` whose operator is the person acting.
Tables: ``store/tables/review.py``, migration ``0016_review`` (branch ``review``).
"""
