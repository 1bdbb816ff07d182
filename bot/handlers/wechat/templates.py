"""Template messages (模板消息) for the notices the outbox pushes to a WeChat user outside
the 48-hour customer-service window: which notice kind goes out with which template
(`WECHAT_TEMPLATE_*`), and how its fields are filled.

The table `NOTICE_TEMPLATES` is the contract with a school: for each template it names
the title to look for in the account's template library and its fields in order, with
WeChat's value type. A setting holds the template id, and optionally the template's
own keyword names when the school's template is a category template (类目模板, keys such
as `thing1`, `time3`): `WECHAT_TEMPLATE_REMINDER=<id>` or
`WECHAT_TEMPLATE_REMINDER=<id>:thing1,thing2,time3`.

Without keyword names the template is taken to be in the industry format of the
documentation's example, `{{first.DATA}} {{keyword1.DATA}} ... {{remark.DATA}}`; since
May 2023 WeChat no longer shows `first` and `remark`, so every fact a candidate needs is
in a keyword, and the two only repeat the notice's headline and advice. Category
templates get the keywords alone (WeChat refuses keys a template does not have).

Values follow the documented limits of their type (`thing` at most 20 characters,
`character_string` 32 letters, digits or symbols, `time` a 24-hour date and time,
`amount` a currency sign and digits): a longer `thing` is cut with an ellipsis rather
than refused with 47003. The texts are in `locales/*/template.ftl`, in the recipient's
language; times are Beijing time as the chat shows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from foundation.i18n import t

FieldType = Literal["thing", "time", "amount", "character_string"]

# The documented limits of the value types we use ("20个以内字符", "32位以内").
THING_MAX: Final = 20
CHARACTER_STRING_MAX: Final = 32
_CHARACTER_STRING: Final = re.compile(r"[\x21-\x7e]{1,32}")
_TEMPLATE_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
_KEYWORD: Final = re.compile(r"[a-z_]+[0-9]*")
ELLIPSIS: Final = "…"


@dataclass(frozen=True, slots=True)
class TemplateField:
    """One keyword of a template: its type and the Fluent key of its value."""

    type: FieldType
    text: str  # `wx-template-...` in template.ftl, given the notice's arguments
    label: str  # `wx-template-label-...`: the keyword's name in the template (报考科目)


@dataclass(frozen=True, slots=True)
class NoticeTemplate:
    """The template one notice kind goes out with outside the 48-hour window."""

    setting: str  # the Settings attribute (WECHAT_TEMPLATE_<NAME>) holding its id
    title: str  # Fluent key: the title to apply for in the template library
    first: str  # Fluent key: the headline (`first`, industry format only)
    fields: tuple[TemplateField, ...]  # keyword1, keyword2, ... in this order
    remark: str  # Fluent key: the advice (`remark`, industry format only)


def _thing(text: str, label: str) -> TemplateField:
    return TemplateField("thing", text, f"wx-template-label-{label}")


_SUBJECT = _thing("wx-template-subject", "subject")
_CAMPUS = _thing("wx-template-campus", "campus")
_DEADLINE = TemplateField("time", "wx-template-deadline", "wx-template-label-deadline")


def _payment(state: str) -> NoticeTemplate:
    """R28-R30: one template for a payment's three outcomes, told apart by its state."""
    return NoticeTemplate(
        setting="wechat_template_payment",
        title="wx-template-payment-title",
        first="wx-template-payment-first",
        fields=(
            _SUBJECT,
            TemplateField("amount", "wx-template-amount", "wx-template-label-amount"),
            _thing(f"wx-template-payment-state-{state}", "payment-state"),
        ),
        remark="wx-template-payment-remark",
    )


