# 主动推送给考生的消息（外发队列 outbox），键为 notice-<kind>。
notice-reminder = 提醒：您报考的 { $subject }（{ $campus }）尚未支付，将于 { $expires_at }（北京时间）自动删除（约 { $hours } 小时后）。请尽快在“报名信息”中支付。
notice-promoted = 候补成功！{ $campus } 的 { $subject } 有了空位，已为您生成报考科目，请于 { $expires_at }（北京时间）前完成支付，逾期将自动删除。
notice-entry-expired = 您报考的 { $subject }（{ $campus }）因 24 小时内未支付已被删除。报名期间如仍有空位，可以重新报考。
notice-payment-paid = 支付成功：{ $subject }（{ $campus }）已缴费 { $amount } 元，报名完成。
notice-payment-restored = 您的支付（{ $amount } 元）到账时 { $subject }（{ $campus }）已因超时被删除；因仍有空位，已为您恢复并标记为已支付。
notice-payment-refund = 您的支付（{ $amount } 元）到账时 { $subject }（{ $campus }）已因超时被删除且已无空位，款项将原路退回。如有疑问请联系咨询电话。
notice-review-decided = 您的六级报考资格复核（准考证号 { $ticket_no }）已处理：{ $decision }。{ $note }
notice-review-approved = 已通过，现在可以报考英语六级
notice-review-rejected = 未通过
notice-signed-in-elsewhere = 您的通行证账号于 { $at }（北京时间）在另一个对话中登录了。如果不是您本人，请点下面的按钮：在所有对话中退出登录并重置密码。
notice-signed-in-elsewhere-button = 不是我：全部退出并重置密码
