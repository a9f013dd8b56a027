"""Built-in data components: the embedded real sample (vendor sources live in ``adapters/``).

Each component lives in its own module; this module registers them with the kernel.
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the sample data source."""
    from jgod_plugins.data.sample import SampleDataSource

    register(SampleDataSource)


@hookimpl
def jgod_register_commands(app):
    """Add ``jgod data fetch`` (fetch a provider's dataset into the store)."""
    from jgod_plugins.data.commands import register

    register(app)
