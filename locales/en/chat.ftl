# Everything a candidate reads in the chat (bot/conversation/). Sent as plain text (no parse_mode).
# Same keys and placeholders as zh/chat.ftl; chat-prompt-<step> is the prompt of each step in flows.py.

## Common

chat-datetime = { $year }-{ $month }-{ $day } { $time } (Beijing time)
chat-money = ¥{ $yuan }
chat-none = none
chat-help-phone-unknown = the help-desk number on the registration web site
# Words that start an obvious question (space-separated); the words of both languages are used.
chat-question-words = how what why when where which who can could should would is are do does did will may

## Buttons (short)

chat-btn-back = ‹ Back
chat-btn-menu = Main menu
chat-btn-start-registration = Start registration
chat-btn-my = My registration
chat-btn-quick-print = Quick print tickets
chat-btn-info = Information
chat-btn-account = Account
chat-btn-language = Language 语言
chat-btn-sign-up = Sign up
chat-btn-sign-in = Sign in
chat-btn-recover = Recover my account
chat-btn-reset = Forgot password
chat-btn-sign-out = Sign out
chat-btn-enter-code = Enter e-mail code
chat-btn-resend-code = Send the code again
chat-btn-have-account = I have an account
chat-btn-agree = I have read and agree
chat-btn-confirm-record = Correct, confirm
chat-btn-review = CET-6 review
chat-btn-not-me = Not right, look up again
chat-btn-use-phone = Use this number
chat-btn-new-phone = Change phone
chat-btn-add-subject = Register a subject
chat-btn-waitlists = My waitlists
chat-btn-print = Print tickets
chat-btn-pay = Pay
chat-btn-pay-link = Pay { $amount }
chat-btn-update = Update payment status
chat-btn-change-campus = Change campus
chat-btn-cancel = Cancel entry
chat-btn-confirm-cancel = Yes, cancel
chat-btn-paper = Paper score report
chat-btn-join-waitlist = Join the waitlist
chat-btn-leave = Leave waitlist: { $subject }

## Main menu, help, language

chat-prompt-menu = What would you like to do?
chat-welcome = Hello! I am the CET registration assistant: register for the College English Test on your phone.
chat-help =
    How to use me:
    · Tap the buttons. You only type your name, ID number, e-mail, password, codes, ticket numbers and phone.
    · /start goes to the main menu, /cancel leaves the current step, /language switches the language.
    · Type a question and I will look for an answer in the FAQ.
chat-left-step = You left the previous step; nothing was saved.
chat-left-step-saved = You left the previous step. What you confirmed before is saved: see "My registration".
chat-cancelled = The current step was cancelled; nothing was saved.
chat-unknown-command = There is no command "/{ $command }". Commands: /start /help /cancel /language
chat-phase-before = Online registration opens { $opens }. You can already look up your record and eligibility, or apply for the CET-6 review.
chat-phase-open = Online registration is open until { $closes }.
chat-phase-closed = Online registration has closed.
chat-no-session = No exam session is open at the moment. Watch for your school's notice.
chat-prompt-language = 请选择语言 / Choose a language:
chat-language-zh = 中文
chat-language-en = English
chat-language-set = Language set to English.

## Expired menus, bad input

chat-menu-expired = That menu has expired. Here is the current one.
chat-menu-expired-toast = This menu has expired
chat-other-at-typed = I can only read text. Please type { $expects }.
chat-other-at-buttons = I can only read text and buttons. Please tap a button below.
chat-input-too-long = That is too long. Please type { $expects }.
chat-question-then-input = That was the answer; now please continue with the step below.
chat-empty-message = That message was empty. Please continue below.
chat-text-at-buttons = At this step, tap a button below (or type its label): { $choices }
chat-choices-separator = {", "}
chat-contact-not-yours = That is someone else's contact. Please share your own phone number, or type it.
chat-contact-elsewhere = No phone number is needed here. Please continue below.
chat-expects-email = your e-mail address
chat-expects-password = your password
chat-expects-code = the 6-digit code
chat-expects-name = your name
chat-expects-id-number = your ID number
chat-expects-phone = your 11-digit mobile number
chat-expects-ticket-number = the 15-digit ticket number
chat-deleted-password = For your safety, the message with your password was deleted.
chat-deleted-password-undeletable = For your safety, please press and hold the message with your password and delete it.
chat-deleted-id-undeletable = For your privacy, please press and hold the message with your ID number and delete it.
chat-deleted-id = For your privacy, the message with your ID number was deleted.
chat-name-invalid = That does not look like a name. Please type the name on your student record (letters or Chinese characters; a middle dot may be typed as "·" or ".").
chat-code-form = The code has 6 digits. Please type it again.

