"""Tests of the offline NLU tooling: training hash and cache, the Rasa process, evaluation."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from nlu import cli, paths
from nlu import train as nlu_train
from nlu.client import Entity, ParseResult
from nlu.rasa_process import RasaServer, RasaServerError


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A temporary copy of the Rasa project (or a minimal one if the real one is incomplete)."""
    dest = tmp_path / "project"
    if (paths.PROJECT_DIR / "data").is_dir() and any((paths.PROJECT_DIR / "data").iterdir()):
        shutil.copytree(paths.PROJECT_DIR, dest)
    else:
        (dest / "data").mkdir(parents=True)
        (dest / "config.yml").write_text("language: zh\n", encoding="utf-8")
        (dest / "data" / "nlu.yml").write_text(
            'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 在吗\n', encoding="utf-8"
        )
    (dest / "dict").mkdir(exist_ok=True)
    (dest / "heldout").mkdir(exist_ok=True)
    return dest


@pytest.fixture()
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point LINLI_MODEL_DIR at an empty temporary directory."""
    path = tmp_path / "models"
    monkeypatch.setenv("LINLI_MODEL_DIR", str(path))
    return path


def fake_rasa_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    """Install a fake `rasa` executable in a fake venv and point LINLI_RASA_VENV at it."""
    venv = tmp_path / "fake-venv"
    (venv / "bin").mkdir(parents=True)
    rasa = venv / "bin" / "rasa"
    rasa.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    rasa.chmod(rasa.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("LINLI_RASA_VENV", str(venv))
    return rasa


def forbid_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to run rasa fail the test."""

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("rasa must not run")

    monkeypatch.setattr(nlu_train, "_run_rasa_train", boom)
    monkeypatch.setattr(subprocess, "run", boom)
    monkeypatch.setattr(subprocess, "Popen", boom)


# --- training hash ----------------------------------------------------------------------------


def test_hash_is_stable_and_independent_of_location(project: Path, tmp_path: Path) -> None:
    first = nlu_train.training_hash(project)
    assert first == nlu_train.training_hash(project)
    moved = shutil.copytree(project, tmp_path / "elsewhere")
    assert nlu_train.training_hash(moved) == first


def test_hash_changes_with_data_dict_config_and_pin(project: Path, tmp_path: Path) -> None:
    seen = {nlu_train.training_hash(project)}
    data_file = sorted((project / "data").glob("*.yml"))[0]
    data_file.write_text(data_file.read_text(encoding="utf-8") + "\n    - 新例子\n", "utf-8")
    seen.add(nlu_train.training_hash(project))
    (project / "data" / "extra.yml").write_text('version: "3.1"\n', encoding="utf-8")
    seen.add(nlu_train.training_hash(project))
    (project / "dict" / "userdict.txt").write_text("东关中巷 10 ns\n", encoding="utf-8")
    seen.add(nlu_train.training_hash(project))
    config = project / "config.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# tweak\n", encoding="utf-8")
    seen.add(nlu_train.training_hash(project))
    requirements = tmp_path / "req.txt"
    requirements.write_text("rasa==9.9.9\n", encoding="utf-8")
    seen.add(nlu_train.training_hash(project, requirements))
    assert len(seen) == 6


def test_custom_components_change_hash_but_bytecode_does_not(project: Path) -> None:
    components = project / "components"
    components.mkdir(exist_ok=True)
    before = nlu_train.training_hash(project)
    (components / "__pycache__").mkdir(exist_ok=True)
    (components / "__pycache__" / "x.cpython-310.pyc").write_bytes(b"\x00compiled")
    assert nlu_train.training_hash(project) == before
    (components / "extra_component.py").write_text("C = 2\n", encoding="utf-8")
    assert nlu_train.training_hash(project) != before


def test_rasa_children_import_custom_components_from_the_project() -> None:
    assert paths.rasa_env()["PYTHONPATH"] == str(paths.PROJECT_DIR)


def test_heldout_does_not_change_hash(project: Path) -> None:
    before = nlu_train.training_hash(project)
    (project / "heldout" / "heldout.yml").write_text("nlu: []\n", encoding="utf-8")
    assert nlu_train.training_hash(project) == before


