"""Measures the FAQ matcher (R40): top-1 accuracy, out-of-scope refusals and latency.

Run: .venv/bin/python bench/faq_eval.py [--questions FILE ...] [--compare] [--sweep] [--show-errors]
     .venv/bin/python bench/faq_eval.py --stranger FILE [--show-errors] [--fast]
     .venv/bin/python bench/faq_eval.py --gate --stranger FILE --stranger FILE ...

Round 10: `--stranger` types each question, as a new candidate at the main menu right after
/start, to a real conversation engine (bot/conversation/engine.py `Conversations` over a
migrated SQLite file seeded with the demo session, clock inside its registration window) and
grades the texts the candidate is sent. The outcome is the step the text lands on: info.answer
(answered), info.ask (asked back), info.act (the act reply), the menu (declined), any other
step (the text pressed a main-menu button, engine.py `_text_as_button`: right for an in-scope
question only if its facts are in that screen). `--fast` keeps the direct rendering through
FaqIndex.decide() for quick iteration. p99 is still measured on decide(); the engine's time
per question (text event to reply, SQLite) is reported next to it.

Issue 18 (ninth round): an honest measure. `--stranger FILE` (or `--questions FILE` with a file
in that format, detected by its [[question]] tables) grades on the reply text a candidate sees,
rendered as bot/conversation/steps/info.py renders it with the demo session's values
(examples/session-2026-12.toml) for a candidate with no registration yet. Four outcomes are
counted apart: right (answered and every fact group of the question occurs in the reply),
asked back ("did you mean", buttons), declined (help-desk reply, or the act reply to an in-scope
question), wrong (answered but a fact group missing, or an out-of-scope question answered from
an entry). Out of scope: a decline (or the act reply) is right; a request to act: the act reply
(or a decline) is right. Also p99 latency and, in a fresh process, the start-up with the index
build (what create_app does) and then the first answer.

Besides the stranger sets, two stranger-format files are the project's own:
bench/faq_dev11_questions.toml (round 11, see below) and bench/faq_dev_stranger_questions.toml,
written from the seed documents by the engineer of issue 18 and TUNED ON: its figures are no
measure of generalisation. While tuning the ask-back share and the condition factors, the
eighth held-out set's in-scope questions were also run through decide(): from this round on,
held-out 8 is tuned on too. locales/faq_examples.toml did not grow (held-out 8 is not in it).

Stranger sets, each measured once by the integrator after the round, never by its engineer
(right = in scope answered with the key facts; wrong = confident wrong answers over all
questions; declined = out of scope declined or act requests acted on):

| round | set | n | right zh/en/all | asked | wrong | declined | p99 | 1st answer |
|---|---|---|---|---|---|---|---|---|
| 8 (filed) | independent | 113 | 81.7/68.2/78.5% | - | >= 4 | 55% | - | 1.7-2.9 s |
| 9 | stranger 1 | 163 | 75.0/73.3/74.5% | 9.4% | 19.6% | 87.5%, acts 24.0% | 4.3 ms | 1.9 ms |
| 10 | stranger 2 | 169 | 73.3/81.6/76.1% | 13.3% | 7.1% | 96.7%, acts 76.9% | 6.5 ms | 2.9 ms |
| 11 | stranger 3 | 189 | 79.4/76.2/78.4% | 4.3% | 16.9% | 73.3%, acts 80.0% | 25.1 ms* | 6.7 ms |
| 12 | stranger 4 | 176 | 85.5/81.4/84.1% | 5.6% | 9.1% | 93.3%, acts 80.0% | 4.6 ms | 1.9 ms |
| 13 | stranger 5 | 175 | 90.6/87.5/89.6% | 8.8% | 2.3% | 86.7%, acts 95.0% | 4.0 ms | 1.8 ms |
| 14 | stranger 6 | 177 | 93.9/95.6/94.5% | 1.6% | 4.5% | 93.3%, acts 90.0% | 9.8 ms* | 2.9 ms |
| 14 | stranger 7 | 182 | 89.7/77.8/84.8% | 8.3% | 5.5% | 93.3%, acts 90.0% | 10.7 ms* | 2.1 ms |
| 15 | stranger 8 | 179 | 92.0/90.5/91.5% | 3.9% | 6.1% | 90.0%, acts 85.0% | 3.3 ms | 2.9 ms |
| 15 | stranger 9 | 175 | 85.5/73.8/81.6% | 11.2% | 6.9% | 100%, acts 75.0% | 7.0 ms | 6.1 ms |
| 16 | stranger 10 | 175 | 90.0/86.7/88.8% | 8.0% | 1.7% | 96.7%, acts 100% | 7.9 ms | 2.2 ms |
| 16 | stranger 11 | 185 | 92.6/79.6/87.4% | 8.1% | 2.7% | 96.7%, acts 95.0% | 11.1 ms | 3.1 ms |
| 17 | stranger 12 | 183 | 94.2/85.1/91.0% | 5.3% | 3.3% | 93.3%, acts 100% | 3.1 ms | 2.4 ms |
| 17 | stranger 13 | 180 | 89.9/90.0/89.9% | 6.2% | 3.3% | 90.0%, acts 95.2% | 3.4 ms | 0.2 ms |
| 18 | stranger 14 | 178 | 94.1/83.7/90.6% | 7.8% | 1.1% | 100%, acts 95.0% | 7.9 ms | 2.3 ms |
| 18 | stranger 15 | 185 | 92.2/82.1/88.0% | 8.3% | 3.2% | 100%, acts 90.5% | 7.7 ms | 2.9 ms |
| 19 | stranger 16 | 183 | 94.2/95.7/94.7% | 4.5% | 1.1% | 96.7%, acts 95.0% | 4.1 ms | 2.4 ms |
| 19 | stranger 17 | 183 | 84.5/79.2/82.6% | 9.1% | 6.6%** | 93.5%, acts 85.0% | 4.8 ms | 3.0 ms |
| 20 | stranger 18 | 185 | 92.9/92.0/92.6% | 5.9% | 2.2% | 100%, acts 90.0% | 4.1 ms | 1.9 ms |
| 20 | stranger 19 | 184 | 87.8/95.5/90.3% | 9.0% | 1.1% | 96.7%, acts 95.0% | 3.8 ms | 2.1 ms |

Stranger set 1 (bench/faq_stranger1_questions.toml, sha256
d7d28791b52a410e72c299d51f76ec75209423bad182bdda55bbe5da988b6f53) was written from the two seed
documents alone by a writer who saw neither the knowledge base, the matcher nor any earlier set,
frozen by that hash before any run, and measured once, after round 9, with `--stranger
--show-errors`: 106 in scope, 32 out of scope, 25 requests to act; "wrong" 19.6% is 32 of all
163 (14 in scope, 13.2% of them; 4 out of scope; 14 acts answered from an entry); the first
answer came 1.9 ms after a 2.5 s start-up that built the index. Its failures were then read
for the report: from round 10 on it is tuned on.
Two of its out-of-scope questions (the fee, the window dates) are answered by the bot from the
session's own settings, which the seeds do not state; they count as wrong here as written.

Stranger set 2 (bench/faq_stranger2_questions.toml, sha256
0cdffe4effabe217b9e6c8c7b012a74cb17f20f68b1091dea7045a8035146a3f), written the same way by a
second writer (told to leave fees and dates out of the out-of-scope questions), frozen by that
hash, measured once after round 10 through the engine with `--stranger --show-errors`, on a quiet
machine: 113 in scope, 30 out of scope, 26 requests to act. In scope: right 76.1% (86/113; zh
73.3%, en 81.6%), asked back 13.3%, declined 2.7%, wrong 8.0% (9/113). Out of scope declined
96.7% (29/30); requests to act 76.9% (20/26). Wrong confident answers 7.1% of all (12/169: 9 in
scope, 3 acts answered from an entry). decide() p99 6.5 ms; the engine 13.3 ms p99 per
question; the first answer 2.9 ms after a 2.8 s start-up that built the index. No question
pressed a menu button. From round 11 on it is tuned on.

Stranger set 3 (bench/faq_stranger3_questions.toml; the writer's own file, in `[[q]]` tables
with kind "act", had sha256 d6c41fb556e57778c3d68d80622de9b89892ebd8a8ccb5f7fb1a703c33fc17e9 and
was frozen by it; the committed copy only renames the tables to [[question]] and "act" to
"act_request"), written from the two seed documents alone by a third writer, measured once after
round 11 through the engine with `--stranger --show-errors` (*on a machine loaded by other work,
load average 4-6 on 2 cores, so the latencies are high): 139 in scope, 30 out of scope, 20
requests to act. In scope: right 78.4% (109/139; zh 79.4%, en 76.2%), asked back 4.3%, declined
2.2%, wrong 15.1% (21/139). Out of scope declined 73.3% (22/30); requests to act 80.0% (16/20).
Wrong confident answers 16.9% of all (32/189: 21 in scope, 8 out of scope, 3 acts). decide() p99
25.1 ms; the engine 51.3 ms p99 per question; the first answer 6.7 ms after a 4.6 s start-up that
built the index. Round 11's tuning figures (97-99% right on strangers 1 and 2) did not carry over:
the fresh figure is the round-10 level with fewer questions asked back and more answered wrong.
The in-scope wrongs are mostly a near entry that lacks the asked fact or its negation ("only the
oral test, no written?" answered from written-before-oral without a plain "no"; the 24 hours
missing from the unpaid-expiry answer as graded), five of the eight out-of-scope wrongs are the
fee, the exam date, the help phone, reminders by SMS and the exam format answered from an entry
(three of them facts the bot knows from the session, not from the seeds). From round 12 on it is
tuned on.

Stranger set 4 (bench/faq_stranger4_questions.toml, sha256
3dcea945388bc3b06e330d33094e92860c42b05e7321d1d6ff56e849de29338f, the writer's file as it is),
written from the two seed documents alone by a fourth writer (told that the bot knows the fee,
the window and exam dates, its help-desk phone and that it sends reminders, so those are not
out-of-scope questions), frozen by that hash, measured once after round 12 through the engine
with `--stranger --show-errors`, on a quiet machine (load 0.6): 126 in scope, 30 out of scope,
20 requests to act. In scope: right 84.1% (106/126; zh 85.5%, en 81.4%), asked back 5.6%,
declined 1.6%, wrong 8.7% (11/126). Out of scope declined 93.3% (28/30); requests to act 80.0%
(16/20). Wrong confident answers 9.1% of all (16/176: 11 in scope, 1 out of scope, 4 acts
answered from an entry). decide() p99 4.6 ms; the engine 10.8 ms p99 per question; the first
answer 1.9 ms after a 2.2 s start-up that built the index. Against round 11's fresh measure
(stranger 3: right 78.4%, wrong confident 16.9%) the gate and the yes/no verdicts halved the
confident wrong answers and raised the right ones; the goals (right >= 90%, wrong <= 2%, acts
>= 95%) are not met. The misses read after the measure: the right entry answering without
the asked detail (the quick-print fields, the 提交候补 button, what to prepare), requests to act
phrased as plain orders with a number or a campus ("现在就帮我报六级，我学号是…", "Update my email
to …") answered from an entry, yes/no questions about printing right after paying. From round
13 on it is tuned on.

Stranger set 5 (bench/faq_stranger5_questions.toml, sha256
e18590093244ff1a7dee96183701ebafeb38c4ef6ae434b584204d31f1c1ac5f, the writer's file as it is),
written from the two seed documents alone by a fifth writer (told the same as the fourth),
frozen by that hash, measured once after round 13 through the engine with `--stranger
--show-errors`, on a quiet machine (load 0.6): 125 in scope, 30 out of scope, 20 requests to
act. In scope: right 89.6% (112/125; zh 90.6%, en 87.5%), asked back 8.8%, declined 1.6%,
wrong 0.0% (0/125). Out of scope declined 86.7% (26/30); requests to act 95.0% (19/20). Wrong
confident answers 2.3% of all (4/175: three out of scope, "my last CET-4 score" twice answered
from the review requirements and "where is my exam room" from the ticket contents; one act,
"print my ticket and mail it to me", answered with the print time). decide() p99 4.0 ms; the
engine 10.1 ms p99 per question; the first answer 1.8 ms after a 2.6 s start-up that built the
index. Against the goals: right 89.6% (goal 90%), wrong confident 2.3% (goal 2%), out of scope
86.7% and acts 95% (goal 95% each), latency met. What is left is mostly asked back rather
than answered (11 questions: the review's ticket number, written before oral, the password
rule asked as "why is my password refused", who prints the ticket), and two password
questions with a sample password taken for pasted credentials (the act reply). From round 14
on it is tuned on.

Strangers 8 and 9 (bench/faq_stranger8_questions.toml, sha256
b5c95708bff5fd5be2b38e3ac7601e1abe52a8a638ff8b36ee5bde04f9ae186a, and
bench/faq_stranger9_questions.toml, sha256
809f969c4ff8b6754ded70ae8762e51a6b9e61395ee8f9bd4abad40ef8d66ead; told as the fourth, the ninth
also to write as several kinds of candidate), frozen by hash during round 15, measured once
after it through the engine (load average 2.8). Stranger 8: 129 in scope, 30, 20; right 91.5%
(118/129), asked 3.9%, wrong 4.7% (6/129); out of scope 90.0%, acts 85.0%; wrong confident
6.1% (11/179). Stranger 9: 125, 30, 20; right 81.6% (102/125; zh 85.5%, en 73.8%), asked
11.2%, declined 1.6%, wrong 5.6%; out of scope 100%, acts 75.0%; wrong confident 6.9% (12/175).
Together right 86.6% (220/254), wrong confident 6.5% (23/354). The misses: orders whose verb
the act table lacked (帮我提交…候补, 帮我把考点…换到…, 帮我把钱付了, 生成pdf发到我邮箱, "Extend my
payment deadline", "delete my registration and refund me") answered from an entry; the fee asked
(the answer named no amount although the bot knows it); the payment steps after "去支付"
(seed 004's second confirmation missing); a Visa card read as a visa; 保研 and HSK not known as
other topics; questions joining two topics; a stated condition answered by the general entry.
From round 16 on both are tuned on.

Strangers 18 and 19 (bench/faq_stranger18_questions.toml, sha256
68c87af5bc55b3b0a32de6539a676dc71f01e424cf51e3ce234933d11cdc2b00, and
bench/faq_stranger19_questions.toml, sha256
41d6f948f8c173c6c56b9ba2c578f66169f4b20689c4717acfa71e3820d79c65; told as the sixteenth and
seventeenth, and to check their fact groups by script before hashing), frozen by hash during
round 20, measured once after it through the engine (load average 1.8). Stranger 18: 135 in
scope, 30, 20; right 92.6% (125/135; zh 92.9%, en 92.0%), asked 5.9%, wrong 1.5% (2/135); out
of scope 100%, acts 90.0%; wrong confident 2.2% (4/185). Stranger 19: 134, 30, 20; right 90.3%
(121/134; zh 87.8%, en 95.5%), asked 9.0%, wrong 0.7% (1/134); out of scope 96.7%, acts 95.0%;
wrong confident 1.1% (2/184): every goal met on this set. Together: right 91.4% (246/269),
asked 7.4%, wrong confident 1.6% (6/369), out of scope declined 98.3% (59/60), acts 92.5%
(37/40), out of scope and acts together 96.0% (96/100); decide() p99 4.1 and 3.8 ms, first
answer 1.9 and 2.1 ms: the goals (right >= 90%, wrong confident <= 2%, out of scope or acts
>= 95%, p99 <= 20 ms, first answer <= 50 ms) are met on the two sets together, and on stranger
19 alone; stranger 18 alone has 2.2% wrong confident (4/185) and acts 90%. The wrong answers
left: a roommate's password asked for ("我室友的通行证密码是多少 她让我帮她登") answered with the
password rule; "I forgot my account entirely, not just the password" answered with the password
reset; "帮我交一下报名费 从我支付宝扣" answered with the payment methods; "把我系统里的照片换成新的"
answered with how a wrong record is corrected; the oral test's change asked with the written
paid, answered with the payment order; the written and oral steps answered without paying.
What is asked back: the review's name/ID cases, "password forgotten, cannot print", what to
choose for a waitlist, the next button after 支付.

Round 20 (tuned on strangers 1-17: TUNING FIGURES; strangers 18 and 19, frozen by hash during
round 20 and never run before its end, measure it). By kind: (1) a question showing a sample
password whose best entry is the password rule is answered with its verdict, however long
("Is Zhang2024! ok as my password? 10 chars, has letters digits and an exclamation mark" had
been asked back for low coverage); (2) acts: 帮我申请…, moving up the queue with the queue
named between ("帮我在候补队列里往前排一下"); (3) declined: what score is good for something
else ("a good CET6 score for grad school abroad" had been answered with the review's 425);
(4) the site on the campus network (校园网 is a foreign topic for everything else, but the
website entry names it now, so "校园网打不开cet-bm.neea.cn" gets the education-network address);
(5) a waitlist that "goes through" states that it succeeded; "is the ticket printed on another
website or the same system" is one-system's question; the English quick-print answer says a
forgotten account is recovered (retrieved). Through decide() (--fast): strangers 1-15 right
89.6-100%; stranger 16 96.2% (fresh 94.7), stranger 17 87.1% (fresh 82.6); wrong confident
0.0-2.3% on strangers 1-16, 4.4% on 17 (fresh 6.6%, most of it its split fact groups); out of
scope 90.6-100%, acts 90-100%.

Strangers 16 and 17 (bench/faq_stranger16_questions.toml, sha256
1603b07d1a1202d84e8396cff63700866cfee71d8ce56365e5bd6463a5019c1d, and
bench/faq_stranger17_questions.toml, sha256
25bb07e445b9a89f54803599de91a2c22834d990776009544f7782e335b6b42f; told as the fourteenth and
fifteenth), frozen by hash during round 19, measured once after it through the engine (load
average 2.1). Stranger 16: 133 in scope, 30, 20; right 94.7% (126/133; zh 94.2%, en 95.7%),
asked 4.5%, wrong 0.8% (1/133); out of scope 96.7%, acts 95.0%; wrong confident 1.1% (2/183):
every goal met on this set. Stranger 17: 132, 31, 20; right 82.6% (109/132; zh 84.5%, en
79.2%), asked 9.1%, declined 1.5%, wrong 6.8% (9/132); out of scope 93.5%, acts 85.0%; wrong
confident 6.6% (12/183). **As with set 6, the seventeenth writer's generator split ten "no"
fact lists into one group per character ([["不", "能"], ["不", "可", "以"], ["无", "法"]]); graded
as the writer meant them (in a copy, the frozen file unchanged) stranger 17 is right 87.1%
(115/132), wrong 2.3%, wrong confident 3.3% (6/183): "已经交钱了不想考了 能取消吗" was answered
"已支付的科目不能修改…也不能取消". Together, as measured: right 88.7% (235/265), wrong confident
3.8% (14/366); as meant: right 90.9% (241/265), wrong confident 2.2% (8/366), out of scope
95.1% (58/61), acts 90.0% (36/40). What is left on these two sets: orders the table lacks
(moving up the waitlist queue, "Cancel my waitlist for CET4 at the east campus", "Update my
photo", "帮我申请个纸质成绩报告单") answered from an entry or asked back; "is the ticket printed on
another website" answered from the ticket contents; a good score for study abroad answered from
the review's 425 rule; the campus-network address (neea.edu.cn) declined; a sample password
with its length written beside it asked back.

Round 19 (tuned on strangers 1-15: TUNING FIGURES; strangers 16 and 17, frozen by hash during
round 19 and never run before its end, measure it). By kind: (1) an entry may cover a neighbour
one way ([overlap] `covers`): after-window carries pay-after-window's answer (an unpaid entry
can still be paid within the campus's management time) and answers instead of asking, not the
other way; before-window and prepare overlap both ways; (2) the print-time answer says the
ticket is printed in the same system as registration and payment; the special characters are
also written together as the seed writes them ("!@#$%^&*_-"); (3) orders with 把我 or 直接 and no
帮我 ("把我考场换到东校区去", "直接发我一份准考证pdf"), "reset my password and send me the new
one". Through decide() (--fast): strangers 1-13 right 91-100% (stranger 9 89.6%); stranger 14
93.8% (fresh 90.6), stranger 15 91.0% (fresh 88.0); wrong confident 0.0-1.8%; out of scope
90.6-100%, acts 95-100%.

Strangers 14 and 15 (bench/faq_stranger14_questions.toml, sha256
4650b4778eee1aba7a7ac16d74e116150ce44fb69fb84cd39f8dfa419d86f817, and
bench/faq_stranger15_questions.toml, sha256
65aa75f6b3c18de3a2c1ec2f3ebd7451e22b23f276173203c266ca0803811d6e; told as the twelfth and
thirteenth), frozen by hash during round 18, measured once after it through the engine (load
average 2.5). Stranger 14: 128 in scope, 30, 20; right 90.6% (116/128; zh 94.1%, en 83.7%),
asked 7.8%, wrong 1.6% (2/128); out of scope 100%, acts 95.0%; wrong confident 1.1% (2/178).
Stranger 15: 133, 31, 21; right 88.0% (117/133; zh 92.2%, en 82.1%), asked 8.3%, declined 0.8%,
wrong 3.0% (4/133); out of scope 100%, acts 90.5%; wrong confident 3.2% (6/185). Together:
right 89.3% (233/261), asked 8.0%, wrong confident 2.2% (8/363), out of scope declined 100%
(61/61), acts 92.7% (38/41), both 97.1% (99/102). The wrong answers: "is the ticket printed in
the same system / on another website" answered from the print time without its "yes, the same
system"; which special characters (the answer lists them spaced, "! @ # $ % ^ & * _ -", the
writer looked for "!@#"); "lost my account info, need the ticket tomorrow" answered with quick
print without the account recovery; a succeeded waitlist without where it shows; two orders
("Reset my password and send the new one to me here", "把我考场换到东校区去"). Most misses are
still asked back (English 12-14%). From round 19 on both are tuned on.

Round 18 (tuned on strangers 1-13: TUNING FIGURES; strangers 14 and 15, frozen by hash during
round 18 and never run before its end, measure it). By kind: (1) a password question showing a
sample password or one symbol starts from its verdict, checked by the registration's own rule
(registration.accounts.check_password, R8): "可以 / 不符合要求：没有特殊字符 / 常见密码 / # 是允许
的特殊字符 / . 不在允许的特殊字符里"; the password is never repeated, and only the verdict's code
is kept in the conversation (helpdesk/faq.py password_verdict, info.py); a sample password
asked about the requirements is no pasted credential; (2) acts: listing all students who
registered (reveal), a classmate's ID number (others); (3) declined: the exam day's rules and
what to bring, recognition abroad; (4) "View completed waitlists (查看已完成候补)" in the English
cancel answer, "yuan" beside the English fee amounts; (5) what is left after registration
closes with everything paid (after-window). Through decide() (--fast): strangers 1-11 right
99.1, 100, 95.7, 96.0, 95.2, 94.5, 94.7, 93.8, 89.6, 94.4, 93.3%; stranger 12 92.5% (fresh
91.0), stranger 13 93.0% (fresh 89.9); wrong confident 0.0-1.8% on every file; out of scope
90.6-100%, acts 95-100%.

Strangers 12 and 13 (bench/faq_stranger12_questions.toml, sha256
890003bcbdb95f231f71155959ee5eca47cee0817c69a8d82941fe0a5396858d, and
bench/faq_stranger13_questions.toml, sha256
cee59ab9c1cf2b2f46a77981006b126a31fe5ba12711492d277909d072419fc5; told as the tenth and
eleventh), frozen by hash during round 17, measured once after it through the engine (load
average 1.6). Stranger 12: 133 in scope, 30, 20; right 91.0% (121/133; zh 94.2%, en 85.1%),
asked 5.3%, declined 0.8%, wrong 3.0% (4/133); out of scope 93.3%, acts 100%; wrong confident
3.3% (6/183). Stranger 13: 129, 30, 21; right 89.9% (116/129; zh 89.9%, en 90.0%), asked 6.2%,
wrong 3.9% (5/129); out of scope 90.0%, acts 95.2%; wrong confident 3.3% (6/180). Together:
right 90.5% (237/262), wrong confident 3.3% (12/363), out of scope declined 91.7% (55/60), acts
97.6% (40/41); decide() p99 3.1 and 3.4 ms, first answer 2.4 and 0.2 ms. The wrong answers:
a yes/no about the password ("能带#号不", "Cet@2024 meets the requirements?") answered with the
rule but no verdict, or taken for a pasted password; where to see cancelled waitlists (the
cancel entry, not "查看已完成候补"); "what is left after registration closes and I paid"
answered from paid-final; the fee in English without "yuan"; a classmate's ID number asked for
(answered from record-not-found); "list all students who registered" (registration steps);
exam-day rules and foreign recognition asked back instead of declined. From round 18 on both
are tuned on.

Round 17 (tuned on strangers 1-11: TUNING FIGURES; strangers 12 and 13, frozen by hash during
round 17 and never run before its end, measure it). By kind: (1) overlapping neighbours
(locales/faq_outcomes.toml [overlap]): five pairs whose answers each carry what the other is
asked for (the two review answers, before-window and the review's requirements, the automatic
pass and the not-reviewed or cannot-submit cases, joining a waitlist and the one-per-level
rule) answer instead of asking which was meant; chosen from the asks of strangers 1-11 where
the best entry's answer held the asked facts, and review-what's answer now says when no review
is needed and that below 425 one cannot apply, so it carries the requirements' verdicts too;
(2) "email", not "e-mail", in the English answers (most writers type "email"); (3) verdicts
first: "Yes: ... the same system" for one-system; (4) declined: rumours of the exam being
cancelled, jobs and careers; (5) an order addressing the bot after its object ("准考证你直接打
出来发我邮箱"); (6) phrasings for the overall order of the steps, "anyone I can call", "will you
remind me before my unpaid entry expires"; (7) two rumour patterns had been written with a
doubled backslash in single-quoted TOML and matched nothing: a test now compiles every pattern
and refuses a doubled backslash. Through decide() (--fast): strangers 1-11 right 99.1, 100,
95.0, 96.8, 96.0, 92.9, 93.9, 91.5, 88.8, 93.6 (fresh 88.8), 92.6% (fresh 87.4); wrong
confident 0.0-3.4%; out of scope 90.6-100%, acts 95-100%. Labelled files top-1 98.9-100%.

Strangers 10 and 11 (bench/faq_stranger10_questions.toml, sha256
1a99c92c3a17a204f14ab28b898447712e69a4a0186dc0353b962a851350166e, and
bench/faq_stranger11_questions.toml, sha256
5dfa79511c6f268d6051a019ca50ce74269368a1566e00a2f0e299b4cac77397; told as the fourth, and to
keep each fact alternative a whole word; the eleventh also to code-switch like "cet6 的 review
怎么 apply"), frozen by hash during round 16, measured once after it through the engine (load
average 2.9). Stranger 10: 125 in scope, 30, 20; right 88.8% (111/125; zh 90.0%, en 86.7%),
asked 8.0%, declined 0.8%, wrong 2.4% (3/125); out of scope 96.7%, acts 100%; wrong confident
1.7% (3/175). Stranger 11: 135, 30, 20; right 87.4% (118/135; zh 92.6%, en 79.6%), asked 8.1%,
declined 1.5%, wrong 3.0% (4/135); out of scope 96.7%, acts 95.0%; wrong confident 2.7%
(5/185). Together right 88.1% (229/260), asked 8.1%, wrong confident 2.2% (8/360), out of scope
96.7% (58/60), acts 97.5% (39/40); decide() p99 7.9 and 11.1 ms, first answer 2.2 and 3.1 ms.
What is left: asked back between neighbouring review entries (what to provide, neither name
nor ID matching, a wrong ticket number: each asked by three or more writers), the overall
order of the steps answered from the during-window entry without printing, "can I use my phone
number instead of an e-mail" answered without its "e-mail only", a rumour ("CET cancelled next
year?") asked back, "420 分能找到好工作吗" answered from the review's 425 rule. From round 17 on
both are tuned on.

Round 16 (tuned on strangers 1-9: TUNING FIGURES; strangers 10 and 11, frozen by hash during
round 16 and never run before its end, measure it). By kind: (1) the fee: the bot knows the
session's fees, and the fee answer now lists them, one line per amount with its subjects
(info.py `_fees`, `{ $fees }`; "每个科目都有各自的报名费，报考时会显示" answered no one's question);
the bench renders the same list from the demo session; (2) orders: more of the verbs an order
ends in after 帮我 (提交, 换到, 付了, 发到, 生成 ...), the review approved with the object first
("六级复核给我直接通过一下吧"), and an English sentence-initial extend / postpone / refund /
delete / remove + "my" with no question mark ("Extend my payment deadline by two days", which
every writer since stranger 1 has marked as an act); "remove me from the waitlist" stays a
question; (3) other exams and the exam's format: 保研, HSK, "几个人一组"; a Visa card is no
visa; (4) the payment steps as seed 004 gives them (a second confirmation, "确定", before the
payment platform). Through decide() (--fast): strangers 1-7 right 100%, 99.1%, 94.2%, 96.0%,
95.2%, 93.7%, 92.4%; stranger 8 90.7% (fresh 91.5%), stranger 9 85.6% (fresh 81.6%); wrong
confident 0.0-2.8% (stranger 8 fresh 6.1%, now 2.8%; stranger 9 fresh 6.9%, now 2.3%); out
of scope 90.6-100%, acts 95-100%.

Round 15 (tuned on strangers 1-7: TUNING FIGURES; strangers 8 and 9, frozen by hash during
round 15 and never run before its end, measure it). By kind: (1) the recovery condition is
stated only of a password, an account or its e-mail: "口试忘了付" (forgot to pay), "edit my
campus" (the synonym table makes every "edit" a 修改) and "准考证号输错了" had been read as
account recovery; (2) a "did you mean" offers only entries covering ONE_CHOICE_COVERAGE of the
question; when none does, it is declined ("考完多久能拿到证书" had offered the automatic review
pass and verifying the e-mail); (3) a decisive condition the question states ("the ticket
number was typed wrong") that the best entry does not declare, with a near entry about it: both
are offered instead of the general answer (promoting the near entry scored more right answers
on the tuning files, but answered "Registration only counts after payment?" from paid-final);
(4) beyond the desk: the exam's content asked as "考些啥内容" or "which topics come up", and
nerves before the exam (a kind word, the help desk); (5) acts: the backend's admin or database
password (reveal), an order on one's own record without 帮我 ("给我的报名截止时间延长一天",
"email me my admission ticket pdf"); "move my entry to another campus" stays a question, the
knowledge base asks it in those words; (6) answers: the "找回已报名账号" link and the exam
notices are on the site's home page (seed 000), an entry deleted after the window cannot be
registered again; (7) phrasings for waitlisting a written subject, the steps in order once
registration opens, "status shows paid: am I registered?". Through decide() (--fast): strangers
1-5 right 100%, 99.1%, 95.0%, 96.8%, 96.0%; stranger 6 93.7% (fresh 94.5%), stranger 7 93.2%
(fresh 84.8%); wrong confident 1.8%, 0.0%, 1.1%, 0.0%, 0.0%, 1.7% (fresh 4.5%), 1.6% (fresh
5.5%); out of scope declined 90.6-100%, acts 95-100%. Labelled files: top-1 98.9-100%.

Strangers 6 and 7 (bench/faq_stranger6_questions.toml, sha256
f38e95443594e2720e04f9bf49dc62ff1c81e944157c3c144db8797580203e49, and
bench/faq_stranger7_questions.toml, sha256
e2fa5637551b60cf6588e9c691948d145c8cd61877ef86a97232fd9a8dc1a5fe, the writers' files as they are),
written from the two seed documents alone by two more writers (told as the fourth; the seventh
also asked for late-night phone messages and questions joining two topics), frozen by hash
before round 14 began, measured once each after it through the engine with `--stranger
--show-errors` (*on a machine loaded by two benchmarks, load average 5-6 on 2 cores). Stranger
6: 127 in scope, 30 out of scope, 20 acts. In scope right 94.5% (120/127; zh 93.9%, en 95.6%),
asked 1.6%, declined 0, wrong 3.9% (5/127); out of scope declined 93.3% (28/30), acts 90.0%
(18/20); wrong confident answers 4.5% of all (8/177). Stranger 7: 132 in scope, 30, 20. Right
84.8% (112/132; zh 89.7%, en 77.8%), asked 8.3%, wrong 6.8% (9/132); out of scope 93.3%, acts
90.0%; wrong confident 5.5% (10/182). Both together: right 89.6% (232/259), wrong confident 5.0%
(18/359). decide() p99 9.8 and 10.7 ms, first answer 2.9 and 2.1 ms. The wrong answers, by kind:
the right topic from the neighbouring entry whose condition the question does not state (a
paid entry asked as "can I cancel / change it": answered from paid-final without its "no";
"how do I join the waitlist" from the one-waitlist-per-level rule; "ticket number typed wrong"
from the requirements instead of the not-reviewed entry); a question joining two topics
answered for one of them (stranger 7: forgotten account + not reviewed, time limit + bank
charged); the exam's oral content answered with the exam information; a database password
answered with the password rule; two orders without 帮我 ("给我的报名截止时间延长一天",
"move my exam to the main campus") answered from an entry. A defect of set 6, found after the
measure: in 9 of its yes/no questions the writer's generator split each "no" word into one
fact group per character ([["不", "能"], ["不", "可", "以"], ["无", "法"], ...] for "不能, 不可以,
无法"), so a reply passes only with 无 or 法 in it, and an English one with any "n" or "o". The
file stays as frozen and the figures above are as measured; graded with those groups read as
the writer meant them (one group of the joined words, in a copy), set 6 is right 96.1%
(122/127), wrong 2.4% (3/127), wrong confident 3.4% (6/177): "交完钱不想考了 能取消报名吗"
and "已经交钱了 发现报错科目了 能改成六级吗" were answered "已支付的科目不能修改…也不能取消".
From round 15 on both are tuned on.

Round 14 (tuned on strangers 1-5: TUNING FIGURES, no measure of generalisation; strangers 6
and 7, written before the round began and frozen by hash, measure it). By kind: (1) questions
beyond the desk (locales/faq_outcomes.toml [beyond]): one's own score ("我上次四级考了多少分",
"what was my score"), one's exam room or building (not "where do I see my room", which is the
ticket question), the exam's content (past papers, answers, essays, pass rates, study tips, a
poem) are declined with a reply saying where the answer is ([meta.beyond]: the exam authority,
the admission ticket, the exam introduction), not answered from an entry sharing their words;
(2) a sample password in a question about the rule ("为啥不符合要求", "why is it rejected") gets
the rule, not the credentials reply (`unless` of [act.credentials]); (3) printing or posting the
ticket for the candidate is a request to act; (4) an out-of-scope example about another exam
("计算机二级准考证怎么打印") no longer vetoes the same words about CET: the plain "准考证怎么打印"
had been declined (found while reading round 14's misses; no stranger had asked it); (5) "wrong"
states the password-recovery condition only of a password or sign-in ("I chose the wrong
level" had been read as recovery); (6) the home page and the information-confirmation step are
CET anchors; (7) phrasings for forms asked in two or more tuning sets (the password rules "for
the CET passport account", "does the school hand out the ticket or do I print it", which e-mail
to register with, what to do after creating the account, prerequisites of the oral test). A
coverage-gap rule (a close entry covering 0.2-0.35 less of the question is no alternative) was
tried and left out: +5 right, +1 wrong over the seven tuning files. Through the engine: stranger
1 right 100% (106/106), wrong confident 1.8% (3/163: the writer's fee and dates, which the bot
knows, and one room question), out of scope 90.6%; stranger 2 99.1%, 0.0%, 100%; stranger 3
95.0% (132/139), 1.1%, 93.3%; stranger 4 96.0% (121/126), 0.0%, 100%; stranger 5 96.8%
(121/125; fresh 89.6%), asked 3.2%, wrong confident 0.0% (fresh 2.3%), out of scope 100% (fresh
86.7%), acts 100% (fresh 95%). Labelled files through decide(): top-1 98.3-100%, refused
98.3-100%.

Round 13 (tuned on strangers 1-4: TUNING FIGURES, no measure of generalisation; the next
stranger set measures it). By kind: (1) orders as requests to act by their form
(locales/faq_outcomes.toml [act.do-for-me]): an imperative aimed at the bot (帮我/给我/替我,
"现在就", "马上") carrying a student or ID number or an e-mail address; 帮我 + 候补 or 报 + a
level or subject ("帮我报六级"); a sentence-initial change verb with "my" and the new value
after "to" ("Change the campus on my entry to ..."), or with an e-mail address or a number; no
question mark and none of the question words (`unless`), so "how do I change my email to a new
one?" stays a question; (2) below the answer gate with a single near entry covering at least
ONE_CHOICE_COVERAGE (0.35) of the question, that entry is offered as one "did you mean" button
(ask_one_title) instead of a decline: on every stranger-format and labelled file this concerns
two held-out-8 questions, each offered its right entry; (3) verdict first: printing right after
registering or paying ("no: only from the print time", R5), "can I save before the window" (no),
"can I use 360 browser" (yes, the list); after creating the account comes verifying the e-mail
(verify-email gained two zh phrasings; none in English: they reshuffled the perceptron's
training order and turned three right answers into questions); (4) the asked detail in the right
entry, from the seeds: the quick-print fields (name, ID type and number) also in the print-time
answer, what to prepare (the ID and an e-mail), 提交候补 beside "Join waitlist", the
"CET6资格复核" button and the registration information page in both review answers, the
help-desk phone as customer service. Through the engine, on a machine with other work (load
average 2-2.5 on 2 cores): stranger 1 right 100% (106/106), out of scope declined 87.5% (28/32,
as before), acts 100% (25/25), wrong confident answers 2.5% (4/163); stranger 2 right 99.1%
(112/113), asked 1, out of scope 100%, acts 100%, wrong confident 0.0%; stranger 3 right 95.0%
(132/139; zh 95.9%, en 92.9%), asked 6, declined 1, wrong 0, out of scope 93.3%, acts 100%,
wrong confident 1.1% (2/189); stranger 4 right 93.7% (118/126; zh 92.8%, en 95.3%; round 12's
fresh 84.1%), asked 5, declined 2, wrong 1 ("I chose the wrong level but haven't paid yet": the
bank-charged entry), out of scope declined 93.3% (28/30), acts 100% (20/20; fresh 80.0%), wrong
confident answers 1.1% (2/176; fresh 9.1%). decide() p99 8.5-12.9 ms, engine per question p99
11.1-20.4 ms, a fresh process started in 2.8-3.3 s and answered its first question 1.6-3.4 ms
later. Labelled files through decide() (dev + held-outs 1-8, in scope 1,919): 1,898 right (round
12: 1,896), 1 wrong (held-out 8's "waitlist shows closed - reason: registered. i didnt cancel
it", now answered from waitlist-cancel, was asked back), 14 asked back, 6 declined; out of scope
449/449 declined. Left: a yes/no question answered from a near entry without its verdict
(s4-076), the score asked as a number (out of scope, answered from the review's requirements),
homepage and confirmation-page questions declined, password rules and who prints the ticket
asked back.

Round 12 (tuned on strangers 1, 2 and 3: TUNING FIGURES, no measure of generalisation; the next
stranger set measures it). Aim: calibration, not phrasings. By kind: (1) a rule asked as "can
I ...?" gets its plain verdict first, in both locales (the oral test not alone or first, R21;
the oral not paid first, R27; under 425 no CET-6 review, R14; not two written subjects of one
level, R22); (2) an answer gate (helpdesk/faq.py ANSWER_COVERAGE): the answering entry's terms
(phrasings and examples of both locales, and its answers) must cover at least 0.45 of the
question's idf weight, function words (locales/faq_outcomes.toml [gate]) and the Chinese n-grams
holding one left out; below it the question is asked back when two or three entries are near
(RELATED_SHARE), else declined; (3) declined: hearsay ("听说...取消/改成线上"), the exam's form
(online, on computers), an opinion on one's chances ("你觉得我能过吗"), reminders by text
message, a teacher's office phone, a building's or hall's seats; requests to act: orders to put
the candidate on a list ("add me to the waitlist", "把我加到候补"), "帮我…报一个…", another
student's record named after the request ("帮我重置一下我舍友的…") or by student number; (4) seed
facts in the seed's own form ("24小时", "8位"; the KB wrote "24 小时"), who prints the ticket (the
candidate, written and oral tickets apart), the administrator deciding a review that is not
automatic, where the record is checked (the eligibility confirmation page); "login page/form/
screen" is logging in, not the account; registering over home broadband is no broadband
question, and the registration site by any name ("打开哪个地址") is an anchor. One KB phrasing,
the order "Put me on the waitlist for a full campus", became the question "How do I get on the
waitlist for a full campus?".
The gate value, by `--gate` (per value, right answers lost / wrong answers removed; chosen to
keep the most right answers minus 3 times the wrong ones left, ties to the larger value), twice.
(a) On round 11's knowledge and tables (a copy of main, its FAQ files as at 508b911, with this
round's gate code and [gate] list), where stranger 3 was still fresh to the matcher, strangers
1/2/3: 0.40 loses 0/0/0 and removes 0/0/1, 0.45 loses 0/0/0 and removes 0/0/3, 0.50 loses 2/3/1
and removes 0/0/4, 0.55 3/4/2 and 1/0/5, 0.60 6/4/4 and 1/0/8, 0.65 11/6/4 and 1/0/9.
Cross-validated: chosen on 1+2 -> 0.45, on 3: 0 right lost, 3 wrong removed; chosen on 2+3 ->
0.65, on 1: 11 lost, 1 removed; chosen on 1+3 -> 0.60, on 2: 4 lost, 0 removed; chosen on all
three: 0.60. (b) After this round's changes: every value up to 0.45 loses nothing and removes
nothing (no in-scope wrong answer is left), 0.50 loses 2/3/2, 0.55 3/4/3 and 0.60 6/4/5 (both
removing stranger 1's room question); each fold chooses 0.45 and changes nothing on the third.
The folds that choose with stranger 3's own round-11
wrong answers in hand pick 0.60-0.65 and lose right answers on the set left out; the fold that
never sees them (1+2 -> 3) picks 0.45, which removed 3 of stranger 3's wrong answers with no
right one lost; 0.45 was taken. The first form of the gate (function characters only, not the
n-grams holding them) separated worse: on the round-11 matcher 0.50 lost 3/3/3 and removed
0/0/5, and 0.45 lost 2/1/0 for 0/0/3. Through the engine, on a quiet machine (load average
1-3): stranger 1 in scope right 100% (106/106), asked 0, declined 0, wrong 0.0%; out of scope
declined 87.5% (28/32: the fee twice, the window dates, the room read from the ticket, as
before); acts 100% (25/25); wrong confident answers 2.5% (4/163). Stranger 2 right 97.3%
(110/113; zh 98.7%, en 94.7%), asked 2.7% (3), declined 0, wrong 0.0%; out of scope 100%
(30/30); acts 100% (26/26); wrong confident answers 0.0% (0/169). Stranger 3 right 94.2%
(131/139; zh 95.9%, en 90.5%), asked 5.0% (7), declined 0.7% (1), wrong 0.0%; out of scope
declined 93.3% (28/30: the fee and the exam date, answered from the session's values); acts
100% (20/20); wrong confident answers 1.1% (2/189). decide() p99 4.8-7.9 ms, engine per question
p99 12.0-15.3 ms, a fresh process started in 2.9-3.3 s and answered its first question 1.8-4.3
ms later. Dev stranger set (46, --fast): right 30/32, asked 1, declined 1 (by the gate), wrong
0/46, out of scope 6/6, acts 8/8. Round-11 dev set (90, --fast): right 70/73, asked 2, wrong 1
(the waitlist's seat that "stops", as in round 11), acts 11/11, out of scope 6/6. Labelled files
through decide() (dev + held-outs 1-8, in scope 1,919): 1,896 answered right, 0 wrong, 15 asked
back (14 offering the right entry), 8 declined (2 of them by the gate: with it off, 1,898 right
and 6 declined); out of scope 449/449 declined.

Round 11 (tuned on stranger 1 and 2: TUNING FIGURES, no measure of generalisation; the next
stranger set measures it). Every miss of both sets was read and fixed by kind, each change resting
on a seed sentence or a class of phrasing: a defect first (TermSet lower-cased its regular
expressions, so \\S became \\s and a pasted "e-mail / password" pair was never seen); wishes and
queue moves as requests to act ("希望帮我把…", "想让你…", "把我…排到前面", "帮我占/留/转给…",
"I want my score changed", "I'd like you to…", "I need you to…", "log in and register me", a
refund wanted, a seat or an approval asked for, "make it paid"), another person's password or
registration as `others`; writing a program or script out of scope; decisive conditions for a
review that came back "not reviewed" or did not pass automatically and for a forgotten password,
and a best entry meeting a decisive condition is answered without offering entries that declare
none; conditions for the waitlist named (not the one-subject-per-level registration rule, not
the window dates, not the registration steps; the waitlist's own entries `needs` it), the oral
test's waitlist (not joining in general, not registering the oral test), unpaid after the deadline
(the management time, not "closed, nothing more"), a closed waitlist as ended; a short text with a
question word is no bare topic ("候补咋报"), but a vague "咋弄/怎么办" still is, and a bare topic
asks back at 0.45 of the best (from 0.5); the site's button and page labels (保存并继续, 提交候补,
去支付, 报名信息, ...) as CET anchors; a registration address of any name is the website, and the
network one is on (campus network in the dorm, mobile data at home) picks its address; seed facts
the answers lacked (where the pass account is registered, the account first in the steps, the
agreement ticked, login before the confirmation page, the password reset beside quick print,
"425 or above", same level for the oral waitlist) and phrasings of the classes missed. match() is
gone: decide() is the one path, run() above counts only an answer as a prediction (a question
asked back is now a top-1 miss in the labelled tables). Through the engine, on a machine loaded
by other work (load average 4-6 on 2 cores): stranger 1 in scope right 99.1% (105/106; zh 98.7%,
en 100%), asked 0, declined 1, wrong 0.0%; out of scope declined 87.5% (28/32: the fee twice and
the window dates, answered from the session's values, and the room read from the ticket, as in
round 10); acts 100% (25/25); wrong confident answers 2.5% (4/163, those four). Stranger 2 in
scope right 97.3% (110/113; zh 97.3%, en 97.4%), asked 0.9% (1), declined 0.9% (1), wrong 0.9%
(1: the reset answer says "e-mail", the grader looks for "email"); out of scope declined 100%
(30/30); acts 100% (26/26); wrong confident answers 0.6% (1/169). Dev stranger set (46): right
96.9% (31/32), asked 1, wrong 0/46, out of scope 6/6, acts 8/8. Round-11 dev set
(bench/faq_dev11_questions.toml, 90 questions written from the seeds by this round's engineer,
who knows the knowledge base, in three batches, each written before it was first run): first
runs, batch 1 (40, by the miss kinds above) right 26/30, asked 2, declined 1, wrong 1 (a
changed ID number stated with words between), acts 5/7, out of scope 3/3; batch 2 (30, after
tuning on batch 1) right 27/27, acts 2/2, out of scope 1/1; batch 3 (20, harder: pinyin,
shorthand, typos, conditions) right 11/16, asked 1, declined 1, wrong 3 (pinyin "mima wangle",
"payed", a waitlist that "stops"), acts 2/2, out of scope 2/2. After tuning on all three: right
95.9% (70/73), asked 2, wrong 1 ("when does the waitlist's seat stop": the seat-allocation entry),
acts 11/11, out of scope 6/6, wrong confident answers 1/90. Labelled files through decide()
(dev + held-outs 1-8, in scope 1,919): 1,901 answered right, 0 wrong (round 10: 1,902 and 1),
12 asked back (11 offering the right entry), 6 declined, none taken for an act; out of scope
449/449 declined. Latency, all on a machine loaded by other work (load average 4-6 on 2 cores):
decide() p99 11.1-19.1 ms per set in the engine runs (p50 2.9-6.6 ms); interleaved with the
round-10 matcher on stranger 1+2 (3 passes each, 4 pairs), p99 10.8-13.0 ms against
13.2-22.3 ms (p50 2.0-3.4 against 2.2-6.8 ms), so the round adds no cost; in quieter runs early
in the round p99 was 5.3-8.5 ms. Engine per question p99 14.9-31.5 ms; a fresh process started
in 4.4-6.9 s under that load (2.2-3.1 s when quieter) and answered its first question 1.1-10.5
ms later.

Round 10 (TUNED ON stranger 1: tuning figures, no measure of generalisation). Changes by kind:
requests to act as data in locales/faq_outcomes.toml (doing it for the candidate or someone
else, told from questions by the imperative; pasted credentials or someone's ID number; another
person by name or pronoun; "send me", "help me", "can my parents pay" stay questions); seed
facts the answers lacked (the written/oral registration buttons, login fields, the waitlist
steps and confirmation boxes, paying a waitlist seat, logging in again to print tickets,
printing only from the print time once paid, the review's 425 ticket number, verifying the
e-mail early, one waitlist subject per level, a paid entry unchanged while registration is open,
the help desk for system questions); browser names stand for "browser"; English anchors and
seed-worded phrasings; declined: the exam day without an ID card, sessions after this one; a
waitlist that came through stated with words between; a bare topic asked back at half the best;
ASK_SHARE 0.75 from 0.7. Stranger 1 through the engine (163 questions): in scope right 90.6%
(96/106; zh 89.5%, en 93.3%), asked 8.5%, declined 0.9%, wrong 0.0% (0/106); out of scope
declined 87.5% (28/32: the fee twice and the window dates, answered from the session's values,
and a room question answered from the ticket-content entry remain); acts 100% (25/25); wrong
confident answers 2.5% (4/163, those four); decide() p99 6.2-6.6 ms; engine per question p50
4.0-4.7 ms, p99 13.7-16.6 ms; fresh process start-up 2.6-3.7 s, then the first answer 1.8-3.1 ms
(runs on the shared 2-core machine); no question pressed a menu button. Dev stranger set (46):
right 96.9% (31/32), asked 1, wrong 0/46, out of scope 6/6, acts 8/8, decide() p99 5.9-6.4 ms
(21.6 ms in one run, the machine busy). Labelled files through decide() (dev + held-outs 1-8, in
scope 1,919): 1,902 answered right, 1 wrong (held-out 8: a closed waitlist taken for
cancelling), 10 asked back (9 offering the right entry), 6 declined, none taken for an act; out
of scope 449/449 declined. The round-10 row of the table above is the integrator's, from the
next stranger set.

Dev set of this round (tuned on; 46 questions: 32 in scope, 6 out of scope, 8 acts): right
96.9% (31/32; zh 21/21, en 10/11), asked 1, wrong 0.0% (0/46), out of scope declined 6/6, acts
8/8, p99 9.7 ms, fresh process start-up with the index build 2.5 s (7.6 s when the shared
2-core machine was busiest), then the first answer 3.0 ms. Held-out 8 through decide() (its
failures were read this round, so a tuning figure): in scope 264 right, 10 asked back (9 of
them offering the right entry), 3 declined, 0 wrong of 277; out of scope 81/81 declined; no
in-scope question of any labelled file is taken for a request to act (tested).

Earlier rounds (top-1 on the labelled files, matcher only):
By default the eight question files are measured and reported separately, one table each:
the development set (faq_eval_questions.toml, used for tuning), the first held-out set
(faq_heldout_questions.toml; it has been looked at and is now used for tuning too), the
second held-out set (faq_heldout2_questions.toml, written before the domain/near-miss changes;
its errors have since been looked at for tuning), the third held-out set
(faq_heldout3_questions.toml, written before the synonym/typo/gate round; its misses were listed
after that round and it is now used for tuning), the fourth held-out set
(faq_heldout4_questions.toml, written before the out-of-scope-intent round; its errors were
looked at in the fifth round and it is now used for tuning too) and the fifth held-out set
(faq_heldout5_questions.toml, written blind before the fifth round; trained on since the
sixth), the sixth held-out set (faq_heldout6_questions.toml, measured once after the sixth
round; trained on since the seventh) and the seventh (faq_heldout7_questions.toml, measured
once after the seventh round; trained on since the eighth). With --loso each file is measured
on an index built without its own examples. Figures are the median of `--repeats` runs.

faq_heldout3_questions.toml as written, before any tuning (sha256):
642821c3d6c2778a13c929b60f99a5079481f38b786796478494b7ba89fc1685
Measured before the third round (top-1 80.6%, refused 80.0%) and after it (86.1%, 80.0%).

faq_heldout4_questions.toml as written, before any tuning (sha256):
784335d725bce909b3d9f0bd8cb001c0e0f7884e4863d292f2cd44d991ab5412
Measured before the fourth round with the matcher of commit bf547d5: top-1 84.1% (143/170),
refused 69.0% (29/42), p99 0.9 ms; after it (out-of-scope intents, generic anchors, synonyms,
phrasings; chosen on the dev set and held-out 1-3 only): top-1 84.7% (144/170), refused 90.5%
(38/42), p99 1.4 ms. Its misses were listed once, after that final measurement, for the report;
nothing was tuned on them. Its author also wrote the round's term lists, so exam names that
only it holds (JLPT, TOEIC, BEC, calculator, parking) were deliberately left out of them; a
later round needs a fresh held-out set.

Fifth round (tuned on the dev set and held-outs 1-4, held-out 4's errors looked at for the first
time): more foreign groups written as general lists (TOEIC, BEC, JLPT, PETS/PRETCO/CATTI and
other language tests, gaokao/self-study/accounting/law and other national exams, MHK, facilities
and directions at the test site, other platforms and services, fitness tests, study how-to);
intents for chit-chat and questions about the bot, for another app's password or account, and
more exam-day rules (calculator, watch, exam day); colloquial, English and typo synonyms (没印象/
丢了 = forgot, 欠费 = unpaid, 钱交了 = paid, 纸质版/hard copy, 热线/hotline, 排候补, 光报 = only
register, 在哪交 = where to pay, 再付一次 = pay twice, not found, won't go through, blocked, ...);
phrasings in own words for entries missed; threshold 0.10 from 0.15 (every value from 0.08 to
0.15 refuses all out-of-scope questions of the five sets, and held-out 4 had in-scope questions
at 0.10-0.15). Before -> after (top-1, refused; p99 was 1.8-4.9 ms per set before and
1.0-1.7 ms after, on a shared 2-core machine): dev 98.9% -> 100.0% (177/177), 100% -> 100%;
held-out 1 98.5% -> 99.0% (194/196), 100% -> 100%; held-out 2 98.1% -> 100.0% (154/154),
100% -> 100%; held-out 3 96.7% -> 99.4% (179/180), 100% -> 100%; held-out 4 84.7% -> 98.8%
(168/170), 90.5% -> 100.0% (42/42). Held-out 4's figures are now tuning figures, not a
measure of generalisation. A fifth held-out set (faq_heldout5_questions.toml) was written
independently by someone else, begun before this round's changes, and never opened, read or
run during it.

faq_heldout5_questions.toml as written, before any measurement (sha256):
0cb12bee8040a969c7d3fb7806bc2baa2b2d2f49ea1537c3e9ec6e0b8b1c0052
Measured once, after the fifth round, with the matcher of commit dfbbbb1: top-1 85.1%
(194/228; 86.4% ignoring the threshold), refused 92.3% (48/52), p99 1.6 ms. Its misses were
then listed once for the report; nothing was tuned on them in the fifth round.

Sixth round (held-out 5 now used for training; --show-errors lists it like the others): the
matcher learns from the labelled questions. scripts/faq_examples.py copies the questions of
the six default files (dev + held-outs 1-5, about 1,100 in scope and 250 out of scope) into
locales/faq_examples.toml, tagged with their file; the bot reads only that file. In-scope
examples are documents of their entry scored apart from the KB phrasings (best example, weight
1) and count for the coverage; an out-of-scope example scoring 1.3 times the best entry's
nearest document declines the question; an averaged perceptron (registration/_faq_model.py,
same terms, learnt at build time from phrasings and examples, shared by both locales) re-ranks
the best 8 entries; threshold 0.08 from 0.10. No KB phrasing, synonym or domain term was
changed. Because the plain figures now measure files trained on (100% everywhere), the
honest figure is --loso: each file measured on an index built without its own examples.
Before the round the matcher used no examples, so its LOSO figures are its plain ones; of
those only held-out 5's is not inflated by hand-tuning. LOSO top-1 / refused, before -> after
(chosen on LOSO, so held-out 5's after-figure is somewhat optimistic): dev 100.0% -> 99.4%,
100% -> 100%; held-out 1 99.0% -> 100.0%, 100% -> 100%; held-out 2 100% -> 100%, 100% ->
100%; held-out 3 99.4% -> 99.4%, 100% -> 100%; held-out 4 98.8% -> 98.2%, 100% -> 100%;
held-out 5 85.1% -> 92.1% (210/228; 93.9% ignoring the threshold), 92.3% -> 96.2% (50/52).
p99 1.8-6.4 ms per set after (1.6-2.6 ms before) on a shared 2-core machine; a cold build
with the perceptron's training takes about 1.7 s for the first locale, 0.5 s for the second.
A sixth held-out set (faq_heldout6_questions.toml) was being written blind by someone else
during this round; it was never opened, read, listed or run during it.

faq_heldout6_questions.toml as written, before any measurement (sha256):
105566ba91ef3604578816e48284c763acca9bb9a6b62654f8ba1854f87bb9ff
Measured once, after the sixth round, with the matcher of commit a2317c2: top-1 89.2%
(232/260; 91.9% ignoring the threshold), refused 93.3% (56/60), p50 1.3 ms, p99 2.8 ms.

Seventh round (held-out 6 now trained on: scripts/faq_examples.py copies dev + held-outs 1-6,
each file listed by name). Its errors and LOSO errors showed two classes: key terms typed in
pinyin (mima, yanzhengma, xueji, fuhe, zhifu/weizhifu, houbu, bm; held-out 5 had mima and
houbu too), which scored as unknown words and fell under the threshold, and in-scope questions
refused at 0.07-0.08. Pinyin spellings of about thirty key terms (and the homophone typos 密马,
验证马) joined locales/faq_synonyms.toml. The refusal is now two thresholds: 0.05 for questions
with a CET anchor, 0.30 (before the gate's factor; was 0.27) for those without (DEFAULT_THRESHOLD
0.05, NO_ANCHOR_FACTOR = 0.05 / 0.30). By LOSO over all seven files no out-of-scope question with
an anchor scores between 0 and 0.10, so every anchored threshold from 0.01 to 0.07 and every
unanchored one from 0.24 to 0.36 gives the same figures; the middle values were taken. Perceptron
epochs 15 (from 8) gained one question in each of held-outs 5 and 6 but made the build about 60%
slower, so EPOCHS stays 8. LOSO top-1 / refused, before (round-6 matcher, examples of held-out 6
added) -> after: dev 99.4% -> 99.4%, 100% -> 100%; held-out 1 99.5% -> 100.0%, 100% -> 100%;
held-out 2 100% -> 100%, 100% -> 100%; held-out 3 98.3% -> 98.9%, 100% -> 100%; held-out 4
97.6% -> 97.1% (165/170: a neighbouring-entry confusion moved by the retrained perceptron),
100% -> 100%; held-out 5 91.7% -> 93.0% (212/228), 96.2% -> 96.2% (50/52); held-out 6 89.2% ->
91.9% (239/260; nothing lost to the threshold any more), 93.3% -> 93.3% (56/60). p99 2.4-3.9 ms
per set before and 2.8-4.4 ms after, build of both locales 1.0-1.5 s (3 runs, on a shared 2-core
machine). The remaining misses are mostly confusions between neighbouring entries
(waitlist-one-per-level vs written-before-oral, review-what vs review-requirements). A seventh
held-out set (faq_heldout7_questions.toml) was being written blind by someone else during this
round; it was never opened, read, listed or run.

faq_heldout7_questions.toml as written, before any measurement (sha256):
3399c5720ba5b90904f54d10868d5c24f70df4f9cf9beacd3a6e33a6e1681c79
Measured once, after the seventh round, with the matcher of commit 626c535: top-1 95.3%
(264/277; 95.7% ignoring the thresholds), refused 87.9% (51/58), p50 1.9 ms, p99 4.3 ms.

Eighth round (held-out 7 now trained on: scripts/faq_examples.py copies dev + held-outs 1-7).
The out-of-scope questions answered under LOSO in held-outs 5-7 (2 + 4 + 7) fell in four
classes, each widened in locales/faq_domain.toml as a general list rather than per question:
results (appealing or rechecking a score, whether a score is good, passing the exam, the website
showing results, 多少分算高, 申诉, 能过吗; "score report" joins the intent's `unless`); how to
study (背单词, 怎么练/复习/备考, recommended apps and books, words, grammar, mock tests); chit-chat
(有人在吗, a bare 在吗, 是不是程序/机器人/自动回复, anyone there, talking to a bot); other apps'
own functions (WeChat/Alipay avatar, nickname, moments, red packets, transfers to a friend). No
term may occur in an entry's own text (that would let the entry answer the whole group; checked).
Thresholds and the out-of-scope margin by LOSO over all eight files (held-outs 5-7 folds together):
margin 1.15-1.3 flat (1.0 and 1.5 lose), so 1.3 stays; the anchored threshold is flat from
0.01 to 0.05 (0.06 loses two in-scope questions of held-out 7), so 0.03 from 0.05; the
unanchored one is flat from 0.24 to 0.34, so 0.30 stays. A question that is word for word a KB
phrasing now answers that phrasing's entry (held-out 7's examples had made "Which email should
I sign up with?" rank forgot-account first).
LOSO top-1 / refused, before (round-7 matcher, held-out 7's examples added) -> after: dev
98.9% -> 98.9% (175/177), 100% -> 100%; held-out 1 99.5% -> 99.5%, 100% -> 100%; held-out 2
100% -> 100%, 100% -> 100%; held-out 3 98.9% -> 98.9%, 100% -> 100%; held-out 4 97.1% -> 97.1%
(165/170), 100% -> 100%; held-out 5 93.9% -> 93.9% (214/228), 96.2% -> 100.0% (52/52);
held-out 6 94.2% -> 94.2% (245/260), 93.3% -> 100.0% (60/60); held-out 7 95.3% -> 95.3%
(264/277), 87.9% -> 100.0% (58/58). p99 2.9-4.8 ms per set before and 4.3-6.8 ms after, build
of both locales 1.3-2.0 s (3 runs, shared 2-core machine under other load). Held-outs 5-7's
after-figures are tuning figures (their misses were read), not a measure of generalisation.
An eighth held-out set (faq_heldout8_questions.toml) was written blind by someone else during
this round; it was never opened, read, listed or run.

faq_heldout8_questions.toml as written, before any measurement (sha256):
5745a1f97e591d5aaf4d4b007d537063783c077ebeb6fb8330640683b49e2105
Measured once, after the eighth round, with the matcher of commit 480219f: top-1 96.4%
(267/277; 96.8% ignoring the thresholds), refused 92.6% (75/81), p50 3.4 ms, p99 7.9 ms.
Its misses were then listed once for the report; nothing has been tuned on them.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpdesk._faq_text import char_ngrams  # noqa: E402
from helpdesk.faq import (  # noqa: E402
    DEFAULT_THRESHOLD,
    EXAMPLES_PATH,
    LOCALES,
    FaqIndex,
    faq_path,
)

QUESTIONS_PATH = Path(__file__).resolve().parent / "faq_eval_questions.toml"
HELDOUT_PATH = Path(__file__).resolve().parent / "faq_heldout_questions.toml"
HELDOUT2_PATH = Path(__file__).resolve().parent / "faq_heldout2_questions.toml"
HELDOUT3_PATH = Path(__file__).resolve().parent / "faq_heldout3_questions.toml"
# Tuned on since the fifth round (its misses were first looked at then).
HELDOUT4_PATH = Path(__file__).resolve().parent / "faq_heldout4_questions.toml"
# Measured once after the fifth round; tuned and trained on since the sixth.
HELDOUT5_PATH = Path(__file__).resolve().parent / "faq_heldout5_questions.toml"
# Measured once after the sixth round; trained on since the seventh.
HELDOUT6_PATH = Path(__file__).resolve().parent / "faq_heldout6_questions.toml"
# Measured once after the seventh round; trained on since the eighth.
HELDOUT7_PATH = Path(__file__).resolve().parent / "faq_heldout7_questions.toml"
DEFAULT_QUESTION_FILES = (
    QUESTIONS_PATH,
    HELDOUT_PATH,
    HELDOUT2_PATH,
    HELDOUT3_PATH,
    HELDOUT4_PATH,
    HELDOUT5_PATH,
    HELDOUT6_PATH,
    HELDOUT7_PATH,
)


@dataclass(frozen=True)
class Question:
    """One evaluation question; `expect` is None for an out-of-scope one."""

    locale: str
    text: str
    expect: str | None


@dataclass(frozen=True)
class Outcome:
    """What the matcher did with one question."""

    question: Question
    predicted: str | None  # after the threshold
    top: str | None  # best entry ignoring the threshold
    top_score: float
    seconds: float


@dataclass(frozen=True)
class Metrics:
    in_scope: int
    correct: int
    correct_ignoring_threshold: int
    out_of_scope: int
    refused: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def accuracy_no_threshold(self) -> float:
        return self.correct_ignoring_threshold / self.in_scope if self.in_scope else 0.0

    @property
    def refusal_rate(self) -> float:
        return self.refused / self.out_of_scope if self.out_of_scope else 0.0


def load_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    """The labelled questions of the evaluation file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    qs = [Question(q["locale"], q["text"], q["expect"]) for q in data.get("in_scope", [])]
    qs += [Question(q["locale"], q["text"], None) for q in data.get("out_of_scope", [])]
    return qs


