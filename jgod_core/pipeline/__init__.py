"""Pipeline assembly and orchestration: steps resolved to components, the symbols × dates panel and
the runner that calls data, factors, combination, portfolio, backtest and analysis in order.
"""
