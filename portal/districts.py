"""Chongqing's 26 districts and 12 counties, with their names in both UI languages.

Kept as data, not catalogue entries: a district's Chinese name is its real name,
not a translation of the English one.
"""

from __future__ import annotations

DISTRICTS: dict[str, tuple[str, str]] = {
    "yuzhong": ("渝中区", "Yuzhong District"),
    "dadukou": ("大渡口区", "Dadukou District"),
    "jiangbei": ("江北区", "Jiangbei District"),
    "shapingba": ("沙坪坝区", "Shapingba District"),
    "jiulongpo": ("九龙坡区", "Jiulongpo District"),
    "nanan": ("南岸区", "Nan'an District"),
    "beibei": ("北碚区", "Beibei District"),
    "yubei": ("渝北区", "Yubei District"),
    "banan": ("巴南区", "Banan District"),
    "wanzhou": ("万州区", "Wanzhou District"),
    "fuling": ("涪陵区", "Fuling District"),
    "qijiang": ("綦江区", "Qijiang District"),
    "dazu": ("大足区", "Dazu District"),
    "qianjiang": ("黔江区", "Qianjiang District"),
    "changshou": ("长寿区", "Changshou District"),
    "jiangjin": ("江津区", "Jiangjin District"),
    "hechuan": ("合川区", "Hechuan District"),
    "yongchuan": ("永川区", "Yongchuan District"),
    "nanchuan": ("南川区", "Nanchuan District"),
    "bishan": ("璧山区", "Bishan District"),
    "tongliang": ("铜梁区", "Tongliang District"),
    "tongnan": ("潼南区", "Tongnan District"),
    "rongchang": ("荣昌区", "Rongchang District"),
    "kaizhou": ("开州区", "Kaizhou District"),
    "liangping": ("梁平区", "Liangping District"),
    "wulong": ("武隆区", "Wulong District"),
    "chengkou": ("城口县", "Chengkou County"),
    "fengdu": ("丰都县", "Fengdu County"),
    "dianjiang": ("垫江县", "Dianjiang County"),
    "zhongxian": ("忠县", "Zhong County"),
    "yunyang": ("云阳县", "Yunyang County"),
    "fengjie": ("奉节县", "Fengjie County"),
    "wushan": ("巫山县", "Wushan County"),
    "wuxi": ("巫溪县", "Wuxi County"),
    "shizhu": ("石柱土家族自治县", "Shizhu Tujia Autonomous County"),
    "xiushan": ("秀山土家族苗族自治县", "Xiushan Tujia and Miao Autonomous County"),
    "youyang": ("酉阳土家族苗族自治县", "Youyang Tujia and Miao Autonomous County"),
    "pengshui": ("彭水苗族土家族自治县", "Pengshui Miao and Tujia Autonomous County"),
}

_BY_NAME = {}
for _code, (_zh, _en) in DISTRICTS.items():
    _BY_NAME[_zh] = _code
    _BY_NAME[_en.lower()] = _code
    _BY_NAME[_code] = _code


def district_name(code: str | None, locale: str) -> str:
    if not code or code not in DISTRICTS:
        return code or ""
    zh, en = DISTRICTS[code]
    return zh if str(locale).startswith("zh") else en


def district_code(text: str) -> str | None:
    """Accept a code, the Chinese name or the English name (as found in CSV imports)."""
    text = (text or "").strip()
    return _BY_NAME.get(text) or _BY_NAME.get(text.lower())


def district_choices(locale: str) -> list[tuple[str, str]]:
    return [(code, district_name(code, locale)) for code in DISTRICTS]
