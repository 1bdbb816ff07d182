# Admission ticket (R38): the words on the page and the rules for candidates.
ticket-title = Admission Ticket
ticket-doc-title = { $session } admission ticket { $ticket }

ticket-label-name = Name
ticket-label-gender = Gender
ticket-label-id-type = ID type
ticket-label-id-number = ID number
ticket-label-ticket-no = Ticket no.
ticket-label-subject = Subject
ticket-label-date = Exam date
ticket-label-time = Exam time
ticket-label-campus = Campus
ticket-label-address = Address
ticket-label-room = Room
ticket-label-seat = Seat

ticket-gender-male = Male
ticket-gender-female = Female

ticket-id-type-resident = Resident identity card
ticket-id-type-passport = Passport
ticket-id-type-hk-macao = Mainland travel permit (Hong Kong / Macao)
ticket-id-type-taiwan = Mainland travel permit (Taiwan)

ticket-weekday-1 = Monday
ticket-weekday-2 = Tuesday
ticket-weekday-3 = Wednesday
ticket-weekday-4 = Thursday
ticket-weekday-5 = Friday
ticket-weekday-6 = Saturday
ticket-weekday-7 = Sunday
ticket-date = { $weekday }, { $year }-{ $month }-{ $day }
ticket-time-range = { $start }–{ $end } ({ $zone })
ticket-zone-asia-shanghai = Beijing time
ticket-list-separator = {", "}

ticket-photo-missing = No photo on file
ticket-qr-caption = Scan to verify
ticket-qr-note = This code is digitally signed; any change makes it invalid.

ticket-rules-title = Rules for candidates
ticket-rule-1 = Bring this ticket and the valid ID document you registered with; without both you cannot sit the exam.
ticket-rule-2 = Arrive 30 minutes before the start, sit at your seat number, and put the ticket and ID at the top left of the desk for checking.
ticket-rule-3 = Latecomers are not admitted once the exam has started, and nobody may hand in and leave early.
ticket-rule-4 = Take only a black gel pen, a 2B pencil and an eraser to your seat; switch off phones, smart watches and other devices and leave them where told.
ticket-rule-5 = Keep quiet and follow the invigilators; do not talk, pass anything, or look at another candidate's answers.
ticket-rule-6 = Write your answers in the marked areas of the answer sheet; answers on the question booklet or scrap paper do not count.
ticket-rule-7 = Stop writing at the end signal and stay seated until all papers, answer sheets and scrap paper are collected; take none of them out.
ticket-rule-8 = Breaches of exam discipline are dealt with under the national rules on misconduct in education examinations.

ticket-footer = Keep this ticket safe; do not throw it away before the results are published.

# Command-line check (cetbot ticket verify)
ticket-cli-no-key = No ticket signing key found: pass the public key file with --public-key.
ticket-cli-bad-key = Cannot read the public key file: { $error }
ticket-cli-no-text = Give the QR code text, or a picture with --image.
ticket-cli-bad-image = Cannot read the picture: { $error }

# Ticket documents (registration/tickets.py)
ticket-id-type-hmt-residence = Residence permit for Hong Kong, Macao and Taiwan residents
ticket-id-type-foreign-permanent = Foreign permanent resident ID card
ticket-filename = admission-ticket-{ $subject }-{ $ticket }.pdf

# Signed ticket links (admission/ticket_link_app.py), shown in a browser
ticket-link-forged = This link is not valid: get the ticket again in the chat.
ticket-link-expired = This link has expired (links work for 30 minutes): get the ticket again in the chat.
ticket-link-gone = This admission ticket is no longer valid and cannot be downloaded. Please contact your school's exam office.
