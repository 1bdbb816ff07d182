# Text of the bot's shell (bot/handlers, bot/app.py, cetbot run / demo).
bot-command-start = Start / main menu
bot-command-help = How to use this bot
bot-command-cancel = Cancel what you are doing
bot-command-language = 切换语言 / Language
bot-error-apology = Sorry, that did not work and nothing was changed. Please try again in a moment, or send /start for the main menu.
bot-too-many-pending = You have sent a lot of messages at once; the bot is still working through the earlier ones and skipped some of the later ones. Please wait for its reply before going on.

run-no-token = BOT_TOKEN is not set, so the bot cannot start. Put the token from @BotFather in the environment or in .env; to try the bot locally, run cetbot demo.
run-no-webhook-secret = WEBHOOK_URL is set but WEBHOOK_SECRET is not. Webhook mode needs the secret, or anyone could forge updates.
run-token-rejected = Telegram refused BOT_TOKEN (invalid or revoked). Check the token with @BotFather.
run-unknown-framework = BOT_FRAMEWORK must be aiogram or ptb, not "{ $name }".
run-polling = The bot is running ({ $framework }, long polling). Press Ctrl-C to stop.
run-webhook = The bot is running ({ $framework }, webhook { $url }, listening on { $listen }). Press Ctrl-C to stop.
run-stopped = The bot has stopped.

demo-seeded = Demo data created: session { $session }, { $records } student records, { $scores } scores.
demo-kept = The database already has data; keeping it ({ $url }).
demo-clock = Demo clock: { $now } (move it on the chat page or with POST /control/clock).
demo-page = Open the chat page in a browser: { $url }
demo-framework = Bot framework: { $framework }
demo-port-busy = Port { $port } is in use; choose another with --port.
demo-candidates-title = Demo candidates (copy an ID number into the chat)
demo-col-name = Name
demo-col-id-type = ID type
demo-col-id-number = ID number
demo-col-try = What to try
demo-mail-header = Mail to { $to }: { $subject }
demo-no-sandbox = The payment sandbox could not start ({ $url }: port in use); payment links will not open in this demo.
demo-stopping = Stopping the demo...

demo-id-type-id-card = Resident ID card
demo-id-type-passport = Passport
demo-id-type-hk-macao-permit = HK/Macao travel permit
demo-id-type-taiwan-permit = Taiwan travel permit
demo-id-type-hmt-residence = HK/Macao/Taiwan residence permit
demo-id-type-foreign-permanent = Foreign permanent resident ID

demo-try-plain = the plain path: CET4 at BSU-HD, then the CET-SET4 speaking test
demo-try-cet6-eligible = already CET6-eligible; has CET-4 and CET-6 scores
demo-try-x-digit = ID ends in X: type a lower-case x or full-width digits
demo-try-middle-dot = name with a middle dot: "." or "•" match too
demo-try-cjt4-only = eligible for Japanese CJT4 only
demo-try-one-per-level = CET4 and CJT4 are both level 4: only one may be registered
demo-try-cft4-only = eligible for French CFT4 only
demo-try-passport = passport holder
demo-try-hk-macao = HK/Macao permit holder, CET4 and CET6
demo-try-hmt-residence = HK/Macao/Taiwan residence permit holder
demo-try-no-photo = no photo in the roster
demo-try-small-campus = BSU-CP student: few seats, try the waitlist
demo-try-review-pass = CET-6 review: ticket { $ticket } passes at once
demo-try-review-renamed = CET-6 review: { $ticket }, same ID, changed name: passes at once
demo-try-review-manual = CET-6 review: { $ticket }, ID differs: waits for the school's review
demo-try-review-foreign = CET-6 review: { $ticket } is someone else's ticket: refused
demo-try-review-low = CET-6 review: { $ticket }, score 398 is below 425
demo-try-review-missing = CET-6 review: { $ticket } is not in the scores: manual review
run-payment-callback = Payment callbacks are accepted at { $listen }/payments/callback.
run-worker-started = The background worker (expiry, reminders, waitlists, notices, tickets) runs in this process.
run-worker-elsewhere = Another process (cetbot worker or another cetbot run) already runs the background worker for this SQLite database; this process runs the bot only, without a worker.
run-worker-off = No background worker in this process (--no-worker or CETBOT_WORKER=0); run cetbot worker separately.
run-port-busy = A port is in use: { $detail }. Choose another with PAYMENT_CALLBACK_PORT, or set it to 0 to serve no payment callback port.

