"""(being written for issue #5 by another engineer)"""
__all__ = []