def compute_metrics(outcomes: Iterable[Outcome]) -> Metrics:
    """Top-1 accuracy counts an in-scope question right only if the answer is its entry."""
    in_scope = correct = correct_top = out = refused = 0
    for o in outcomes:
        if o.question.expect is None:
            out += 1
            refused += o.predicted is None
        else:
            in_scope += 1
            correct += o.predicted == o.question.expect
            correct_top += o.top == o.question.expect
    return Metrics(in_scope, correct, correct_top, out, refused)


def run(indexes: dict[str, FaqIndex], questions: Sequence[Question]) -> list[Outcome]:
    """Asks every question of its locale's index, timing the whole decision (decide())."""
    outcomes = []
    for q in questions:
        index = indexes[q.locale]
        start = time.perf_counter()
        reply = index.decide(q.text)
        elapsed = time.perf_counter() - start
        ranked = index.rank(q.text)
        top, top_score = ranked[0] if ranked else (None, 0.0)
        # Round 11: decide() is the one path (match() is gone); only an answer predicts an
        # entry, so a question asked back or taken for a request to act counts as a miss.
        predicted = reply.entry_id if reply.kind == "answer" else None
        outcomes.append(Outcome(q, predicted, top, top_score, elapsed))
    return outcomes


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered)))
    return ordered[rank - 1]


