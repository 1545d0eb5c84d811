"""Believable Chinese names, places and notes for the demo and the benchmark's synthetic district.

The demo district is modelled on 张店区 (Zhangdian, Zibo, Shandong; code 370303): real street
names, invented communities and people.
"""

from schemas.households import TAGS

DISTRICT = ("370303", "张店区")

# (code, name, [(community code, community name, estate, road), …])
STREETS = [
    (
        "370303001000",
        "车站街道",
        [
            ("370303001001", "杏园社区", "杏园小区", "杏园东路"),
            ("370303001002", "华光社区", "华光小区", "华光路"),
        ],
    ),
    (
        "370303002000",
        "公园街道",
        [
            ("370303002001", "世纪花园社区", "世纪花园", "共青团西路"),
            ("370303002002", "人民公园社区", "公园小区", "人民西路"),
        ],
    ),
    (
        "370303003000",
        "和平街道",
        [
            ("370303003001", "和平社区", "和平小区", "和平路"),
            ("370303003002", "新村社区", "新村小区", "新村西路"),
        ],
    ),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = (
    "秀英",
    "桂英",
    "玉兰",
    "建国",
    "建华",
    "志强",
    "淑珍",
    "国庆",
    "海燕",
    "丽娟",
    "明",
    "伟",
    "芳",
    "敏",
    "静",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "超",
    "霞",
    "平",
    "刚",
    "德胜",
    "凤英",
    "春梅",
    "宝山",
    "文革",
    "红梅",
    "振华",
    "立新",
)

VISIT_NOTES = {
    "met": [
        "户主在家，了解家庭近况，无特殊诉求。",
        "老人身体尚可，提醒冬季用电用气安全。",
        "反映楼道灯不亮，已记录。",
        "询问低保政策，已解答并留下社区电话。",
        "家中有人，登记信息已核对。",
    ],
    "not_home": ["敲门无人应答，已留联系卡。", "邻居称户主白天上班，改日再访。"],
    "refused": ["住户不愿配合登记，已说明走访目的。"],
    "vacant": ["房屋空置，水电表未走字。"],
    "moved": ["原住户已搬离，新住户未入住。"],
}
OUTCOMES = ("met", "not_home", "refused", "vacant", "moved")

# category → problem descriptions a grid worker would write
PROBLEMS = {
    "safety.flying_wires": ["楼道内电动车飞线充电，存在火灾隐患。", "一楼窗户拉线给电动车充电。"],
    "safety.fire": ["楼道堆放杂物堵塞消防通道。", "单元门口灭火器过期未更换。"],
    "safety.structure": ["阳台外墙皮脱落，有坠落风险。", "楼顶防水层破损，顶楼住户漏雨。"],
    "heating.no_heat": ["室温不足16度，暖气片不热。", "供暖管道漏水，暖气不热。"],
    "traffic.parking": ["小区门口车辆乱停，影响消防车通行。", "非机动车占用人行道。"],
    "traffic.road": ["小区主路坑洼积水。", "单元门前路面塌陷。"],
    "sanitation.garbage": ["垃圾桶满溢未及时清运。", "绿化带内建筑垃圾堆放。"],
    "sanitation.sewage": ["下水道堵塞，污水外溢。", "化粪池井盖破损。"],
    "facilities.lighting": ["楼道声控灯损坏。", "小区路灯不亮。"],
    "facilities.elevator": ["电梯频繁停运，老人出行困难。"],
    "facilities.pipes": ["自来水管老化渗漏。", "燃气管道锈蚀，需更换。"],
    "dispute.neighbour": ["楼上装修噪音扰民，邻里有矛盾。", "宠物狗夜间吠叫引发纠纷。"],
    "dispute.property": ["物业费收缴纠纷，业主拒交。"],
    "care.elderly": ["独居老人行动不便，需要定期上门探望。", "老人需要助餐服务。"],
    "care.hardship": ["家庭因病致困，申请临时救助。"],
    "other.other": ["小区公告栏破损。"],
}
MEASURES = [
    "联系物业维修，三日内完成。",
    "协调供电公司安装集中充电桩。",
    "组织志愿者清理并张贴提示。",
    "社区与住户面对面调解，达成一致。",
    "上报街道，申请老旧小区改造资金。",
]


def person_name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def phone(rng):
    return (
        rng.choice(("138", "139", "150", "151", "156", "177", "186", "189"))
        + f"{rng.randrange(10**8):08d}"
    )


def household_tags(rng):
    """0–2 tags, most households none."""
    roll = rng.random()
    if roll < 0.6:
        return []
    if roll < 0.9:
        return [rng.choice(TAGS)]
    return sorted(set(rng.sample(TAGS, 2)))
