"""Built-in J-GOD plugins, installed as the ``jgod_plugins`` package.

Each subpackage is one plugin registered through the ``jgod`` entry-point group, exactly like a
third-party distribution.
"""
