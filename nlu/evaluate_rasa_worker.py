"""Parse texts with a trained Rasa model, in the Rasa venv (run as a script, never imported).

    .venv-rasa/bin/python nlu/evaluate_rasa_worker.py MODEL.tar.gz IN.jsonl OUT.jsonl

Run it with cwd = the project the model was trained in (custom components import from
there). IN holds one JSON string (a text) per line; OUT gets Rasa's parse answer (the same JSON as
`POST /model/parse`) per line, in order. Loading the model in-process avoids starting a
server for every cross-validation fold.
"""

import asyncio
import json
import logging
import os
import sys


async def _parse_all(model: str, texts: list[str]) -> list[str]:
    """Load the model and parse every text; return one JSON line per text."""
    from rasa.core.agent import Agent  # only importable inside the Rasa venv

    agent = Agent.load(model)
    lines = []
    for text in texts:
        data = await agent.parse_message(text)
        lines.append(json.dumps(data, ensure_ascii=False, default=float) + "\n")
    return lines


def main() -> int:
    """Entry point: parse argv and run."""
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(1, os.getcwd())  # custom components, as `rasa` itself does
    with open(sys.argv[2], encoding="utf-8") as inp:
        texts = [json.loads(line) for line in inp if line.strip()]
    lines = asyncio.run(_parse_all(sys.argv[1], texts))
    with open(sys.argv[3], "w", encoding="utf-8") as out:
        out.writelines(lines)
    print(f"parsed {len(lines)} texts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
