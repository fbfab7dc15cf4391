"""Every table of the relational store, gathered so migrations and tests see them all."""

from whatworks.core import models as core_models
from whatworks.core.db import Base
from whatworks.evidence import models as evidence_models
from whatworks.outcomes import models as outcomes_models
from whatworks.places import models as places_models
from whatworks.returns import models as returns_models
from whatworks.sharing import models as sharing_models
from whatworks.spread import models as spread_models
from whatworks.voice import models as voice_models

metadata = Base.metadata

__all__ = [
    "core_models",
    "evidence_models",
    "metadata",
    "outcomes_models",
    "places_models",
    "returns_models",
    "sharing_models",
    "spread_models",
    "voice_models",
]
