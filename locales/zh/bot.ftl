# 机器人外壳（bot/handlers、bot/app.py、cetbot run / demo）的文字。
bot-command-start = 开始 / 主菜单
bot-command-help = 使用帮助
bot-command-cancel = 取消当前操作
bot-command-language = 切换语言 / Language
bot-error-apology = 抱歉，刚才的操作没有完成，您的信息没有改动。请稍后再试，或发送 /start 回到主菜单。
bot-too-many-pending = 您一次发送的消息太多了，机器人还在处理前面的消息，后面多出的消息已被略过。请等机器人回复后再继续。

run-no-token = 未设置 BOT_TOKEN，无法启动机器人。请在环境变量或 .env 文件中填写从 @BotFather 获得的令牌；想在本机试用，请运行 cetbot demo。
run-no-webhook-secret = 已设置 WEBHOOK_URL，但未设置 WEBHOOK_SECRET。Webhook 模式必须使用密钥，否则任何人都能伪造消息。
run-token-rejected = Telegram 拒绝了 BOT_TOKEN（令牌无效或已被撤销）。请在 @BotFather 处核对令牌。
run-unknown-framework = BOT_FRAMEWORK 只能是 aiogram 或 ptb，当前为 “{ $name }”。
run-polling = 机器人已启动（{ $framework }，长轮询）。按 Ctrl-C 停止。
run-webhook = 机器人已启动（{ $framework }，Webhook：{ $url }，监听 { $listen }）。按 Ctrl-C 停止。
run-stopped = 机器人已停止。

demo-seeded = 已创建演示数据：考次 { $session }，学籍 { $records } 条，成绩 { $scores } 条。
demo-kept = 数据库中已有数据，沿用现有内容（{ $url }）。
demo-clock = 演示时钟：{ $now }（可在聊天页面或 POST /control/clock 拨快）。
demo-page = 在浏览器中打开聊天页面：{ $url }
demo-framework = 机器人框架：{ $framework }
demo-port-busy = 端口 { $port } 已被占用，请用 --port 指定其他端口。
demo-candidates-title = 演示考生（证件号码可直接复制到聊天中）
demo-col-name = 姓名
demo-col-id-type = 证件类型
demo-col-id-number = 证件号码
demo-col-try = 可以试试
demo-mail-header = 邮件 → { $to }：{ $subject }
demo-no-sandbox = 支付沙箱无法启动（{ $url } 的端口已被占用），支付链接在演示中打不开。
demo-stopping = 正在停止演示……

demo-id-type-id-card = 居民身份证
demo-id-type-passport = 护照
demo-id-type-hk-macao-permit = 港澳居民来往内地通行证
demo-id-type-taiwan-permit = 台湾居民来往大陆通行证
demo-id-type-hmt-residence = 港澳台居民居住证
demo-id-type-foreign-permanent = 外国人永久居留身份证

demo-try-plain = 最普通的流程：海淀校区报 CET4，再报 CET-SET4 口试
demo-try-cet6-eligible = 已有 CET6 资格，成绩库中有四、六级成绩
demo-try-x-digit = 身份证号以 X 结尾：试试小写 x 或全角数字
demo-try-middle-dot = 姓名带间隔号：输入 “.” 或 “•” 也能匹配
demo-try-cjt4-only = 只能报考日语四级 CJT4
demo-try-one-per-level = CET4 与 CJT4 同属四级，只能报其中一科
demo-try-cft4-only = 只能报考法语四级 CFT4
demo-try-passport = 持护照的考生
demo-try-hk-macao = 持港澳通行证，可报 CET4、CET6
demo-try-hmt-residence = 持港澳台居民居住证
demo-try-no-photo = 学籍中没有照片
demo-try-small-campus = 昌平校区考生：名额很少，可试候补
demo-try-review-pass = CET6 复核：输入准考证号 { $ticket }，立即通过
demo-try-review-renamed = CET6 复核：{ $ticket }，证件号一致、姓名已改，立即通过
demo-try-review-manual = CET6 复核：{ $ticket }，证件号不一致，待学校人工复核
demo-try-review-foreign = CET6 复核：{ $ticket }，是别人的准考证，不能提交
demo-try-review-low = CET6 复核：{ $ticket }，成绩 398 分未达 425 分
demo-try-review-missing = CET6 复核：{ $ticket }，成绩库中查无此号，待人工复核
run-payment-callback = 支付回调地址已开启：{ $listen }/payments/callback
run-worker-started = 后台任务（到期清理、提醒、候补、通知、准考证）在本进程内运行。
run-worker-elsewhere = 另一个进程（cetbot worker 或另一个 cetbot run）已在处理这个 SQLite 数据库的后台任务；本进程只运行机器人，不再启动后台任务。
run-worker-off = 本进程不运行后台任务（--no-worker 或 CETBOT_WORKER=0）；请另行运行 cetbot worker。
run-port-busy = 端口已被占用：{ $detail }。请用 PAYMENT_CALLBACK_PORT 换一个端口，或设为 0 关闭支付回调端口。

