"""Every model, imported so that ``Base.metadata`` describes the whole schema (for Alembic)."""

from mla.assets import models as _assets  # noqa: F401
from mla.audit import models as _audit  # noqa: F401
from mla.authorities import models as _authorities  # noqa: F401
from mla.db import Base
from mla.deadlines import models as _deadlines  # noqa: F401
from mla.evidence import models as _evidence  # noqa: F401
from mla.notify import models as _notify  # noqa: F401
from mla.requests import models as _requests  # noqa: F401
from mla.requests import progress as _progress  # noqa: F401
from mla.statistics import models as _statistics  # noqa: F401

metadata = Base.metadata
