# 支付（R26-R30）：沙箱支付页面与支付相关的错误。
pay-page-title = 考试费支付
pay-page-language = 中文
pay-page-sandbox-note = 这是沙箱支付页面，仅供测试与演示，不会产生真实扣款。
pay-page-item = 支付项目
pay-page-payment-id = 支付单号
pay-page-pay = 支付
pay-page-fail = 支付失败
pay-page-pay-lose = 支付但丢失回调
pay-page-pay-lose-hint = “支付但丢失回调”模拟银行已扣款而报名系统未收到通知：请回到机器人点“更新”。
pay-page-paid = 支付成功。
pay-page-failed = 支付未成功，可以回到机器人重新支付。
pay-page-callback-lost = 支付结果尚未通知到报名系统；如报名状态仍显示未支付，请点“更新”。
pay-page-back = 返回
pay-page-bad-link = 支付链接无效或已被修改，请回到机器人重新获取。
error-callback-refused = 支付通知未通过校验，已拒绝。
