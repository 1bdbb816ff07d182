# 学校管理员在对话中的界面（R19、R42）。只有管理员能看到。

admin-prompt-admin = 管理员菜单（{ $scope }）。请选择：
admin-scope-all = 全部学校（考试机构）
admin-btn-queue = 待复核申请（{ $count }）
admin-btn-stats = 报名统计

admin-prompt-admin-reviews = { $scope }：待复核的 CET6 资格复核申请共 { $count } 条。点一条查看材料并处理。
admin-reviews-none = 目前没有待复核的申请。
admin-reviews-more = 另有 { $count } 条，处理完上面的之后再显示。
admin-review-button = #{ $id } { $name } · { $ticket }

admin-prompt-admin-review = CET6 资格复核申请 #{ $id }
admin-evidence-request = 准考证号：{ $ticket }；提交时间：{ $at }；状态：{ $status }
admin-evidence-record = 学籍：{ $name }，{ $school }，学号 { $student_no }，证件号 { $id_number }
admin-evidence-score = 成绩记录：{ $name }，{ $subject } { $score } 分（{ $sitting }），证件号 { $id_number }
admin-evidence-no-score = 成绩记录：成绩库中没有这个准考证号。
admin-review-decided = 已处理，备注：{ $note }
admin-status-not-reviewed = 未复核
admin-status-passed = 已通过（自动）
admin-status-approved = 已通过
admin-status-rejected = 未通过
admin-btn-approve = 通过
admin-btn-reject = 不通过

admin-prompt-admin-note = 请输入“{ $decision }”的备注（考生会看到，最多 { $limit } 字）：
# 引擎用 chat-expects-<类型> 说明该输入什么。
chat-expects-note = 一条备注
admin-decision-approve = 通过
admin-decision-reject = 不通过
admin-decided = 申请 #{ $id } 已处理：{ $decision }。考生会收到通知。

admin-prompt-admin-stats = { $session } 报名统计（{ $scope }）：
admin-stats-line = { $campus } · { $subject }：已报名 { $registered }，已缴费 { $paid }，余位 { $free }，候补 { $waiting }
admin-stats-none = 没有属于您学校的校区。
admin-stats-no-session = 目前没有已发布的考次。

# /approve 与 /reject 命令（管理员菜单的快捷方式）。
admin-command-usage = 用法：/approve 申请编号 [备注]，或 /reject 申请编号 备注（例如 /reject 12 成绩单与证件号不符）。
admin-note-approved = 已核实，同意。