def test_rasa_pin_is_read_from_requirements() -> None:
    assert nlu_train.rasa_pin() == "3.6.21"


# --- training cache ---------------------------------------------------------------------------


def test_train_skips_when_model_exists(
    project: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert nlu_train.latest_model(project) is None
    cached = nlu_train.model_path_for(nlu_train.training_hash(project))
    cached.write_bytes(b"model")
    forbid_subprocess(monkeypatch)
    assert nlu_train.train(project_dir=project) == cached
    assert nlu_train.latest_model(project) == cached
    assert cached.parent == model_dir.resolve()


def test_train_stores_model_under_its_hash(
    project: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Path, str]] = []

    def fake_train(project_dir: Path, out_dir: Path, name: str, log_file: Path) -> None:
        calls.append((project_dir, name))
        (out_dir / f"{name}.tar.gz").write_bytes(b"trained")

    monkeypatch.setattr(nlu_train, "_run_rasa_train", fake_train)
    model = nlu_train.train(project_dir=project)
    digest = nlu_train.training_hash(project)
    assert model == model_dir.resolve() / f"{digest}.tar.gz"
    assert model.read_bytes() == b"trained"
    assert calls == [(project.resolve(), digest)]
    assert not list(model_dir.glob(".train-*")), "temporary training dirs are removed"
    nlu_train.train(project_dir=project)
    assert len(calls) == 1
    nlu_train.train(force=True, project_dir=project)
    assert len(calls) == 2


def test_old_models_are_pruned(model_dir: Path) -> None:
    model_dir.mkdir()
    for i in range(7):
        model = model_dir / f"{i:064x}.tar.gz"
        model.write_bytes(b"m")
        os.utime(model, (1_000_000 + i, 1_000_000 + i))
    oldest = model_dir / f"{0:064x}.tar.gz"
    deleted = nlu_train.prune_models(keep=3, protect=oldest)
    assert sorted(p.name for p in deleted) == [f"{i:064x}.tar.gz" for i in (1, 2, 3)]
    assert sorted(p.name for p in model_dir.glob("*.tar.gz")) == [
        f"{i:064x}.tar.gz" for i in (0, 4, 5, 6)
    ]


def test_train_failure_reports_log_tail(
    project: Path, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_rasa_venv(
        tmp_path, monkeypatch, 'echo "cwd=$(pwd)"\necho "InvalidConfigException: bad"\nexit 3\n'
    )
    with pytest.raises(nlu_train.TrainingError, match="InvalidConfigException: bad") as info:
        nlu_train.train(project_dir=project)
    assert f"cwd={project.resolve()}" in str(info.value)
    assert "exit code 3" in str(info.value)
    assert nlu_train.latest_model(project) is None
    assert not list(model_dir.glob(".train-*"))


def test_train_command_line(
    project: Path, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args_file = tmp_path / "args.txt"
    # The fake rasa records its arguments and env, then writes the model where --out says.
    fake_rasa_venv(
        tmp_path,
        monkeypatch,
        f'echo "$@" > {args_file}\n'
        f'echo "telemetry=$RASA_TELEMETRY_ENABLED tf=$TF_CPP_MIN_LOG_LEVEL venv=$VIRTUAL_ENV"'
        f" >> {args_file}\n"
        'while [ $# -gt 0 ]; do case "$1" in --out) out=$2;; --fixed-model-name) n=$2;; esac;'
        " shift; done\n"
        'echo model > "$out/$n.tar.gz"\n',
    )
    monkeypatch.setenv("VIRTUAL_ENV", "/should/not/leak")
    model = nlu_train.train(project_dir=project)
    assert model.read_text() == "model\n"
    argv, env = args_file.read_text().splitlines()
    assert argv.startswith("train nlu --config config.yml --nlu data")
    assert "--out" in argv and "--fixed-model-name" in argv
    assert env == "telemetry=false tf=2 venv="


# --- the Rasa process -------------------------------------------------------------------------


def test_server_fails_fast_with_log_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_rasa_venv(tmp_path, monkeypatch, 'echo "OSError: model is broken" >&2\nexit 1\n')
    model = tmp_path / "m.tar.gz"
    model.write_bytes(b"x")
    server = RasaServer(model, log_dir=tmp_path / "var")
    assert server.url == f"http://127.0.0.1:{server.port}"
    server.start()
    started = time.monotonic()
    with pytest.raises(RasaServerError, match="OSError: model is broken"):
        server.wait_ready(timeout=30)
    assert time.monotonic() - started < 10
    server.stop()


def test_server_stop_kills_a_process_that_ignores_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_rasa_venv(tmp_path, monkeypatch, "trap '' TERM\nsleep 300 &\nwait\nsleep 300\n")
    model = tmp_path / "m.tar.gz"
    model.write_bytes(b"x")
    server = RasaServer(model, log_dir=tmp_path / "var")
    server.start()
    pid = server.pid
    assert pid is not None and server.running()
    with pytest.raises(RasaServerError, match="not ready"):
        server.wait_ready(timeout=1)
    started = time.monotonic()
    server.stop(timeout=1)
    assert time.monotonic() - started < 8
    assert not server.running()
    deadline = time.monotonic() + 5
    while live_group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.1)  # killed children are reaped by init asynchronously
    assert live_group_members(pid) == []


def live_group_members(pgid: int) -> list[int]:
    """Return the pids of non-zombie processes in a process group."""
    members = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat_file.parent.name))
    return members


