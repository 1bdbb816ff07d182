"""The candidate flows declared as data: steps, what each expects, and where each trigger leads.

Every step (conversation state) names its prompt (a key in `locales/*/chat.ftl`),
what it expects (buttons, or one kind of typed input) and its transitions: a
trigger (a button action code, `text` for accepted typed input, or a command)
leading to a target step, with the `registration/` service it calls. The engine
refuses button actions a step does not declare (they come from a forged or
stale message) and records every state change that is not declared, so the
table cannot drift from the code; `scripts/draw_flows.py` draws it as
`docs/flows.md`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Expect(StrEnum):
    """What a step waits for. Only the typed kinds accept TEXT events as input."""

    BUTTONS = "buttons"
    EMAIL = "email"
    PASSWORD = "password"
    CODE = "code"
    NAME = "name"
    ID_NUMBER = "id-number"
    PHONE = "phone"
    TICKET = "ticket-number"
    NOTE = "note"  # an administrator's note with a decision (R19)


TEXT = "text"  # the trigger of accepted typed input
CONTACT = "contact"  # the trigger of a shared contact (the candidate's own phone number)
BACK = "back"
ANY = "*"  # the source of the global transitions


@dataclass(frozen=True, slots=True)
class Transition:
    trigger: str
    target: str
    service: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    flow: str
    expects: Expect
    prompt: str
    transitions: tuple[Transition, ...] = ()
    # The user's message is deleted right after reading (R8 passwords, ID numbers).
    sensitive: bool = False

    @property
    def typed(self) -> bool:
        return self.expects is not Expect.BUTTONS

    def triggers(self) -> set[str]:
        return {t.trigger for t in self.transitions}

    def targets(self, trigger: str) -> set[str]:
        return {t.target for t in self.transitions if t.trigger == trigger}


def _t(trigger: str, targets: str | Iterable[str], service: str = "") -> tuple[Transition, ...]:
    names = (targets,) if isinstance(targets, str) else tuple(targets)
    return tuple(Transition(trigger, name, service) for name in names)


def _step(
    name: str,
    flow: str,
    expects: Expect,
    *transitions: tuple[Transition, ...],
    sensitive: bool = False,
) -> Step:
    # The administrators' text lives in admin.ftl, the candidates' in chat.ftl.
    prefix = "admin-prompt-" if flow == "admin" else "chat-prompt-"
    prompt = prefix + name.replace(".", "-").replace("_", "-")
    flat = tuple(t for group in transitions for t in group)
    return Step(name, flow, expects, prompt, flat, sensitive)


B = Expect.BUTTONS

# Where "Start registration" may lead (R11; needs a bound, verified account, R9).
TO_REGISTRATION = ("account", "verify.code", "overview", "reg.agreement", "menu")
# Where a finished sign-in / sign-up / verification / reset continues.
AFTER_ACCOUNT = ("account", *TO_REGISTRATION)
# Where "My registration" may lead.
TO_OVERVIEW = ("overview", "account", "verify.code", "menu")

STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        # --- main menu, language ---------------------------------------------------
        _step(
            "menu",
            "main",
            B,
            _t("reg", TO_REGISTRATION, "accounts.bound_account"),
            _t("ov", TO_OVERVIEW, "eligibility.overview"),
            _t("qp", ("quick.name", "menu")),
            _t("info", "info"),
            _t("acct", "account"),
            _t("lang", "language"),
        ),
        _step("language", "main", B, _t("setlang", "menu"), _t(BACK, "menu")),
        # --- pass account (R7-R10) -------------------------------------------------
        _step(
            "account",
            "account",
            B,
            _t("signup", "signup.email"),
            _t("signin", "signin.email"),
            _t("recover", "recover.name"),
            _t("reset", "reset.email"),
            _t("signout", "account", "accounts.sign_out"),
            _t("code", "verify.code", "accounts.send_verification_code"),
            _t("goreg", TO_REGISTRATION),
            _t(BACK, "menu"),
        ),
        _step(
            "signup.email",
            "account",
            Expect.EMAIL,
            _t(TEXT, "signup.password"),
            _t("signin", "signin.email"),
            _t(BACK, "account"),
        ),
        _step(
            "signup.password",
            "account",
            Expect.PASSWORD,
            _t(TEXT, "verify.code", "accounts.sign_up + accounts.bind_chat"),
            _t(BACK, "signup.email"),
            sensitive=True,
        ),
        _step(
            "verify.code",
            "account",
            Expect.CODE,
            _t(TEXT, AFTER_ACCOUNT, "accounts.verify_email"),
            _t("resend", "verify.code", "accounts.send_verification_code"),
            _t(BACK, "account"),
        ),
        _step(
            "signin.email",
            "account",
            Expect.EMAIL,
            _t(TEXT, "signin.password"),
            _t(BACK, "account"),
        ),
        _step(
            "signin.password",
            "account",
            Expect.PASSWORD,
            _t(TEXT, (*AFTER_ACCOUNT, "verify.code"), "accounts.sign_in + accounts.bind_chat"),
            _t("reset", "reset.email"),
            _t(BACK, "signin.email"),
            sensitive=True,
        ),
        _step(
            "recover.name",
            "account",
            Expect.NAME,
            _t(TEXT, "recover.id_type"),
            _t(BACK, "account"),
        ),
        _step(
            "recover.id_type",
            "account",
            B,
            _t("idt", "recover.id_number"),
            _t(BACK, "recover.name"),
        ),
        _step(
            "recover.id_number",
            "account",
            Expect.ID_NUMBER,
            _t(TEXT, "recover.done", "accounts.recover_account"),
            _t(BACK, "recover.id_type"),
            sensitive=True,
        ),
        _step(
            "recover.done",
            "account",
            B,
            _t("signin", "signin.email"),
            _t("reset", "reset.email"),
            _t(BACK, "account"),
        ),
        _step(
            "reset.email",
            "account",
            Expect.EMAIL,
            _t(TEXT, "reset.code", "accounts.start_password_reset"),
            _t(BACK, "account"),
        ),
        _step(
            "reset.code",
            "account",
            Expect.CODE,
            _t(TEXT, "reset.password"),
            _t("resend", "reset.code", "accounts.start_password_reset"),
            _t(BACK, "reset.email"),
        ),
        _step(
            "reset.password",
            "account",
            Expect.PASSWORD,
            _t(TEXT, (*AFTER_ACCOUNT, "reset.code"), "accounts.reset_password + bind_chat"),
            _t(BACK, "reset.code"),
            sensitive=True,
        ),
        # --- eligibility and confirmation (R2, R11-R13) ------------------------------
        _step("reg.agreement", "eligibility", B, _t("agree", "reg.id_type"), _t(BACK, "menu")),
        _step("reg.id_type", "eligibility", B, _t("idt", "reg.name"), _t(BACK, "reg.agreement")),
        _step(
            "reg.name",
            "eligibility",
            Expect.NAME,
            _t(TEXT, "reg.id_number"),
            _t(BACK, "reg.id_type"),
        ),
        _step(
            "reg.id_number",
            "eligibility",
            Expect.ID_NUMBER,
            _t(TEXT, "reg.confirm", "eligibility.lookup_record"),
            _t(BACK, "reg.name"),
            sensitive=True,
        ),
        _step(
            "reg.confirm",
            "eligibility",
            B,
            _t("confirm", ("reg.phone", "overview")),
            _t("review", "review.ticket"),
            _t("redo", "reg.id_type"),
            _t(BACK, "menu"),
        ),
        _step(
            "reg.phone",
            "eligibility",
            B,
            _t("usephone", "entry.subject", "eligibility.save_registration"),
            _t("newphone", "reg.phone_typed"),
            _t(CONTACT, "entry.subject", "eligibility.save_registration"),
            _t("recover", "recover.name"),
            _t(BACK, "reg.confirm"),
        ),
        _step(
            "reg.phone_typed",
            "eligibility",
            Expect.PHONE,
            _t(TEXT, "entry.subject", "eligibility.save_registration"),
            _t(CONTACT, "entry.subject", "eligibility.save_registration"),
            _t("recover", "recover.name"),
            _t(BACK, "reg.phone"),
        ),
        # --- CET-6 review (R14-R19) ----------------------------------------------
        _step(
            "review.ticket",
            "review",
            Expect.TICKET,
            _t(TEXT, ("reg.confirm", "overview"), "review.request_review"),
            _t(BACK, ("reg.confirm", "overview")),
        ),
        # --- entries (R20-R25) and the overview (R24, R26-R29) -----------------------
        _step(
            "overview",
            "overview",
            B,
            _t("entry", "entry.detail"),
            _t("add", "entry.subject"),
            _t("review", "review.ticket"),
            _t("wl", "waitlists"),
            _t("print", "overview", "tickets.printable_entries + tickets.ticket_documents"),
            _t(BACK, "menu"),
        ),
        _step(
            "entry.subject",
            "register",
            B,
            _t("subj", "entry.campus"),
            _t(BACK, "overview"),
        ),
        _step(
            "entry.campus",
            "register",
            B,
            _t("camp", ("entry.paper", "waitlist.offer")),
            _t("camp", "entry.detail", "entries.register_subject"),
            _t(BACK, "entry.subject"),
        ),
        _step(
            "entry.paper",
            "register",
            B,
            _t("paper", ("entry.detail", "waitlist.offer"), "entries.register_subject"),
            _t(BACK, "entry.campus"),
        ),
        _step(
            "entry.detail",
            "overview",
            B,
            _t("pay", "entry.pay", "payments.payment_link"),
            _t("upd", "entry.detail", "payments.refresh_payment"),
            _t("chc", "entry.change"),
            _t("cxl", "entry.cancel"),
            _t("ppr", "entry.paper_change"),
            _t("more", "entry.subject"),
            _t(BACK, "overview"),
        ),
        _step(
            "entry.pay",
            "overview",
            B,
            _t("upd", ("entry.detail", "entry.pay"), "payments.refresh_payment"),
            _t(BACK, "entry.detail"),
        ),
        _step(
            "entry.change",
            "overview",
            B,
            _t("camp", "entry.detail", "entries.change_campus + notices.tell_promotions"),
            _t(BACK, "entry.detail"),
        ),
        _step(
            "entry.cancel",
            "overview",
            B,
            _t("yes", "overview", "entries.cancel_entry + notices.tell_promotions"),
            _t(BACK, "entry.detail"),
        ),
        _step(
            "entry.paper_change",
            "overview",
            B,
            _t("paper", "entry.detail", "entries.set_paper_report"),
            _t(BACK, "entry.detail"),
        ),
        # --- waitlists (R34-R37) -------------------------------------------------
        _step(
            "waitlist.offer",
            "waitlist",
            B,
            _t("join", "waitlists", "waitlist.join_waitlist"),
            _t(BACK, "entry.campus"),
        ),
        _step(
            "waitlists",
            "waitlist",
            B,
            _t("wlx", "waitlist.reason"),
            _t(BACK, "overview"),
        ),
        _step(
            "waitlist.reason",
            "waitlist",
            B,
            _t("why", "waitlists", "waitlist.cancel_waitlist"),
            _t(BACK, "waitlists"),
        ),
        # --- quick print (R39) ---------------------------------------------------
        _step("quick.name", "tickets", Expect.NAME, _t(TEXT, "quick.id_number"), _t(BACK, "menu")),
        _step(
            "quick.id_number",
            "tickets",
            Expect.ID_NUMBER,
            _t(TEXT, "menu", "tickets.quick_print"),
            _t(BACK, "quick.name"),
            sensitive=True,
        ),
        # --- information (R40) ---------------------------------------------------
        _step(
            "info",
            "info",
            B,
            _t("topic", "info.topic"),
            _t("page", "info.page"),
            _t("news", "info.news", "administration.latest_news"),
            _t(BACK, "menu"),
        ),
        _step("info.topic", "info", B, _t("faq", "info.answer"), _t(BACK, "info")),
        _step("info.page", "info", B, _t("part", "info.page"), _t(BACK, "info")),
        _step("info.news", "info", B, _t("item", "info.news_item"), _t(BACK, "info")),
        _step("info.news_item", "info", B, _t(BACK, "info.news")),
        _step(
            "info.answer",
            "info",
            B,
            _t("faq", "info.answer"),
            _t(BACK, ("info.topic", "menu")),
        ),
        # A free-text question close to two or three entries: "did you mean", one button each.
        _step("info.ask", "info", B, _t("faq", "info.answer"), _t(BACK, "menu")),
        # A request to act ("mark me paid", "change my score"): what the bot can do instead,
        # with buttons to it (my registration: the Update button; the account: recovery).
        _step(
            "info.act",
            "info",
            B,
            _t("ov", TO_OVERVIEW, "eligibility.overview"),
            _t("acct", "account"),
            _t(BACK, "menu"),
        ),
        # --- school administrators (R19, R42): reached by /admin only, and only by an
        # administrator; every event at these steps checks it again -------------------
        _step(
            "admin",
            "admin",
            B,
            _t("adqueue", "admin.reviews", "administration.review_queue"),
            _t("adstats", "admin.stats", "administration.school_figures"),
            _t(BACK, "menu"),
        ),
        _step(
            "admin.reviews",
            "admin",
            B,
            _t("adopen", "admin.review", "administration.review_evidence"),
            _t(BACK, "admin"),
        ),
        _step(
            "admin.review",
            "admin",
            B,
            _t("adapprove", "admin.note"),
            _t("adreject", "admin.note"),
            _t(BACK, "admin.reviews"),
            _t("/approve", "admin.reviews", "administration.decide"),
            _t("/reject", "admin.reviews", "administration.decide"),
        ),
        _step(
            "admin.note",
            "admin",
            Expect.NOTE,
            _t(TEXT, "admin.reviews", "administration.decide + notices (candidate told)"),
            _t(BACK, "admin.review"),
            _t("/approve", "admin.reviews", "administration.decide"),
            _t("/reject", "admin.reviews", "administration.decide"),
        ),
        _step("admin.stats", "admin", B, _t(BACK, "admin")),
    )
}

# Steps where the candidate is in the middle of nothing: text there that is no button's
# label is a question for the FAQ (R40). At every other step that expects buttons it is
# answered with what the step accepts, and the step stays.
ASKING_STEPS = frozenset(
    {
        *("menu", "info", "info.topic", "info.page", "info.news", "info.news_item"),
        *("info.answer", "info.ask", "info.act"),
    }
)

# Available from every step: the main-menu button, the commands, and a free-text
# question at a step where the candidate is in the middle of nothing (answered from
# the FAQ, R40). `/help` (and the administrators' `/approve`, `/reject`) keep the step.
GLOBAL: tuple[Transition, ...] = (
    *_t("menu", "menu"),
    *_t("/start", "menu"),
    *_t("/cancel", "menu"),
    *_t("/language", "language"),
    *_t("/admin", "admin"),  # administrators only; anyone else gets "no such command"
    *_t("question", ("info.answer", "info.ask", "info.act"), "faq.decide"),
    # R7: "not me" on the notice of a sign-in from another chat.
    *_t("notme", ("reset.code", "account"), "accounts.sign_out_everywhere"),
)
GLOBAL_BUTTONS = frozenset({"menu", "notme"})
# Buttons sent in outbox notices: they carry no conversation version (the notice was
# written without one), so they work at any step and whatever happened since.
VERSIONLESS_BUTTONS = frozenset({"notme"})

# A typed step also offers these buttons besides "back".
TYPED_STEP_BUTTONS = frozenset({BACK, "menu"})


def allowed(state: str, trigger: str) -> bool:
    """Whether a button action may be pressed at `state` (else the press is stale or forged)."""
    step = STEPS.get(state)
    return trigger in GLOBAL_BUTTONS or (step is not None and trigger in step.triggers())


def declared(source: str, trigger: str, target: str) -> bool:
    """Whether moving from `source` to `target` by `trigger` is in the table.

    Staying at the same step (a refusal, a re-shown screen) is always allowed.
    """
    if source == target:
        return True
    if any(t.trigger == trigger and t.target == target for t in GLOBAL):
        return True
    step = STEPS.get(source)
    return step is not None and target in step.targets(trigger)


def check_table() -> list[str]:
    """Problems of the table itself: unknown targets, unreachable steps."""
    problems = []
    for step in STEPS.values():
        for tr in step.transitions:
            if tr.target not in STEPS:
                problems.append(f"{step.name} --{tr.trigger}--> unknown {tr.target}")
    reachable = {"menu"} | {t.target for t in GLOBAL}
    frontier = list(reachable)
    while frontier:
        for tr in STEPS[frontier.pop()].transitions:
            if tr.target not in reachable:
                reachable.add(tr.target)
                frontier.append(tr.target)
    problems += [f"unreachable {name}" for name in STEPS if name not in reachable]
    return problems


def _node(name: str) -> str:
    return name.replace(".", "_")


def mermaid() -> str:
    """The table as a Mermaid state diagram, one composite state per flow."""
    lines = ["stateDiagram-v2", "    direction LR", "    [*] --> menu : /start"]
    flows: dict[str, list[Step]] = {}
    for step in STEPS.values():
        flows.setdefault(step.flow, []).append(step)
    for flow, steps in flows.items():
        lines.append(f"    state {flow}_flow {{")
        for step in steps:
            kind = step.expects.value + (", deleted after reading" if step.sensitive else "")
            lines.append(f'        state "{step.name} ({kind})" as {_node(step.name)}')
        lines.append("    }")
    for step in STEPS.values():
        seen: set[tuple[str, str]] = set()
        for tr in step.transitions:
            if (tr.trigger, tr.target) in seen:
                continue
            seen.add((tr.trigger, tr.target))
            label = tr.trigger + (f" / {tr.service}" if tr.service else "")
            lines.append(f"    {_node(step.name)} --> {_node(tr.target)} : {label}")
    lines.append('    state "any step" as any_step')
    for tr in GLOBAL:
        label = tr.trigger + (f" / {tr.service}" if tr.service else "")
        lines.append(f"    any_step --> {_node(tr.target)} : {label}")
    return "\n".join(lines) + "\n"


NOTES = """\
## How input is treated

