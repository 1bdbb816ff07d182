"""WeChat's push signatures and the safe-mode message encryption, as the server side computes them.

Sources (WeChat Official Account developer documentation):

- 接入指南 / 验证消息的确实来自微信服务器: ``signature`` is the SHA1 hex digest of token, timestamp
  and nonce sorted as strings and concatenated.
- 消息加解密说明 / 技术方案: ``AESKey = Base64_Decode(EncodingAESKey + "=")`` (43 characters give
  32 bytes); AES-256-CBC, the IV is the first 16 bytes of the key; the plaintext is
  ``random(16 bytes) + msg_len (4 bytes, network order) + msg + AppId``, padded with PKCS#7 to a
  multiple of 32 bytes (K = 32, 1..32 bytes of value n); ``msg_encrypt`` is its Base64;
  ``msg_signature`` is the SHA1 of token, timestamp, nonce and msg_encrypt sorted and joined.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import string
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # PKCS#7 with K = 32 (technical plan), not the AES block size of 16
_KEY_ALPHABET = string.ascii_letters + string.digits


class CryptoError(ValueError):
    """A ciphertext that does not decrypt to a well-formed WeChat plaintext."""


def sha1_signature(*parts: str) -> str:
    """SHA1 hex of the parts sorted as strings and concatenated (both signature kinds)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def new_encoding_aes_key() -> str:
    """A fresh EncodingAESKey: 43 characters of a-z, A-Z, 0-9."""
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(43))


def aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise CryptoError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("EncodingAESKey is not Base64") from exc
    if len(key) != 32:
        raise CryptoError("EncodingAESKey does not decode to 32 bytes")
    return key


def pkcs7_pad(data: bytes, k: int = BLOCK) -> bytes:
    n = k - len(data) % k
    return data + bytes([n]) * n


def pkcs7_unpad(data: bytes, k: int = BLOCK) -> bytes:
    if not data:
        raise CryptoError("empty plaintext")
    n = data[-1]
    if n < 1 or n > k or data[-n:] != bytes([n]) * n:
        raise CryptoError("bad PKCS#7 padding")
    return data[:-n]


def encrypt(msg: str, encoding_aes_key: str, appid: str, random16: bytes | None = None) -> str:
    """msg_encrypt for a plaintext XML message (random16 fixed only by tests)."""
    key = aes_key(encoding_aes_key)
    body = msg.encode()
    rand = random16 if random16 is not None else os.urandom(16)
    plain = pkcs7_pad(rand + struct.pack(">I", len(body)) + body + appid.encode())
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def decrypt(msg_encrypt: str, encoding_aes_key: str) -> tuple[str, str]:
    """(message, appid) from msg_encrypt; raises CryptoError when anything is off."""
    key = aes_key(encoding_aes_key)
    try:
        raw = base64.b64decode(msg_encrypt, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("Encrypt is not Base64") from exc
    if not raw or len(raw) % 16:
        raise CryptoError("ciphertext length is not a multiple of 16")
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = pkcs7_unpad(dec.update(raw) + dec.finalize())
    if len(plain) < 20:
        raise CryptoError("plaintext too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise CryptoError("msg_len runs past the plaintext")
    try:
        msg = plain[20 : 20 + length].decode()
        appid = plain[20 + length :].decode()
    except UnicodeDecodeError as exc:
        raise CryptoError("plaintext is not UTF-8") from exc
    return msg, appid