def test_server_refuses_missing_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_rasa_venv(tmp_path, monkeypatch, "exit 0\n")
    with pytest.raises(RasaServerError, match="does not exist"):
        RasaServer(tmp_path / "nope.tar.gz", log_dir=tmp_path).start()


# --- evaluation helpers -----------------------------------------------------------------------


def test_parse_annotated_gives_offsets() -> None:
    text, spans = cli.parse_annotated(
        '[东关中巷](location)的路灯坏了，[我妈]{"entity": "relation"}说的'
    )
    assert text == "东关中巷的路灯坏了，我妈说的"
    assert [text[s:e] for _, s, e in spans] == ["东关中巷", "我妈"]
    assert [name for name, _, _ in spans] == ["location", "relation"]
    text, spans = cli.parse_annotated("[老伴](relation:spouse)腿脚不好")
    assert (text, spans) == ("老伴腿脚不好", (("relation", 0, 2),))


def test_read_examples(tmp_path: Path) -> None:
    path = tmp_path / "heldout.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: faq/micro_wish\n  examples: |\n    - 微心愿是啥\n'
        "- intent: report_road\n  examples: |\n    - [3号楼](location)井盖没了\n",
        encoding="utf-8",
    )
    examples = cli.read_examples(path)
    assert [(e.intent, e.text) for e in examples] == [
        ("faq/micro_wish", "微心愿是啥"),
        ("report_road", "3号楼井盖没了"),
    ]
    assert examples[1].entities == (("location", 0, 3),)


def test_metrics_by_hand() -> None:
    scores = cli.classification_scores(["a", "a", "b", "c"], ["a", "b", "b", "b"])
    assert scores["a"].precision == 1.0 and scores["a"].recall == 0.5
    assert scores["b"].precision == pytest.approx(1 / 3) and scores["b"].recall == 1.0
    assert scores["c"].f1 == 0.0 and scores["c"].support == 1
    examples = [
        cli.Example("东关中巷路灯坏了", "report_streetlight", (("location", 0, 4),)),
        cli.Example("在吗", "greet"),
    ]
    results = [
        ParseResult(
            "东关中巷路灯坏了", "report_streetlight", 0.9, (Entity("location", "东关中巷", 0, 4),)
        ),
        ParseResult("在吗", "nlu_fallback", 0.2),
    ]
    report = cli.evaluate_examples(examples, results)
    assert report.accuracy == 0.5
    assert report.macro_f1 == pytest.approx((1.0 + 0.0 + 0.0) / 3)
    assert report.entities["location"].f1 == 1.0
    assert len(report.errors) == 1
    assert "macro-F1 0.333" in cli.format_report(report)
