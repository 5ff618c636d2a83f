def migrate(cr, version):
    """Bonus entries are now described by their source alone ("Completed
    Profile"), the kind says it is a bonus: the rewards page read "Bonus:
    Bonus: Completed Profile" for entries written before."""
    if not version:
        return
    cr.execute(
        """
        UPDATE retention_points_entry
           SET description = substr(description, length('Bonus: ') + 1)
         WHERE kind = 'bonus' AND bonus_source IS NOT NULL AND description LIKE 'Bonus: %'
        """
    )
