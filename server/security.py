"""The security settings applied at start: the server secret (and previous ones), password hashing
cost and PIN rules. Shared by the server's lifespan and the command line."""

from operations.directory import pins
from operations.kernel import passwords
from operations.kernel.keys import secret_problem, use_secret
from server.settings import Settings


def apply_security_settings(settings: Settings) -> None:
    previous = [k.strip() for k in settings.previous_secret_keys.split(",") if k.strip()]
    use_secret(settings.secret_key, previous)
    passwords.configure(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    pins.configure(approver_digits=settings.approver_pin_digits)


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
