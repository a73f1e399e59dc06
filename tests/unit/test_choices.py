"""handlers.engine.choices: which offered option a free answer names (rule 2 of the conversation spec).

The options are built from the real lists the bot offers (seed/rehab.yml, seed/activities.yml,
seed/home_care.yml, handlers/care_items.py), the way a flow shows them: stations with their
addresses as hints, weekly sessions named by their time, elders by name with the relation to
the resident writing, care services with the words residents use for them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.engine.choices import Match, Option, choice_number, match_option
from handlers.home_care.items import ITEMS
from handlers.rehab.wording import when_text
from nlu.timeparse import SHANGHAI

SEED = Path(__file__).resolve().parents[2] / "seed"
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # the message time of these answers
WEEKDAYS = "一二三四五六日"


def _seed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SEED / name).read_text(encoding="utf-8"))
    return data


REHAB = _seed("rehab.yml")["rehab_stations"]
STATIONS = tuple(Option(s["code"], s["name"], hints=(s["address"],)) for s in REHAB)


def _sessions(station: dict[str, Any], days: int = 7) -> tuple[Option, ...]:
    """The station's sessions in the week after MONDAY, named as the booking flow shows them."""
    options = []
    for offset in range(1, days + 1):
        day = MONDAY.date() + timedelta(days=offset)
        for i, weekly in enumerate(station["sessions"]):
            if weekly["day"] != f"周{WEEKDAYS[day.weekday()]}":
                continue
            begin, finish = weekly["time"].split("-")
            start = datetime.combine(day, datetime.strptime(begin, "%H:%M").time(), SHANGHAI)
            end = datetime.combine(day, datetime.strptime(finish, "%H:%M").time(), SHANGHAI)
            name = f"{when_text(start, end)} {weekly['service']}（{weekly['therapist']}老师）"
            options.append(Option(f"{i}:{day.isoformat()}", name))
    return tuple(options)


DONGGUAN_WEEK = _sessions(REHAB[0])  # Tue 9:00, Tue 10:00, Thu 9:00, Thu 14:30, Sat 9:00
SESSIONS = DONGGUAN_WEEK[:4]  # at most four are shown
THURSDAY = tuple(o for o in DONGGUAN_WEEK if "周四" in o.name)

ACTIVITIES = tuple(
    Option(a["code"], a["title"], hints=(a["place"],))
    for a in _seed("activities.yml")["activities"]
)
CARE = tuple(Option(item.label, item.label, aliases=item.words) for item in ITEMS[:7])

ELDERS_BY_ID = {str(i): e for i, e in enumerate(_seed("home_care.yml")["care_elders"], 1)}


def _roster(user_id: str) -> tuple[Option, ...]:
    """The elders a requester may ask for, with the relation the roster records."""
    options = []
    for key, elder in ELDERS_BY_ID.items():
        for requester in elder["requesters"]:
            if requester["user_id"] == user_id:
                options.append(
                    Option(key, elder["name"], (requester["relation"],), (elder["address"],))
                )
    return tuple(options)


DAUGHTER = _roster("daughter-1")  # 赵桂兰 (母亲), 钱福生 (父亲)


def _key(match: Match) -> str | None:
    return match.option.key if match.option else None


def _keys(options: tuple[Option, ...]) -> set[str]:
    return {o.key for o in options}


def test_the_seed_lists_are_what_these_cases_assume() -> None:
    assert [o.name for o in STATIONS] == ["东关社区吉康之家", "铁指江南吉康之家"]
    assert [o.name for o in SESSIONS] == [
        "12月1日（周二）上午9:00-10:00 肢体康复训练（赵敏老师）",
        "12月1日（周二）上午10:00-11:00 肢体康复训练（赵敏老师）",
        "12月3日（周四）上午9:00-10:00 肢体康复训练（赵敏老师）",
        "12月3日（周四）下午2:30-3:30 康复评估与指导（孙立伟老师）",
    ]
    assert [o.name for o in DAUGHTER] == ["赵桂兰", "钱福生"]
    assert [o.aliases for o in DAUGHTER] == [("母亲",), ("父亲",)]


# ---------------------------------------------------------------- stations (吉康之家)