# Notice kind (outbox `kind`, see registration/notices.py) -> its template.
NOTICE_TEMPLATES: Final[Mapping[str, NoticeTemplate]] = MappingProxyType(
    {
        # R32: an unpaid entry is about to be deleted.
        "reminder": NoticeTemplate(
            setting="wechat_template_reminder",
            title="wx-template-reminder-title",
            first="wx-template-reminder-first",
            fields=(_SUBJECT, _CAMPUS, _DEADLINE),
            remark="wx-template-reminder-remark",
        ),
        # R37: a waiter got a seat and must pay by the new entry's deadline.
        "promoted": NoticeTemplate(
            setting="wechat_template_waitlist",
            title="wx-template-waitlist-title",
            first="wx-template-waitlist-first",
            fields=(_SUBJECT, _CAMPUS, _DEADLINE),
            remark="wx-template-waitlist-remark",
        ),
        # R19: the school decided a CET-6 review.
        "review-decided": NoticeTemplate(
            setting="wechat_template_review",
            title="wx-template-review-title",
            first="wx-template-review-first",
            fields=(
                TemplateField(
                    "character_string", "wx-template-review-ticket", "wx-template-label-ticket"
                ),
                _thing("wx-template-review-decision", "decision"),
                _thing("wx-template-review-note", "note"),
            ),
            remark="wx-template-review-remark",
        ),
        # R31: an unpaid entry was deleted after 24 hours.
        "entry-expired": NoticeTemplate(
            setting="wechat_template_expired",
            title="wx-template-expired-title",
            first="wx-template-expired-first",
            fields=(_SUBJECT, _CAMPUS, _thing("wx-template-expired-reason", "reason")),
            remark="wx-template-expired-remark",
        ),
        # R28-R30: a payment arrived (in time, late but restored, late and refunded).
        "payment-paid": _payment("paid"),
        "payment-restored": _payment("restored"),
        "payment-refund": _payment("refund"),
        # R7: the account was signed in from another chat.
        "signed-in-elsewhere": NoticeTemplate(
            setting="wechat_template_sign_in",
            title="wx-template-sign-in-title",
            first="wx-template-sign-in-first",
            fields=(
                TemplateField("time", "wx-template-sign-in-at", "wx-template-label-sign-in-at"),
                _thing("wx-template-sign-in-where", "sign-in-note"),
            ),
            remark="wx-template-sign-in-remark",
        ),
    }
)


def template_content(tpl: NoticeTemplate, locale: str = "zh") -> str:
    """The template's content in the industry format, as a school finds it in the library
    (`{{first.DATA}}`, a labelled line per keyword, `{{remark.DATA}}`): for the README, the
    demo and the emulator's account."""
    lines = ["{{first.DATA}}"]
    for i, f in enumerate(tpl.fields, start=1):
        lines.append(f"{t(locale, f.label)}：{{{{keyword{i}.DATA}}}}")
    lines.append("{{remark.DATA}}")
    return "\n".join(lines)


def account_templates(settings: Any, locale: str = "zh") -> list[dict[str, str]]:
    """The templates the settings name, as an account holds them (id, title, content):
    the demo registers these with the emulator."""
    out: dict[str, dict[str, str]] = {}
    for tpl in NOTICE_TEMPLATES.values():
        choice = read_choice(tpl.setting, getattr(settings, tpl.setting, None))
        if choice is None or choice.template_id in out:
            continue
        out[choice.template_id] = {
            "template_id": choice.template_id,
            "title": t(locale, tpl.title),
            "content": template_content(tpl, locale),
        }
    return list(out.values())


def template_settings() -> list[str]:
    """Every `WECHAT_TEMPLATE_*` setting (attribute names), each once, in table order."""
    return list(dict.fromkeys(tpl.setting for tpl in NOTICE_TEMPLATES.values()))


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    """A `WECHAT_TEMPLATE_*` value read: the template id and, for a category template,
    its keyword names in the order of the table's fields."""

    template_id: str
    keys: tuple[str, ...] | None  # None: industry format (first, keyword1.., remark)


