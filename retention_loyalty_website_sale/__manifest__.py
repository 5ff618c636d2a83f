{
    "name": "Customer Retention & Loyalty - eCommerce",
    "summary": "Use loyalty points at checkout, see the points a cart earns, member prices online",
    "version": "18.0.1.1.0",
    "category": "Website/Website",
    "website": "https://github.com/retention-loyalty/retention_loyalty",
    "author": "retention_loyalty developers",
    "license": "LGPL-3",
    "depends": ["retention_loyalty", "website_sale_loyalty"],
    "auto_install": True,
    "data": [
        "views/website_sale_templates.xml",
    ],
    "demo": [
        "demo/retention_shop_demo.xml",
    ],
    "assets": {
        "web.assets_tests": ["retention_loyalty_website_sale/static/tests/tours/*.js"],
    },
}
