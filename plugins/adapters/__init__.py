"""Vendor adapters, one package per vendor (as NautilusTrader's ``adapters/``): each registers the
data source, feed and broker it offers. Credentials come from the environment only.
"""
