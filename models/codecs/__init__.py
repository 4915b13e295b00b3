"""Concrete codecs, one module each; ``models.registry`` lists them."""
