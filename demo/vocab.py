"""Vocabulary for the synthetic feeds: divisions, streets, name parts and noise tables.

Everything here is plain data. Every string must be encodable in GBK, because the environmental
penalty feed is written in GBK (the tests check this).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    """A county-level division the synthetic entities live in.

    ``since`` is the first year the code was in force according to python-stdnum's division
    table (None: in force for every birth year we generate); resident ids of people born
    earlier would fail stdnum's check, so such people are placed elsewhere.
    """

    code: str
    province: str
    city: str  # full city name, e.g. 北京市 / 杭州市
    city_short: str  # the form companies put in front of their names, e.g. 北京 / 杭州
    name: str  # 朝阳区
    streets: tuple[str, ...]
    court_abbr: str  # province abbreviation used in case numbers (京, 沪, 浙, ...)
    since: int | None = None

    @property
    def short(self) -> str:
        """The district without its 区 suffix, as branch names use it (朝阳区 → 朝阳)."""
        return self.name[:-1] if self.name.endswith("区") and len(self.name) > 2 else self.name

    @property
    def address_prefix(self) -> str:
        # Municipalities are province and city at once: "北京市朝阳区", not "北京市北京市朝阳区".
        if self.province == self.city:
            return f"{self.city}{self.name}"
        return f"{self.province}{self.city}{self.name}"


def _beijing(code: str, name: str, streets: tuple[str, ...], since: int | None = None) -> District:
    return District(code, "北京市", "北京市", "北京", name, streets, "京", since)


BEIJING_DISTRICTS: tuple[District, ...] = (
    _beijing("110101", "东城区", ("东长安街", "王府井大街", "东直门南大街", "朝阳门北大街")),
    _beijing("110102", "西城区", ("金融大街", "西长安街", "德胜门外大街", "月坛北街")),
    _beijing("110105", "朝阳区", ("建国路", "东三环中路", "朝阳北路", "望京街", "酒仙桥路")),
    _beijing("110106", "丰台区", ("丰台北路", "南四环西路", "方庄路", "马家堡东路")),
    _beijing("110107", "石景山区", ("石景山路", "鲁谷路", "八角西街")),
    _beijing("110108", "海淀区", ("中关村大街", "知春路", "学院路", "上地十街", "西三环北路")),
    _beijing("110109", "门头沟区", ("新桥大街", "滨河路")),
    _beijing("110111", "房山区", ("良乡拱辰大街", "长虹西路"), since=1986),
    _beijing("110112", "通州区", ("新华大街", "运河东大街"), since=1997),
    _beijing("110113", "顺义区", ("府前街", "空港工业区天柱路"), since=1998),
    _beijing("110114", "昌平区", ("回龙观西大街", "科技园区超前路"), since=1999),
    _beijing("110115", "大兴区", ("兴华大街", "经济技术开发区荣华中路"), since=2001),
)

# Relative weights of the Beijing districts (the busy business districts dominate).
BEIJING_WEIGHTS: tuple[int, ...] = (8, 9, 20, 8, 4, 18, 2, 3, 5, 4, 6, 5)

OTHER_DISTRICTS: tuple[District, ...] = (
    District("120101", "天津市", "天津市", "天津", "和平区", ("南京路", "营口道"), "津"),
    District("120104", "天津市", "天津市", "天津", "南开区", ("鞍山西道", "红旗路"), "津"),
    District("310101", "上海市", "上海市", "上海", "黄浦区", ("南京东路", "淮海中路"), "沪"),
    District("310104", "上海市", "上海市", "上海", "徐汇区", ("漕溪北路", "肇嘉浜路"), "沪"),
    District("310115", "上海市", "上海市", "上海", "浦东新区", ("世纪大道", "张江路"), "沪", 1992),
    District("330106", "浙江省", "杭州市", "杭州", "西湖区", ("文三路", "天目山路"), "浙", 1983),
    District("330108", "浙江省", "杭州市", "杭州", "滨江区", ("江南大道", "网商路"), "浙", 1996),
    District("440305", "广东省", "深圳市", "深圳", "南山区", ("深南大道", "科技南路"), "粤", 1983),
    District("440304", "广东省", "深圳市", "深圳", "福田区", ("福华路", "益田路"), "粤", 1983),
    District("440106", "广东省", "广州市", "广州", "天河区", ("天河路", "华夏路"), "粤", 1985),
    District("320102", "江苏省", "南京市", "南京", "玄武区", ("中山路", "珠江路"), "苏", 1983),
    District("420106", "湖北省", "武汉市", "武汉", "武昌区", ("中南路", "中北路"), "鄂", 1983),
    District(
        "510107", "四川省", "成都市", "成都", "武侯区", ("人民南路四段", "科华北路"), "川", 1990
    ),
)

# Share of entities outside Beijing (the demo is a Beijing credit platform).
OTHER_REGION_SHARE = 0.2

# Two-character trade names are drawn from these characters (all common in real names).
BRAND_CHARS = (
    "星河华创鑫源恒泰瑞博智辉明佳宏安康伟盛达信通远航腾飞天宇中和金诚德利新科汇聚嘉禾丰隆润泽"
    "万顺永昌兴旺盈海蓝图云峰光启东方正晨曦锦绣龙凤祥优众亿美联合益百乐宝鸿长宁"
)
# A few trade names carry Latin letters or digits, which is where full-width noise shows.
LATIN_BRANDS = ("ABC", "IT", "5G", "3D", "e家", "U客", "K8", "TCL")

INDUSTRIES = (
    "科技",
    "信息技术",
    "网络科技",
    "贸易",
    "商贸",
    "国际贸易",
    "建设工程",
    "装饰工程",
    "餐饮管理",
    "物流",
    "医药",
    "电子",
    "文化传媒",
    "房地产开发",
    "环保科技",
    "机械设备",
    "生物技术",
    "实业",
    "投资管理",
    "企业管理咨询",
    "新能源",
    "化工",
    "食品",
    "建材",
    "汽车服务",
    "发展",
)

# (legal form in the name, registry entity_type, relative weight)
LEGAL_FORMS: tuple[tuple[str, str, int], ...] = (
    ("有限公司", "有限责任公司", 45),
    ("有限责任公司", "有限责任公司", 40),
    ("股份有限公司", "股份有限公司", 15),
)

SHOP_KINDS = (
    "小吃店",
    "便利店",
    "烟酒商店",
    "水果店",
    "理发店",
    "五金店",
    "餐馆",
    "面馆",
    "干洗店",
    "汽车修理部",
    "服装店",
    "早点铺",
)
SHOP_MARKERS = ("记", "氏", "家")

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强志明海燕红梅玉兰文军"
    "晓东晓燕丹凤宇浩然思远欣怡子涵雨轩嘉琪梓萱一鸣博文俊杰立新春生秋菊冬梅德胜永刚利民"
)

# Traditional spellings seen in names (some systems and some people still write them).
# Word pairs are replaced first, so a character with two traditional forms (发: 發 / 髮)
# gets the right one where it matters; then single characters.
TRADITIONAL_WORDS: tuple[tuple[str, str], ...] = (
    ("理发", "理髮"),
    ("发展", "發展"),
    ("贸易", "貿易"),
    ("电子", "電子"),
    ("网络", "網絡"),
    ("国际", "國際"),
    ("医药", "醫藥"),
    ("实业", "實業"),
    ("建设", "建設"),
    ("餐饮", "餐飲"),
    ("技术", "技術"),
    ("咨询", "諮詢"),
    ("责任", "責任"),
    ("传媒", "傳媒"),
    ("房地产开发", "房地產開發"),
    ("机械设备", "機械設備"),
    ("环保", "環保"),
    ("新能源", "新能源"),
    ("汽车服务", "汽車服務"),
    ("装饰", "裝飾"),
    ("食品", "食品"),
    ("建材", "建材"),
    ("商贸", "商貿"),
    ("物流", "物流"),
)
TRADITIONAL_CHARS: dict[str, str] = dict(
    zip(
        "华东广龙丰兴达汇银云创联环农开门机车鸿长宁万乐宝业图亿众优凤锦绣诚辉远腾飞顺泽盛东区务",
        "華東廣龍豐興達匯銀雲創聯環農開門機車鴻長寧萬樂寶業圖億眾優鳳錦繡誠輝遠騰飛順澤盛東區務",
        strict=True,
    )
)

# Characters people confuse when typing names (same sound or similar shape).
TYPOS: dict[str, str] = dict(
    zip(
        "星河华鑫源达信盛恒泰瑞博智辉明佳宏安康伟通远航腾飞天宇中和金诚德利新科汇丰隆润永兴海云峰",
        "心和化新元大新胜衡太锐搏志晖铭嘉弘按抗玮同元行藤非添雨忠合今城得力欣料会风龙闰咏星每芸锋",
        strict=True,
    )
)

TAX_GRADES: tuple[tuple[str, int], ...] = (("A", 25), ("B", 45), ("M", 20), ("C", 7), ("D", 3))

CUSTOMS_LEVELS: tuple[tuple[str, int], ...] = (
    ("高级认证企业", 15),
    ("其他注册登记和备案企业", 78),
    ("失信企业", 7),
)

REGISTRY_STATUSES: tuple[tuple[str, int], ...] = (
    ("存续", 88),
    ("在业", 5),
    ("注销", 4),
    ("吊销", 3),
)


@dataclass(frozen=True)
class Violation:
    """An environmental violation with its legal basis and a typical fine range (万元)."""

    act: str
    basis: str
    fine_min: float
    fine_max: float
    for_persons: bool = False


VIOLATIONS: tuple[Violation, ...] = (
    Violation(
        "超过大气污染物排放标准排放大气污染物",
        "《中华人民共和国大气污染防治法》第九十九条第二项",
        10,
        100,
    ),
    Violation(
        "未依法取得排污许可证排放污染物",
        "《排污许可管理条例》第三十三条第一项",
        20,
        100,
    ),
    Violation(
        "建设项目环境影响评价文件未经批准擅自开工建设",
        "《中华人民共和国环境影响评价法》第三十一条第一款",
        5,
        50,
    ),
    Violation(
        "未按照规定设置危险废物识别标志",
        "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第一项",
        10,
        100,
    ),
    Violation(
        "工业噪声超过噪声排放标准排放",
        "《中华人民共和国噪声污染防治法》第七十五条",
        2,
        20,
    ),
    Violation(
        "通过逃避监管的方式排放水污染物",
        "《中华人民共和国水污染防治法》第八十三条第三项",
        20,
        100,
    ),
    Violation(
        "施工工地未采取扬尘污染防治措施",
        "《北京市大气污染防治条例》第一百一十八条",
        1,
        10,
    ),
    Violation(
        "排放油烟的餐饮服务业经营者未安装油烟净化设施",
        "《中华人民共和国大气污染防治法》第一百一十八条第一款",
        0.5,
        5,
    ),
    Violation(
        "露天焚烧秸秆、落叶等产生烟尘污染的物质",
        "《中华人民共和国大气污染防治法》第一百一十九条第二款",
        0.05,
        0.2,
        for_persons=True,
    ),
    Violation(
        "随意倾倒、抛撒、堆放生活垃圾",
        "《中华人民共和国固体废物污染环境防治法》第一百一十一条第一款第一项",
        0.01,
        0.02,
        for_persons=True,
    ),
)

# (category, relative weight for organizations, relative weight for natural persons)
PENALTY_CATEGORIES: tuple[tuple[str, int, int], ...] = (
    ("罚款", 70, 80),
    ("警告", 15, 20),
    ("责令停产停业", 10, 0),
    ("吊销许可证", 5, 0),
)

COURT_REASONS = (
    "有履行能力而拒不履行生效法律文书确定义务",
    "违反财产报告制度",
    "违反限制消费令",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
    "无正当理由拒不履行执行和解协议",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
)

HRSS_REASONS = (
    "克扣、无故拖欠农民工工资达到认定拒不支付劳动报酬罪数额标准",
    "因拖欠农民工工资违法行为引发群体性事件、极端事件造成严重不良社会影响",
    "拖欠农民工工资经责令限期支付后逾期未支付",
)
