app-name = CET Registration Assistant
