# 准考证（R38）：版面上的文字与考生须知。
ticket-title = 准考证
ticket-doc-title = { $session } 准考证 { $ticket }

ticket-label-name = 姓名
ticket-label-gender = 性别
ticket-label-id-type = 证件类型
ticket-label-id-number = 证件号码
ticket-label-ticket-no = 准考证号
ticket-label-subject = 考试科目
ticket-label-date = 考试日期
ticket-label-time = 考试时间
ticket-label-campus = 考点校区
ticket-label-address = 考点地址
ticket-label-room = 考场号
ticket-label-seat = 座位号

ticket-gender-male = 男
ticket-gender-female = 女

ticket-id-type-resident = 居民身份证
ticket-id-type-passport = 护照
ticket-id-type-hk-macao = 港澳居民来往内地通行证
ticket-id-type-taiwan = 台湾居民来往大陆通行证

ticket-weekday-1 = 星期一
ticket-weekday-2 = 星期二
ticket-weekday-3 = 星期三
ticket-weekday-4 = 星期四
ticket-weekday-5 = 星期五
ticket-weekday-6 = 星期六
ticket-weekday-7 = 星期日
ticket-date = { $year }年{ $month }月{ $day }日（{ $weekday }）
ticket-time-range = { $start }–{ $end }（{ $zone }）
ticket-zone-asia-shanghai = 北京时间
ticket-list-separator = {"、"}

ticket-photo-missing = 照片未上传
ticket-qr-caption = 扫码核验
ticket-qr-note = 二维码含数字签名，涂改、伪造无效

ticket-rules-title = 考生须知
ticket-rule-1 = 考生须同时携带本准考证和报名时所用的有效身份证件入场，缺一不得参加考试。
ticket-rule-2 = 请于开考前 30 分钟到达考场，按座位号入座，并将准考证和身份证件放在桌面左上角，以备核验。
ticket-rule-3 = 开考后迟到的考生不得入场；考试结束前不得提前交卷离场。
ticket-rule-4 = 只准携带黑色签字笔、2B 铅笔和橡皮入座；手机、智能手表等电子设备须关机并放在指定位置。
ticket-rule-5 = 考试期间保持安静，服从监考人员安排，不得交谈、传递物品或偷看他人答卷。
ticket-rule-6 = 答案须写在答题卡的指定区域内，写在试卷或草稿纸上的答案无效。
ticket-rule-7 = 考试结束信号发出后立即停笔，待监考人员收齐试卷、答题卡和草稿纸后方可离场，不得带出考场。
ticket-rule-8 = 违反考试纪律者，按《国家教育考试违规处理办法》处理。

ticket-footer = 请妥善保管本准考证，考试结束、成绩发布前不要丢弃。

# 命令行核验（cetbot ticket verify）
ticket-cli-no-key = 找不到准考证签名密钥：请用 --public-key 指定公钥文件。
ticket-cli-bad-key = 无法读取公钥文件：{ $error }
ticket-cli-no-text = 请给出二维码内容，或用 --image 指定图片。
ticket-cli-bad-image = 无法读取图片：{ $error }

# 准考证文件（registration/tickets.py）
ticket-id-type-hmt-residence = 港澳台居民居住证
ticket-id-type-foreign-permanent = 外国人永久居留身份证
ticket-filename = 准考证-{ $subject }-{ $ticket }.pdf

# 准考证签名链接（admission/ticket_link_app.py），在浏览器中显示
ticket-link-forged = 链接无效：请回到公众号对话中重新获取准考证。
ticket-link-expired = 链接已过期（有效期 30 分钟）：请回到公众号对话中重新获取准考证。
ticket-link-gone = 该准考证已失效，无法下载。如有疑问请联系学校考试管理部门。
