"""Built-in combiner and portfolio constructor: ``linear`` and ``top_n`` (the defaults of their kinds).

Each component lives in its own module; this module registers them with the kernel and reports
the combination's interaction terms in ``summary.json``.
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the linear combiner and the top-N portfolio constructor (imported here, not at plugin load)."""
    from jgod_plugins.portfolio.linear_combiner import LinearCombiner
    from jgod_plugins.portfolio.top_n import TopN

    register(LinearCombiner)
    register(TopN)


@hookimpl
def jgod_run_metrics(result):
    """``interactions``: the term and weight of each interaction of a ``linear`` combination."""
    from jgod_plugins.portfolio.linear_combiner import LinearCombiner

    step = result.pipeline.combiner
    if step is None or not isinstance(step.params, LinearCombiner.Params):
        return None
    return {"interactions": [{"term": i.term, "weight": i.weight} for i in step.params.interactions]}
