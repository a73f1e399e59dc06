"""The four disability-service forms: for whom, what exactly, the home, a phone; then a ticket.

Each service (残疾证办理, 辅具申请, 无障碍改造, 就业帮扶) is one Form built from the same
slots: whom it is for (本人 or a relative as said), what exactly (a choice by number, name
or free words: 轮椅, 卫生间扶手, 换证, 会按摩), the home address in full (needed for a
certificate, a device and a modification; kept when said for a job), a contact phone (the
one on file offered masked, a yes takes it), and a name when said. The confirmation shows
what was understood; a yes files a service ticket that staff take, and the reply says
what happens next (materials, home assessment, cross-province handling, device fitting).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from handlers.disability import reading
from handlers.disability.filing import file_service_ticket
from handlers.engine.choices import Option
from handlers.engine.forms import Extractor, Form, OnSilence, Slot, always, never
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.reports.places import corrected_place
from nlu.normalize import normalize
from storage.privacy import mask_phone, mask_text


@dataclass(frozen=True)
class Service:
    """One disability service: its ticket, what it asks and what happens after filing."""

    form: str
    intent: str
    category: str
    field: str  # the key of "what exactly" in the ticket's details
    what_label: str  # how "what exactly" is named to the resident
    verb: str  # 申请 / 改造 / 办理 / 找工作: the summary's line "为您母亲申请：轮椅"
    ask_whom: str
    ask_what: str
    options: tuple[Option, ...]
    read_what: Extractor
    free: bool  # any short answer in words is taken as "what exactly"
    needs_home: bool
    next_steps: Callable[[str], str]  # what happens next, by what was asked for
    questions: tuple[tuple[str, tuple[str, ...]], ...]  # policy questions asked in between
    recognises: Callable[[str], bool]
    withdrawn: str
    # questions a first message may ask, answered before the request goes on
    first_answers: tuple[tuple[re.Pattern[str], str], ...] = ()


def _option(name: str, *hints: str) -> Option:
    return Option(key=name, name=name, hints=hints)


# --- what happens next, from the published services (shared/spec/domain.md, faq.yml) ---------

_CERT_STEPS = {
    reading.CERT_NEW: "残联会安排评残，一般带身份证、户口簿和照片；出不了门的可以上门评残。",
    reading.CERT_RENEW: "换证、补办一般带身份证、户口簿和照片，换证把旧证带上。",
    reading.CERT_TRANSFER: "户口在外省的可以跨省通办，不用回原籍跑。",
    reading.CERT_AT_HOME: "会和您约上门评残的时间，不用去医院。",
}


def _cert_steps(matter: str) -> str:
    return _CERT_STEPS.get(matter, _CERT_STEPS[reading.CERT_NEW])


def _device_steps(device: str) -> str:
    return "先做辅具适配评估，需要时上门量尺寸、适配；持残疾人证可以申请。"


def _access_steps(modification: str) -> str:
    return "会先约时间上门查看，改造方案和您商量好再定；重度残疾的困难家庭优先。"


def _job_steps(work: str) -> str:
    return "会按您的情况推荐岗位或免费技能培训，有招聘会第一时间通知您。"


# --- recognising a service in the resident's own words (when the NLU is unsure) ---------------

_APPLY = r"(?:申请|办|要|需要|想要|配|领|弄|换|补|装|改|修|做|找)"
_CERT_WORDS = re.compile(
    rf"(?:残疾(?:人)?证|残证|评残).{{0,12}}|{_APPLY}.{{0,8}}(?:残疾(?:人)?证|评残)"
)
_CERT_APPLY = re.compile(rf"{_APPLY}|评残")
_ACCESS_WORDS = re.compile(
    rf"无障碍|{_APPLY}.{{0,6}}(?:扶手|坡道|门槛)|(?:扶手|坡道|门槛).{{0,6}}{_APPLY}"
)
_JOB_WORDS = re.compile(
    r"(?:找|介绍|推荐|安排)(?:个|份|点|一份|一个)?(?:工作|活|岗位|事做|事干)|招聘会|就业"
)
_DEVICE_WORDS = re.compile(rf"辅具|辅助器具|{_APPLY}.{{0,8}}(?:{reading._DEVICE_WORD.pattern})")


def _names_cert(text: str) -> bool:
    plain = normalize(text).text
    found = _CERT_WORDS.search(plain)
    return found is not None and bool(_CERT_APPLY.search(found.group(0)))


def _names_access(text: str) -> bool:
    return bool(_ACCESS_WORDS.search(normalize(text).text))


def _names_job(text: str) -> bool:
    return bool(_JOB_WORDS.search(normalize(text).text))


def _names_device(text: str) -> bool:
    return bool(_DEVICE_WORDS.search(normalize(text).text))


_ASKS_AT_HOME = re.compile(r"上门|去不了|出不了门")
_ASKS_TRANSFER = re.compile(r"外省|跨省|异地")
_MONEY = ("钱", "收费", "费用", "免费", "补贴", "花多少")

SERVICES: tuple[Service, ...] = (
    Service(
        form="disability_cert",
        intent="apply_disability_cert",
        category="disability_cert",
        field="matter",
        what_label="办理事项",
        verb="办理",
        ask_whom="请问是给谁办残疾证？比如：我自己、我儿子。",
        ask_what="要办哪一项？回复数字，或直接说，比如：换证。",
        options=(
            _option(reading.CERT_NEW, "新办", "第一次", "没办过", "头一回"),
            _option(reading.CERT_RENEW, "换证", "到期", "过期", "补办", "丢了", "旧证"),
            _option(reading.CERT_TRANSFER, "外省", "跨省", "迁入", "户口不在"),
            _option(reading.CERT_AT_HOME, "上门", "出不了门", "去不了", "卧床", "行动不便"),
        ),
        read_what=reading.cert_matter,
        free=False,
        needs_home=True,
        next_steps=_cert_steps,
        questions=(
            (
                "disability_cert",
                (
                    *("材料", "带什么", "带啥", "要带", "证件", "照片", "户口", "去哪"),
                    *("哪里办", "在哪办", "怎么办", "多久", "上门评", "跨省", "外省", *_MONEY),
                ),
            ),
        ),
        recognises=_names_cert,
        withdrawn="好的，残疾证先不办了。需要时随时告诉我。",
        first_answers=(
            (_ASKS_AT_HOME, "行动不便、出不了门的可以申请上门评残。"),
            (_ASKS_TRANSFER, "户口在外省的可以跨省通办。"),
        ),
    ),
    Service(
        form="accessibility",
        intent="apply_accessibility",
        category="accessibility",
        field="modification",
        what_label="改造",
        verb="改造",
        ask_whom="请问是给谁家改造？比如：我自己、我爸。",
        ask_what="家里想改造哪里？回复数字，或直接说，比如：卫生间装扶手。",
        options=(
            _option("卫生间装扶手、防滑", "卫生间", "厕所", "洗澡", "马桶", "防滑"),
            _option("门口修坡道、去门槛", "门口", "坡道", "门槛", "台阶"),
            _option("床边或楼道装扶手", "床边", "楼道", "扶手"),
            _option("厨房灶台改造", "厨房", "灶台"),
        ),
        read_what=reading.modification,
        free=True,
        needs_home=True,
        next_steps=_access_steps,
        questions=(
            (
                "accessibility",
                ("条件", "符合", "租的", "多久", "怎么申请", "谁能", "哪些", *_MONEY),
            ),
        ),
        recognises=_names_access,
        withdrawn="好的，改造先不申请了。需要时随时告诉我。",
    ),
    Service(
        form="job",
        intent="seek_job",
        category="job",
        field="work",
        what_label="想做的工作",
        verb="找工作",
        ask_whom="请问是给谁找工作？比如：我自己、我儿子。",
        ask_what="想找什么样的活？直接说，比如：保洁、手工、按摩；也可以回复数字。",
        options=(
            _option("推荐工作岗位", "岗位", "推荐", "上班"),
            _option("免费技能培训", "培训", "学技术", "学手艺"),
            _option("辅助性就业、爱心门店", "辅助性", "爱心门店", "在家附近"),
            _option("招聘会信息", "招聘会", "招聘"),
        ),
        read_what=reading.work,
        free=True,
        needs_home=False,
        next_steps=_job_steps,
        questions=(
            (
                "employment_policy",
                ("政策", "扶持", "补贴", "培训", "招聘会", "工资", "社保", "优惠"),
            ),
        ),
        recognises=_names_job,
        withdrawn="好的，找工作的事先不登记了。需要时随时告诉我。",
    ),
    Service(
        form="assistive_device",
        intent="apply_assistive_device",
        category="assistive_device",
        field="device",
        what_label="辅具",
        verb="申请",
        ask_whom="请问是给谁申请辅具？比如：我自己、我妈。",
        ask_what="需要申请什么辅具？回复数字，或直接说，比如：坐便椅。",
        options=tuple(_option(row[0], *row[1:]) for row in reading.DEVICES),
        read_what=reading.device,
        free=True,
        needs_home=True,
        next_steps=_device_steps,
        questions=(
            (
                "assistive_device",
                ("条件", "残疾证", "适配", "怎么申请", "多久", "上门", *_MONEY),
            ),
        ),
        recognises=_names_device,
        withdrawn="好的，辅具先不申请了。需要时随时告诉我。",
    ),
)
SERVICE_OF = {service.form: service for service in SERVICES}


def _service(turn: Turn) -> Service:
    return SERVICE_OF[turn.flow.form]


# --- asking -----------------------------------------------------------------------------------


async def _ask_whom(turn: Turn) -> str:
    return _service(turn).ask_whom


async def _ask_what(turn: Turn) -> str:
    return _service(turn).ask_what


async def _what_options(turn: Turn) -> Sequence[Option]:
    """The options of "what exactly", read only as the answer to that question."""
    return _service(turn).options if turn.flow.asking == "what" else ()


def _read_what(turn: Turn) -> SlotValue | Awaitable[SlotValue]:
    return _service(turn).read_what(turn)


def _free_what(turn: Turn) -> SlotValue:
    return reading.free_answer(turn) if _service(turn).free else None


async def _ask_home(turn: Turn) -> str:
    if turn.flow.form == "accessibility":
        return "需要改造的家在哪里？比如：安康小区4号楼2单元301。"
    return "请问住在哪里？比如：安康小区4号楼2单元301。"


async def _ask_phone(turn: Turn) -> str:
    known = turn.ctx.resident.phone
    if known:
        return f"联系电话用 {mask_phone(known)} 吗？不用这个就直接发新号码。"
    return "请留个联系电话，比如：13900001234。\n不方便留的话回复“不留”，工作人员在这里联系您。"


def _needs_home(turn: Turn) -> bool:
    return _service(turn).needs_home


def _needs_whom(turn: Turn) -> bool:
    """Whom it is for is asked unless the writer spoke of themselves."""
    return turn.flow.get("self") is None


def _whom_value(turn: Turn) -> str:
    """Whom it is for: as said, else 本人 when the writer spoke of themselves."""
    return turn.flow.text("whom") or reading.SELF


def _shown_whom(turn: Turn, value: SlotValue) -> str:
    return reading.shown_whom(value)


def _shown_phone(turn: Turn, value: SlotValue) -> str:
    return _contact(str(value or ""))


def _contact(phone: str) -> str:
    """The phone masked, or how the resident is reached without one."""
    return phone if phone == reading.IN_CHAT else mask_phone(phone)


# --- the confirmation and the ticket ----------------------------------------------------------


def _who(turn: Turn) -> str:
    """The person as the bot names them, with their name when said: 您母亲（刘秀英）."""
    shown = reading.shown_whom(_whom_value(turn))
    person = turn.flow.text("name")
    return f"{shown}（{person}）" if person else shown


async def _summary(turn: Turn) -> str:
    service, flow = _service(turn), turn.flow
    label = turn.ctx.services.category_labels.get(service.category, "申请")
    place = f"住址：{flow.text('location')}；" if flow.get("location") else ""
    return (
        f"【{label}】为{_who(turn)}{service.verb}：{flow.text('what')}\n"
        f"{place}电话：{_contact(flow.text('phone'))}\n"
        "对吗？回复“对”提交，要改直接说。"
    )


# "她有残疾证 肢体二级", "有证": the certificate the person holds, said while applying for help
_HAS_CERT = re.compile(r"有(?:残疾|殘疾)?[证證]|持[证證]|[证證](?:早)?办(?:过|了)|[一二三四1-4]级")
_ASKS_FOR = re.compile(r"申请|申請|想办|要办|想辦|要辦|帮我办|给我办|换证|补办|换个|补个")


def _detail_of_request(turn: Turn) -> bool:
    """The certificate held, said while applying for a device, a home change or a job."""
    if turn.flow.form == "disability_cert" or turn.intent != "apply_disability_cert":
        return False
    text = turn.plain
    return _HAS_CERT.search(text) is not None and _ASKS_FOR.search(text) is None


def _agreed_with_answer(turn: Turn) -> bool:
    """The message that gave the last piece also said yes (电话13344445555 对): no need to ask.

    A yes to the phone question ("请留个联系电话" "是的 麻烦了") counts too: residents
    written for from the spec alone ended there, believing it sent (fresh scenario set C).
    """
    return len(turn.flow.said) > 1 and bool(turn.filled) and reading.says_yes(turn)


async def _file(turn: Turn) -> None:
    service, flow, ctx = _service(turn), turn.flow, turn.ctx
    phone, what = flow.text("phone"), flow.text("what")
    location = flow.text("location") or None
    details: dict[str, object] = {
        "for": _whom_value(turn),
        service.field: what,
        "phone": phone,
        "request": flow.said[0] if flow.said else "",
    }
    if flow.get("name"):
        details["name"] = flow.text("name")
    if location:
        details["address"] = location
    said = mask_text(" ".join(flow.said))
    description = f"{what}（为{_who(turn)}），联系电话 {_contact(phone)}。居民说：{said}"
    filed = await file_service_ticket(
        ctx, service.category, description[:1000], details, location=location
    )
    if not ctx.resident.phone and phone != reading.IN_CHAT:
        ctx.resident.phone = phone
    number = str(filed.ticket.number)
    turn.remember("ticket", number)
    ctx.action = f"ticket_created:{number}"
    label = ctx.services.category_labels.get(service.category, "申请")
    who = f"社区工作人员{filed.assignee.name}" if filed.assignee else "社区工作人员"
    reach = "会在这里联系您" if phone == reading.IN_CHAT else f"会打 {mask_phone(phone)} 联系您"
    ctx.reply(
        f"已登记【{label}】，工单号 {number}。\n"
        f"{who}{reach}，{service.next_steps(what)}\n"
        f"想问进度，发“查询 {number}”。"
    )


async def _answer_first(turn: Turn) -> None:
    """A question in the first message about how the service works is answered first."""
    service = _service(turn)
    if not service.first_answers or not reading.asks(turn):
        return
    for pattern, line in service.first_answers:
        if pattern.search(turn.plain):
            turn.ctx.reply(f"{line}我先帮您登记。")
            return


def _on_silence(turn: Turn) -> OnSilence | None:
    """An application left in the middle reaches staff as a ticket once it names its matter."""
    flow = turn.flow
    if flow.get("what") is None and flow.get("location") is None:
        return None
    return OnSilence(_service(turn).category, flow.text("location") or None)


def _slots() -> tuple[Slot, ...]:
    return (
        Slot(
            "whom",
            "为谁",
            _ask_whom,
            extract=(reading.whom,),
            when_asked=(reading.whom_answer,),
            required=_needs_whom,
            show=_shown_whom,
        ),
        Slot("self", "为谁", "", extract=(reading.speaks_of_self,), required=never),
        Slot(
            "what",
            "内容",
            _ask_what,
            extract=(_read_what,),
            when_asked=(_free_what,),
            options=_what_options,
        ),
        Slot("name", "姓名", "请问怎么称呼？", extract=(reading.name,), required=never),
        Slot(
            "location",
            "住址",
            _ask_home,
            extract=(reading.home,),
            when_asked=(reading.home_answer,),
            required=_needs_home,
            merge=corrected_place,
        ),
        Slot(
            "phone",
            "电话",
            _ask_phone,
            extract=(reading.phone,),
            when_asked=(reading.known_phone,),
            required=always,
            show=_shown_phone,
        ),
    )


TITLES = {
    "disability_cert": "残疾证办理",
    "assistive_device": "辅具申请",
    "accessibility": "无障碍改造申请",
    "job": "就业帮扶申请",
}


def _form(service: Service) -> Form:
    return Form(
        name=service.form,
        title=TITLES.get(service.form, ""),
        intents=(service.intent,),
        slots=_slots(),
        complete=_file,
        summary=_summary,
        skip_confirmation=_agreed_with_answer,
        detail_of_request=_detail_of_request,
        on_start=_answer_first,
        withdrawn=service.withdrawn,
        lenient_start=True,  # the confirmation shows what was understood: a guess is corrected
        silence=_on_silence,
        questions=service.questions,
        recognises=service.recognises,
    )


FORMS = tuple(_form(service) for service in SERVICES)
