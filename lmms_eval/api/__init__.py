"""Core types and base classes. Nothing in this package imports torch."""
