"""Task YAMLs shipped by the plugin (this folder is scanned through the entry point)."""
