"""Fixture builders in the exact hub schema of each benchmark (one module per benchmark)."""