class BadTemplateSetting(ValueError):
    """A `WECHAT_TEMPLATE_*` value that is no template id (or names the wrong keywords)."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting.upper()}: {reason}")
        self.setting = setting
        self.reason = reason


def read_choice(setting: str, value: str | None) -> TemplateChoice | None:
    """The template a setting names (None when unset or blank); raises BadTemplateSetting."""
    if value is None or not value.strip():
        return None
    template_id, sep, keys_text = value.strip().partition(":")
    template_id = template_id.strip()
    if not _TEMPLATE_ID.fullmatch(template_id):
        raise BadTemplateSetting(setting, "template-id")
    if not sep:
        return TemplateChoice(template_id, None)
    keys = tuple(k.strip() for k in keys_text.split(","))
    wanted = {tpl.setting: len(tpl.fields) for tpl in NOTICE_TEMPLATES.values()}.get(setting)
    if wanted is None:
        raise BadTemplateSetting(setting, "unknown-setting")
    if len(keys) != wanted or len(set(keys)) != len(keys):
        raise BadTemplateSetting(setting, "keyword-count")
    if not all(_KEYWORD.fullmatch(k) for k in keys):
        raise BadTemplateSetting(setting, "keyword-name")
    return TemplateChoice(template_id, keys)


def template_problems(settings: Any) -> list[BadTemplateSetting]:
    """What is wrong with the `WECHAT_TEMPLATE_*` settings (for the start checklist)."""
    found = []
    for setting in template_settings():
        try:
            read_choice(setting, getattr(settings, setting, None))
        except BadTemplateSetting as bad:
            found.append(bad)
    return found


def fit(kind: FieldType, value: str) -> str:
    """`value` within the documented limits of its type (see the module docs)."""
    value = " ".join(value.split())  # WeChat shows one line per field
    if kind == "thing" and len(value) > THING_MAX:
        return value[: THING_MAX - 1] + ELLIPSIS
    if kind == "character_string" and not _CHARACTER_STRING.fullmatch(value):
        kept = "".join(ch for ch in value if "\x21" <= ch <= "\x7e")[:CHARACTER_STRING_MAX]
        return kept or "-"
    return value


@dataclass(frozen=True, slots=True)
class TemplateMessage:
    """What `/cgi-bin/message/template/send` needs besides `touser`."""

    template_id: str
    data: dict[str, dict[str, str]]  # {"keyword1": {"value": "..."}, ...}
    client_msg_id: str | None = None

    def body(self, openid: str) -> dict[str, Any]:
        out: dict[str, Any] = {"touser": openid, "template_id": self.template_id, "data": self.data}
        if self.client_msg_id:
            out["client_msg_id"] = self.client_msg_id
        return out


def template_message(
    kind: str,
    args: Mapping[str, Any],
    locale: str,
    settings: Any,
    *,
    client_msg_id: str | None = None,
) -> TemplateMessage | None:
    """The template message for a notice of `kind`, with the arguments the notice's text
    was rendered with (`bot.worker_runtime.NoticeRenderer`), in `locale`.

    None when the kind has no template or its setting is unset: such a notice waits for
    the candidate's next message (the customer-service window). `client_msg_id` (e.g.
    the outbox row's id) lets WeChat drop a repeated send within 10 minutes.
    """
    tpl = NOTICE_TEMPLATES.get(kind)
    if tpl is None:
        return None
    choice = read_choice(tpl.setting, getattr(settings, tpl.setting, None))
    if choice is None:
        return None
    # A review decided without a note has none in its payload.
    args = {"note": "", **args}
    values = [fit(f.type, t(locale, f.text, args)) for f in tpl.fields]
    # WeChat (and the emulator) refuse an empty value: a dash stands for "nothing".
    values = [v or "-" for v in values]
    if choice.keys is None:
        data = {f"keyword{i}": {"value": v} for i, v in enumerate(values, start=1)}
        data = {
            "first": {"value": t(locale, tpl.first, args)},
            **data,
            "remark": {"value": t(locale, tpl.remark, args)},
        }
    else:
        data = {key: {"value": v} for key, v in zip(choice.keys, values, strict=True)}
    return TemplateMessage(choice.template_id, data, client_msg_id)
