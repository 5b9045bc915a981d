"""Name pools for demo people and companies, in English and Chinese.

Chinese names carry their pinyin so e-mail addresses look like the ones a real Chinese
customer would have (``wang.wei@…``, ``zhangmin88@qq.com``).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Emily",
    "Paul",
    "Donna",
    "Andrew",
    "Michelle",
    "Joshua",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Ronald",
    "Rebecca",
    "Jason",
    "Laura",
    "Ryan",
    "Helen",
    "Jacob",
    "Sharon",
    "Gary",
    "Cynthia",
    "Nicholas",
    "Kathleen",
    "Eric",
    "Amy",
    "Jonathan",
    "Angela",
    "Stephen",
    "Anna",
    "Larry",
    "Brenda",
    "Justin",
    "Pamela",
    "Scott",
    "Emma",
    "Brandon",
    "Nicole",
    "Benjamin",
    "Samantha",
    "Samuel",
    "Katherine",
    "Gregory",
    "Christine",
    "Alexander",
    "Rachel",
    "Patrick",
    "Olivia",
    "Frank",
    "Hannah",
    "Jack",
    "Chloe",
    "Oliver",
    "Grace",
    "Liam",
    "Sophie",
    "Noah",
    "Isla",
    "Ethan",
    "Ava",
    "Lucas",
    "Mia",
    "Leo",
    "Zoe",
    "Arjun",
    "Priya",
    "Rahul",
    "Ananya",
    "Lukas",
    "Lena",
    "Jonas",
    "Marie",
    "Felix",
    "Clara",
    "Hugo",
    "Camille",
    "Louis",
    "Chloé",
    "Mateo",
    "Lucía",
    "Diego",
    "Sofía",
    "Gabriel",
    "Beatriz",
    "Kenji",
    "Yuki",
    "Haruto",
    "Aiko",
    "Mohammed",
    "Fatima",
    "Omar",
    "Layla",
]

LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Evans",
    "Turner",
    "Phillips",
    "Parker",
    "Collins",
    "Edwards",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Cooper",
    "Peterson",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "Hughes",
    "Price",
    "Sanders",
    "Patel",
    "Shah",
    "Kumar",
    "Sharma",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Becker",
    "Dubois",
    "Moreau",
    "Laurent",
    "Bernard",
    "Silva",
    "Santos",
    "Oliveira",
    "Costa",
    "Fernández",
    "González",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Takahashi",
    "O'Brien",
    "Murphy",
    "Kowalski",
    "Novak",
    "Jensen",
    "Hansen",
    "Larsen",
    "Andersson",
    "Virtanen",
]

# (characters, pinyin)
CN_SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("萧", "xiao"), ("田", "tian"), ("董", "dong"), ("潘", "pan"),
    ("袁", "yuan"), ("蔡", "cai"), ("蒋", "jiang"), ("余", "yu"),
]  # fmt: skip
CN_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀英", "xiuying"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"), ("建华", "jianhua"),
    ("志强", "zhiqiang"), ("晓东", "xiaodong"), ("海燕", "haiyan"), ("子涵", "zihan"),
    ("浩然", "haoran"), ("欣怡", "xinyi"), ("梓轩", "zixuan"), ("雨桐", "yutong"),
    ("思远", "siyuan"),
    ("一鸣", "yiming"), ("嘉怡", "jiayi"), ("宇航", "yuhang"), ("诗涵", "shihan"),
    ("文博", "wenbo"),
    ("佳琪", "jiaqi"), ("俊杰", "junjie"), ("晨曦", "chenxi"),
]  # fmt: skip

CN_CITIES = ["北京", "上海", "深圳", "杭州", "广州", "成都", "南京", "苏州", "武汉", "西安"]
# (characters, pinyin) of a company's brand word and its trade in Chinese and English.
CN_BRANDS = [
    ("云帆", "yunfan"), ("星辰", "xingchen"), ("蓝海", "lanhai"), ("智联", "zhilian"),
    ("数科", "shuke"), ("华信", "huaxin"), ("恒通", "hengtong"), ("创维", "chuangwei"),
    ("鼎盛", "dingsheng"), ("优品", "youpin"), ("易达", "yida"), ("博远", "boyuan"),
    ("青禾", "qinghe"), ("启明", "qiming"), ("瑞丰", "ruifeng"), ("天成", "tiancheng"),
]  # fmt: skip
CN_TRADES = {
    "Software": ("科技", "tech"),
    "E-commerce": ("电子商务", "shop"),
    "Healthcare": ("医疗科技", "health"),
    "Education": ("教育科技", "edu"),
    "Financial services": ("金融信息", "fin"),
    "Marketing agency": ("文化传媒", "media"),
    "Manufacturing": ("智能制造", "mfg"),
    "Logistics": ("供应链", "logistics"),
    "Real estate": ("置业", "estate"),
    "Nonprofit": ("公益", "org"),
    "Media": ("传媒", "media"),
    "Consulting": ("咨询", "consulting"),
}

COMPANY_WORDS = [
    "Acme",
    "Northwind",
    "Bluebird",
    "Brightline",
    "Cedar",
    "Summit",
    "Pioneer",
    "Nimbus",
    "Atlas",
    "Beacon",
    "Cobalt",
    "Driftwood",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Ironclad",
    "Juniper",
    "Keystone",
    "Lighthouse",
    "Maple",
    "Meridian",
    "Northstar",
    "Oakridge",
    "Pinnacle",
    "Quarry",
    "Redwood",
    "Sapphire",
    "Silverline",
    "Tidewater",
    "Vantage",
    "Willow",
    "Zephyr",
    "Aurora",
    "Bramble",
    "Canopy",
    "Delta",
    "Ember",
    "Fjord",
    "Glacier",
    "Horizon",
    "Indigo",
    "Lumen",
    "Mosaic",
    "Nova",
    "Orbit",
    "Prism",
    "Quantum",
    "Riverbend",
    "Sierra",
    "Sparrow",
    "Stonebridge",
    "Trellis",
    "Upland",
    "Vertex",
    "Wavelength",
    "Yarrow",
    "Copperleaf",
    "Foxglove",
    "Hollow",
    "Kestrel",
    "Larkspur",
    "Marble",
    "Osprey",
    "Pebble",
    "Saltmarsh",
    "Thistle",
    "Windmill",
    "Clearwater",
    "Greenfield",
    "Highland",
    "Lakeside",
]
COMPANY_SUFFIXES = {
    "Software": ["Labs", "Software", "Systems", "Technologies", "Digital", "Cloud"],
    "E-commerce": ["Goods", "Supply Co.", "Market", "Store", "Trading"],
    "Healthcare": ["Health", "Clinic", "Care", "Medical"],
    "Education": ["Learning", "Academy", "Education", "Tutors"],
    "Financial services": ["Capital", "Finance", "Advisors", "Accounting"],
    "Marketing agency": ["Creative", "Agency", "Studio", "Media"],
    "Manufacturing": ["Industries", "Manufacturing", "Works", "Fabrication"],
    "Logistics": ["Logistics", "Freight", "Shipping", "Transport"],
    "Real estate": ["Properties", "Realty", "Homes", "Estates"],
    "Nonprofit": ["Foundation", "Trust", "Alliance", "Project"],
    "Media": ["Media", "Publishing", "Press", "Studios"],
    "Consulting": ["Consulting", "Partners", "Group", "Advisory"],
}
INDUSTRIES = list(COMPANY_SUFFIXES)
INDUSTRY_WEIGHTS = [0.22, 0.12, 0.08, 0.07, 0.08, 0.1, 0.06, 0.05, 0.05, 0.04, 0.05, 0.08]

TLDS = {"GB": ".co.uk", "DE": ".de", "FR": ".fr", "NL": ".nl", "AU": ".com.au", "CN": ".cn"}
PERSONAL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com"]
CN_PERSONAL_DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com"]


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: ``"Chloé O'Brien"`` → ``"chloeobrien"``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


class NameMaker:
    """Draws people and company names from a numpy Generator, so they follow the seed."""

    def __init__(self, rng: np.random.Generator) -> None:
        # Scalar draws from a Generator cost microseconds each; names need millions of them,
        # so draw uniforms in blocks and hand them out one by one (still fully seeded).
        self.rng = rng
        self.used_domains: set[str] = set()
        self.used_companies: set[str] = set()
        self._buffer: list[float] = []
        self._pos = 0

    def random(self) -> float:
        if self._pos >= len(self._buffer):
            self._buffer = self.rng.random(65_536).tolist()
            self._pos = 0
        self._pos += 1
        return self._buffer[self._pos - 1]

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high)."""
        return low + int(self.random() * (high - low))

    def _pick(self, seq: list[str] | list[tuple[str, str]]) -> int:
        return int(self.random() * len(seq))

    def person(self, *, chinese: bool) -> tuple[str, str, str]:
        """(display name, first-name slug, last-name slug)."""
        if chinese:
            family, family_py = CN_SURNAMES[self._pick(CN_SURNAMES)]
            given, given_py = CN_GIVEN[self._pick(CN_GIVEN)]
            return family + given, given_py, family_py
        first = FIRST_NAMES[self._pick(FIRST_NAMES)]
        last = LAST_NAMES[self._pick(LAST_NAMES)]
        return f"{first} {last}", ascii_slug(first), ascii_slug(last)

    def work_email(self, first: str, last: str, domain: str) -> str:
        style = self.integer(0, 4)
        local = [f"{first}.{last}", f"{first}", f"{first[0]}{last}", f"{first}{last[0]}"][style]
        return f"{local}@{domain}"

    def personal_email(self, first: str, last: str, *, chinese: bool) -> str:
        domains = CN_PERSONAL_DOMAINS if chinese else PERSONAL_DOMAINS
        domain = domains[self._pick(domains)]
        number = self.integer(1, 999)
        style = self.integer(0, 3)
        local = [f"{first}.{last}", f"{first}{last}{number}", f"{first[0]}{last}{number}"][style]
        return f"{local}@{domain}"

    def company(self, *, industry: str, country: str, chinese: bool) -> tuple[str, str]:
        """(unique company name, unique web domain).

        Two customers with one name would look like a duplicate to a founder reading the demo,
        so a name already used is drawn again; after a few misses a second word is added.
        """
        for attempt in range(40):
            name, base, tld = self._company_name(
                industry=industry, country=country, chinese=chinese, longer=attempt >= 8
            )
            if name not in self.used_companies:
                break
        else:  # pragma: no cover - the word lists give far more names than a demo uses
            name = f"{name} {len(self.used_companies)}"
        self.used_companies.add(name)
        domain = base + tld
        n = 2
        while domain in self.used_domains:
            domain = f"{base}{n}{tld}"
            n += 1
        self.used_domains.add(domain)
        return name, domain

    def _company_name(
        self, *, industry: str, country: str, chinese: bool, longer: bool
    ) -> tuple[str, str, str]:
        """(name, domain base, top-level domain) drawn once."""
        if chinese:
            city = CN_CITIES[self._pick(CN_CITIES)]
            brand, brand_py = CN_BRANDS[self._pick(CN_BRANDS)]
            if longer:
                extra, extra_py = CN_BRANDS[self._pick(CN_BRANDS)]
                if extra != brand:
                    brand, brand_py = brand + extra, f"{brand_py}{extra_py}"
            trade, trade_py = CN_TRADES[industry]
            name = f"{city}{brand}{trade}有限公司"
            base = f"{brand_py}-{trade_py}"
            tld = ".com.cn"
        else:
            words = COMPANY_WORDS
            first = words[self._pick(words)]
            suffixes = COMPANY_SUFFIXES[industry]
            suffix = suffixes[self._pick(suffixes)]
            if longer or self.random() < 0.35:
                second = words[self._pick(words)]
                if second != first:
                    first = f"{first} {second}"
            name = f"{first} {suffix}"
            base = ascii_slug(first) + ("" if self.random() < 0.5 else ascii_slug(suffix))
            tld = TLDS.get(country, ".com") if self.random() < 0.7 else ".io"
        return name, base, tld
