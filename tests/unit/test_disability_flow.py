"""The disability-service forms on the engine, with recorded parses (no Rasa, no web)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from handlers.engine.state import Dialogue
from storage.residents import Resident
from storage.tickets import Ticket, TicketEvent
from tests.dialog import Dialog

PHONE = "13812345678"


async def _tickets(chat: Dialog) -> list[Ticket]:
    return await chat.scalars(select(Ticket).order_by(Ticket.id))


def _details(ticket: Ticket) -> dict[str, str]:
    return json.loads(ticket.details or "{}")


def _created(chat: Dialog) -> bool:
    return chat.action is not None and chat.action.startswith("ticket_created:")


async def test_said_up_front_it_is_confirmed_once_and_filed_with_every_detail(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            f"我妈需要一个轮椅 她叫刘秀英 住东关南巷8号 电话{PHONE}",
            "apply_assistive_device",
            0.58,
            relation="我妈",
            device="轮椅",
        )
        assert chat.action == "assistive_device_confirm"
        summary = chat.replies[-1]
        assert "您母亲（刘秀英）" in summary and "轮椅" in summary and "东关南巷8号" in summary
        assert "138****5678" in summary and PHONE not in summary
        assert len(summary.splitlines()) <= 3
        await chat.say("对 就是申请轮椅", "apply_assistive_device", 0.85, device="轮椅")
        assert _created(chat)
        assert all(PHONE not in reply for reply in chat.replies)
        assert "适配" in chat.replies[-1]  # what happens next: the device fitting
        (ticket,) = await _tickets(chat)
        assert ticket.category == "assistive_device"
        assert ticket.location == "东关南巷8号"
        details = _details(ticket)
        assert details["device"] == "轮椅" and details["for"] == "我妈"
        assert details["phone"] == PHONE and details["name"] == "刘秀英"
        assert details["address"] == "东关南巷8号"
        assert "刘秀英" in (ticket.description or "")
        assert PHONE not in (ticket.description or "")


async def test_in_pieces_each_question_asks_only_what_is_missing(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想申请个助听器", "apply_assistive_device", 1.0, device="助听器")
        assert chat.action == "assistive_device_ask_whom"
        await chat.say("给我爸 他耳朵背得厉害", "apply_assistive_device", 0.16)
        assert chat.action == "assistive_device_ask_location"
        await chat.say("安康小区1号楼3单元201", "report_gas", 0.25)
        assert chat.action == "assistive_device_ask_phone"
        await chat.say("电话13900001111", "human_handoff", 0.34)
        assert chat.action == "assistive_device_confirm"
        assert "您父亲" in chat.replies[-1]
        await chat.say("对", "affirm")
        (ticket,) = await _tickets(chat)
        assert ticket.location == "安康小区1号楼3单元201"
        assert _details(ticket)["device"] == "助听器"


async def test_a_choice_by_number_or_in_words(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想申请辅具", "apply_assistive_device", 0.98)
        assert chat.action == "assistive_device_ask_what"
        assert "1 轮椅" in chat.replies[-1]
        await chat.say("2", None)
        assert chat.action == "assistive_device_ask_location"
        await chat.say("幸福里小区6号楼2单元102 电话13512345678", "report_sanitation", 0.22)
        assert "拐杖" in chat.replies[-1]
    async with Dialog.open(tmp_path, user="cert") as chat:
        await chat.say("残疾证的事 帮我弄一下", "apply_disability_cert", 0.9)
        await chat.say("就是我自己", "out_of_scope", 0.2)
        assert chat.action == "disability_cert_ask_what"
        await chat.say("到期了 要换新的", "out_of_scope", 0.3)
        assert chat.action == "disability_cert_ask_location"
    async with Dialog.open(tmp_path, user="job") as chat:
        await chat.say("有没有适合残疾人的工作", "seek_job", 0.97)
        assert chat.action == "job_ask_whom"
        await chat.say("给我儿子找 他听力不好 二十五岁", "human_handoff", 0.14)
        assert chat.action == "job_ask_what"
        await chat.say("能干电脑打字", "seek_job", 0.2)
        assert chat.action == "job_ask_phone"
        await chat.say("电话13622221111", "complain", 0.34)
        assert "您儿子" in chat.replies[-1] and "电脑打字" in chat.replies[-1]


async def test_the_phone_on_file_is_offered_masked_and_a_yes_takes_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(f"我要申请拐杖 住铁指江南小区3号楼501 电话{PHONE}", "apply_assistive_device")
        await chat.say("对", "affirm")
        assert _created(chat)
        assert len(await chat.scalars(select(Resident).where(Resident.phone == PHONE))) == 1
        await chat.say("给我爸办个残疾证 住东关北街22号", "apply_disability_cert")
        assert chat.action == "disability_cert_ask_phone"
        assert "138****5678" in chat.replies[-1] and PHONE not in chat.replies[-1]
        await chat.say("对 就打这个", "affirm")  # the last piece, said with a yes: filed
        assert _created(chat)
        assert "残疾证办理" in chat.replies[-1] and "138****5678" in chat.replies[-1]
        _first, second = await _tickets(chat)
        assert _details(second)["phone"] == PHONE
        assert _details(second)["matter"] == "新办残疾证"


async def test_a_new_number_replaces_the_one_on_file(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(f"我要申请拐杖 住铁指江南小区3号楼501 电话{PHONE}", "apply_assistive_device")
        await chat.say("对", "affirm")
        await chat.say("想找份工作 我腿有残疾 会修鞋", "seek_job")
        assert chat.action == "job_ask_phone"
        await chat.say("打我闺女的吧 13900001111", "out_of_scope", 0.2)
        assert chat.action == "job_confirm"
        await chat.say("对", "affirm")
        _first, second = await _tickets(chat)
        assert _details(second)["phone"] == "13900001111"


async def test_the_last_answer_with_a_yes_files_at_once(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "我家在西关街道和平巷9号 想给我家瘫痪的闺女改一下厕所 装扶手", "apply_accessibility"
        )
        assert chat.action == "accessibility_ask_phone"
        await chat.say("电话13900007788 对", "affirm", 0.34)
        assert _created(chat)
        (ticket,) = await _tickets(chat)
        assert ticket.location == "西关街道和平巷9号"
        assert _details(ticket)["modification"] == "卫生间扶手"


async def test_yes_with_words_at_the_confirmation(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我弟弟找个工作 他坐轮椅 会做账 电话13400001111", "seek_job", 0.57)
        assert chat.action == "job_confirm"
        assert "您弟弟" in chat.replies[-1] and "会做账" in chat.replies[-1]
        await chat.say("是是 麻烦你们多费心了 他在家憋坏了", "complain", 0.18)
        assert _created(chat)
        (ticket,) = await _tickets(chat)
        assert ticket.category == "job" and _details(ticket)["work"] == "会做账"


async def test_corrections_change_the_piece_and_confirm_again(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "申请无障碍改造 给我爸家卫生间装扶手 幸福里小区4号楼2单元301",
            "apply_accessibility",
            0.99,
        )
        await chat.say("不对 是3单元301 不是2单元", "deny", 0.89)
        assert chat.action == "accessibility_ask_phone"
        await chat.say("13666668888", None)
        assert "幸福里小区4号楼3单元301" in chat.replies[-1]
        await chat.say("不是扶手 是门口修个坡道", "deny", 0.6)
        assert chat.action == "accessibility_confirm"
        assert "坡道" in chat.replies[-1] and "扶手" not in chat.replies[-1]
        await chat.say("对", "affirm")
        (ticket,) = await _tickets(chat)
        assert ticket.location == "幸福里小区4号楼3单元301"


async def test_a_policy_question_in_between_is_answered_and_the_request_resumes(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("残疾证到期了要换", "apply_disability_cert", 0.91)
        assert chat.action == "disability_cert_ask_whom"
        await chat.say("要带啥材料？", "out_of_scope", 0.15)  # the NLU unsure: read by its words
        assert chat.action == "faq:disability_cert"
        assert "身份证" in chat.replies[0]
        assert "回复 1" not in chat.replies[0]  # no other service offered by number meanwhile
        assert "给谁" in chat.replies[-1]
        await chat.say("我自己的 住南关路6号 电话13812345566", "human_handoff", 0.15)
        assert chat.action == "disability_cert_confirm"
        assert "到期换证、补办" in chat.replies[-1]
        await chat.say("对", "affirm")
        assert "旧证" in chat.replies[-1]  # renewing: bring the old certificate
    async with Dialog.open(tmp_path, user="device") as chat:
        await chat.say("给我老伴申请个轮椅", "apply_assistive_device", 1.0, relation="老伴")
        await chat.say("辅具要钱吗？", "faq/assistive_device", 0.95)
        assert chat.action == "faq:assistive_device"
        assert "住在哪里" in chat.replies[-1]


async def test_a_question_in_the_first_message_about_home_assessment_is_answered(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我妈瘫在床上 去不了医院评残 能上门评残不", "apply_disability_cert", 0.64)
        assert "上门评残" in chat.replies[0]
        assert chat.action == "disability_cert_ask_location"
        await chat.say(
            "能的话帮我申请一下 她叫王淑芬 住铁指江南小区4号楼201 电话13600005555",
            "request_home_care",
            0.19,
        )
        assert "上门评残" in chat.replies[-1] and "王淑芬" in chat.replies[-1]
        await chat.say("对 麻烦了", "thank", 0.51)
        assert "约上门评残" in chat.replies[-1]


async def test_withdrawal_ends_it_and_nothing_is_filed(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想给我爸办个残疾证", "apply_disability_cert", 0.99, relation="我爸")
        await chat.say("算了 先不弄了 等他出院再说", "deny", 0.53)
        assert chat.action == "disability_cert_withdrawn"
        assert await _tickets(chat) == []
        assert Dialogue.load(chat.state).flow is None


async def test_a_gas_smell_in_the_middle_is_filed_first_then_the_application(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "我给我爸申请助行器 安康小区4号楼2单元 电话13822220000", "apply_assistive_device"
        )
        await chat.say(
            "哎 先说个急事 楼道里一股煤气味 是不是漏气了 就在4号楼2单元",
            "report_gas",
            0.99,
            location="4号楼",
        )
        assert "燃气安全提醒" in chat.replies[0]
        assert "接着办" in chat.replies[-1] and "助行器" in chat.replies[-1]
        await chat.say("助行器那个也帮我报上 对", "apply_assistive_device", 0.19)
        gas, device = await _tickets(chat)
        assert gas.category == "gas" and gas.urgent
        assert device.category == "assistive_device"
        assert device.location == "安康小区4号楼2单元"


async def test_silence_in_the_middle_files_what_was_said(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "想申请家里无障碍改造 我老伴截肢了 住东关北街8号 要在床边和厕所装扶手",
            "apply_accessibility",
            0.97,
        )
        assert chat.action == "accessibility_ask_phone"
        await chat.wait(240)
        (ticket,) = await _tickets(chat)
        assert ticket.category == "accessibility"
        assert ticket.location == "东关北街8号"
        assert "扶手" in (ticket.description or "")


async def test_a_service_named_in_words_starts_when_the_nlu_is_unsure(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "我想給我爸申請一個輪椅 住幸福里小區5號樓 電話13712345678", "request_home_care", 0.12
        )
        assert chat.action == "assistive_device_confirm"
        await chat.say("對 謝謝", "affirm", 0.36)
        (ticket,) = await _tickets(chat)
        assert ticket.category == "assistive_device"
        assert ticket.location is not None and "幸福里" in ticket.location


async def test_what_is_said_after_the_ticket_is_kept_on_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我腿有残疾 想找个坐着干的活 电话13911112222", "seek_job", 0.83)
        assert "坐着干的活" in chat.replies[-1]
        await chat.say("对", "affirm")
        await chat.say("对了 我有初中文凭 会用电脑", "out_of_scope", 0.22)
        await chat.say("啥时候能有消息", "check_status", 0.86)
        assert "社区工作人员" in chat.replies[-1] and "网格员" not in chat.replies[-1]
        (ticket,) = await _tickets(chat)
        notes = await chat.scalars(
            select(TicketEvent.note).where(TicketEvent.ticket_id == ticket.id)
        )
        assert any("会用电脑" in (note or "") for note in notes)


async def test_the_writer_is_whom_it_is_for_until_someone_else_is_named(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想申请个辅具", "apply_assistive_device", 0.98)
        assert chat.action == "assistive_device_ask_what"  # 我想申请: taken as the writer's
        await chat.say("3", None)
        await chat.say("给我妈 住安康小区3号楼1单元202", "report_gas", 0.2)
        await chat.say("13812349999", "out_of_scope", 0.2)
        assert chat.action == "assistive_device_confirm"
        assert "您母亲" in chat.replies[-1] and "助听器" in chat.replies[-1]
        await chat.say("好的", "affirm")
        (ticket,) = await _tickets(chat)
        assert _details(ticket)["for"] == "我妈"


async def test_an_answer_the_nlu_reads_as_affirm_is_still_confirmed(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想给我爸申请辅具 住东关南巷5号 电话13812349998", "apply_assistive_device")
        assert chat.action == "assistive_device_ask_what"
        await chat.say("就是那种洗澡时候坐的凳子", "affirm", 0.6)
        assert chat.action == "assistive_device_confirm"
        assert "洗澡椅" in chat.replies[-1]
        assert await _tickets(chat) == []


async def test_two_devices_said_together_are_both_kept(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "我妈需要轮椅和坐便椅 住铁指江南小区8号楼 电话13812340083", "apply_assistive_device"
        )
        assert "轮椅、坐便椅" in chat.replies[-1]


async def test_a_resident_without_a_phone_on_file_may_be_reached_in_the_chat(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path, user="no-phone") as chat:
        await chat.say("老太太走不动道了 想弄个轮椅", "apply_assistive_device")
        await chat.say("我妈 住在光明社区8号楼", "report_gas", 0.4, location="光明社区8号楼")
        assert chat.action == "assistive_device_ask_phone"
        await chat.say("电话就用我这个", "affirm", 0.6)
        assert chat.action == "assistive_device_confirm"
        await chat.say("对对 麻烦你们了", "affirm")
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        assert "在这里联系您" in chat.replies[0]


async def test_the_certificate_held_is_a_detail_of_the_wheelchair_request(tmp_path: Path) -> None:
    """The message "她有残疾证 肢体二级" while applying for her wheelchair starts no certificate request."""
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我妈需要一个轮椅怎么申请", "apply_assistive_device", relation="我妈")
        asked = chat.action
        await chat.say("她有残疾证 肢体二级", "apply_disability_cert", 0.9)
        assert chat.action == asked and chat.action.startswith("assistive_device_")


async def test_a_bare_yes_to_an_open_question_says_what_is_missing_then_offers_a_person(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想申请一个拐杖 走路老打晃 给我自己", "apply_assistive_device")
        asked = chat.action
        assert asked == "assistive_device_ask_location"
        await chat.say("对", "affirm")
        assert chat.action == asked and "还差住址" in chat.replies[-1]
        assert "转人工" not in chat.replies[-1]
        await chat.say("对", "affirm")
        assert chat.action == asked and "转人工" in chat.replies[-1]
