"""Flask commands: `flask --app wsgi demo` migrates and loads the Ambito Cremasco demo; `mail-worker`
sends the outbox; `backup` and `restore` save and bring back the database and uploaded files."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import make_url

from .accounts.demo import DEMO_TOTP_SECRET, demo_staff_emails
from .db import unit_of_work
from .demo import DEMO_PASSWORD, account_table, load_demo
from .mail import MailWorker, setting
from .ops import OpsError, backup, read_manifest, restore


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Migrate the database and load (idempotently) the Ambito Cremasco demo."""
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

    @app.cli.command("mail-worker")
    @click.option("--once", is_flag=True, help="Send what is due now, then stop (for cron and tests).")
    @click.option(
        "--interval", default=5.0, show_default=True, help="Seconds between two looks at the outbox."
    )
    def mail_worker_command(once: bool, interval: float) -> None:
        """Send the outbox (with retries and backoff) until stopped."""
        if not current_app.config.get("PDZ_SMTP_HOST"):
            raise click.ClickException(
                "PDZ_SMTP_HOST non è impostato: senza un server SMTP la posta resta nella posta in uscita."
            )
        worker = MailWorker(current_app._get_current_object(), interval=interval)  # type: ignore[attr-defined]
        if once:
            tried = total = worker.run_once()
            while tried >= 100:  # a full batch: there may be more due
                tried = worker.run_once()
                total += tried
            click.echo(f"Posta in uscita: {total} messaggi tentati.")
            return
        attempts = setting(current_app.config, "PDZ_MAIL_MAX_ATTEMPTS", 8, int)
        click.echo(f"Invio della posta in uscita avviato (fino a {attempts} tentativi per messaggio).")
        try:
            worker.run()
        except KeyboardInterrupt:
            click.echo("Invio della posta fermato.")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
    def backup_command(path: Path, force: bool) -> None:
        """Write a backup (database and uploaded files) to PATH, a .tar.gz archive."""
        if path.exists() and not force:
            raise click.ClickException(f"{path} esiste già: scegli un altro nome o aggiungi --force.")
        try:
            manifest = backup(current_app._get_current_object(), path)  # type: ignore[attr-defined]
        except OpsError as error:
            raise click.ClickException(str(error)) from error
        rows = sum(manifest["tables"].values())
        uploads = "con" if manifest["uploads"] else "senza"
        click.echo(
            f"Backup scritto in {path}: database {manifest['database']}, {len(manifest['tables'])} tabelle, "
            f"{rows} righe, {uploads} file caricati."
        )

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(path: Path, yes: bool) -> None:
        """Replace the database (and uploaded files) with the backup in PATH. Stop PdZ first."""
        application = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            manifest = read_manifest(path)
            target = make_url(application.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(
                hide_password=True
            )
            if not yes:
                click.confirm(
                    f"Il database {target} sarà sostituito dal backup del {manifest.get('created_at')}. Continuare?",
                    abort=True,
                )
            restore(application, path)
        except OpsError as error:
            raise click.ClickException(str(error)) from error
        click.echo(
            f"Ripristino completato dal backup del {manifest.get('created_at')}. "
            "Se il backup viene da una versione precedente di PdZ, esegui `flask --app wsgi migrate-db`."
        )
