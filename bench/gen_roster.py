"""Writes a valid roster CSV of N fictional students for a session file (import benchmark, R41).

    .venv/bin/python bench/gen_roster.py examples/session-2026-12.toml /tmp/roster.csv -n 200000

Every row is valid for the session: unique, well-formed ID numbers with correct
check digits, campuses of the session, written subjects it offers. With
``--photo FILE`` the photo is copied next to the CSV and every row refers to it.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backoffice.catalogue import load_default_catalogue
from backoffice.importing import ROSTER_COLUMNS, parse_session_toml
from registration.identity import make_id_card_number

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
    "邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
    "华玉兰萍红鹏飞宇浩然子涵梓轩欣怡雨桐思远嘉一诺晨曦佳琪"
)
MINORITY = ["阿依古丽·买买提", "迪丽娜尔·艾力", "古丽米拉·吐尔逊", "艾尔肯·阿不都"]
REGIONS = [
    "110101", "110105", "110108", "120101", "130102", "140105", "150102", "210102",
    "220102", "230103", "310104", "320102", "330106", "340102", "350102", "360102",
    "370102", "410105", "420102", "430102", "440305", "450102", "460105", "500103",
    "510104", "520102", "530102", "610103", "620102", "650102",
]  # fmt: skip
FIRST_BIRTH = date(2002, 1, 1)
BIRTH_DAYS = 5 * 365


def write_roster(
    session_path: str | Path,
    out: str | Path,
    n: int = 200_000,
    *,
    seed: int = 0,
    photo: str | Path | None = None,
) -> None:
    """Writes ``n`` valid rows for the session in ``session_path`` to ``out``."""
    session = parse_session_toml(session_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    photo_name = ""
    if photo is not None:
        photo_name = f"photo{Path(photo).suffix}"
        shutil.copyfile(photo, out.parent / photo_name)
    written = {s.code for s in load_default_catalogue() if s.is_written}
    offered = session.subject_codes() & written
    level6 = sorted(c for c in offered if c.endswith("6"))
    level4 = sorted(c for c in offered if c.endswith("4"))
    choices = [c for c in (["CET4"] * 6 + level4) if c in offered] or level4
    campuses = [(c.code, c.school) for c in session.campuses]
    rng = random.Random(seed)
    births = [FIRST_BIRTH + timedelta(days=d) for d in range(BIRTH_DAYS)]
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(ROSTER_COLUMNS)
        for i in range(n):
            # (region, birth day, order code) walks a grid, so every ID number is distinct.
            region = REGIONS[i % len(REGIONS)]
            rest = i // len(REGIONS)
            birth = births[rest % BIRTH_DAYS]
            seq = rest // BIRTH_DAYS
            if seq > 999:
                raise ValueError(f"at most {len(REGIONS) * BIRTH_DAYS * 1000} rows")
            if i % 97 == 0:
                name = MINORITY[i % len(MINORITY)]
            else:
                name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
            campus, school = campuses[i % len(campuses)]
            eligible = rng.choice(choices)
            if eligible == "CET4" and level6 and rng.random() < 0.25:
                eligible = "CET4;CET6"
            writer.writerow(
                (
                    name,
                    "M" if seq % 2 else "F",
                    "id_card",
                    make_id_card_number(region, birth, seq),
                    school,
                    campus,
                    f"S{i:09d}",
                    f"13{i:09d}",
                    eligible,
                    photo_name,
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session", help="session TOML file")
    parser.add_argument("out", help="roster CSV to write")
    parser.add_argument("-n", type=int, default=200_000, help="number of rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--photo", help="a JPEG/PNG every row refers to")
    args = parser.parse_args()
    started = time.perf_counter()
    write_roster(args.session, args.out, args.n, seed=args.seed, photo=args.photo)
    print(f"wrote {args.n} rows to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
