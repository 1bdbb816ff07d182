# Labels of a generated transcript document (scripts/transcript.py writes the Chinese one).
transcript-title = # One full registration, as the chat shows it
transcript-intro = Written by `scripts/transcript.py`: the local Bot API emulator + the bot ({ $framework }), the example session (examples/), the clock fixed at { $when }. The candidate is { $name } of the example roster (examples/README.md). 〔…〕 are buttons; (edited) means the bot updated its message in place; passwords and ID numbers are masked.
transcript-candidate = **Candidate**: { $text }
transcript-press = **Candidate**: presses 〔{ $label }〕
transcript-user-deleted = *(the bot deleted this message after reading it)*
transcript-bot-deleted = **Bot**: *(deleted a message)*
transcript-edited = (edited)
transcript-photo = 🖼 record photo
transcript-bot = **Bot**{ $how }:
transcript-code = •••••• (the code from the e-mail)
transcript-user-name = Xiao Zhang
