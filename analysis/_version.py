"""Faultline's version, recorded with every run it loads."""

__version__ = "0.1.0"