STATION_CASES = [
    ("东关社区吉康之家", "JK01"),
    ("铁指江南吉康之家", "JK02"),
    ("铁指江南那个", "JK02"),
    ("去铁指江南那个站", "JK02"),
    ("东关那个站", "JK01"),
    ("吉康之家东关的", "JK01"),
    ("东关的吧 离家近", "JK01"),
    ("北街那个 党群服务中心一楼的", "JK01"),
    ("东关北街16号", "JK01"),
    ("架空层那个", "JK02"),
    ("小区党群服务站", "JK02"),
    ("铁指", "JK02"),
    ("江南那个", "JK02"),
    ("東關社區吉康之家", "JK01"),
    ("鐵指江南那個", "JK02"),
    ("东官社区那个", "JK01"),  # voice-to-text: 官 for 关
    ("铁只江南", "JK02"),
    ("不是东关 是铁指江南", "JK02"),
    ("不是东关的那个", "JK02"),
    ("是不是东关那个", "JK01"),  # a question, not a no
    ("铁指江南的不行 东关吧", "JK01"),
    ("1", "JK01"),
    ("２", "JK02"),
    ("第二个", "JK02"),
    ("就1吧", "JK01"),
    ("选2", "JK02"),
    ("2号", "JK02"),
    ("第一个吧 东关那个", "JK01"),
]


@pytest.mark.parametrize(("text", "key"), STATION_CASES)
def test_station(text: str, key: str) -> None:
    assert _key(match_option(text, STATIONS)) == key


@pytest.mark.parametrize("text", ["随便", "光华社区", "3", "0", "你好", "", "  ", "社区的那个站"])
def test_station_not_named(text: str) -> None:
    assert match_option(text, STATIONS) == Match(None)


def test_a_name_both_stations_share_leaves_both_as_candidates() -> None:
    match = match_option("吉康之家", STATIONS)
    assert match.option is None
    assert _keys(match.candidates) == {"JK01", "JK02"}


def test_a_name_shared_by_nothing_else_picks_the_single_option() -> None:
    assert _key(match_option("吉康之家", STATIONS[:1])) == "JK01"


@pytest.mark.parametrize(
    "text",
    [
        "想给我妈约个周四的康复 东关社区那个站",
        "帮我约周四上午东关那个吉康之家的康复",
        "东关那个站吧 我腿脚不好",
    ],
)
def test_station_named_in_a_whole_request(text: str) -> None:
    assert _key(match_option(text, STATIONS, numbered=False)) == "JK01"


def test_numbers_are_not_read_unless_the_options_were_numbered() -> None:
    assert match_option("1", STATIONS, numbered=False) == Match(None)
    assert match_option("第二个", STATIONS, numbered=False) == Match(None)
    assert _key(match_option("铁指江南", STATIONS, numbered=False)) == "JK02"


def test_an_alias_names_the_station() -> None:
    options = (
        Option("JK01", "东关社区吉康之家", aliases=("老站", "卫生站旁边那个")),
        Option("JK02", "铁指江南吉康之家"),
    )
    assert _key(match_option("老站那个", options)) == "JK01"
    assert _key(match_option("卫生站旁边那个", options)) == "JK01"


def test_a_word_of_the_name_weighs_more_than_the_same_word_in_an_address() -> None:
    options = (
        Option("A", "东关社区吉康之家", hints=("东关北街16号",)),
        Option("B", "光华社区吉康之家", hints=("东关南巷2号 光华社区服务站",)),
    )
    assert _key(match_option("东关那个", options)) == "A"
    assert _key(match_option("南巷那个", options)) == "B"


def test_generic_service_words_in_an_address_do_not_pick_a_station() -> None:
    # JK01's address holds 康复训练区: a request for 康复训练 does not name that station
    assert match_option("我想约个康复训练", STATIONS, numbered=False) == Match(None)


# ---------------------------------------------------------------- weekly sessions

SESSION_CASES = [
    ("十点的那场", 1),
    ("10点", 1),
    ("十点那个吧", 1),
    ("周四九点", 2),
    ("周四上午", 2),
    ("礼拜四下午", 3),
    ("下午那个", 3),
    ("下午吧", 3),
    ("2:30的", 3),
    ("两点半", 3),
    ("下午两点半", 3),
    ("14:30", 3),
    ("周二十点", 1),
    ("评估那个", 3),
    ("孙老师那个", 3),
    ("3号下午", 3),
    ("12月3日上午", 2),
    ("第三个", 2),
    ("4", 3),
    ("就第二个", 1),
    ("不要上午的", 3),
    ("下午吧 她上午起不来", 3),
    ("周四下午两点半那个康复评估", 3),
    ("星期四的下午", 3),
    ("周四下午", 3),
]


@pytest.mark.parametrize(("text", "index"), SESSION_CASES)
def test_session(text: str, index: int) -> None:
    assert match_option(text, SESSIONS).option == SESSIONS[index]


@pytest.mark.parametrize(
    ("text", "indexes"),
    [
        ("九点那个", {0, 2}),
        ("早上九点", {0, 2}),
        ("星期二", {0, 1}),
        ("赵老师的", {0, 1, 2}),
        ("肢体康复", {0, 1, 2}),
        ("周四的", {2, 3}),
    ],
)
def test_session_candidates(text: str, indexes: set[int]) -> None:
    match = match_option(text, SESSIONS)
    assert match.option is None
    assert _keys(match.candidates) == {SESSIONS[i].key for i in indexes}


