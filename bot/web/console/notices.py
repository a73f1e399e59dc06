"""The console's notices: a redirect names one by code (?m=), the page shows its fixed text.

A link cannot make a console page say anything of its own choosing (content spoofing, as in
"?m=系统升级，请到 … 重新登录"): an unknown code shows nothing, and a text's only blanks are
whole numbers (?n=, ?k=), shown only when they are digits.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from urllib.parse import urlencode

from aiohttp import web

NOTICES: dict[str, str] = {
    "dispatched": "工单 {n} 已派单，任务已推送给承办人。",
    "dispatch_refused": "工单 {n} 目前的状态不能派单。",
    "comment_added": "已添加备注",
    "reply_empty": "请先写好回复内容",
    "reply_sent": "已发送给居民",
    "released": "已交还机器人",
    "not_handed_off": "这个会话不在人工服务中",
    "retrain_busy": "已有一个模型正在训练，请等它完成后再试",
    "retrain_started": "候选模型 #{n} 开始训练（含 {k} 条纠正）",
    "switched": "已切换到候选模型 #{n}",
    "switch_failed": "切换失败：有 NLU 服务没有加载候选模型 #{n}，记录未改变（哪些服务见服务日志）",
    "switch_refused": "不能切换到候选模型 #{n}：它不是待切换状态，或模型文件已不在（请重新训练）",
    "intent_invalid": "请选择一个有效的意图",
    "text_erased": "这条消息的文字已按保存期限删除，不能再标注",
    "relabelled": "已标注消息 #{n}，下次训练会用到",
    "user_deactivated": "已停用此账号，其令牌已全部注销",
    "self_deactivate": "不能停用自己的账号",
    "user_reactivated": "已重新启用此账号，需重新登录或领取新令牌",
    "tokens_revoked": "已注销此账号的 {n} 个令牌",
    "token_revoked": "已注销令牌 #{n}",
}
MAX_DIGITS = 12


def _blanks(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def notice_text(query: Mapping[str, str]) -> str:
    """The text of the notice a URL names, or "" (unknown code, or a blank that is no number)."""
    template = NOTICES.get(query.get("m", ""))
    if template is None:
        return ""
    values = {name: query.get(name, "") for name in _blanks(template)}
    if not all(v.isascii() and v.isdigit() and len(v) <= MAX_DIGITS for v in values.values()):
        return ""
    return template.format(**values)


def back_with(path: str, code: str, **numbers: int | str) -> web.HTTPSeeOther:
    """A redirect to a console page that shows one notice (its blanks filled with numbers)."""
    template = NOTICES[code]
    missing = set(_blanks(template)) - set(numbers)
    if missing:
        raise ValueError(f"notice {code} needs {', '.join(sorted(missing))}")
    return web.HTTPSeeOther(f"{path}?" + urlencode({"m": code, **numbers}))
