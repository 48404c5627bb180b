"""Whether the settings may guard a real shop: `serve` (without --demo) and `worker` refuse to start
otherwise. (The settings themselves reach operations through server/settings.py `domain_settings`.)"""

from operations.kernel import secret_problem
from server.settings import Settings


def refusal_to_start(settings: Settings) -> str | None:
    """Why a real (not demo) server or worker must not start with these settings, or None."""
    problem = secret_problem(settings.secret_key)
    if problem is None:
        return None
    return (
        f"refusing to start: {problem}. Without a secret of your own, the database alone yields every PIN"
        " and decrypts the Shopify token.\nMake one with `branchline generate-secret` and set it as"
        " BRANCHLINE_SECRET_KEY (keep it out of the database backups); `branchline serve --demo` needs none."
    )
