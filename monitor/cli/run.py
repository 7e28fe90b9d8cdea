"""`listenpost run`: the scheduler daemon in the foreground, for systemd, Docker or a terminal."""

from __future__ import annotations

import logging

import click

from monitor.cli import App, pass_app


@click.command()
@pass_app
def run(app: App) -> None:
    """Collect, alert, escalate, send the digest and tidy the database on a schedule.

    \b
    Each enabled source is collected at its own `interval`; queued alerts are sent every
    `schedule.dispatch_every`; the digest goes out daily at `digest.send_at` (local time);
    maintenance runs daily at `schedule.maintenance_at` and compacts the database on Sundays.
    One log line per job run goes to standard error.

    SIGTERM or Ctrl-C finishes the batch in hand and exits; a restart resumes from the stored
    cursors and the alerts outbox. A source without its credentials is skipped with a message
    naming the environment variable; the others run.

    Several workers may run against one PostgreSQL database (on one machine or many): each
    job runs on one worker at a time under a lease, mentions and alerts are claimed, and a
    killed worker's share passes to the others. `listenpost status` lists the live workers.
    """
    from classifiers import load_active_classifier
    from monitor.app.scheduler import Daemon

    root = logging.getLogger()
    if root.level > logging.INFO:
        # A daemon's job lines are its output; APScheduler's own chatter stays at warnings.
        root.setLevel(logging.INFO)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    from monitor.app.preflight import check_settings

    settings = app.settings
    check_settings(settings)  # a settings mistake ends here, not in a restart loop under systemd
    app.check_database()  # so does a database that cannot be opened
    classifier = load_active_classifier(app.settings.classifier)
    Daemon(settings, classifier=classifier).run_until_signalled()