## Pass account (R7-R10)

chat-prompt-account = You are not signed in to a pass account in this chat. A pass account is an e-mail address, reusable for later exams.
chat-account-needed = To register you need a pass account with a verified e-mail. If you have none, sign up now.
chat-account-unverified = Signed in: { $email }
    The e-mail is not verified yet; registration information can be saved only after verification.
chat-account-signed-in = Signed in: { $email } (e-mail verified)
chat-signed-out = Signed out. The account itself remains.
chat-prompt-signup-email = Sign up: please type your e-mail address (e.g. zhang@example.com).
chat-prompt-signup-password =
    Choose a password for { $email }:
    at least 8 characters, with letters, digits and special characters (!@#$%^&*_-).
    The message with your password is deleted right after I read it.
chat-prompt-signup-password-undeletable =
    Choose a password for { $email }:
    at least 8 characters, with letters, digits and special characters (!@#$%^&*_-).
    After sending it, press and hold your message with the password and delete it (an official account cannot delete it for you).
chat-signed-up = The pass account { $email } was created and is signed in to this chat.
chat-prompt-verify-code = A code was sent to { $email }. Please type the 6-digit code from the mail (valid for 15 minutes).
chat-code-sent = A code was sent to { $email }.
chat-verified = Your e-mail is verified!
chat-verify-first = Please verify your e-mail first.
chat-prompt-signin-email = Sign in: please type the e-mail of your pass account.
chat-prompt-signin-password = Please type the password of { $email } (the message is deleted right after reading).
chat-prompt-signin-password-undeletable = Please type the password of { $email } (then press and hold your message with the password and delete it; an official account cannot delete it for you).
chat-signed-in = Signed in: { $email }
chat-prompt-recover-name = Recover my account: please type the name on your student record.
chat-prompt-recover-id-type = Please choose your ID type:
chat-prompt-recover-id-number = Please type your ID number (a final x may be lower- or upper-case).
chat-prompt-recover-done = Account recovery
chat-recovered =
    If a pass account registered this record, we have sent a mail to that account's address naming it. Please check the mailboxes you use (spam too).
    To protect candidates' data, the chat does not say whether one was found. Sign in with the address in the mail; if you forgot the password, reset it by e-mail.
chat-prompt-reset-email = Reset password: please type the e-mail of your pass account.
chat-reset-sent = If { $email } has a pass account, a reset code was sent to it.
chat-prompt-reset-code = Please type the 6-digit code from the mail.
chat-prompt-reset-password =
    Choose a new password for { $email }:
    at least 8 characters, with letters, digits and special characters (!@#$%^&*_-).
    The message is deleted right after reading.
chat-prompt-reset-password-undeletable =
    Choose a new password for { $email }:
    at least 8 characters, with letters, digits and special characters (!@#$%^&*_-).
    After sending it, press and hold your message with the password and delete it (an official account cannot delete it for you).
chat-password-reset = Your password was reset and { $email } is signed in to this chat (other chats must sign in again).

## ID types

chat-prompt-id-type = Please choose your ID type:
chat-idtype-id-card = Resident ID card
chat-idtype-passport = Passport
chat-idtype-hk-macao-permit = HK/Macao travel permit
chat-idtype-taiwan-permit = Taiwan travel permit
chat-idtype-hmt-residence = HK/Macao/Taiwan residence permit
chat-idtype-foreign-permanent = Foreign permanent resident ID
chat-idtype-hint-id-card = 18 characters; the last may be X (a lower-case x is fine).
chat-idtype-hint-passport = 5 to 17 letters and digits.
chat-idtype-hint-hk-macao-permit = H or M followed by 8 or 10 digits.
chat-idtype-hint-taiwan-permit = 8 digits.
chat-idtype-hint-hmt-residence = 18 characters starting with 810000, 820000 or 830000.
chat-idtype-hint-foreign-permanent = 18 characters starting with 9, or 3 letters and 12 digits.
chat-id-problem-empty = Please type your ID number.
chat-id-problem-length = The ID number has the wrong number of characters. Please check it.
chat-id-problem-characters = The ID number contains characters that are not allowed. Please use digits and letters only.
chat-id-problem-region = The region code at the start of the ID number is not right. Please check the ID type and number.
chat-id-problem-birth-date = The birth date inside the ID number is not valid. Please check it.
chat-id-problem-check-digit = The check digit of the ID number does not match (probably one character is mistyped). Please check it.

## Start registration: agreement, lookup, confirmation (R11-R13)

chat-prompt-reg-agreement =
    Registration agreement (please read):
    1. The information I give is true and accurate, I register myself, and I am responsible for the consequences of wrong information.
    2. I know each entry must be paid within 24 hours; unpaid entries are deleted automatically.
    3. Only an entry whose payment status is "paid" counts as registered.
    4. I will follow the exam rules, print my admission ticket in time and sit the exam.
    5. I agree that the exam authority uses my student record and photo to organise the exam.
chat-prompt-reg-id-type = Please choose your ID type:
chat-prompt-reg-name = Please type the name on your student record.
chat-prompt-reg-id-number = Please type your ID number. After the lookup, the message with it is deleted.
chat-prompt-reg-confirm = Please check your student record and eligibility:
chat-record =
    Name: { $name }
    Gender: { $gender }
    ID: { $id_type } { $id_number }
    School: { $school }
    Campus: { $campus }
    Student no.: { $student_no }
    Eligible written subjects: { $eligible }
chat-gender-m = male
chat-gender-f = female
chat-no-photo = Your record has no photo. Please ask your school to add one soon; your admission ticket needs it.
chat-before-window = Online registration opens { $opens }; only then can the information be confirmed and saved. You can apply for the CET-6 review now.
chat-prompt-reg-phone = The phone number on your record is { $phone }. Use it for exam notices?
chat-prompt-reg-phone-typed = Please type your 11-digit mobile number.
chat-phone-problem-empty = Please type a phone number.
chat-phone-problem-characters = A phone number has digits only.
chat-phone-problem-length = A mobile number has 11 digits. Please check it.
chat-phone-problem-prefix = Please type a mainland mobile number starting with 13 to 19.
chat-saved = Your registration information is saved. Now you can register subjects.
chat-already-saved = Your registration information for this session is already saved.

## CET-6 review (R14-R19)

chat-prompt-review-ticket = CET-6 review: please type the 15-digit admission ticket number of the CET-4 sitting where you scored 425 or more.
chat-review-passed = Review passed! You can now register for CET-6 and its speaking test.
chat-review-not-reviewed = Your request was saved as "not reviewed". Please bring proof of your score to your school's registration office, which will decide.
chat-review-status-passed = CET-6 review: passed
chat-review-status-not-reviewed = CET-6 review: not reviewed (waiting for your school)
chat-review-status-approved = CET-6 review: approved by your school
chat-review-status-rejected = CET-6 review: rejected by your school

## Entries (R20-R25)

chat-prompt-entry-subject = Choose a subject (one written subject per level; a speaking test needs its written test first):
chat-subject-line = · { $subject }: { $fee }, exam { $exam }
chat-nothing-to-register = There is nothing more you can register at the moment.
chat-prompt-entry-campus = Choose a campus for { $subject } (free seats in brackets):
chat-campus-free = { $campus } ({ $free } free)
chat-campus-full = { $campus } (full, waitlist)
chat-prompt-entry-paper = Do you want a paper score report? (You can change this until you pay.)
chat-paper-none = No
chat-paper-report = Paper score report
chat-paper-report-and-certificate = Report and certificate
chat-just-filled = Someone just took the last seat of that campus.
chat-registered = Registered { $subject } ({ $campus }). Please pay before { $deadline }; unpaid entries are deleted then.

## My registration (R24, R26-R29)

chat-prompt-overview = My registration
chat-overview-head = My registration: { $name }, phone { $phone }
chat-overview-no-entries = No subjects registered yet.
chat-entry-paid = ✅ { $subject } | { $campus } | { $fee } | paid
chat-entry-unpaid = ⏳ { $subject } | { $campus } | { $fee } | unpaid, pay before { $deadline }
chat-entry-paper = Paper score report: { $paper }
chat-overview-waiting = Waiting: { $subject } | { $campus } | number { $position } in the queue
chat-not-registered-yet = You have not saved registration information for this session yet. Tap "Start registration" first.
chat-prompt-entry-detail = Entry
chat-entry-unpaid-hint = Only "paid" means registered. If you paid and it still shows unpaid, tap "Update payment status".
chat-entry-paid-hint = Paid: you are registered. Once ticket printing opens, print it from "My registration".
chat-prompt-entry-pay = Pay the fee of { $amount } for { $subject } before { $deadline }. After paying, come back and tap "Update payment status".
chat-payment-preparing = Payment is being prepared; please try again a little later. Your entry is kept until its deadline.
chat-paid = Payment received! This entry is registered.
chat-still-unpaid = No payment found yet. If you have paid, wait a moment and tap "Update payment status" again.
chat-prompt-entry-change = { $subject } is at { $campus } now. Choose the new campus:
chat-campus-changed = Moved to { $campus }.
chat-prompt-entry-cancel = Cancel this entry?
    { $entries }
chat-prompt-entry-cancel-cascade = Cancelling this written test also cancels its speaking test. Cancel all of these?
    { $entries }
chat-cancelled-entries = Cancelled: { $entries }.
chat-prompt-entry-paper-change = Choose the paper score report:
chat-paper-set = Paper score report set to: { $paper }.
chat-no-paid-entries = No entry is paid yet, so there is no ticket to print.
chat-tickets-coming-soon = Ticket printing is coming soon.
chat-tickets-sent = { $count } admission ticket(s) sent. Please save or print them.

## Waitlists (R34-R37)

chat-prompt-waitlist-offer = { $subject } at { $campus } is full; { $waiting } people are waiting. On the waitlist, a freed seat is registered for you in queue order and you are told at once.
chat-waitlist-joined = On the waitlist: { $subject } | { $campus }, number { $position } in the queue.
chat-prompt-waitlists = My waitlists:
chat-waitlist-waiting = · { $subject } | { $campus } | number { $position }
chat-waitlist-none-waiting = No active waitlist.
chat-waitlist-finished-title = Finished waitlists:
chat-waitlist-succeeded = · { $subject } | { $campus } | got a seat{ $reason }
chat-waitlist-cancelled = · { $subject } | { $campus } | cancelled: { $reason }
chat-waitlist-closed = · { $subject } | { $campus } | closed: { $reason }
chat-prompt-waitlist-reason = Why are you leaving the waitlist?
chat-wl-reason-plans-changed = Plans changed
chat-wl-reason-other-campus = Another campus
chat-wl-reason-schedule-conflict = Time conflict
chat-wl-reason-other = Other reason
chat-wl-reason-registered = registered a subject of that level
chat-wl-reason-window-closed = registration closed
chat-wl-reason-not-registered = registration information deleted
chat-waitlist-left = You left the waitlist.

## Quick print (R39)

chat-prompt-quick-name = Quick print: please type your name.
chat-prompt-quick-id-number = Please type your ID number. The message with it is deleted after reading.

## Information (R40)

chat-prompt-info = What would you like to know? You can also just type a question.
    Help desk: { $phone }
chat-prompt-info-topic = { $topic }:
chat-prompt-info-answer = Answer
chat-prompt-info-page = Information
chat-prompt-info-news = Latest news
chat-prompt-info-news-item = News item
chat-prompt-info-ask = Did you mean
chat-prompt-info-act = What I can do
chat-topic-account = Pass account
chat-topic-windows = Dates and steps
chat-topic-review = CET-6 review
chat-topic-subjects = Subjects
chat-topic-payment = Payment
chat-topic-waitlist = Waitlist
chat-topic-ticket = Admission ticket
chat-topic-other = Other

# The "not me" button after a sign-in from another chat (R7).
chat-not-me-done = { $email } is now signed out in every chat. A password reset code was sent to that address (if you asked for several just now, try again later); type it and choose a new password.
chat-not-me-signed-out = No pass account is signed in in this chat. To protect your account, tap "Forgot password" to reset the password by e-mail.
