"""Writes docs/flows.md: the Mermaid state diagram drawn from bot/conversation/flows.py.

Run `.venv/bin/python scripts/draw_flows.py` after changing the flow table; a test
fails while the committed file differs from what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.conversation.flows import markdown  # noqa: E402

TARGET = ROOT / "docs" / "flows.md"


def main() -> None:
    TARGET.write_text(markdown(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
