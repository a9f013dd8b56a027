"""The factor author's kit: panel numerics (rolling windows, z-scores, ranks as numba kernels) and the
factor helpers (field access, adjusted prices, warm-up, ``FactorResult`` builder).
"""
