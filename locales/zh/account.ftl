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

# R10 找回已报名账号：只发到账号自己的邮箱，对话中不显示。$email 账号邮箱，$name 学籍姓名。
account-recover-mail-subject = 【CET 报名助手】找回已报名账号
account-recover-mail-body =
    您好：

    有人在报名助手中用 { $name } 的姓名和证件号码查询报名所用的通行证账号。
    该学籍报名所用的通行证账号就是本邮箱：{ $email }

    请用这个邮箱登录；忘记密码可以在对话中点“忘记密码”通过邮箱重置。
    如果不是您本人查询，请忽略本邮件，您的账号不受影响。

    CET 报名助手（系统邮件，请勿回复）