@pytest.mark.parametrize("text", ["周五", "晚上的", "十一点", "周五下午三点"])
def test_session_not_offered(text: str) -> None:
    assert match_option(text, SESSIONS).option is None


def test_the_spec_example_thursday_afternoon() -> None:
    # conversation.md: 1 上午9:00 肢体康复训练 2 下午2:30 康复评估与指导 → "下午吧 她上午起不来"
    assert [o.name.split()[0] for o in THURSDAY] == [
        "12月3日（周四）上午9:00-10:00",
        "12月3日（周四）下午2:30-3:30",
    ]
    assert match_option("下午吧 她上午起不来", THURSDAY).option == THURSDAY[1]
    assert match_option("上午吧", THURSDAY).option == THURSDAY[0]


def test_a_saturday_session_for_the_weekend() -> None:
    saturday = DONGGUAN_WEEK[4]
    assert "周六" in saturday.name
    assert match_option("周末那个", DONGGUAN_WEEK).option == saturday
    assert match_option("礼拜六", DONGGUAN_WEEK).option == saturday


@pytest.mark.parametrize(
    ("text", "index"),
    [("明天十点", 1), ("大后天下午", 3), ("后天下午", None), ("下周四", None)],
)
def test_relative_days_when_the_message_time_is_given(text: str, index: int | None) -> None:
    option = match_option(text, SESSIONS, now=MONDAY).option
    assert option == (SESSIONS[index] if index is not None else None)


def test_relative_day_candidates() -> None:
    match = match_option("明天的", SESSIONS, now=MONDAY)
    assert _keys(match.candidates) == {SESSIONS[0].key, SESSIONS[1].key}


def test_a_day_of_the_month_beats_a_choice_number_that_is_also_a_date() -> None:
    # "1号" to a list of dates: the 1st (two sessions that day), not the first line
    match = match_option("1号", SESSIONS)
    assert _keys(match.candidates) == {SESSIONS[0].key, SESSIONS[1].key}


# ---------------------------------------------------------------- elders (居家养老)

ELDER_CASES = [
    ("我妈", "1"),
    ("给我妈", "1"),
    ("我妈妈", "1"),
    ("老太太", "1"),
    ("我娘", "1"),
    ("母亲", "1"),
    ("赵桂兰", "1"),
    ("桂兰", "1"),
    ("赵阿姨", "1"),
    ("趙桂蘭", "1"),
    ("赵贵兰", "1"),  # voice-to-text homophone
    ("东关中巷的", "1"),
    ("我妈那个 住东关中巷", "1"),
    ("我爸那个", "2"),
    ("给我爸约", "2"),
    ("老爷子", "2"),
    ("我父亲", "2"),
    ("钱福生", "2"),
    ("老钱", "2"),
    ("幸福里那个", "2"),
    ("爸", "2"),
    ("第二个", "2"),
    ("1", "1"),
    ("不是我妈 是我爸", "2"),
]


@pytest.mark.parametrize(("text", "key"), ELDER_CASES)
def test_elder(text: str, key: str) -> None:
    assert _key(match_option(text, DAUGHTER)) == key


def test_both_parents() -> None:
    for text in ("我爸妈", "我父母", "赵桂兰和钱福生"):
        assert _keys(match_option(text, DAUGHTER).candidates) == {"1", "2"}, text


@pytest.mark.parametrize("text", ["我老伴", "我奶奶", "孙淑珍", "3"])
def test_elder_not_on_this_roster(text: str) -> None:
    assert match_option(text, DAUGHTER).option is None


@pytest.mark.parametrize("text", ["我自己", "本人", "给我自己约", "我"])
def test_the_elder_writing_for_themselves(text: str) -> None:
    assert _key(match_option(text, _roster("r-elder-1"))) == "1"


def test_a_relation_in_other_words_on_the_roster() -> None:
    options = (Option("7", "李秀英", aliases=("奶奶",)), Option("8", "王淑芬", aliases=("母亲",)))
    assert _key(match_option("我姥姥", options)) == "7"  # a grandmother, as home_care.py has it
    assert _key(match_option("我奶奶", options)) == "7"
    assert _key(match_option("我妈", options)) == "8"
    assert _keys(match_option("老太太", options).candidates) == {"7", "8"}


def test_a_son_asking_for_his_father() -> None:
    options = _roster("son-4")
    assert [o.name for o in options] == ["周德明"]
    assert _key(match_option("我爸", options)) == "4"
    assert _key(match_option("老周", options)) == "4"


