## 报名须知页面与最新动态（R40）。每条消息不超过约 700 字，短段落，适合手机屏幕。
## 与 en/info.ftl 的键和占位符相同（tests/conversation/test_info.py 检查）。

info-btn-intro = 考试简介
info-btn-notice = 考生须知
info-btn-timetable = 考试时间表
info-btn-steps = 报名流程
info-btn-special = 特别提示
info-btn-phone = 客服电话
info-btn-news = 最新动态
info-btn-faq = 常见问题：
info-btn-next = 下一步 ▶
info-btn-previous = ◀ 上一步

info-page-intro =
    考试简介

    全国大学英语四、六级考试（CET）分笔试和口试。本次考试：{ $name }。

    笔试科目：英语、日语、德语、俄语的四级和六级，以及法语四级。
    口试科目：英语四级口试（CET-SET4）、英语六级口试（CET-SET6）。

    你能报哪些科目，以学校上报的报考资格为准。报名、缴费和打印准考证都在本系统完成。

info-page-notice =
    考生须知

    1. 报名前请核对学籍信息（照片、姓名、证件号、报考资格）。有错误不要确认，请找学校管理员更正。
    2. 同一级别只能报一门笔试。先报笔试才能报对应口试；缴费时先付笔试，再付口试。
    3. 科目显示“已支付”才算报名成功。未缴费的科目在创建 24 小时后自动删除。
    4. 已支付的科目不能修改或取消，缴费前请核对科目和校区。
    5. 准考证要到打印时间才能打印，只有已支付的科目才有准考证。

info-page-timetable =
    考试时间表：{ $name }

    网上报名：{ $opens } 至 { $closes }
    口试准考证打印：{ $print_oral } 起
    笔试准考证打印：{ $print_written } 起

    考试时间：
    { $exams }
info-timetable-row = • { $subjects }：{ $date } { $start }–{ $end }
info-timetable-none = 考试时间尚未公布。
info-subject-separator = 、

info-page-steps-1 =
    报名流程（1/3）：账号

    1. 注册 CET 通行证账号：只能用电子邮箱，密码不少于 8 位，含字母、数字和特殊字符。
    2. 验证邮箱：输入发到邮箱的 6 位验证码（15 分钟内有效）。

    以前考试用过的通行证账号可以继续使用。
info-page-steps-2 =
    报名流程（2/3）：学籍和资格

    3. 点“开始报名”，阅读并同意报名协议。
    4. 输入姓名、证件类型、证件号码查询学籍。
    5. 核对照片、学籍和报考资格，确认手机号后保存。

    资格里没有六级？可以申请 CET6 资格复核（需要四级 425 分及以上的准考证号）。
info-page-steps-3 =
    报名流程（3/3）：科目和缴费

    6. 报考笔试科目，如需要再报对应口试。校区名额满了可以申请候补。
    7. 缴费（支付宝或首信易），看到“已支付”即报名成功。未缴费的科目 24 小时后自动删除。
    8. 到打印时间后，在本系统打印准考证，也可以用快速打印。

info-page-special =
    特别提示

    • 银行已扣费但仍显示“未支付”：不要重复缴费，点“更新支付状态”重新查询。
    • 网上报名截止后不能新增或修改报考；未缴费科目在所在校区的报名管理时间内仍可缴费。
    • 同一条学籍在一个考次中只能由一个通行证账号确认。
    • 候补成功后会生成未缴费科目，同样要在 24 小时内缴费。

info-page-phone =
    客服电话：{ $phone }

    学籍、照片、资格复核等由学校管理的问题，请联系所在学校的报名管理员。

info-news-title = 最新动态
info-news-none = 目前还没有发布动态。
info-news-row = • { $title }（{ $date }）
info-news-pick = 点按标题查看全文。
info-news-item =
    { $title }
    { $date }

    { $body }
info-news-gone = 这条动态已不存在。
# The FAQ's fee list (info.py _fees): one line per amount.
info-fee-line = · { $subjects }：{ $yuan } 元
info-list-sep = 、
info-date = { $year }年{ $month }月{ $day }日
info-time = { $time }
