"""The sandbox's vocabulary: Saudi names (Arabic script with their usual Latin spelling), cities, products,
categories, payment methods and Salla's default order statuses. Data only; `data.py` combines it."""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "CITIES",
    "DISTRICTS",
    "EMAIL_DOMAINS",
    "FAMILY_NAMES",
    "FEMALE_NAMES",
    "MALE_NAMES",
    "MOBILE_PREFIXES",
    "ORDER_STATUSES",
    "PAYMENT_METHODS",
    "PRODUCTS",
    "PRODUCT_VARIANTS",
    "SHIPPING_COMPANIES",
    "STATUS_WEIGHTS",
    "OrderStatus",
]

MALE_NAMES: tuple[tuple[str, str], ...] = (
    ("محمد", "Mohammed"),
    ("عبدالله", "Abdullah"),
    ("فهد", "Fahad"),
    ("خالد", "Khalid"),
    ("سلطان", "Sultan"),
    ("عبدالرحمن", "Abdulrahman"),
    ("سعود", "Saud"),
    ("فيصل", "Faisal"),
    ("تركي", "Turki"),
    ("ناصر", "Nasser"),
    ("بندر", "Bandar"),
    ("ماجد", "Majed"),
    ("نايف", "Naif"),
    ("يوسف", "Yousef"),
    ("عمر", "Omar"),
    ("علي", "Ali"),
    ("أحمد", "Ahmed"),
    ("سعد", "Saad"),
    ("مشعل", "Mishal"),
    ("راكان", "Rakan"),
    ("عبدالعزيز", "Abdulaziz"),
    ("إبراهيم", "Ibrahim"),
    ("حمد", "Hamad"),
    ("وليد", "Waleed"),
)

FEMALE_NAMES: tuple[tuple[str, str], ...] = (
    ("نورة", "Noura"),
    ("سارة", "Sarah"),
    ("فاطمة", "Fatimah"),
    ("ريم", "Reem"),
    ("هيفاء", "Haifa"),
    ("لمى", "Lama"),
    ("العنود", "Alanoud"),
    ("منيرة", "Munira"),
    ("جواهر", "Jawaher"),
    ("شهد", "Shahad"),
    ("رهف", "Rahaf"),
    ("دانة", "Dana"),
    ("مها", "Maha"),
    ("أمل", "Amal"),
    ("هند", "Hind"),
    ("لطيفة", "Latifa"),
    ("غادة", "Ghada"),
    ("عبير", "Abeer"),
    ("الجوهرة", "Aljawhara"),
    ("أسماء", "Asma"),
)

FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("العتيبي", "Alotaibi"),
    ("القحطاني", "Alqahtani"),
    ("الغامدي", "Alghamdi"),
    ("الزهراني", "Alzahrani"),
    ("الشمري", "Alshammari"),
    ("الدوسري", "Aldosari"),
    ("الحربي", "Alharbi"),
    ("المطيري", "Almutairi"),
    ("العنزي", "Alanazi"),
    ("السبيعي", "Alsubaie"),
    ("الشهري", "Alshehri"),
    ("السهلي", "Alsahli"),
    ("البقمي", "Albogami"),
    ("الرشيدي", "Alrashidi"),
    ("التميمي", "Altamimi"),
    ("الخالدي", "Alkhalidi"),
    ("الجهني", "Aljohani"),
    ("العمري", "Alomari"),
    ("الشهراني", "Alshahrani"),
    ("الأحمدي", "Alahmadi"),
)

CITIES: tuple[str, ...] = (
    # Riyadh and Jeddah appear more than once: that is where most orders come from.
    "الرياض",
    "الرياض",
    "الرياض",
    "جدة",
    "جدة",
    "مكة المكرمة",
    "المدينة المنورة",
    "الدمام",
    "الخبر",
    "الطائف",
    "تبوك",
    "بريدة",
    "أبها",
    "خميس مشيط",
    "حائل",
    "نجران",
    "جازان",
    "الأحساء",
    "ينبع",
    "الجبيل",
)

DISTRICTS: tuple[str, ...] = (
    "حي النرجس",
    "حي الملقا",
    "حي الياسمين",
    "حي الروضة",
    "حي السلامة",
    "حي الشاطئ",
    "حي الفيصلية",
    "حي العزيزية",
    "حي النسيم",
    "حي الحمراء",
)

MOBILE_PREFIXES: tuple[str, ...] = ("50", "53", "54", "55", "56", "58", "59")

EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "gmail.com", "hotmail.com", "outlook.com", "icloud.com", "yahoo.com")

CATEGORIES: tuple[tuple[int, str], ...] = (
    (1001, "عطور"),
    (1002, "قهوة وتمور"),
    (1003, "عبايات"),
    (1004, "ملابس رجالية"),
    (1005, "بخور ومباخر"),
    (1006, "هدايا"),
    (1007, "إكسسوارات"),
    (1008, "العناية الشخصية"),
)

