"""`ember.nn`: modules, layers, functional, init, utils, parallel (torch.nn's layout)."""
from ember.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from ember.nn.modules import *   # noqa: F401,F403
from ember.nn.modules import Module
from ember.nn import functional, init, utils, parallel, attention   # noqa: F401
from ember.nn.parallel import DataParallel   # noqa: F401
