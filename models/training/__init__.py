"""Training code for the project's own learned codecs."""
