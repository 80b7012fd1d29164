"""`ember.version`: the torch API level ember implements, and no CUDA/cuDNN/HIP build."""
__version__ = "2.13.0+ember0.1.0"   # torch's API version, then ember's own release
ember = "0.1.0"
cuda = None
hip = None
cudnn = None
git_version = "ember"
debug = False