# (Arabic name, category id, lowest price in halalas, highest price in halalas, kind of variant)
PRODUCTS: tuple[tuple[str, int, int, int, str], ...] = (
    ("عطر العود الملكي", 1001, 15_000, 65_000, "volume"),
    ("دهن عود كمبودي", 1001, 25_000, 120_000, "volume"),
    ("عطر ورد طائفي", 1001, 9_000, 40_000, "volume"),
    ("مسك أبيض", 1001, 4_500, 15_000, "volume"),
    ("قهوة عربية سعودية", 1002, 3_500, 12_000, "weight"),
    ("تمر سكري فاخر", 1002, 4_000, 16_000, "weight"),
    ("تمر عجوة المدينة", 1002, 6_000, 22_000, "weight"),
    ("هيل حب مختار", 1002, 2_500, 9_000, "weight"),
    ("عباية سوداء مطرزة", 1003, 25_000, 90_000, "size"),
    ("عباية كتان يومية", 1003, 18_000, 45_000, "size"),
    ("طرحة شيفون", 1003, 3_000, 9_000, "colour"),
    ("ثوب رجالي صيفي", 1004, 12_000, 38_000, "size"),
    ("شماغ أحمر", 1004, 8_000, 30_000, "edition"),
    ("بشت حساوي", 1004, 60_000, 250_000, "colour"),
    ("بخور معمول", 1005, 3_000, 15_000, "weight"),
    ("مبخرة كهربائية", 1005, 9_000, 35_000, "colour"),
    ("عود معطر", 1005, 5_000, 30_000, "weight"),
    ("صندوق هدايا رمضان", 1006, 12_000, 50_000, "edition"),
    ("سلة ضيافة", 1006, 15_000, 60_000, "edition"),
    ("مسبحة كهرمان", 1007, 8_000, 70_000, "colour"),
    ("ساعة يد كلاسيكية", 1007, 20_000, 150_000, "colour"),
    ("محفظة جلد طبيعي", 1007, 7_000, 25_000, "colour"),
    ("زيت الأرغان للشعر", 1008, 4_000, 12_000, "volume"),
    ("صابون زيت الزيتون", 1008, 1_500, 5_000, "edition"),
)

PRODUCT_VARIANTS: dict[str, tuple[str, ...]] = {
    "volume": ("50 مل", "100 مل", "200 مل", "12 مل", "عبوة سفر", "عبوة عائلية"),
    "weight": ("250 جم", "500 جم", "1 كجم", "2 كجم", "علبة هدية", "عبوة عائلية"),
    "size": ("مقاس 52", "مقاس 54", "مقاس 56", "مقاس 58", "مقاس 60", "مقاس 62"),
    "colour": ("أسود", "بني", "كحلي", "رمادي", "ذهبي", "أبيض"),
    "edition": ("إصدار خاص", "الإصدار الكلاسيكي", "إصدار فاخر", "هدية", "مجموعة صغيرة", "مجموعة كبيرة"),
}

PAYMENT_METHODS: tuple[str, ...] = (
    "mada",
    "mada",
    "credit_card",
    "apple_pay",
    "apple_pay",
    "bank",
    "cod",
    "tabby",
    "tamara",
    "stc_pay",
)

SHIPPING_COMPANIES: tuple[str, ...] = ("أرامكس", "سمسا", "ناقل", "البريد السعودي", "ريدبوكس")


class OrderStatus(tuple[int, str, str]):
    """(id, Arabic name, slug) of one of Salla's default order statuses."""

    __slots__ = ()

    @property
    def id(self) -> int:
        return self[0]

    @property
    def name(self) -> str:
        return self[1]

    @property
    def slug(self) -> str:
        return self[2]


ORDER_STATUSES: tuple[OrderStatus, ...] = (
    OrderStatus((566146469, "بانتظار الدفع", "payment_pending")),
    OrderStatus((1473353380, "بإنتظار المراجعة", "under_review")),
    OrderStatus((1956875584, "قيد التنفيذ", "in_progress")),
    OrderStatus((1298199463, "تم التنفيذ", "completed")),
    OrderStatus((349994915, "جاري التوصيل", "delivering")),
    OrderStatus((814202285, "تم التوصيل", "delivered")),
    OrderStatus((1723506348, "تم الشحن", "shipped")),
    OrderStatus((525144736, "ملغي", "canceled")),
    OrderStatus((989286562, "قيد الإسترجاع", "restoring")),
    OrderStatus((1548352431, "مسترجع", "restored")),
)

# Relative frequency of each status above, in the same order (most orders of an established store are done).
STATUS_WEIGHTS: tuple[int, ...] = (4, 8, 10, 45, 5, 15, 8, 4, 1, 1)
