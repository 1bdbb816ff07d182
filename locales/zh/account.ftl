# 通行证邮件（R9 邮箱验证、R10 找回密码）。$code 为六位验证码，$minutes 为有效分钟数。
account-verify-mail-subject = 【CET 报名助手】邮箱验证码
account-verify-mail-body =
    您好：

    您正在用邮箱 { $email } 注册 CET 报名通行证，验证码为：

        { $code }

    验证码 { $minutes } 分钟内有效，只能使用一次。请在对话中发送此验证码完成邮箱验证。
    如果不是您本人操作，请忽略本邮件，您的邮箱不会被使用。

    CET 报名助手（系统邮件，请勿回复）

account-reset-mail-subject = 【CET 报名助手】重置密码验证码
account-reset-mail-body =
    您好：

    有人申请重置通行证 { $email } 的密码，验证码为：

        { $code }

    验证码 { $minutes } 分钟内有效，只能使用一次。请在对话中发送此验证码并设置新密码。
    重置后，所有已登录的聊天都需要重新登录。
    如果不是您本人操作，请忽略本邮件，您的密码不会改变。

    CET 报名助手（系统邮件，请勿回复）