def with_threshold(outcomes: Iterable[Outcome], threshold: float) -> list[Outcome]:
    """The same outcomes as if the matcher had used another threshold."""
    return [
        Outcome(o.question, o.top if o.top_score >= threshold else None, o.top, o.top_score, 0.0)
        for o in outcomes
    ]


def jieba_words(run_text: str) -> Iterable[tuple[str, float]]:
    """Alternative CJK splitter for --compare: jieba words (needs `pip install jieba`)."""
    # Imported here: jieba is optional, needed only for the comparison.
    import jieba

    for word in jieba.lcut(run_text):
        yield word, 1.0


def build(
    locale: str,
    both: bool,
    splitter: Callable[[str], Iterable[tuple[str, float]]],
    exclude: Sequence[str] = (),
    examples: bool = True,
) -> FaqIndex:
    """The index of a locale; `exclude`: example sources left out (--loso); `examples`: False
    builds it from the knowledge base alone, as before the sixth round."""
    others = [faq_path(loc) for loc in LOCALES if loc != locale] if both else []
    return FaqIndex.from_files(
        faq_path(locale),
        others,
        cjk_splitter=splitter,
        examples_path=EXAMPLES_PATH if examples else None,
        exclude_sources=exclude,
    )


def measure(
    name: str,
    factory: Callable[[str], FaqIndex],
    questions: Sequence[Question],
    repeats: int = 3,
) -> tuple[Metrics, float, float, float, list[Outcome]]:
    """Metrics, build time of both locales, latency p50 and p99 (ms, medians of `repeats` runs).

    Accuracy does not change between runs; only the timings are medians.
    """
    builds: list[float] = []
    indexes: dict[str, FaqIndex] = {}
    for _ in range(repeats):
        start = time.perf_counter()
        indexes = {loc: factory(loc) for loc in LOCALES}
        builds.append((time.perf_counter() - start) * 1000)
    build_ms = statistics.median(builds)
    # Start the timed runs without the garbage left by the builds (a running bot has built its
    # index long before the first question).
    gc.collect()
    p50s, p99s = [], []
    outcomes: list[Outcome] = []
    for _ in range(repeats):
        outcomes = run(indexes, questions)
        lat = [o.seconds * 1000 for o in outcomes]
        p50s.append(percentile(lat, 0.5))
        p99s.append(percentile(lat, 0.99))
    return (
        compute_metrics(outcomes),
        build_ms,
        statistics.median(p50s),
        statistics.median(p99s),
        outcomes,
    )


