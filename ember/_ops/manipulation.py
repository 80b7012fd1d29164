"""(being written for issue #4)"""
__all__ = []