# Start-up checklist (cetbot/checklist.py, docs/security.md "Before going live").
preflight-secret-blank = { $name } is not set, so this command will not start: without it anyone could forge what it protects. Make one of at least { $min } characters with { $make } and put it in the environment or in .env.
preflight-secret-short = { $name } is shorter than { $min } characters and could be guessed, so this command will not start. Make a new one with { $make } and put it in the environment or in .env.
preflight-secret-placeholder = { $name } is a placeholder from the examples (such as change-me), known to everyone, so this command will not start. Make a real one with { $make } and put it in the environment or in .env.
preflight-webhook-not-https = WEBHOOK_URL must be an https address (only a loopback address may use http), not { $url }: Telegram's updates and the secret token would travel in clear text.
preflight-webhook-secret-charset = WEBHOOK_SECRET may hold only letters, digits, "_" and "-" (at most 256), or Telegram refuses the webhook. Make one with { $make }.

## WeChat official account (bot/handlers/wechat/)
wechat-choose-number = Reply with the number of your choice (1-{ $count }).
wechat-choose-menu = Tap one of the options above.
wechat-document-unavailable = The file { $name } cannot be sent in WeChat itself.
wechat-menu-start = Menu
wechat-menu-help = Help
wechat-menu-more = More
wechat-menu-language = Language
wechat-menu-cancel = Cancel
run-unknown-platform = --platform must be telegram or wechat, not "{ $name }".
run-wechat = The WeChat official account bot is running (AppID { $app_id }, listening on { $listen }, push path { $path }). Press Ctrl-C to stop.
run-wechat-rejected = WeChat refused WECHAT_APP_ID / WECHAT_APP_SECRET (or this machine's IP is not on the account's IP allow-list). Check them in the account's Settings and Development > Basic Configuration.
preflight-wechat-missing = { $name } is not set, so the WeChat official account bot will not start. Find it in the account's Settings and Development > Basic Configuration and put it in the environment or in .env.
preflight-wechat-placeholder = { $name } is a placeholder from the examples, so the WeChat official account bot will not start. Put the account's real value there.
preflight-wechat-token-charset = WECHAT_TOKEN may hold only 3-32 letters and digits (the same Token as in the account's server configuration), or WeChat refuses it.
preflight-wechat-aes-key = WECHAT_AES_KEY (the EncodingAESKey) must be 43 characters (letters, digits, + and /), not { $length }. Copy it from the account's server configuration.
run-wechat-unreachable = The WeChat API did not answer ({ $detail }). Check WECHAT_API_URL and the network.
# The ticket on WeChat (bot/handlers/wechat/tickets.py): a picture and a PDF link
wechat-ticket-caption = Above is a preview of your admission ticket. To print it, download the PDF (the link works for { $minutes } minutes; get it again in the chat afterwards):
wechat-ticket-link = Download the PDF ticket
wechat-ticket-no-link = Above is a preview of your admission ticket; the PDF download is not available right now: get it again in the chat later.
preflight-wechat-template-bad = { $name } is not a usable template setting ({ $reason }): give the template id, or the id, a colon and the template's keyword names (comma-separated, in the order the README lists).
preflight-public-url-missing = PUBLIC_URL is not set (this bot's public https address, e.g. https://bot.example.edu.cn). The PDF links of admission tickets on WeChat point there, so the WeChat official account bot will not start.
preflight-public-url-not-https = PUBLIC_URL must be an https address (http only to this machine), not { $url }.
demo-wechat = Platform: a WeChat official account (the emulator's service account, safe mode); the bot's server URL: { $url }
demo-wechat-account = CET registration service account (demo)
wechat-choose-head = Please choose:
