"""Matching: banks of known items, PDQ/vPDQ indexes, exact lookups, matches and
duplicate groups. The service API other capabilities call is documented in
docs/matching.md ("For other capabilities").
"""
