"""amlc: log metrics, tags and files from a training script run by amlc.

Shaped like the Azure ML SDK v1 ``Run`` API::

    from amlc import Run
    run = Run.get_context()
    run.log("accuracy", 0.93)

or, with the lazily created default context::

    from amlc import run
    run.log("accuracy", 0.93)

Run by amlc (``AMLC_RUN_ID`` set), records go to the JSON-lines tracking file
described in python/README.md; run outside amlc, every call prints a line to
stdout instead, so the script still runs. Python 3.8+, standard library only.
"""

from amlc._run import Run, flush

__all__ = ["Run", "flush", "run"]


def __getattr__(name):
    # PEP 562: `from amlc import run` / `amlc.run` give the default context,
    # created on first use (not at import, so importing amlc opens nothing).
    if name == "run":
        return Run.get_context()
    raise AttributeError("module 'amlc' has no attribute %r" % (name,))
