"""Custody event types of the exchange capability."""

from __future__ import annotations

PARTNER = "exchange_partner"  # a partner added, its scope or token changed, removed
SUBSCRIPTION = "exchange_subscription"  # a subscription added, changed or removed
IMPORT = "exchange_import"  # one page (or threatexchange delta) imported, with its digest
EXPORT = "export"  # the foundation's export event: a page served, an FtM file written