def print_row(name: str, m: Metrics, build_ms: float, p50: float, p99: float) -> None:
    print(
        f"{name:<34} top1 {m.accuracy:6.1%} ({m.correct}/{m.in_scope})  "
        f"top1-no-thr {m.accuracy_no_threshold:6.1%}  "
        f"refused {m.refusal_rate:6.1%} ({m.refused}/{m.out_of_scope})  "
        f"build {build_ms:7.1f} ms  p50 {p50:6.3f} ms  p99 {p99:6.3f} ms"
    )


def report(
    path: Path,
    variants: Sequence[tuple[str, Callable[..., FaqIndex]]],
    args: argparse.Namespace,
) -> None:
    """One table (one row per variant) for one question file, plus the optional extras."""
    questions = load_questions(path)
    if args.loso:
        # Leave-one-set-out: every variant is built without this file's examples.
        variants = [
            (
                f"{name}, LOSO",
                lambda loc, factory=factory: factory(loc, (path.stem,)),
            )
            for name, factory in variants
        ]
    print(
        f"\n== {path.name}: {sum(q.expect is not None for q in questions)} in scope, "
        f"{sum(q.expect is None for q in questions)} out of scope; "
        f"threshold {DEFAULT_THRESHOLD}"
    )
    chosen: list[Outcome] = []
    for i, (name, factory) in enumerate(variants):
        m, build_ms, p50, p99, outcomes = measure(name, factory, questions, args.repeats)
        print_row(name, m, build_ms, p50, p99)
        if i == 0:
            chosen = outcomes

    if args.sweep:
        print("\nthreshold  top1    refused")
        for step in range(5, 71, 5):
            thr = step / 100
            m = compute_metrics(with_threshold(chosen, thr))
            print(f"  {thr:4.2f}    {m.accuracy:6.1%}  {m.refusal_rate:6.1%}")

    if args.show_errors:
        print("\nmisses (expected -> got, best score):")
        for o in chosen:
            if o.predicted != o.question.expect:
                print(
                    f"  [{o.question.locale}] {o.question.text!r}: "
                    f"{o.question.expect} -> {o.predicted} (top {o.top} {o.top_score:.2f})"
                )


