"""Image quality metrics as a pure library: no web, no queue, no database.

Each metric family lives in its own module behind ``metrics.base.Metric`` and is registered in
``metrics.registry``; ``metrics.scoring.score`` runs any selection on one reference and its
reconstructions.
"""
