"""Print options (being written)."""


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    raise NotImplementedError("set_printoptions is being written")
