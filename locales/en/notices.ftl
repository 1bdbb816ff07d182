# Messages pushed to candidates (the outbox); keys are notice-<kind>.
notice-reminder = Reminder: your { $subject } entry ({ $campus }) is unpaid and will be deleted at { $expires_at } (Beijing time), in about { $hours } h. Please pay it under "My registration".
notice-promoted = Good news from the waitlist: a seat for { $subject } at { $campus } is yours. Your entry was created; please pay it before { $expires_at } (Beijing time) or it will be deleted.
notice-entry-expired = Your { $subject } entry ({ $campus }) was deleted because it was not paid within 24 hours. While registration is open and seats are free, you can register again.
notice-payment-paid = Payment received: { $subject } ({ $campus }), { $amount } yuan. You are registered.
notice-payment-restored = Your payment ({ $amount } yuan) arrived after your { $subject } entry ({ $campus }) had expired; a seat was still free, so the entry was restored and is paid.
notice-payment-refund = Your payment ({ $amount } yuan) arrived after your { $subject } entry ({ $campus }) had expired and no seat is left; the money will be refunded. Call the help desk if you have questions.
notice-review-decided = Your CET-6 eligibility review (ticket { $ticket_no }) was decided: { $decision }. { $note }
notice-review-approved = approved, you can now register for CET-6
notice-review-rejected = not approved
notice-signed-in-elsewhere = Your pass account was signed in from another chat at { $at } (Beijing time). Not you? Tap the button below to sign out everywhere and reset your password.
notice-signed-in-elsewhere-button = Not me: sign out all, reset password