# --- issue 18: graded on the reply text, four outcomes -----------------------------------

# The stranger format ([[question]] with lang, kind, text, facts) and the session whose values
# fill the replies' placeholders (the demo's, for a candidate with no registration yet).
SESSION_PATH = ROOT / "examples" / "session-2026-12.toml"
# A development set in the stranger format, written from the seed documents by the engineer of
# issue 18 and tuned on (not a measure of generalisation).
DEV_STRANGER_PATH = Path(__file__).resolve().parent / "faq_dev_stranger_questions.toml"
KINDS = ("in_scope", "out_of_scope", "act_request")


@dataclass(frozen=True)
class StrangerQuestion:
    """One question of the stranger format."""

    id: str
    lang: str
    kind: str
    text: str
    facts: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Graded:
    """What the candidate saw for one question and how it is counted."""

    question: StrangerQuestion
    outcome: str  # answer | ask | decline | act
    entry_id: str | None
    reply: str
    # right | wrong | asked | declined (in scope: refused or act reply)
    verdict: str
    missing: tuple[tuple[str, ...], ...]
    seconds: float


def is_stranger_format(path: Path) -> bool:
    """Whether a question file is in the stranger format ([[question]] tables)."""
    return "question" in tomllib.loads(path.read_text(encoding="utf-8"))


