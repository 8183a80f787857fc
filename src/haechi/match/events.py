"""Custody event types of the matching capability (``haechi.store.custody`` holds the
foundation's; each capability names its own)."""

from __future__ import annotations

MATCH = "match"  # a stored file matched a bank item or an earlier stored file
BANK_CREATED = "bank_created"
BANK_ITEMS_ADDED = "bank_items_added"  # by hand, from files, stored media or a list
BANK_ITEMS_REMOVED = "bank_items_removed"
BANK_DELETED = "bank_deleted"
BANK_EXPORTED = "export"  # the foundation's generic export event, with what and where
