"""Results files, tables and provenance."""