def load_stranger(path: Path) -> list[StrangerQuestion]:
    """The questions of a stranger-format file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, q in enumerate(data.get("question", [])):
        kind = q.get("kind", "in_scope")
        if kind not in KINDS:
            raise ValueError(f"{path}: question {q.get('id', i)}: unknown kind {kind!r}")
        facts = tuple(
            tuple(str(a) for a in (g if isinstance(g, list) else [g])) for g in q.get("facts", [])
        )
        out.append(
            StrangerQuestion(str(q.get("id", i)), q.get("lang", "zh"), kind, q["text"], facts)
        )
    return out


def session_values(locale: str, path: Path = SESSION_PATH) -> dict[str, str]:
    """The placeholder values the conversation fills for the demo session (info.py _values)."""
    from zoneinfo import ZoneInfo

    from foundation.i18n import t

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    tz = data.get("timezone", "Asia/Shanghai")

    def parts(iso: str) -> dict[str, str]:
        from datetime import datetime

        local = datetime.fromisoformat(iso).astimezone(ZoneInfo(tz))
        return {
            "year": str(local.year),
            "month": f"{local.month:02d}",
            "day": f"{local.day:02d}",
            "time": f"{local:%H:%M}",
        }

    windows = data["windows"]
    written = [s["exam_start"] for s in data.get("subjects", []) if "SET" not in s["code"]]
    return {
        "window_opens": t(locale, "chat-datetime", parts(windows["registration_opens"])),
        "window_closes": t(locale, "chat-datetime", parts(windows["registration_closes"])),
        "print_written": t(locale, "chat-datetime", parts(windows["print_written"])),
        "print_oral": t(locale, "chat-datetime", parts(windows["print_oral"])),
        "help_phone": data.get("help_phone", ""),
        "name": data.get("name_zh" if locale == "zh" else "name_en", ""),
        "exam_date": t(locale, "info-date", parts(min(written))) if written else "",
        "fees": _fees(locale, data),
    }


def _fees(locale: str, session: dict[str, Any]) -> str:
    """The session's fee list as info.py `_fees` renders it (names from the catalogue)."""
    from bot.conversation.inputs import yuan
    from foundation.i18n import t

    catalogue = tomllib.loads((ROOT / "backoffice" / "catalogue.toml").read_text(encoding="utf-8"))
    names = {
        s["code"]: s["name_zh" if locale == "zh" else "name_en"] for s in catalogue["subjects"]
    }
    by_fee: dict[int, list[str]] = {}
    for subject in session.get("subjects", []):
        by_fee.setdefault(subject["fee_fen"], []).append(
            names.get(subject["code"], subject["code"])
        )
    sep = t(locale, "info-list-sep")
    return "\n".join(
        t(locale, "info-fee-line", {"subjects": sep.join(n), "yuan": yuan(fen)})
        for fen, n in sorted(by_fee.items())
    )


