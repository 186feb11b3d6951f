"""Static reference data for seeding Kyoso.  Pure data: no database access.

Municipality codes are the 6-digit 全国地方公共団体コード including the
check digit (see ``models.core.identifiers.is_valid_municipality_code``).
English names follow the bodies' own usage; the 23 special wards call
themselves "... City" in English (e.g. "Chiyoda City").
"""

from dataclasses import dataclass

__all__ = [
    "CATEGORIES",
    "MUNICIPALITIES",
    "MUNICIPALITY_KINDS",
    "Municipality",
    "OPERATOR_ORG",
    "TOKYO",
]

MUNICIPALITY_KINDS = ("ward", "city", "town", "village")


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str
    name_ja: str
    name_en: str
    kind: str  # one of MUNICIPALITY_KINDS

    def __iter__(self):
        # Allows ``code, name_ja, name_en, kind = municipality`` like a tuple.
        return iter((self.code, self.name_ja, self.name_en, self.kind))


# (code, name_ja, name_en, kind)
TOKYO = ("130001", "東京都", "Tokyo Metropolitan Government", "prefecture")


def _m(code: str, name_ja: str, name_en: str, kind: str) -> Municipality:
    return Municipality(code, name_ja, name_en, kind)


MUNICIPALITIES: tuple[Municipality, ...] = (
    # 23 special wards (特別区)
    _m("131016", "千代田区", "Chiyoda City", "ward"),
    _m("131024", "中央区", "Chuo City", "ward"),
    _m("131032", "港区", "Minato City", "ward"),
    _m("131041", "新宿区", "Shinjuku City", "ward"),
    _m("131059", "文京区", "Bunkyo City", "ward"),
    _m("131067", "台東区", "Taito City", "ward"),
    _m("131075", "墨田区", "Sumida City", "ward"),
    _m("131083", "江東区", "Koto City", "ward"),
    _m("131091", "品川区", "Shinagawa City", "ward"),
    _m("131105", "目黒区", "Meguro City", "ward"),
    _m("131113", "大田区", "Ota City", "ward"),
    _m("131121", "世田谷区", "Setagaya City", "ward"),
    _m("131130", "渋谷区", "Shibuya City", "ward"),
    _m("131148", "中野区", "Nakano City", "ward"),
    _m("131156", "杉並区", "Suginami City", "ward"),
    _m("131164", "豊島区", "Toshima City", "ward"),
    _m("131172", "北区", "Kita City", "ward"),
    _m("131181", "荒川区", "Arakawa City", "ward"),
    _m("131199", "板橋区", "Itabashi City", "ward"),
    _m("131202", "練馬区", "Nerima City", "ward"),
    _m("131211", "足立区", "Adachi City", "ward"),
    _m("131229", "葛飾区", "Katsushika City", "ward"),
    _m("131237", "江戸川区", "Edogawa City", "ward"),
    # 26 cities (市)
    _m("132012", "八王子市", "Hachioji City", "city"),
    _m("132021", "立川市", "Tachikawa City", "city"),
    _m("132039", "武蔵野市", "Musashino City", "city"),
    _m("132047", "三鷹市", "Mitaka City", "city"),
    _m("132055", "青梅市", "Ome City", "city"),
    _m("132063", "府中市", "Fuchu City", "city"),
    _m("132071", "昭島市", "Akishima City", "city"),
    _m("132080", "調布市", "Chofu City", "city"),
    _m("132098", "町田市", "Machida City", "city"),
    _m("132101", "小金井市", "Koganei City", "city"),
    _m("132110", "小平市", "Kodaira City", "city"),
    _m("132128", "日野市", "Hino City", "city"),
    _m("132136", "東村山市", "Higashimurayama City", "city"),
    _m("132144", "国分寺市", "Kokubunji City", "city"),
    _m("132152", "国立市", "Kunitachi City", "city"),
    _m("132187", "福生市", "Fussa City", "city"),
    _m("132195", "狛江市", "Komae City", "city"),
    _m("132209", "東大和市", "Higashiyamato City", "city"),
    _m("132217", "清瀬市", "Kiyose City", "city"),
    _m("132225", "東久留米市", "Higashikurume City", "city"),
    _m("132233", "武蔵村山市", "Musashimurayama City", "city"),
    _m("132241", "多摩市", "Tama City", "city"),
    _m("132250", "稲城市", "Inagi City", "city"),
    _m("132276", "羽村市", "Hamura City", "city"),
    _m("132284", "あきる野市", "Akiruno City", "city"),
    _m("132292", "西東京市", "Nishitokyo City", "city"),
    # Nishitama District (西多摩郡): 3 towns, 1 village
    _m("133035", "瑞穂町", "Mizuho Town", "town"),
    _m("133051", "日の出町", "Hinode Town", "town"),
    _m("133078", "檜原村", "Hinohara Village", "village"),
    _m("133086", "奥多摩町", "Okutama Town", "town"),
    # Oshima Subprefecture (大島支庁)
    _m("133612", "大島町", "Oshima Town", "town"),
    _m("133621", "利島村", "Toshima Village", "village"),
    _m("133639", "新島村", "Niijima Village", "village"),
    _m("133647", "神津島村", "Kozushima Village", "village"),
    # Miyake Subprefecture (三宅支庁)
    _m("133817", "三宅村", "Miyake Village", "village"),
    _m("133825", "御蔵島村", "Mikurajima Village", "village"),
    # Hachijo Subprefecture (八丈支庁)
    _m("134015", "八丈町", "Hachijo Town", "town"),
    _m("134023", "青ヶ島村", "Aogashima Village", "village"),
    # Ogasawara Subprefecture (小笠原支庁)
    _m("134210", "小笠原村", "Ogasawara Village", "village"),
)

# (slug, name_ja, name_en)
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("childcare", "子育て", "Childcare"),
    ("elderly-care", "高齢者福祉・介護", "Elderly care"),
    ("disaster-prevention", "防災", "Disaster prevention"),
    ("administrative-procedures", "行政手続き", "Administrative procedures"),
    ("health", "健康・医療", "Health"),
    ("education", "教育", "Education"),
    ("environment", "環境", "Environment"),
    ("mobility", "交通・モビリティ", "Mobility"),
    ("tourism", "観光", "Tourism"),
    ("internal-operations", "庁内業務", "Internal operations"),
)

# (name_ja, name_en) of the platform operator's organisation.
OPERATOR_ORG = ("Kyoso 運営事務局", "Kyoso Platform Operations")
