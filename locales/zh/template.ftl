# 微信模板消息（bot/handlers/wechat/templates.py）：48 小时客服窗口之外的推送。
# -title：学校在模板库中申请的模板标题；-first/-remark：行业模板的首行与备注
# （2023 年 5 月起微信不再显示，内容只作重复）；其余为各关键词的值，按类型限长：
# thing 不超过 20 个字符，time 为 24 小时制日期时间，amount 为金额。
wx-template-subject = { $subject }
wx-template-campus = { $campus }
wx-template-deadline = { $expires_at }
wx-template-amount = { $amount }元

wx-template-reminder-title = 待支付提醒
wx-template-reminder-first = 您报考的科目尚未支付
wx-template-reminder-remark = 逾期未支付将自动删除，请在公众号“报名信息”中支付。

wx-template-waitlist-title = 候补成功通知
wx-template-waitlist-first = 候补成功，已为您生成报考科目
wx-template-waitlist-remark = 请在截止时间前在公众号“报名信息”中支付，逾期将自动删除。

wx-template-review-title = 审核结果通知
wx-template-review-first = 您的六级报考资格复核已处理
wx-template-review-ticket = { $ticket_no }
wx-template-review-decision = { $status ->
    [approved] 已通过
   *[other] 未通过
}
wx-template-review-note = { $note }
wx-template-review-remark = 详情请在公众号中查看。

wx-template-expired-title = 报名取消通知
wx-template-expired-first = 您报考的科目因未支付已被删除
wx-template-expired-reason = 24 小时内未支付
wx-template-expired-remark = 报名期间如仍有空位，可以在公众号中重新报考。

wx-template-payment-title = 缴费结果通知
wx-template-payment-first = 您的报名缴费有了结果
wx-template-payment-state-paid = 支付成功，报名完成
wx-template-payment-state-restored = 科目已恢复并标记为已支付
wx-template-payment-state-refund = 科目已删除，款项将原路退回
wx-template-payment-remark = 详情请在公众号“报名信息”中查看。

wx-template-sign-in-title = 账号登录提醒
wx-template-sign-in-first = 您的通行证账号在另一个对话中登录了
wx-template-sign-in-at = { $at }
wx-template-sign-in-where = 如非本人操作，请进入公众号处理
wx-template-sign-in-remark = 如果不是您本人，请进入公众号，按提示在所有对话中退出登录并重置密码。

# 模板中各关键词的名称（学校在模板库中选择含这些关键词的模板）
wx-template-label-subject = 报考科目
wx-template-label-campus = 考点校区
wx-template-label-deadline = 支付截止时间
wx-template-label-amount = 缴费金额
wx-template-label-payment-state = 缴费状态
wx-template-label-ticket = 准考证号
wx-template-label-decision = 审核结果
wx-template-label-note = 备注
wx-template-label-reason = 取消原因
wx-template-label-sign-in-at = 登录时间
wx-template-label-sign-in-note = 温馨提示
