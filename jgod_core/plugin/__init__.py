"""Plugin loading: the hook specifications, the plugin manager (policy, entry points, check_pending), the
component registry and the component base classes every plugin subclasses.
"""
