"""A third-party lmms-eval plugin used in tests."""
