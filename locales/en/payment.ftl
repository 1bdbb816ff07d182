# Payment (R26-R30): the sandbox payment page and payment errors.
pay-page-title = Exam fee payment
pay-page-language = English
pay-page-sandbox-note = This is the sandbox payment page, for tests and demos only; no money is charged.
pay-page-item = Item
pay-page-payment-id = Payment no.
pay-page-pay = Pay
pay-page-fail = Payment fails
pay-page-pay-lose = Pay but lose the callback
pay-page-pay-lose-hint = "Pay but lose the callback" simulates a bank that charged while the registration system was never told: go back to the bot and press "Update".
pay-page-paid = Payment successful.
pay-page-failed = The payment did not go through. You can go back to the bot and pay again.
pay-page-callback-lost = The registration system has not been told yet; if your entry still shows unpaid, press "Update".
pay-page-back = Back
pay-page-bad-link = This payment link is invalid or was changed. Please get a new one from the bot.
error-callback-refused = The payment notice failed verification and was refused.
