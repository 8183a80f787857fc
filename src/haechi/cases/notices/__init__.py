"""Takedown notices: templates per recipient and language, drafting, export, tracking."""
