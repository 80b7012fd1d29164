"""Random sampling (being written)."""
__all__ = []