# ---------------------------------------------------------------- activities

ACTIVITY_CASES = [
    ("义诊", "A202612-yizhen"),
    ("量血压那个义诊", "A202612-yizhen"),
    ("健康操", "A202612-jiankangcao"),
    ("四点半课堂", "A202612-sidianban"),
    ("四点半那个", "A202612-sidianban"),
    ("插花", "A202612-chahua"),
    ("巧手插花那个", "A202612-chahua"),
    ("包饺子", "A202612-dongzhi"),
    ("冬至那个", "A202612-dongzhi"),
    ("插花 铁指江南那个", "A202612-chahua"),
    ("儿童之家那个", "A202612-sidianban"),
]


@pytest.mark.parametrize(("text", "key"), ACTIVITY_CASES)
def test_activity(text: str, key: str) -> None:
    assert _key(match_option(text, ACTIVITIES)) == key


def test_activities_at_one_place_are_candidates() -> None:
    match = match_option("铁指江南的那个活动", ACTIVITIES)
    assert _keys(match.candidates) == {"A202612-jiankangcao", "A202612-chahua"}
    match = match_option("健康", ACTIVITIES)
    assert _keys(match.candidates) == {"A202612-yizhen", "A202612-jiankangcao"}


# ---------------------------------------------------------------- home-care services

CARE_CASES = [
    ("做饭", "做饭"),
    ("做个饭吧", "做饭"),
    ("洗澡", "助浴"),
    ("帮忙洗个澡", "助浴"),
    ("剪头", "理发"),
    ("理个发", "理发"),
    ("量血压", "测血压"),
    ("买点药", "代买药品"),
    ("陪我妈去医院看病", "陪同就医"),
    ("收拾屋子", "打扫卫生"),
    ("拖地", "打扫卫生"),
    ("打扫打扫", "打扫卫生"),
    ("3", "助浴"),
]


@pytest.mark.parametrize(("text", "key"), CARE_CASES)
def test_care_item(text: str, key: str) -> None:
    assert _key(match_option(text, CARE)) == key


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("做饭 还有打扫", {"做饭", "打扫卫生"}),
        ("做个饭 洗个澡", {"做饭", "助浴"}),
        ("打扫卫生 做饭", {"做饭", "打扫卫生"}),
    ],
)
def test_two_services_named_are_candidates(text: str, keys: set[str]) -> None:
    match = match_option(text, CARE)
    assert match.option is None
    assert _keys(match.candidates) == keys


def test_one_service_said_against_leaves_the_other() -> None:
    assert _key(match_option("不要做饭 打扫就行", CARE)) == "打扫卫生"


@pytest.mark.parametrize("text", ["修水管", "8", "好的"])
def test_care_item_not_offered(text: str) -> None:
    assert match_option(text, CARE) == Match(None)


# ---------------------------------------------------------------- choice numbers

NUMBERS = [
    ("1", 1),
    ("１", 1),
    ("①", 1),
    ("二", 2),
    ("2号", 2),
    ("三號", 3),
    ("第二个", 2),
    ("第一个吧", 1),
    ("就第二个", 2),
    ("选3", 3),
    ("选第三个", 3),
    ("第4个", 4),
    ("1吧", 1),
    ("就1", 1),
    ("那就2吧", 2),
    ("好的 第二个", 2),
    ("我要第二个 谢谢", 2),
    ("2.", 2),
    ("第十个", 10),
    ("第一个 下午那个", 1),
    ("嗯 3", 3),
]


@pytest.mark.parametrize(("text", "number"), NUMBERS)
def test_choice_number(text: str, number: int) -> None:
    assert choice_number(text) == number


@pytest.mark.parametrize(
    "text",
    [
        "10点",
        "2点",
        "两点半",
        "3号楼",
        "2号楼那个",
        "12月3号",
        "第二天",
        "一点",
        "早一点的",
        "东关",
        "",
        "一个人住",
        "选10点的",
        "1楼",
        "一个",
        "选一个吧",
        "随便选一个近的",
    ],
)
def test_not_a_choice_number(text: str) -> None:
    assert choice_number(text) is None


def test_options_built_with_lists_still_match() -> None:
    aliases: Any = ["东关站"]  # not a tuple: the option cannot be a cache key
    options = [Option("A", "东关社区吉康之家", aliases=aliases), Option("B", "铁指江南吉康之家")]
    assert _key(match_option("东关站", options)) == "A"


def test_a_long_message_is_read_in_bounded_time() -> None:
    text = "东关" + "那个" * 5000 + "铁指江南"
    match_option(text, STATIONS)  # finishes: the text is cut, not scanned quadratically
    assert choice_number("1" * 10000) is None
