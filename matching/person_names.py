"""How common a Chinese person's full name is: agreeing on 王伟 says far less than agreeing on a
rare name (Fellegi–Sunter's term-frequency adjustment, domain.md). Hand-written: no library
ships name frequencies.

The list holds the full names most often reported as the commonest in China (the Ministry of
Public Security's yearly name reports and the press around them name 张伟, 王伟, 王芳, 李伟,
李娜, 张敏, 李静, 王静, 刘伟, 王秀英 ... each held by some 200,000-300,000 people) (unverified
beyond that: treat it as a default, as the weights are). With some 50,000 people born on any
one day, a common name and a birth date still leave several people; a rare one leaves one.
"""

from __future__ import annotations

__all__ = ["COMMON_PERSON_NAMES", "is_common_person_name"]

COMMON_PERSON_NAMES: frozenset[str] = frozenset(
    """
    张伟 王伟 王芳 李伟 李娜 张敏 李静 王静 刘伟 王秀英 张丽 李秀英 王丽 张静 张秀英 李强 王敏
    李敏 王磊 刘洋 王艳 王勇 李军 张勇 李杰 张杰 张磊 王强 李娟 王军 张艳 张涛 王涛 李艳 王超
    李明 李勇 王娟 刘杰 刘敏 李霞 李丽 张军 王杰 张强 王秀兰 王刚 王平 刘芳 张燕 刘燕 刘丽
    张芳 李芳 王燕 王玲 张玲 李玲 王桂英 李桂英 张桂英 王华 李华 张华 王霞 张霞 王红 李红 张红
    王明 张明 王斌 李斌 张斌 王鹏 李鹏 张鹏 王辉 李辉 张辉 王玉兰 李玉兰 张玉兰 刘秀英 陈伟
    陈静 陈敏 陈丽 陈杰 陈芳 陈军 杨伟 杨静 杨敏 杨丽 赵伟 赵静 赵敏 黄伟 周伟 吴伟 徐伟 孙伟
    """.split()  # noqa: SIM905 (a block of names reads better than a list of quoted strings)
)


def is_common_person_name(name: str) -> bool:
    """Whether ``name`` (normalised, ``matching.normalise.normalise_person_name``) is one of
    :data:`COMMON_PERSON_NAMES`."""
    return name in COMMON_PERSON_NAMES