def rendered_reply(index: FaqIndex, text: str, values: dict[str, str]) -> tuple[str, Any]:
    """The text the candidate reads, as bot/conversation/steps/info.py shows it."""
    from bot.conversation import inputs
    from helpdesk.faq import ANSWER

    reply = index.decide(text[: inputs.MAX_FAQ_QUERY], values)
    shown = reply.text
    if reply.kind == ANSWER and reply.choices:
        shown += "\n\n" + str(index.meta.get("related_title", ""))
        shown += "\n" + "\n".join(c.phrasing for c in reply.choices)
    return shown, reply


def grade(q: StrangerQuestion, outcome: str, reply: str) -> tuple[str, tuple]:
    """right / wrong / asked / declined, and the fact groups the reply lacks."""
    low = reply.lower()
    missing = tuple(g for g in q.facts if not any(a.lower() in low for a in g))
    if q.kind == "in_scope":
        # A main-menu button the text pressed counts only if its screen holds the facts.
        if outcome in ("answer", "button"):
            return ("right" if not missing else "wrong"), missing
        return ("asked" if outcome == "ask" else "declined"), missing
    # Out of scope: declining is right (so is the act reply, which declines too); for a request
    # to act, the act reply or a decline. Answering from an entry is a wrong confident answer.
    if outcome in ("decline", "act"):
        return "right", ()
    return ("asked" if outcome == "ask" else "wrong"), ()


def run_stranger(questions: Sequence[StrangerQuestion]) -> list[Graded]:
    """Every question through the index and the conversation's rendering."""
    indexes = {loc: FaqIndex.load(loc) for loc in LOCALES}
    values = {loc: session_values(loc) for loc in LOCALES}
    out = []
    for q in questions:
        loc = q.lang if q.lang in indexes else "zh"
        start = time.perf_counter()
        shown, reply = rendered_reply(indexes[loc], q.text, values[loc])
        seconds = time.perf_counter() - start
        verdict, missing = grade(q, reply.kind, shown)
        out.append(Graded(q, reply.kind, reply.entry_id, shown, verdict, missing, seconds))
    return out


# --- round 12: choosing the answer gate (helpdesk/faq.py ANSWER_COVERAGE) ----------------

