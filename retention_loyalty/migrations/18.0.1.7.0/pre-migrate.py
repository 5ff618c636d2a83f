def migrate(cr, version):
    """Tag points multipliers become company-dependent: each tag keeps the
    multiplier it had, now set in every company (where it used to apply)."""
    cr.execute(
        """SELECT data_type FROM information_schema.columns
            WHERE table_name = 'res_partner_category'
              AND column_name = 'retention_points_multiplier'"""
    )
    row = cr.fetchone()
    if not row or row[0] == "jsonb":
        return
    cr.execute(
        """ALTER TABLE res_partner_category
               RENAME COLUMN retention_points_multiplier TO retention_points_multiplier_old;
           ALTER TABLE res_partner_category ADD COLUMN retention_points_multiplier jsonb;
           UPDATE res_partner_category tag
              SET retention_points_multiplier = (
                      SELECT jsonb_object_agg(company.id::text, tag.retention_points_multiplier_old)
                        FROM res_company company)
            WHERE tag.retention_points_multiplier_old IS NOT NULL
              AND tag.retention_points_multiplier_old != 1;
           ALTER TABLE res_partner_category DROP COLUMN retention_points_multiplier_old;"""
    )
