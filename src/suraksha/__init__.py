"""Suraksha: a self-hosted child-safety system for online platforms."""

__version__ = "0.1.0"
