# 对话（bot/conversation/）中考生看到的全部文字。纯文本发送（无 parse_mode）。
# 键名与 en/chat.ftl 相同，占位符也相同；chat-prompt-<步骤> 是 flows.py 中每一步的提示。

## 通用

chat-datetime = { $year }年{ $month }月{ $day }日 { $time }（北京时间）
chat-money = ¥{ $yuan }
chat-none = 无
chat-help-phone-unknown = 报名网站公布的客服电话
# 判断“明显的提问”用的开头词（空格分隔）；两种语言的词都会使用。
chat-question-words = 怎么 怎样 如何 为什么 为啥 请问 能不能 能否 可不可以 是不是 是否 哪里 哪儿 什么 多少 几点 何时

## 按钮（简短）

chat-btn-back = ‹ 返回
chat-btn-menu = 主菜单
chat-btn-start-registration = 开始报名
chat-btn-my = 我的报名
chat-btn-quick-print = 快速打印准考证
chat-btn-info = 报名须知与问答
chat-btn-account = 通行证账号
chat-btn-language = 语言 Language
chat-btn-sign-up = 注册通行证
chat-btn-sign-in = 登录
chat-btn-recover = 找回已报名账号
chat-btn-reset = 忘记密码
chat-btn-sign-out = 退出登录
chat-btn-enter-code = 输入邮箱验证码
chat-btn-resend-code = 重新发送验证码
chat-btn-have-account = 已有账号，去登录
chat-btn-agree = 我已阅读并同意
chat-btn-confirm-record = 信息无误，确认
chat-btn-review = CET6 资格复核
chat-btn-not-me = 信息不对，重新查询
chat-btn-use-phone = 使用此号码
chat-btn-new-phone = 修改手机号
chat-btn-add-subject = 报考科目
chat-btn-waitlists = 我的候补
chat-btn-print = 打印准考证
chat-btn-pay = 去支付
chat-btn-pay-link = 支付 { $amount }
chat-btn-update = 更新支付状态
chat-btn-change-campus = 更换校区
chat-btn-cancel = 取消报考
chat-btn-confirm-cancel = 确认取消
chat-btn-paper = 纸质成绩报告单
chat-btn-join-waitlist = 加入候补
chat-btn-leave = 取消候补：{ $subject }

## 主菜单、帮助、语言

chat-prompt-menu = 请选择要办理的事项：
chat-welcome = 您好！我是 CET 报名助手，可以在手机上完成全国大学英语四、六级考试的网上报名。
chat-help =
    使用方法：
    · 点按钮即可办理，只有姓名、证件号码、邮箱、密码、验证码、准考证号和手机号需要输入。
    · /start 回到主菜单，/cancel 放弃当前步骤，/language 切换语言。
    · 直接输入问题，我会从常见问题中找答案。
chat-left-step = 已离开刚才的步骤，未保存任何内容。
chat-left-step-saved = 已离开刚才的步骤。此前已确认的内容均已保存，可在“我的报名”中查看。
chat-cancelled = 已取消当前步骤，未保存任何内容。
chat-unknown-command = 没有“/{ $command }”这个命令。可用命令：/start /help /cancel /language
chat-phase-before = 网上报名将于 { $opens }开始；现在可以查询学籍和资格，或申请 CET6 资格复核。
chat-phase-open = 网上报名进行中，截止时间：{ $closes }。
chat-phase-closed = 网上报名已截止。
chat-no-session = 目前没有开放的考试，请留意学校通知。
chat-prompt-language = 请选择语言 / Choose a language:
chat-language-zh = 中文
chat-language-en = English
chat-language-set = 已切换为中文。

## 过期菜单、错误输入

chat-menu-expired = 这个菜单已过期，下面是最新的菜单。
chat-menu-expired-toast = 菜单已过期
chat-other-at-typed = 我只能读取文字。请直接输入{ $expects }。
chat-other-at-buttons = 我只能读取文字和按钮，请点下面的按钮。
chat-input-too-long = 输入的内容太长了。请输入{ $expects }。
chat-question-then-input = 回答完毕，请继续按提示输入。
chat-empty-message = 这条消息是空的。请按下面的提示继续。
chat-text-at-buttons = 这一步请点下面的按钮（也可以输入按钮上的文字）：{ $choices }
chat-choices-separator = 、
chat-contact-not-yours = 这是别人的名片。请分享您自己的手机号码，或直接输入号码。
chat-contact-elsewhere = 现在不需要手机号码。请按下面的提示继续。
chat-expects-email = 电子邮箱地址
chat-expects-password = 密码
chat-expects-code = 6 位数字验证码
chat-expects-name = 姓名
chat-expects-id-number = 证件号码
chat-expects-phone = 11 位手机号码
chat-expects-ticket-number = 15 位准考证号
chat-deleted-password = 为保护您的安全，含密码的消息已删除。
chat-deleted-password-undeletable = 为保护您的安全，请长按刚才发送的含密码的消息，选择“删除”。
chat-deleted-id-undeletable = 为保护您的隐私，请长按刚才发送的含证件号码的消息，选择“删除”。
chat-deleted-id = 为保护您的隐私，含证件号码的消息已删除。
chat-name-invalid = 这看起来不像姓名。请输入学籍上的姓名（汉字或字母，少数民族姓名中间的点可用“·”或“.”）。
chat-code-form = 验证码是 6 位数字，请重新输入。

