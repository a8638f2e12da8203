"""Imports every model module so that Base.metadata knows all tables (Alembic, create_all, tests)."""

# The labels of every domain's enums, registered beside its models.
from .accordo.models import *  # noqa: F403
from .accounts import labels as _accounts_labels  # noqa: E402, F401
from .accounts.models import *  # noqa: F403
from .approvals import labels as _approvals_labels  # noqa: E402, F401
from .attachments.models import *  # noqa: F403
from .audit import AuditEntry  # noqa: F401
from .cards import labels as _cards_labels  # noqa: E402, F401
from .cards.models import *  # noqa: F403
from .coedit.models import *  # noqa: F403
from .comments.models import *  # noqa: F403
from .cycles import labels as _cycles_labels  # noqa: E402, F401
from .cycles.models import *  # noqa: F403
from .evaluation import labels as _evaluation_labels  # noqa: E402, F401
from .evaluation.models import *  # noqa: F403
from .idempotency import IdempotencyKey  # noqa: F401
from .mail import OutboxMessage  # noqa: F401
from .meetings import labels as _meetings_labels  # noqa: E402, F401
from .meetings.models import *  # noqa: F403
from .notifications.models import *  # noqa: F403
from .orgs import labels as _orgs_labels  # noqa: E402, F401
from .orgs.models import *  # noqa: F403
from .participation.models import *  # noqa: F403
from .realtime import LiveEvent  # noqa: F401
from .tavoli import labels as _tavoli_labels  # noqa: E402, F401
from .tavoli.models import *  # noqa: F403
from .territory import labels as _territory_labels  # noqa: E402, F401
from .territory.models import *  # noqa: F403
