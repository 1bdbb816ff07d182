"""Signatures and AES against the worked example of WeChat's 消息推送 / 消息加解密 documentation
(Token "AAAAA", EncodingAESKey of 43 "A", AppID wxba5fad812f8e6fb9): the only check that the
emulator computes what the real server computes, not merely what it computes itself."""

from __future__ import annotations

import pytest

from emulator.wechat import crypto

TOKEN = "AAAAA"
KEY = "A" * 43
APPID = "wxba5fad812f8e6fb9"
PUSH_ENCRYPT = (
    "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqc"
    "vZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp"
    "3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIY"
    "nSeOBrebufAlr7F9mFUPAJGj04="
)
PUSH_MSG = (
    '{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY",'
    '"CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}'
)
REPLY_ENCRYPT = (
    "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="
)


def test_url_check_and_push_signatures_match_the_documented_examples() -> None:
    assert (
        crypto.sha1_signature(TOKEN, "1714036504", "1514711492")
        == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    )
    assert (
        crypto.sha1_signature(TOKEN, "1714037059", "486452656")
        == "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    )
    assert (
        crypto.sha1_signature(TOKEN, "1714112445", "415670741")
        == "6c5c811b55cc85e0e1b54100749188c20beb3f5d"
    )


def test_msg_signature_sorts_all_four_parts() -> None:
    assert (
        crypto.sha1_signature(TOKEN, "1714112445", "415670741", PUSH_ENCRYPT)
        == "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
    )
    assert (
        crypto.sha1_signature(TOKEN, "1713424427", "415670741", REPLY_ENCRYPT)
        == "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
    )


def test_documented_push_decrypts_to_its_message_and_appid() -> None:
    msg, appid = crypto.decrypt(PUSH_ENCRYPT, KEY)
    assert (msg, appid) == (PUSH_MSG, APPID)


def test_encrypting_the_documented_reply_gives_the_documented_ciphertext() -> None:
    # Fixing the 16 random bytes to the example's shows key, IV, length prefix, AppID suffix
    # and PKCS#7 to 32 bytes are all as documented (FullStr 63 bytes -> TmpMsg 64 bytes).
    got = crypto.encrypt('{"demo_resp":"good luck"}', KEY, APPID, b"707722b803182950")
    assert got == REPLY_ENCRYPT


def test_round_trip_and_refusals() -> None:
    key = crypto.new_encoding_aes_key()
    for body in ["", "<xml/>", "中文" * 100, "x" * 31, "x" * 32]:
        assert crypto.decrypt(crypto.encrypt(body, key, "wx1"), key) == (body, "wx1")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(crypto.encrypt("hi", key, "wx1"), crypto.new_encoding_aes_key())
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt("not base64!", key)
    with pytest.raises(crypto.CryptoError):
        crypto.aes_key("short")


def test_pkcs7_pads_to_multiples_of_32() -> None:
    assert len(crypto.pkcs7_pad(b"x" * 31)) == 32
    assert crypto.pkcs7_pad(b"x" * 32)[-32:] == bytes([32]) * 32  # a full block when aligned
    assert crypto.pkcs7_unpad(crypto.pkcs7_pad(b"abc")) == b"abc"
    with pytest.raises(crypto.CryptoError):
        crypto.pkcs7_unpad(b"x" * 31 + bytes([33]))