# 启动前检查（cetbot/checklist.py，docs/security.md“上线之前”）。
preflight-secret-blank = 未设置 { $name }，本命令不会启动：没有它，任何人都能伪造它所保护的内容。请用 { $make } 生成一个至少 { $min } 个字符的密钥，写入环境变量或 .env。
preflight-secret-short = { $name } 短于 { $min } 个字符，容易被猜出，本命令不会启动。请用 { $make } 重新生成一个，写入环境变量或 .env。
preflight-secret-placeholder = { $name } 是示例中的占位值（如 change-me），人人皆知，本命令不会启动。请用 { $make } 生成一个真正的密钥，写入环境变量或 .env。
preflight-webhook-not-https = WEBHOOK_URL 必须是 https 地址（只有本机回环地址可以用 http），当前为 { $url }：否则 Telegram 的消息和密钥令牌会以明文传输。
preflight-webhook-secret-charset = WEBHOOK_SECRET 只能包含字母、数字、“_”和“-”（最多 256 个字符），否则 Telegram 会拒绝设置 webhook。请用 { $make } 生成一个。

## WeChat official account (bot/handlers/wechat/)
wechat-choose-number = 请回复选项前的数字（1-{ $count }）。
wechat-choose-menu = 请点击上面的选项。
wechat-document-unavailable = 文件 { $name } 无法在微信中直接发送。
wechat-menu-start = 主菜单
wechat-menu-help = 帮助
wechat-menu-more = 更多
wechat-menu-language = 语言
wechat-menu-cancel = 取消
run-unknown-platform = --platform 只能是 telegram 或 wechat，当前为 “{ $name }”。
run-wechat = 微信公众号机器人已启动（AppID { $app_id }，监听 { $listen }，推送路径 { $path }）。按 Ctrl-C 停止。
run-wechat-rejected = 微信拒绝了 WECHAT_APP_ID / WECHAT_APP_SECRET（或本机 IP 不在公众号的 IP 白名单中）。请在公众号后台“设置与开发 > 基本配置”中核对。
preflight-wechat-missing = 未设置 { $name }，微信公众号机器人不会启动。请在公众号后台“设置与开发 > 基本配置”中找到它，写入环境变量或 .env。
preflight-wechat-placeholder = { $name } 是示例中的占位值，微信公众号机器人不会启动。请填入公众号后台中的真实值。
preflight-wechat-token-charset = WECHAT_TOKEN 只能由 3-32 个英文字母或数字组成（与公众号服务器配置中的 Token 相同），否则微信不接受。
preflight-wechat-aes-key = WECHAT_AES_KEY（消息加解密密钥 EncodingAESKey）必须是 43 个字符（字母、数字、+、/），当前为 { $length } 个字符。请从公众号后台的服务器配置中复制。
run-wechat-unreachable = 无法连接微信接口（{ $detail }）。请检查 WECHAT_API_URL 和网络。
# 微信中的准考证（bot/handlers/wechat/tickets.py）：图片 + PDF 链接
wechat-ticket-caption = 上图为准考证的预览。打印请下载 PDF（链接 { $minutes } 分钟内有效，过期后可在对话中重新获取）：
wechat-ticket-link = 下载 PDF 准考证
wechat-ticket-no-link = 上图为准考证的预览；PDF 下载暂不可用，请稍后在对话中重新获取。
preflight-wechat-template-bad = { $name } 不是可用的模板设置（{ $reason }）：应为模板 ID，或模板 ID 加冒号和该模板的关键词名（逗号分隔，按 README 中的顺序）。
preflight-public-url-missing = 未设置 PUBLIC_URL（本机器人的公网 https 地址，例如 https://bot.example.edu.cn）。微信中的准考证 PDF 链接指向这里，微信公众号机器人不会启动。
preflight-public-url-not-https = PUBLIC_URL 必须是 https 地址（http 只允许本机地址），当前为 { $url }。
demo-wechat = 平台：微信公众号（模拟器中的服务号，安全模式），机器人的服务器地址：{ $url }
demo-wechat-account = CET 报名服务号（演示）
wechat-choose-head = 请选择：
