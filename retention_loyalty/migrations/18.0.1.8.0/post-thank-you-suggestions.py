# The old default lines, verbatim (too long for the line limit).
# ruff: noqa: E501
OLD_SUGGESTIONS = """\
    <t t-set="last_order" t-value="object.sale_order_ids.filtered_domain([('state', '=', 'sale')]).sorted('date_order')[-1:]"/>
    <t t-set="related" t-value="last_order.order_line.product_id.product_tmpl_id.optional_product_ids[:3]"/>
    <p t-if="related">You may also like:
        <t t-foreach="related" t-as="product"><t t-out="product.name"/><t t-if="not product_last">, </t></t>.
    </p>"""
NEW_SUGGESTIONS = """\
    <p t-if="object.retention_suggested_products">You may also like:
        <t t-out="object.retention_suggested_products"/>.
    </p>"""


def migrate(cr, version):
    """The thank-you e-mail suggests products bought together: its template
    (noupdate) is changed where it still holds the old suggestion lines."""
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
         WHERE data.module = 'retention_loyalty'
           AND data.name = 'mail_template_playbook_thank_you'
           AND data.model = 'mail.template'
           AND template.id = data.res_id
        """,
        (OLD_SUGGESTIONS, NEW_SUGGESTIONS),
    )
