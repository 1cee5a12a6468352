"""Corpus scans past one process: ``scan`` runs ``m.roles`` on a pool of workers (Ray actors,
or this process) and merges their results into one ``Report`` (docs/scale.md).

Ray is an optional extra (``pip install 'headlab[ray]'``): it is imported only when
``engine="ray"`` is used, and a ``MissingExtraError`` says how to install it.

Modules: ``scan`` (the public function), ``spec`` (``ModelSpec``: a model as plain data),
``shards`` (passes, shards, the worker's scorer, the driver's score store), ``pools``
(the local pool, progress), ``ray_engine`` (the Ray actor pool), ``summary`` (a report from
merged sufficient statistics).
"""

from headlab.engines.pools import ScanProgress
from headlab.engines.scan import ENGINES, scan
from headlab.engines.shards import Rejection
from headlab.engines.spec import ModelSpec

__all__ = ["scan", "ModelSpec", "ScanProgress", "Rejection", "ENGINES"]
