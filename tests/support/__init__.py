"""Helpers shared by the test layers (no test module imports another test module)."""
