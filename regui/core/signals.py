"""Events of the core layer that the layers above record (history listens; core imports none of them)."""

from django.dispatch import Signal

# sender=User model; kwargs: user, changes ({field: [before, after]}), created (bool).
user_role_changed = Signal()
