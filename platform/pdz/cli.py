"""Flask commands: `flask --app wsgi demo` migrates and loads the Ambito Cremasco demo."""

from __future__ import annotations

import click
from flask import Flask
from flask_migrate import upgrade

from .db import unit_of_work


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Migrate the database and load (idempotently) the Ambito Cremasco demo."""
        from .accounts.demo import DEMO_TOTP_SECRET, demo_staff_emails
        from .demo import DEMO_PASSWORD, account_table, load_demo

        upgrade()
        with unit_of_work():
            load_demo()
            staff = demo_staff_emails()
        click.echo(f"Demo dell'Ambito Cremasco caricata. Account (password per tutti: {DEMO_PASSWORD}):")
        for email, label in account_table():
            click.echo(f"  {email:<28} {label}")
        click.echo(
            f"Verifica in due passaggi: {', '.join(staff)} la chiedono; aggiungi all'app di autenticazione "
            f"la chiave {DEMO_TOTP_SECRET} (account basato sul tempo) oppure calcola il codice con\n"
            f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\""
        )

    @app.cli.command("migrate-db")
    def migrate_command() -> None:
        """Apply the Alembic migrations up to head."""
        upgrade()
        click.echo("Database aggiornato.")
