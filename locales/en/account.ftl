# Pass account mails (R9 e-mail verification, R10 password reset). $code is the six-digit code, $minutes how long it lasts.
account-verify-mail-subject = [CET Registration Assistant] Your e-mail code
account-verify-mail-body =
    Hello,

    You are creating a CET registration pass account with { $email }. Your code is:

        { $code }

    The code is valid for { $minutes } minutes and works once. Send it in the chat to verify your e-mail.
    If this was not you, ignore this mail; your address will not be used.

    CET Registration Assistant (automatic mail, please do not reply)

account-reset-mail-subject = [CET Registration Assistant] Password reset code
account-reset-mail-body =
    Hello,

    Someone asked to reset the password of the pass account { $email }. Your code is:

        { $code }

    The code is valid for { $minutes } minutes and works once. Send it in the chat and choose a new password.
    After the reset, every chat signed in to this account must sign in again.
    If this was not you, ignore this mail; your password stays as it is.

    CET Registration Assistant (automatic mail, please do not reply)

# R10 account recovery: sent to the account's own address only, never shown in the chat. $email the address, $name the record's name.
account-recover-mail-subject = [CET Registration Assistant] Your registered pass account
account-recover-mail-body =
    Hello,

    Someone asked the registration assistant which pass account registered the record of { $name }.
    That record was registered with this address: { $email }

    Sign in with it; if you forgot the password, tap "Forgot password" in the chat to reset it by e-mail.
    If this was not you, ignore this mail; your account is not affected.

    CET Registration Assistant (automatic mail, please do not reply)
