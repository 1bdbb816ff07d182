"""Command line: ``python -m emulator --port 8080`` runs the emulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from emulator.server import start_emulator


async def _serve(args: argparse.Namespace) -> None:
    overrides: dict[str, object] = {}
    if args.token:
        overrides["default_token"] = args.token
    if args.rate_limit:
        overrides["rate_limit"] = {"enabled": True}
    if args.first_update_id is not None:
        overrides["first_update_id"] = args.first_update_id
    running = await start_emulator(args.host, args.port, **overrides)
    print(f"Bot API emulator on {running.url}  (chat page: {running.url}/)", flush=True)
    if args.wechat_url:
        async with running.wechat_client() as wx:
            account = await wx.configure(url=args.wechat_url, mode=args.wechat_mode)
        print(
            f"WeChat Official Account (chat page: {running.url}/wechat): "
            f"WECHAT_API_URL={running.url} appid={account['appid']} "
            f"secret={account['secret']} token={account['token']} "
            f"encoding_aes_key={account['encoding_aes_key']}",
            flush=True,
        )
    try:
        await asyncio.Event().wait()
    finally:
        await running.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--token", help="the bot the control API and page use by default")
    parser.add_argument("--rate-limit", action="store_true", help="enforce Telegram flood limits")
    parser.add_argument(
        "--first-update-id",
        type=int,
        help="start update ids here (above those a kept bot database has processed)",
    )
    parser.add_argument(
        "--wechat-url",
        help="configure a WeChat Official Account that pushes to this bot URL (random secrets, "
        "printed)",
    )
    parser.add_argument("--wechat-mode", choices=["plain", "compat", "safe"], default="safe")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
