"""Combination of factor scores and portfolio construction (the combiner and portfolio kinds)."""
