"""Built-in realtime feed components.

Each component lives in its own module; this module registers them with the kernel.
"""

from jgod_core import hookimpl