## 通行证账号（R7-R10）

chat-prompt-account = 您在本对话中还没有登录通行证账号。通行证账号是一个电子邮箱，可用于多次考试。
chat-account-needed = 报名需要先登录已验证邮箱的通行证账号。没有账号可以现在注册。
chat-account-unverified = 已登录：{ $email }
    邮箱尚未验证，验证后才能保存报名信息。
chat-account-signed-in = 已登录：{ $email }（邮箱已验证）
chat-signed-out = 已退出登录。账号本身仍然保留。
chat-prompt-signup-email = 注册通行证：请输入您的电子邮箱地址（例如 zhang@example.com）。
chat-prompt-signup-password =
    请为 { $email } 设置密码：
    至少 8 位，必须同时包含字母、数字和特殊字符（!@#$%^&*_-）。
    您发送的密码消息会在读取后立即删除。
chat-prompt-signup-password-undeletable =
    请为 { $email } 设置密码：
    至少 8 位，必须同时包含字母、数字和特殊字符（!@#$%^&*_-）。
    发送后请长按您发出的密码消息并删除（公众号无法替您删除）。
chat-signed-up = 通行证 { $email } 已注册，并已登录本对话。
chat-prompt-verify-code = 验证码已发送到 { $email }，请输入邮件中的 6 位数字验证码（15 分钟内有效）。
chat-code-sent = 验证码已发送到 { $email }。
chat-verified = 邮箱验证成功！
chat-verify-first = 请先验证邮箱。
chat-prompt-signin-email = 登录：请输入通行证邮箱地址。
chat-prompt-signin-password = 请输入 { $email } 的密码（消息会在读取后立即删除）。
chat-prompt-signin-password-undeletable = 请输入 { $email } 的密码（发送后请长按您发出的密码消息并删除，公众号无法替您删除）。
chat-signed-in = 已登录：{ $email }
chat-prompt-recover-name = 找回已报名账号：请输入学籍上的姓名。
chat-prompt-recover-id-type = 请选择证件类型：
chat-prompt-recover-id-number = 请输入证件号码（18 位身份证号码末位的 x 大小写均可）。
chat-prompt-recover-done = 找回已报名账号
chat-recovered =
    如果有通行证账号报名了这条学籍，我们已向该账号的邮箱发送了一封邮件，写明账号地址。请查看您常用的邮箱（包括垃圾邮件）。
    为保护考生信息，这里不显示是否找到。可以用邮件中的地址登录；忘记密码可以通过邮箱重置。
chat-prompt-reset-email = 重置密码：请输入通行证邮箱地址。
chat-reset-sent = 如果 { $email } 是已注册的通行证，重置验证码已发到该邮箱。
chat-prompt-reset-code = 请输入邮件中的 6 位数字验证码。
chat-prompt-reset-password =
    请为 { $email } 设置新密码：
    至少 8 位，必须同时包含字母、数字和特殊字符（!@#$%^&*_-）。
    消息会在读取后立即删除。
chat-prompt-reset-password-undeletable =
    请为 { $email } 设置新密码：
    至少 8 位，必须同时包含字母、数字和特殊字符（!@#$%^&*_-）。
    发送后请长按您发出的密码消息并删除（公众号无法替您删除）。
chat-password-reset = 密码已重置，{ $email } 已登录本对话（其他对话需要重新登录）。

## 证件类型

chat-prompt-id-type = 请选择证件类型：
chat-idtype-id-card = 居民身份证
chat-idtype-passport = 护照
chat-idtype-hk-macao-permit = 港澳居民来往内地通行证
chat-idtype-taiwan-permit = 台湾居民来往大陆通行证
chat-idtype-hmt-residence = 港澳台居民居住证
chat-idtype-foreign-permanent = 外国人永久居留身份证
chat-idtype-hint-id-card = 18 位，末位可以是 X（输入小写 x 也可以）。
chat-idtype-hint-passport = 5 到 17 位字母和数字。
chat-idtype-hint-hk-macao-permit = H 或 M 开头，后接 8 位或 10 位数字。
chat-idtype-hint-taiwan-permit = 8 位数字。
chat-idtype-hint-hmt-residence = 18 位，以 810000、820000 或 830000 开头。
chat-idtype-hint-foreign-permanent = 18 位（9 开头）或 3 个字母加 12 位数字。
chat-id-problem-empty = 请输入证件号码。
chat-id-problem-length = 证件号码位数不对，请核对后重新输入。
chat-id-problem-characters = 证件号码中有不允许的字符，请只输入数字和字母。
chat-id-problem-region = 证件号码开头的地区码不对，请核对证件类型和号码。
chat-id-problem-birth-date = 证件号码中的出生日期不正确，请核对后重新输入。
chat-id-problem-check-digit = 证件号码校验位不对（可能有一位输错了），请核对后重新输入。

