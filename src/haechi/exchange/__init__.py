"""Cooperation: hashes exchanged with partner agencies and platforms, leads to their tools.

Publishing (:mod:`partners`, :mod:`feed`, :mod:`publish`): banks, or labels within them,
are shared with named partners; each has its own token and scope and pages through a
change feed of additions and withdrawals, every page signed with the data directory's
Ed25519 key (:mod:`envelope`, :mod:`page`).

Subscribing (:mod:`subscriptions`, :mod:`sync`, :mod:`importer`, :mod:`txsource`): another
haechi (:mod:`wire`) or any python-threatexchange ``SignalExchangeAPI`` fills a local bank,
one transaction per page; new hashes are matched at once.

Being fetched by HMA: :mod:`haechi.exchange.tx_extension` (``TX_MANIFEST``). Leads to
Aleph: :mod:`ftm` (FollowTheMoney entities). Details: docs/exchange.md.
"""
