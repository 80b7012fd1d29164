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
