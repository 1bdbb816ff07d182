## Information pages and latest news (R40). Each message at most about 700 characters,
## short paragraphs for a phone screen. Same keys and placeholders as zh/info.ftl
## (checked by tests/conversation/test_info.py).

info-btn-intro = About the exam
info-btn-notice = Notice to candidates
info-btn-timetable = Timetable
info-btn-steps = Registration steps
info-btn-special = Special notes
info-btn-phone = Help-desk phone
info-btn-news = Latest news
info-btn-faq = FAQ:
info-btn-next = Next ▶
info-btn-previous = ◀ Previous

info-page-intro =
    About the exam

    The College English Test (CET) has written and oral (speaking) tests. This session: { $name }.

    Written: English, Japanese, German and Russian at level 4 and 6, and French level 4.
    Oral: CET-4 oral (CET-SET4) and CET-6 oral (CET-SET6).

    What you can take depends on the eligibility your school reported. Registration, payment and tickets are all done here.

info-page-notice =
    Notice to candidates

    1. Check your student record (photo, name, ID number, eligibility) first. If it is wrong, do not confirm it; ask your school's administrator to correct it.
    2. One written subject per level. The oral test needs its written subject; pay the written one first.
    3. Only "paid" means registered. Unpaid entries are deleted 24 hours after creation.
    4. Paid entries cannot be changed or cancelled: check subject and campus before paying.
    5. Tickets can be printed from the print time on, for paid entries only.

info-page-timetable =
    Timetable: { $name }

    Registration: { $opens } to { $closes }
    Oral tickets: from { $print_oral }
    Written tickets: from { $print_written }

    Exams:
    { $exams }
info-timetable-row = • { $subjects }: { $date } { $start }–{ $end }
info-timetable-none = The exam times are not published yet.
info-subject-separator = {", "}

info-page-steps-1 =
    Registration steps (1/3): account

    1. Sign up for a CET pass account: an e-mail address only; the password has at least 8 characters with letters, digits and a special character.
    2. Verify your e-mail with the 6-digit code sent to it (valid for 15 minutes).

    A pass account from an earlier exam still works.
info-page-steps-2 =
    Registration steps (2/3): record and eligibility

    3. Tap "Start registration" and accept the agreement.
    4. Look up your record with name, ID type and ID number.
    5. Check photo, record and eligibility, confirm your phone number and save.

    No CET-6 in your eligibility? Ask for the CET-6 review (with a CET-4 ticket number scoring 425 or more).
info-page-steps-3 =
    Registration steps (3/3): subjects and payment

    6. Register a written subject, and its oral test if you want. If the campus is full, join the waitlist.
    7. Pay (Alipay or PayEase); "paid" means you are registered. Unpaid entries are deleted after 24 hours.
    8. From the print time on, print your ticket here, or use quick print.

info-page-special =
    Special notes

    • The bank charged you but the entry still says "unpaid": do not pay again; tap "Update payment status" to check.
    • After registration closes you cannot add or change entries; unpaid ones can still be paid within your campus's administration period.
    • In one session a student record can be confirmed by one pass account only.
    • A waitlist success creates an unpaid entry: pay it within 24 hours too.

info-page-phone =
    Help-desk phone: { $phone }

    For your student record, photo or the CET-6 review (managed by your school), ask your school's registration administrator.

info-news-title = Latest news
info-news-none = No news has been published yet.
info-news-row = • { $title } ({ $date })
info-news-pick = Tap a title to read it.
info-news-item =
    { $title }
    { $date }

    { $body }
info-news-gone = This news item is no longer available.
# The FAQ's fee list (info.py _fees): one line per amount.
info-fee-line = · { $subjects }: ¥{ $yuan } (yuan)
info-list-sep = { ", " }
info-date = { $year }-{ $month }-{ $day }
info-time = { $time }
