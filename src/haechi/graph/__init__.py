"""The network map: chats, accounts, bots, identifiers and media groups, the edges between
them (forwards, mentions, links, shared media and identifiers, via_bot, successor rooms),
their analysis (centrality, communities), exports and the spread of a bot or media group.

Services for other capabilities are in :mod:`haechi.graph.service` (docs/graph.md).
"""
