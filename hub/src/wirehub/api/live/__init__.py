"""Live updates over a WebSocket: tickets for the handshake, the message protocol, one connection's subscriptions.

- ``tickets``: short-lived, single-use tickets that authenticate the handshake.
- ``protocol``: the JSON messages both ways.
- ``connection``: a connection's subscriptions, filtered by what its user may read, and its bounds.
"""