GATE_VALUES = (0.0, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
# A wrong confident answer costs this many right ones (issue 18: the worst outcome).
GATE_WRONG_COST = 3


def gate_points(paths: Sequence[Path]) -> dict[str, list[tuple[str, float]]]:
    """Per file, every question answered with the gate off: its verdict and the coverage of
    the answering entry (a question asked, declined or acted on is untouched by the gate)."""
    from helpdesk import faq

    saved = faq.ANSWER_COVERAGE
    faq.ANSWER_COVERAGE = 0.0
    try:
        indexes = {loc: FaqIndex.load(loc) for loc in LOCALES}
        points: dict[str, list[tuple[str, float]]] = {}
        for path in paths:
            graded = run_stranger(load_stranger(path))
            points[path.name] = [
                (g.verdict, indexes[_lang(g.question)].coverage(g.question.text, g.entry_id or ""))
                for g in graded
                if g.outcome == "answer" and g.entry_id
            ]
    finally:
        faq.ANSWER_COVERAGE = saved
    return points


def _lang(q: StrangerQuestion) -> str:
    return q.lang if q.lang in LOCALES else "zh"


def gate_effect(points: Sequence[tuple[str, float]], value: float) -> tuple[int, int]:
    """(right answers lost, wrong answers removed) if answers below `value` were held back."""
    below = [v for v, c in points if c < value]
    return below.count("right"), below.count("wrong")


def report_gate(paths: Sequence[Path]) -> None:
    """Each gate value's effect per file, and leave-one-file-out: the value chosen on the
    other files (most right answers kept minus GATE_WRONG_COST times the wrong ones left),
    then its effect on the file left out."""
    points = gate_points(paths)
    names = list(points)
    print("gate  " + "  ".join(f"{n[:22]:>22}" for n in names) + "   (right lost / wrong removed)")
    for value in GATE_VALUES:
        cells = [gate_effect(points[n], value) for n in names]
        print(f"{value:4.2f}  " + "  ".join(f"{f'{a} / {b}':>22}" for a, b in cells))

    def gain(value: float, files: Iterable[str]) -> int:
        lost, removed = map(sum, zip(*(gate_effect(points[n], value) for n in files), strict=True))
        return GATE_WRONG_COST * removed - lost

    for held in names:
        rest = [n for n in names if n != held]
        best = max(GATE_VALUES, key=lambda v: (gain(v, rest), v))
        lost, removed = gate_effect(points[held], best)
        print(
            f"chosen on {', '.join(rest)}: {best:.2f}; on {held}: {lost} right lost, "
            f"{removed} wrong removed"
        )
    best = max(GATE_VALUES, key=lambda v: (gain(v, names), v))
    print(f"chosen on all: {best:.2f}")


# --- the default: each question typed to a real conversation engine --------------------

# The engine's clock: inside the demo session's registration window (as the tests' clock).
ENGINE_NOW = "2026-11-25T02:00:00+00:00"
# Where a typed question lands -> the outcome graded (anything else: a main-menu button the
# text pressed, engine.py _text_as_button).
STEP_OUTCOMES = {"info.answer": "answer", "info.ask": "ask", "info.act": "act", "menu": "decline"}


class EngineChat:
    """A real `Conversations` engine over a migrated SQLite file seeded with the demo session;
    each question is typed by a new candidate at the main menu, right after /start."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.url = f"sqlite+aiosqlite:///{workdir / 'faq_eval.db'}"
        self._updates = 0
        self._users = 7_000_000_000

    async def open(self) -> None:
        from datetime import datetime

        from bot.conversation.engine import Conversations
        from cetbot.demo import seed_example_session
        from foundation.clock import FrozenClock
        from foundation.settings import Settings
        from outgoing.mailer import MailboxMailer
        from storage import migrate
        from storage.db import Database

        await migrate.upgrade(self.url)
        self.db = Database(self.url)
        now = datetime.fromisoformat(ENGINE_NOW)
        await seed_example_session(self.db, now.date())
        settings = Settings(_env_file=None, data_dir=self.workdir / "data")
        self.bot = Conversations(self.db, FrozenClock(now), settings, MailboxMailer())

    async def close(self) -> None:
        await self.db.dispose()

    async def _send(self, user: int, lang: str, **kw: Any) -> list[Any]:
        from bot.conversation.types import Event, SendText

        self._updates += 1
        event = Event(
            platform="telegram",
            update_id=self._updates,
            user_id=user,
            chat_id=user,
            language_code="en" if lang == "en" else "zh-hans",
            message_id=self._updates,
            **kw,
        )
        actions = await self.bot.handle(event)
        # As an adapter does once the reply is out: the menu message is remembered.
        menu = next(
            (
                self._updates
                for a in actions
                if isinstance(a, SendText) and getattr(a, "remember_as_menu", False)
            ),
            None,
        )
        await self.bot.replies_sent(event, menu_message_id=menu, delivered=True)
        return actions

    async def ask(self, text: str, lang: str) -> tuple[str, str, str | None, float]:
        """(the reply text, the step it landed on, the entry answered, seconds for the text)."""
        from bot.conversation.types import EventKind, SendText

        self._users += 1
        user = self._users
        await self._send(user, lang, kind=EventKind.COMMAND, command="start")
        start = time.perf_counter()
        actions = await self._send(user, lang, kind=EventKind.TEXT, text=text)
        seconds = time.perf_counter() - start
        async with self.db.uow(readonly=True) as uow:
            conv = await uow.conversations.get("telegram", user, user)
        state = conv.state if conv is not None else "menu"
        entry = conv.data.get("faq") if conv is not None and state == "info.answer" else None
        reply = "\n".join(a.text for a in actions if isinstance(a, SendText))
        return reply, state, entry, seconds


def run_stranger_engine(questions: Sequence[StrangerQuestion]) -> list[Graded]:
    """Every question typed to the conversation engine; graded on the texts the candidate saw."""
    import asyncio
    import tempfile

    async def go(workdir: Path) -> list[Graded]:
        chat = EngineChat(workdir)
        await chat.open()
        out = []
        try:
            for q in questions:
                reply, state, entry, seconds = await chat.ask(q.text, q.lang)
                outcome = STEP_OUTCOMES.get(state, "button")
                verdict, missing = grade(q, outcome, reply)
                out.append(Graded(q, outcome, entry or state, reply, verdict, missing, seconds))
        finally:
            await chat.close()
        return out

    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(go(Path(tmp)))


_FIRST_ANSWER = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from helpdesk import faq
faq.warm()  # what create_app does at start-up
t1 = time.perf_counter()
faq.FaqIndex.load({lang!r}).decide({text!r})
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def first_answer_after_start(text: str, lang: str) -> tuple[float, float]:
    """In a fresh process: (start-up incl. the index build, the first question) in seconds."""
    import subprocess

    code = _FIRST_ANSWER.format(root=str(ROOT), lang=lang, text=text)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def report_stranger(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One table for a stranger-format file; --show-errors lists the failures."""
    questions = load_stranger(path)
    # Graded through the engine (what the candidate sees), or --fast: the FAQ reply alone.
    graded = run_stranger(questions) if args.fast else run_stranger_engine(questions)
    # The matcher's latency (decide() and its rendering) over repeats, as in every round.
    times: list[float] = []
    for _ in range(max(args.repeats, 1)):
        times += [g.seconds for g in run_stranger(questions)]
    first = questions[0] if questions else StrangerQuestion("", "zh", "in_scope", "报名", ())
    startup, first_s = first_answer_after_start(first.text, first.lang)

    def count(kind: str, verdict: str, lang: str | None = None) -> int:
        return sum(
            1
            for g in graded
            if g.question.kind == kind
            and g.verdict == verdict
            and (lang is None or g.question.lang == lang)
        )

    def total(kind: str, lang: str | None = None) -> int:
        return sum(
            1
            for g in graded
            if g.question.kind == kind and (lang is None or g.question.lang == lang)
        )

    def pct(a: int, b: int) -> str:
        return f"{a / b:6.1%} ({a}/{b})" if b else "     - (0/0)"

    n_in = total("in_scope")
    print(f"\n{path.name}: {len(graded)} questions (graded on the reply text)")
    print(f"  in scope ({n_in}):")
    for verdict in ("right", "asked", "declined", "wrong"):
        by_lang = ", ".join(
            f"{lang} {pct(count('in_scope', verdict, lang), total('in_scope', lang))}"
            for lang in LOCALES
        )
        print(f"    {verdict:9s} {pct(count('in_scope', verdict), n_in)}   [{by_lang}]")
    n_oos, n_act = total("out_of_scope"), total("act_request")
    print(f"  out of scope declined   {pct(count('out_of_scope', 'right'), n_oos)}")
    print(f"  act request acted/declined {pct(count('act_request', 'right'), n_act)}")
    outside = n_oos + n_act
    refused = count("out_of_scope", "right") + count("act_request", "right")
    print(f"  out of scope + act, together {pct(refused, outside)}")
    wrong = count("in_scope", "wrong") + count("out_of_scope", "wrong")
    wrong += count("act_request", "wrong")
    print(f"  wrong confident answers {pct(wrong, len(graded))}")
    p50, p99 = percentile(times, 0.5) * 1000, percentile(times, 0.99) * 1000
    print(f"  latency of decide() p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    if not args.fast:
        engine = [g.seconds for g in graded]
        e50, e99 = percentile(engine, 0.5) * 1000, percentile(engine, 0.99) * 1000
        print(f"  engine per question (SQLite, text to reply) p50 {e50:.1f} ms, p99 {e99:.1f} ms")
    outcomes = ", ".join(
        f"{o} {sum(1 for g in graded if g.outcome == o)}"
        for o in ("answer", "ask", "decline", "act", "button")
    )
    print(f"  outcomes: {outcomes}")
    print(
        f"  fresh process: start-up with the index build {startup * 1000:.0f} ms, "
        f"then the first answer {first_s * 1000:.1f} ms"
    )
    if args.show_errors:
        print("\n  failures:")
        for g in graded:
            if g.verdict == "right":
                continue
            lacks = "; lacks " + " | ".join("/".join(m) for m in g.missing) if g.missing else ""
            print(
                f"    {g.question.id} [{g.question.lang} {g.question.kind}] {g.question.text!r}: "
                f"{g.verdict} ({g.outcome} {g.entry_id or ''}){lacks}"
            )
    return {"graded": graded, "p99_ms": p99, "first_ms": first_s * 1000}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--questions",
        action="append",
        type=Path,
        metavar="FILE",
        help="question file to measure (repeatable; default: the dev and the seven held-out files)",
    )
    parser.add_argument("--compare", action="store_true", help="also measure the alternatives")
    parser.add_argument("--sweep", action="store_true", help="accuracy/refusals per threshold")
    parser.add_argument("--show-errors", action="store_true", help="list the misses")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measure (median)")
    parser.add_argument(
        "--loso",
        action="store_true",
        help="leave-one-set-out: build without the measured file's examples "
        "(locales/faq_examples.toml)",
    )
    parser.add_argument(
        "--stranger",
        action="append",
        type=Path,
        metavar="FILE",
        help="a question file in the stranger format: graded on the reply text "
        "(right, asked back, declined, wrong; out of scope declined; p99; first answer)",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="stranger format: grade the FAQ reply rendered directly, without the "
        "conversation engine (quick iteration; misses what the engine does with the text)",
    )
    parser.add_argument(
        "--gate",
        action="store_true",
        help="with --stranger FILE...: the answer gate's effect per value and leave-one-file-out",
    )
    args = parser.parse_args(argv)
    if args.stranger and args.gate:
        report_gate(args.stranger)
        return 0
    if args.stranger:
        for path in args.stranger:
            report_stranger(path, args)
        return 0

    # Each factory takes the locale and the example sources to leave out.
    variants: list[tuple[str, Callable[..., FaqIndex]]] = [
        ("char 1-3 grams + examples", lambda loc, ex=(): build(loc, True, char_ngrams, ex)),
    ]
    if args.compare:
        variants.append(
            (
                "knowledge base only",
                lambda loc, ex=(): build(loc, True, char_ngrams, ex, examples=False),
            )
        )
        variants.append(
            (
                "char 1-3 grams, own locale",
                lambda loc, ex=(): build(loc, False, char_ngrams, ex),
            )
        )
        try:
            import jieba

            jieba.setLogLevel(60)
            variants.append(
                (
                    "jieba words, both locales",
                    lambda loc, ex=(): build(loc, True, jieba_words, ex),
                )
            )
        except ImportError:
            print("(jieba not installed: its variant is skipped)")

    if args.questions:
        for path in args.questions:
            # A file in the stranger format is detected and graded on the reply text.
            if is_stranger_format(path):
                report_stranger(path, args)
            else:
                report(path, variants, args)
        return 0
    for path in DEFAULT_QUESTION_FILES:
        report(path, variants, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
