# WeChat template messages (bot/handlers/wechat/templates.py): pushes outside the 48-hour
# customer-service window. -title: the template a school applies for in the library;
# -first/-remark: the industry format's headline and remark (WeChat has not shown them since
# May 2023, so they only repeat); the rest are keyword values, within their type's limits:
# thing at most 20 characters, time a 24-hour date and time, amount a sum of money.
wx-template-subject = { $subject }
wx-template-campus = { $campus }
wx-template-deadline = { $expires_at }
wx-template-amount = ¥{ $amount }

wx-template-reminder-title = Payment reminder
wx-template-reminder-first = A subject you registered for is not paid yet
wx-template-reminder-remark = Unpaid entries are deleted at the deadline: pay under "My registration".

wx-template-waitlist-title = Waitlist success
wx-template-waitlist-first = A seat came free: the subject was added for you
wx-template-waitlist-remark = Pay before the deadline under "My registration", or the entry is deleted.

wx-template-review-title = Review result
wx-template-review-first = Your CET-6 qualification review was decided
wx-template-review-ticket = { $ticket_no }
wx-template-review-decision = { $status ->
    [approved] Approved
   *[other] Not approved
}
wx-template-review-note = { $note }
wx-template-review-remark = See the details in the chat.

wx-template-expired-title = Registration cancelled
wx-template-expired-first = An unpaid subject was deleted
wx-template-expired-reason = Unpaid for 24 hours
wx-template-expired-remark = While registration is open you may register again if seats are free.

wx-template-payment-title = Payment result
wx-template-payment-first = Your registration payment has a result
wx-template-payment-state-paid = Paid: registered
wx-template-payment-state-restored = Restored and paid
wx-template-payment-state-refund = Refunded: entry gone
wx-template-payment-remark = See the details under "My registration".

wx-template-sign-in-title = Sign-in alert
wx-template-sign-in-first = Your account was signed in from another chat
wx-template-sign-in-at = { $at }
wx-template-sign-in-where = Not you? Open chat
wx-template-sign-in-remark = If it was not you, open the chat to sign out everywhere and reset the password.

# The keywords' names in the templates (a school picks templates with these keywords)
wx-template-label-subject = Subject
wx-template-label-campus = Campus
wx-template-label-deadline = Pay by
wx-template-label-amount = Amount
wx-template-label-payment-state = Payment status
wx-template-label-ticket = Ticket number
wx-template-label-decision = Result
wx-template-label-note = Note
wx-template-label-reason = Reason
wx-template-label-sign-in-at = Signed in at
wx-template-label-sign-in-note = Note
