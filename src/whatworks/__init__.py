"""whatworks: an open learning system for children's services in England."""

__version__ = "0.1.0"
