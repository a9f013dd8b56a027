"""Orders and what happens to them: order types, the order journal, the hash-chained audit log, and
the paper and live trading sessions that route approved orders to a broker.
"""
