app-name = CET 报名助手
