"""torch.cpu: the CPU as a device module, with the same calls as torch.cuda.

Device-generic code (`getattr(torch, device.type).synchronize()`, `torch.cpu.current_stream()`)
runs unchanged. The CPU has one device and one stream; work is done when a call returns, so
synchronising, waiting and querying are immediate.
"""
from contextlib import AbstractContextManager

__all__ = ["is_available", "is_initialized", "device_count", "current_device", "set_device",
           "synchronize", "Stream", "StreamContext", "current_stream", "stream", "Event"]


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """A no-op: there is one CPU device."""


def synchronize(device=None) -> None:
    """A no-op: CPU work is finished when its call returns."""


class Stream:
    """The CPU's one stream: every operation on it has completed."""

    def __init__(self, priority: int = -1):
        pass

    def wait_stream(self, stream) -> None:
        pass

    def wait_event(self, event) -> None:
        pass

    def record_event(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event


_default_stream = Stream()


def current_stream(device=None) -> Stream:
    return _default_stream


class StreamContext(AbstractContextManager):
    """The context manager `stream()` returns; the CPU's one stream stays current."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None


def stream(stream) -> AbstractContextManager:
    return StreamContext(stream)


class Event:
    """A marker in the CPU stream: complete as soon as it is recorded."""

    def record(self, stream=None) -> None:
        pass

    def wait(self, stream=None) -> None:
        pass

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        pass
