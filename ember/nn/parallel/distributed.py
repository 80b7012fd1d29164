"""DistributedDataParallel: wraps a module; gradients are averaged over the process group
after backward. In a single process (world size 1) that is the identity."""
from ember.nn.modules.module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        world = _world_size(process_group)
        if world > 1:
            raise NotImplementedError("ember: DistributedDataParallel across several processes "
                                      "needs ember.distributed's all_reduce (not available yet)")
        self.module = module
        self.device_ids = device_ids
        self.dim = dim
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)

    def no_sync(self):
        import contextlib
        return contextlib.nullcontext()


def _world_size(group):
    try:
        import ember.distributed as dist
    except ImportError:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.") from None
    if not dist.is_initialized():
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return dist.get_world_size(group)
