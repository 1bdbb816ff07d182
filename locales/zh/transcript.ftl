# Labels of docs/transcript-zh.md, written by scripts/transcript.py (a Chinese document only).
transcript-title = # 一次完整报名的对话记录（中文）
transcript-intro = 由 `scripts/transcript.py` 生成：本地 Bot API 模拟器 + 机器人（{ $framework }），示例考试（examples/），时钟固定在 { $when }。考生为示例名单中的{ $name }（examples/README.md）。〔…〕是按钮，（编辑）表示机器人在原消息上更新了内容；密码和证件号码已遮盖。
transcript-candidate = **考生**：{ $text }
transcript-press = **考生**：点按〔{ $label }〕
transcript-user-deleted = *（机器人读取后删除了考生的这条消息）*
transcript-bot-deleted = **机器人**：*（删除了一条消息）*
transcript-edited = （编辑）
transcript-photo = 🖼 学籍照片
transcript-bot = **机器人**{ $how }：
transcript-code = ••••••（邮件中的验证码）
transcript-user-name = 小张