## 开始报名：协议、查询、确认（R11-R13）

chat-prompt-reg-agreement =
    报名协议（请阅读）：
    1. 我保证所填信息真实、准确，由本人报名，并对因信息错误造成的后果负责。
    2. 我知道报考科目须在 24 小时内完成支付，逾期未支付的科目会被自动删除。
    3. 只有支付状态为“已支付”的科目才算报名成功。
    4. 我会遵守考试纪律，按规定时间打印准考证并参加考试。
    5. 我同意考试机构为组织考试使用我的学籍信息和照片。
chat-prompt-reg-id-type = 请选择证件类型：
chat-prompt-reg-name = 请输入学籍上的姓名。
chat-prompt-reg-id-number = 请输入证件号码。查询后，含证件号码的消息会被删除。
chat-prompt-reg-confirm = 请核对您的学籍信息和报考资格：
chat-record =
    姓名：{ $name }
    性别：{ $gender }
    证件：{ $id_type } { $id_number }
    学校：{ $school }
    校区：{ $campus }
    学号：{ $student_no }
    可报考的笔试科目：{ $eligible }
chat-gender-m = 男
chat-gender-f = 女
chat-no-photo = 学籍中没有照片，请尽快联系学校补充，否则可能影响准考证。
chat-before-window = 网上报名将于 { $opens }开始，届时才能确认并保存报名信息。现在可以申请 CET6 资格复核。
chat-prompt-reg-phone = 学籍中的手机号是 { $phone }。是否使用此号码接收考试通知？
chat-prompt-reg-phone-typed = 请输入 11 位手机号码。
chat-phone-problem-empty = 请输入手机号码。
chat-phone-problem-characters = 手机号码只能包含数字。
chat-phone-problem-length = 手机号码应为 11 位，请核对。
chat-phone-problem-prefix = 请输入以 13 至 19 开头的大陆手机号码。
chat-saved = 报名信息已保存。现在可以报考科目。
chat-already-saved = 您已保存本次考试的报名信息。

## CET6 资格复核（R14-R19）

chat-prompt-review-ticket = CET6 资格复核：请输入您四级成绩达到 425 分的那次考试的 15 位准考证号。
chat-review-passed = 复核通过！您现在可以报考英语六级（CET6）和六级口试。
chat-review-not-reviewed = 复核申请已提交，状态为“未复核”。请携带成绩证明到学校报名管理部门，由学校审核。
chat-review-status-passed = CET6 资格复核：已通过
chat-review-status-not-reviewed = CET6 资格复核：未复核（等待学校审核）
chat-review-status-approved = CET6 资格复核：学校已审核通过
chat-review-status-rejected = CET6 资格复核：学校未通过

## 报考科目（R20-R25）

chat-prompt-entry-subject = 请选择要报考的科目（同一级别只能报考一个笔试；口试需先报考对应笔试）：
chat-subject-line = · { $subject }：{ $fee }，考试时间 { $exam }
chat-nothing-to-register = 目前没有可以再报考的科目。
chat-prompt-entry-campus = 请为“{ $subject }”选择考试校区（括号内为剩余名额）：
chat-campus-free = { $campus }（余 { $free }）
chat-campus-full = { $campus }（已满，可候补）
chat-prompt-entry-paper = 是否需要纸质成绩报告单？（支付前可以修改）
chat-paper-none = 不需要
chat-paper-report = 纸质成绩报告单
chat-paper-report-and-certificate = 成绩报告单和证书
chat-just-filled = 刚刚有人报满了这个校区。
chat-registered = 已报考 { $subject }（{ $campus }）。请在 { $deadline }前完成支付，逾期未支付将自动删除。

## 我的报名（R24、R26-R29）

