"""`ember.nn`: modules, layers, functional, init (issue #5 fills this in)."""
from ember.nn.parameter import Buffer, Parameter, UninitializedParameter
