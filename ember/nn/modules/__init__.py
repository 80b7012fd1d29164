"""All nn module classes, one file per family as torch has them. Every file is star-imported,
including the families another engineer fills in (conv, pooling, padding, upsampling, rnn,
transformer, pixelshuffle, fold), so their classes appear here without editing this file."""
from ember.nn.modules.module import Module
from ember.nn.modules.container import *        # noqa: F401,F403
from ember.nn.modules.linear import *           # noqa: F401,F403
from ember.nn.modules.flatten import *          # noqa: F401,F403
from ember.nn.modules.activation import *       # noqa: F401,F403
from ember.nn.modules.dropout import *          # noqa: F401,F403
from ember.nn.modules.loss import *             # noqa: F401,F403
from ember.nn.modules.batchnorm import *        # noqa: F401,F403
from ember.nn.modules.instancenorm import *     # noqa: F401,F403
from ember.nn.modules.normalization import *    # noqa: F401,F403
from ember.nn.modules.sparse import *           # noqa: F401,F403
from ember.nn.modules.distance import *         # noqa: F401,F403
from ember.nn.modules.channelshuffle import *   # noqa: F401,F403
from ember.nn.modules.attention import *        # noqa: F401,F403
from ember.nn.modules.conv import *             # noqa: F401,F403
from ember.nn.modules.pooling import *          # noqa: F401,F403
from ember.nn.modules.padding import *          # noqa: F401,F403
from ember.nn.modules.upsampling import *       # noqa: F401,F403
from ember.nn.modules.rnn import *              # noqa: F401,F403
from ember.nn.modules.transformer import *      # noqa: F401,F403
from ember.nn.modules.pixelshuffle import *     # noqa: F401,F403
from ember.nn.modules.fold import *             # noqa: F401,F403
from ember.nn.modules.adaptive import *         # noqa: F401,F403

from ember.nn.modules import (activation as _activation, adaptive as _adaptive,  # noqa: E402
                              attention as _attention, batchnorm as _batchnorm,
                              channelshuffle as _channelshuffle,
                              container as _container, conv as _conv, distance as _distance,
                              dropout as _dropout, flatten as _flatten, fold as _fold,
                              instancenorm as _instancenorm, linear as _linear, loss as _loss,
                              normalization as _normalization, padding as _padding,
                              pixelshuffle as _pixelshuffle, pooling as _pooling, rnn as _rnn,
                              sparse as _sparse, transformer as _transformer,
                              upsampling as _upsampling)

# `from ember.nn.modules import *` gives the classes only, not these submodule names
__all__ = ["Module"] + [name for mod in (
    _container, _linear, _flatten, _activation, _dropout, _loss, _batchnorm, _instancenorm,
    _normalization, _sparse, _distance, _channelshuffle, _attention, _conv, _pooling, _padding,
    _upsampling, _rnn, _transformer, _pixelshuffle, _fold, _adaptive) for name in mod.__all__]