- Text typed at a step that expects buttons is first matched to that step's
  buttons: a button's label, or a part of exactly one label, acts as pressing it
  (compared without case, width, whitespace or punctuation: "haidian",
  "HAIDIAN CAMPUS" and its full-width form all press "Haidian Campus").
- Otherwise, at the main menu and the information steps, typed text is a question,
  with one of four replies (`helpdesk/faq.py` FaqIndex.decide): the FAQ answer
  when one entry clearly wins and the conditions the question states match it
  (with up to two related questions as buttons, step `info.answer`); "did you
  mean" with two or three close entries as buttons (step `info.ask`; a button
  answers its entry); for a request to act on data ("mark me paid", "change my
  score", another person's entry, "print your token"), what the bot cannot and
  can do, with buttons to My registration and the account (step `info.act`);
  otherwise "I don't know" with the help-desk phone, leaving the candidate where
  they were. At any other step that expects buttons an obvious question is
  answered and the step shown again; other text gets a short reply naming the
  step's choices, and the step's buttons again.
- A message that shows nothing (whitespace, zero-width characters, U+FEFF) is
  answered "that message was empty" and the step stays.
- A reply that leaves the step and its data as they were (a refusal, help, an
  empty message) keeps the conversation version: the buttons of the message
  before it still work, so do the ones shown again.
- `/help` shows the help and then the same step again; nothing is lost.
- A shared contact at the phone steps is taken as the phone number when it is
  the candidate's own (`contact.user_id` is theirs); someone else's is refused.
- A typed step takes text as its input, except an obvious question: text that
  ends with a question mark (half or full width), starts with a Chinese question
  phrase (listed in `chat-question-words` of `locales/zh/chat.ftl`), or has 3+
  words and starts with an English question word (`how`, `what`, `can`, ...;
  so the name "Can Li" stays a name). That is answered from the FAQ and the
  step asks again. Password steps never do this: whatever is typed there is a
  password, and is deleted.
- Input longer than 200 characters, a sticker or photo, or text of the wrong
  form gets a localized reply and the step stays; nothing is written.
- Messages at sensitive steps (passwords, ID numbers) are deleted right after
  reading, whatever they contain, and the reply says so.
- Buttons carry `c1:<conversation version>:<action>[:<args>]`. A button of an
  older message is answered "this menu has expired" with a fresh copy of the
  current step, and changes nothing; the same button pressed twice (a double
  tap) acts once; an action the current step does not offer is treated as
  expired; ids in buttons are re-checked by the services (Forbidden).
- `/admin` opens the `admin` flow for a chat user in the `admins` table or in
  `ADMIN_USER_IDS` (the authority, all schools); anyone else gets the usual "no
  such command" reply. Each event at an admin step checks the user again, a
  school administrator sees and decides only their school's requests (R42), and
  their changes are audited as `admin:<platform>:<user id>`. Administrators also
  have `/approve ID [NOTE]` and `/reject ID NOTE` (the same checks as the buttons;
  a usage line when the arguments are missing or wrong); for anyone else these
  are unknown commands.
- A domain refusal keeps the step and says why (`error-<code>`); any other
  error rolls the whole update back and apologizes (`error-internal`).
"""


def markdown() -> str:
    """`docs/flows.md`: the diagram and a table of the steps."""
    out = [
        "# Conversation flows",
        "",
        "Generated by `scripts/draw_flows.py` from `bot/conversation/flows.py`; do not edit.",
        "A test fails when this file is out of date.",
        "",
        "```mermaid",
        mermaid().rstrip("\n"),
        "```",
        "",
        "| step | flow | expects | prompt key | triggers -> targets |",
        "|---|---|---|---|---|",
    ]
    for step in STEPS.values():
        moves = "; ".join(
            f"{tr.trigger} -> {tr.target}" + (f" ({tr.service})" if tr.service else "")
            for tr in step.transitions
        )
        expects = step.expects.value + (" (deleted)" if step.sensitive else "")
        out.append(f"| `{step.name}` | {step.flow} | {expects} | `{step.prompt}` | {moves} |")
    out += [
        "",
        "Global (from any step): "
        + "; ".join(f"{tr.trigger} -> {tr.target}" for tr in GLOBAL)
        + ".",
        "",
        NOTES,
    ]
    return "\n".join(out)
