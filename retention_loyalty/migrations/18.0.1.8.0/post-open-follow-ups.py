def migrate(cr, version):
    """Runs whose follow-up activity is still open were logged "Done": they
    are open until the activity is done or cancelled."""
    if not version:
        return
    cr.execute(
        """
        UPDATE retention_playbook_run run
           SET state = 'open'
         WHERE run.state = 'done'
           AND run.activity_done_date IS NULL
           AND run.activity_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM mail_activity activity
                        WHERE activity.id = run.activity_id AND activity.active)
        """
    )
