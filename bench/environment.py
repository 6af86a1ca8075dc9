"""What every benchmark needs first: Django, and the facts of the machine it ran on."""

import os
import platform


def setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def machine_facts() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    return {
        "cpus": str(os.cpu_count()),
        "postgresql": server_version.split()[0],
        "python": platform.python_version(),
        "load average before": load_average(),
    }
