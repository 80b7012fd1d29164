"""MultiheadAttention (torch keeps it in activation.py; ember gives it its own file)."""
__all__ = []
