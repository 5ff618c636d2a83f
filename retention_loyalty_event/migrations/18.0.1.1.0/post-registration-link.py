OLD = "    <p>Reply to this email to save your seat.</p>"
NEW = """\
    <t t-set="register_url" t-value="(ctx.get('retention_event_register_urls') or {}).get(object.id)"/>
    <p t-if="register_url" style="margin: 16px 0px 16px 0px;">
        <a t-att-href="register_url"
           style="background-color: #875A7B; padding: 8px 16px; text-decoration: none; color: #fff; border-radius: 5px;">
            Save my seat</a>
    </p>
    <p t-else="">Reply to this email to save your seat.</p>"""  # noqa: E501


def migrate(cr, version):
    """The invitation carries each guest's registration link: its template
    (noupdate) is changed where it still holds the old line."""
    if not version:
        return
    cr.execute(
        """
        UPDATE mail_template template
           SET body_html = (
               SELECT jsonb_object_agg(lang.key, replace(lang.value, %s, %s))
                 FROM jsonb_each_text(template.body_html) lang
           )
          FROM ir_model_data data
         WHERE data.module = 'retention_loyalty_event'
           AND data.name = 'mail_template_event_invitation'
           AND data.model = 'mail.template'
           AND template.id = data.res_id
        """,
        (OLD, NEW),
    )
