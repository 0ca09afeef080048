"""Debias climate-model ensembles with rectified flows."""
__version__ = "0.1.0"
