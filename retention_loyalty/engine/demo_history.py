"""Deterministic synthetic purchase history for demo databases.

Plain Python: it returns customers, salespeople, a product catalogue and dated
orders as data; the Odoo layer turns them into records. The same seed and
reference date always give the same history.

Each customer follows one purchase *rhythm*, so the demo base shows every case
the retention screens care about:

- ``loyal``: regular buyers over the whole period;
- ``growing``: ordering more often and buying more as time goes on;
- ``declining``: ordering less often and buying less;
- ``lapsed``: regular buyers who stopped 6 to 15 months ago;
- ``one_off``: a single order;
- ``new``: first order within the last three months.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

RHYTHM_SHARES = {
    "loyal": 0.20,
    "growing": 0.15,
    "declining": 0.15,
    "lapsed": 0.15,
    "one_off": 0.20,
    "new": 0.15,
}

# Share of customers that are companies (with contacts); the rest are private persons.
COMPANY_SHARE = 0.4
NEW_CUSTOMER_WINDOW_DAYS = 90
LAPSED_SILENCE_DAYS = (180, 450)

CATALOGUE = {
    "Coffee": [
        ("Espresso Beans 1 kg", 24.0),
        ("Decaf Beans 1 kg", 26.0),
        ("Single Origin Ethiopia 500 g", 18.5),
        ("Ground Filter Coffee 500 g", 11.0),
        ("Coffee Capsules x50", 16.0),
    ],
    "Tea": [
        ("Green Tea Sencha 250 g", 12.0),
        ("Earl Grey 250 g", 9.5),
        ("Herbal Infusion Box", 14.0),
        ("Matcha Powder 100 g", 21.0),
    ],
    "Machines": [
        ("Espresso Machine Pro", 690.0),
        ("Bean Grinder", 189.0),
        ("Milk Frother", 79.0),
        ("Filter Coffee Maker", 119.0),
    ],
    "Accessories": [
        ("Ceramic Cup Set", 32.0),
        ("Travel Mug", 19.0),
        ("Descaler Pack", 12.5),
        ("Paper Filters x200", 6.0),
        ("Tamper Stainless", 29.0),
    ],
    "Office Supplies": [
        ("Sugar Sticks x1000", 15.0),
        ("Stirrers x1000", 7.5),
        ("Paper Cups x500", 23.0),
        ("Office Coffee Service (month)", 149.0),
    ],
}

SALESPEOPLE = ["Alice Martin", "Bruno Keller", "Chloe Dubois", "Daniel Novak"]

_FIRST_NAMES = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Klara",
    "Leon",
    "Maria",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Simon",
    "Tara",
    "Victor",
    "Wanda",
    "Xavier",
    "Yara",
    "Zoe",
]
_LAST_NAMES = [
    "Adler",
    "Bauer",
    "Costa",
    "Dias",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nielsen",
    "Oliveira",
    "Peters",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Vogel",
    "Weber",
    "Young",
    "Zimmer",
]
_COMPANY_STEMS = [
    "Alpine",
    "Blue Harbor",
    "Cedar",
    "Delta",
    "Evergreen",
    "Foundry",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Northwind",
    "Orchid",
    "Pinnacle",
    "Quarry",
    "Riverside",
    "Summit",
    "Tidewater",
    "Union",
    "Vista",
    "Willow",
    "Zenith",
]
_COMPANY_KINDS = [
    "Offices",
    "Consulting",
    "Dental Practice",
    "Studio",
    "Bakery",
    "Law Firm",
    "Hotel",
    "Coworking",
    "Architects",
    "Clinic",
]
CITY_COUNTRY_CODES = {
    "Lyon": "fr",
    "Ghent": "be",
    "Porto": "pt",
    "Graz": "at",
    "Turin": "it",
    "Utrecht": "nl",
    "Bilbao": "es",
    "Aarhus": "dk",
}


@dataclass(frozen=True)
class DemoProduct:
    key: str
    name: str
    category: str
    list_price: float


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    name: str
    is_company: bool
    rhythm: str
    salesperson: str
    email: str
    city: str
    country_code: str
    contacts: tuple = ()


@dataclass(frozen=True)
class DemoOrder:
    customer_key: str
    order_date: date
    lines: tuple  # ((product key, quantity), ...)


@dataclass
class DemoHistory:
    seed: int
    today: date
    products: list = field(default_factory=list)
    salespeople: list = field(default_factory=list)
    customers: list = field(default_factory=list)
    orders: list = field(default_factory=list)

    def orders_by_customer(self):
        grouped = {customer.key: [] for customer in self.customers}
        for order in self.orders:
            grouped[order.customer_key].append(order)
        return grouped


def rhythm_counts(n_customers):
    """Split ``n_customers`` over the rhythms by largest remainder, so the
    counts always add up and follow RHYTHM_SHARES as closely as possible."""
    if n_customers < 0:
        raise ValueError("The number of customers cannot be negative.")
    exact = {rhythm: share * n_customers for rhythm, share in RHYTHM_SHARES.items()}
    counts = {rhythm: int(value) for rhythm, value in exact.items()}
    missing = n_customers - sum(counts.values())
    by_remainder = sorted(exact, key=lambda rhythm: exact[rhythm] - counts[rhythm], reverse=True)
    for rhythm in by_remainder[:missing]:
        counts[rhythm] += 1
    return counts


def build_catalogue():
    products = []
    for category, items in CATALOGUE.items():
        for index, (name, price) in enumerate(items):
            key = f"{category.lower().replace(' ', '_')}_{index}"
            products.append(DemoProduct(key, name, category, price))
    return products


def generate_demo_history(seed=42, n_customers=300, today=None, years=2):
    """Return a :class:`DemoHistory` of ``n_customers`` customers with
    ``years`` years of orders ending on ``today`` (no order after it)."""
    if years <= 0:
        raise ValueError("The history must cover at least one year.")
    today = today or date.today()
    rng = random.Random(seed)
    products = build_catalogue()
    history = DemoHistory(seed=seed, today=today, products=products, salespeople=list(SALESPEOPLE))
    start = today - timedelta(days=round(365.25 * years))
    rhythms = [rhythm for rhythm, count in rhythm_counts(n_customers).items() for _ in range(count)]
    rng.shuffle(rhythms)
    used_names = set()
    for index, rhythm in enumerate(rhythms):
        customer = _make_customer(rng, index, rhythm, used_names)
        history.customers.append(customer)
        for order_date, basket_scale in _order_dates(rng, rhythm, start, today):
            lines = _basket(rng, products, customer.is_company, basket_scale)
            history.orders.append(DemoOrder(customer.key, order_date, lines))
    history.orders.sort(key=lambda order: (order.order_date, order.customer_key))
    return history


def _make_customer(rng, index, rhythm, used_names):
    is_company = rng.random() < COMPANY_SHARE
    city = rng.choice(list(CITY_COUNTRY_CODES))
    if is_company:
        name = f"{rng.choice(_COMPANY_STEMS)} {rng.choice(_COMPANY_KINDS)}"
    else:
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    # Names repeat in small pools: tell them apart by city, as real data
    # would, and by number once the pool is used up (large benchmark bases).
    for candidate in (name, f"{name} ({city})", f"{name} ({city} {index})"):
        if candidate not in used_names:
            name = candidate
            break
    used_names.add(name)
    slug = "".join(char for char in name.lower() if char.isalnum() or char == " ")
    slug = ".".join(slug.split())
    contacts = ()
    if is_company:
        contacts = tuple(
            f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
            for _ in range(rng.randint(1, 3))
        )
    return DemoCustomer(
        key=f"{index:04d}",
        name=name,
        is_company=is_company,
        rhythm=rhythm,
        salesperson=rng.choice(SALESPEOPLE),
        email=f"{slug}@example.com",
        city=city,
        country_code=CITY_COUNTRY_CODES[city],
        contacts=contacts,
    )


def _gap(rng, mean_days):
    """Days to the next order: gamma distributed (shape 4), so buyers are
    regular but not clockwork."""
    return max(1, round(rng.gammavariate(4.0, mean_days / 4.0)))


def _order_dates(rng, rhythm, start, today):
    """Yield ``(date, basket scale)`` pairs for one customer."""
    span = (today - start).days
    if rhythm == "one_off":
        yield start + timedelta(days=rng.randint(0, span - NEW_CUSTOMER_WINDOW_DAYS)), 1.0
        return
    if rhythm == "new":
        first = today - timedelta(days=rng.randint(0, NEW_CUSTOMER_WINDOW_DAYS - 1))
        mean_gap = rng.uniform(20, 40)
        current = first
        while current <= today:
            yield current, 1.0
            current += timedelta(days=_gap(rng, mean_gap))
        return
    if rhythm == "lapsed":
        end = today - timedelta(days=rng.randint(*LAPSED_SILENCE_DAYS))
        first = start + timedelta(days=rng.randint(0, 120))
        mean_gap = rng.uniform(25, 50)
        current = first
        emitted = False
        while current <= end or not emitted:
            yield min(current, end), 1.0
            emitted = True
            current += timedelta(days=_gap(rng, mean_gap))
        return
    first = start + timedelta(days=rng.randint(0, 60))
    current = first
    if rhythm == "loyal":
        mean_gap = rng.uniform(28, 56)
        while current <= today:
            yield current, 1.0
            current += timedelta(days=_gap(rng, mean_gap))
        return
    # growing / declining: the gap and basket size move with the share of the
    # period elapsed, from one end of the range to the other.
    slow, fast = rng.uniform(70, 100), rng.uniform(18, 30)
    while current <= today:
        progress = (current - start).days / span
        if rhythm == "growing":
            mean_gap = slow + (fast - slow) * progress
            scale = 0.6 + 1.2 * progress
        else:
            mean_gap = fast + (slow * 1.6 - fast) * progress
            scale = 1.6 - 1.1 * progress
        yield current, scale
        current += timedelta(days=_gap(rng, mean_gap))


def _basket(rng, products, is_company, scale):
    n_lines = rng.randint(1, 4 if is_company else 3)
    chosen = []
    candidates = list(products)
    while len(chosen) < n_lines:
        # Equipment is bought rarely; consumables fill most baskets.
        weights = [0.08 if product.list_price > 100 else 1.0 for product in candidates]
        product = rng.choices(candidates, weights)[0]
        candidates.remove(product)
        chosen.append(product)
    base_quantity = 3 if is_company else 1
    lines = []
    for product in chosen:
        # Machines are bought one at a time, consumables by the batch.
        if product.list_price > 100:
            quantity = 1
        else:
            quantity = max(1, round(base_quantity * scale * rng.uniform(0.5, 2.0)))
        lines.append((product.key, quantity))
    return tuple(lines)
