"""licbench's own multi-rate learned codec: one checkpoint, a continuous rate range, checkerboard rANS coding.

``network`` is the architecture, ``checkpoint`` saves/loads it, ``fileformat`` is the bitstream container
and ``codec`` the ``models.base.Codec`` the service runs. Training lives in ``models.training.multirate``.
"""
