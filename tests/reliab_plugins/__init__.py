"""Test-only components, imported by test configs via ``custom_imports``."""