chat-prompt-overview = 我的报名
chat-overview-head = 我的报名：{ $name }，手机 { $phone }
chat-overview-no-entries = 还没有报考科目。
chat-entry-paid = ✅ { $subject }｜{ $campus }｜{ $fee }｜已支付
chat-entry-unpaid = ⏳ { $subject }｜{ $campus }｜{ $fee }｜未支付，请在 { $deadline }前支付
chat-entry-paper = 纸质成绩报告单：{ $paper }
chat-overview-waiting = 候补中：{ $subject }｜{ $campus }｜排第 { $position } 位
chat-not-registered-yet = 您还没有保存本次考试的报名信息，请先点“开始报名”。
chat-prompt-entry-detail = 报考科目
chat-entry-unpaid-hint = 只有显示“已支付”才算报名成功。已付款但仍显示未支付时，请点“更新支付状态”。
chat-entry-paid-hint = 已支付，报名成功。准考证打印开放后，可在“我的报名”中打印。
chat-prompt-entry-pay = 支付“{ $subject }”报名费 { $amount }。请在 { $deadline }前完成。支付完成后回到这里点“更新支付状态”。
chat-payment-preparing = 支付功能正在准备中，请稍后再试。您的报考科目已保留到截止时间。
chat-paid = 支付成功！该科目已报名成功。
chat-still-unpaid = 暂未查到支付结果。如已付款，请稍等片刻再点“更新支付状态”。
chat-prompt-entry-change = “{ $subject }”目前在 { $campus }。请选择新的校区：
chat-campus-changed = 已更换到 { $campus }。
chat-prompt-entry-cancel = 确认取消以下报考科目吗？
    { $entries }
chat-prompt-entry-cancel-cascade = 取消这个笔试科目会同时取消它的口试。确认取消以下全部科目吗？
    { $entries }
chat-cancelled-entries = 已取消：{ $entries }。
chat-prompt-entry-paper-change = 请选择纸质成绩报告单：
chat-paper-set = 纸质成绩报告单已设为：{ $paper }。
chat-no-paid-entries = 还没有已支付的科目，暂时不能打印准考证。
chat-tickets-coming-soon = 准考证打印功能即将开放。
chat-tickets-sent = 已发送 { $count } 份准考证，请保存或打印。

## 候补（R34-R37）

chat-prompt-waitlist-offer = “{ $subject }”在 { $campus } 已报满，目前有 { $waiting } 人候补。加入候补后，有名额空出时会按顺序自动为您报考，并立即通知您。
chat-waitlist-joined = 已加入候补：{ $subject }｜{ $campus }，排第 { $position } 位。
chat-prompt-waitlists = 我的候补：
chat-waitlist-waiting = · { $subject }｜{ $campus }｜排第 { $position } 位
chat-waitlist-none-waiting = 目前没有进行中的候补。
chat-waitlist-finished-title = 已结束的候补：
chat-waitlist-succeeded = · { $subject }｜{ $campus }｜候补成功{ $reason }
chat-waitlist-cancelled = · { $subject }｜{ $campus }｜已取消：{ $reason }
chat-waitlist-closed = · { $subject }｜{ $campus }｜已关闭：{ $reason }
chat-prompt-waitlist-reason = 请选择取消候补的原因：
chat-wl-reason-plans-changed = 计划有变
chat-wl-reason-other-campus = 改报其他校区
chat-wl-reason-schedule-conflict = 时间冲突
chat-wl-reason-other = 其他原因
chat-wl-reason-registered = 已直接报考同级别科目
chat-wl-reason-window-closed = 报名已截止
chat-wl-reason-not-registered = 报名信息已删除
chat-waitlist-left = 已取消候补。

## 快速打印（R39）

chat-prompt-quick-name = 快速打印准考证：请输入姓名。
chat-prompt-quick-id-number = 请输入证件号码。读取后，含证件号码的消息会被删除。

## 报名须知与问答（R40）

chat-prompt-info = 请选择想了解的内容。也可以直接输入问题。
    客服电话：{ $phone }
chat-prompt-info-topic = { $topic }：
chat-prompt-info-answer = 回答
chat-prompt-info-page = 报名须知
chat-prompt-info-news = 最新动态
chat-prompt-info-news-item = 动态详情
chat-prompt-info-ask = 你是想问哪一个？
chat-prompt-info-act = 我能做什么
chat-topic-account = 通行证账号
chat-topic-windows = 报名时间与流程
chat-topic-review = CET6 资格复核
chat-topic-subjects = 报考科目
chat-topic-payment = 支付
chat-topic-waitlist = 候补
chat-topic-ticket = 准考证
chat-topic-other = 其他

# 有人从其他对话登录后，“不是我”按钮的结果（R7）。
chat-not-me-done = 已将 { $email } 在所有对话中退出登录。重置密码的验证码已发到该邮箱（如刚才已多次申请，请稍后再试），请输入验证码并设置新密码。
chat-not-me-signed-out = 本对话已没有登录的通行证账号。如需保护账号，请点“忘记密码”通过邮箱重置密码。
