"""The one risk gate: the risk engine (sealed approvals, pre-trade checks, kill switch), the trading
state kept in the store, and the market view risk rules read.
"""
