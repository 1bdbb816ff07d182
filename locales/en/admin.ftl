# School administrators in the chat (R19, R42). Only administrators see these.

admin-prompt-admin = Administrator menu ({ $scope }). Choose:
admin-scope-all = all schools (exam authority)
admin-btn-queue = Requests to review ({ $count })
admin-btn-stats = Registration figures

admin-prompt-admin-reviews = { $scope }: { $count } CET-6 review request(s) not reviewed yet. Tap one to see the evidence and decide.
admin-reviews-none = No request is waiting for a decision.
admin-reviews-more = { $count } more are shown once these are done.
admin-review-button = #{ $id } { $name } · { $ticket }

admin-prompt-admin-review = CET-6 review request #{ $id }
admin-evidence-request = Ticket number: { $ticket }; sent: { $at }; status: { $status }
admin-evidence-record = Student record: { $name }, { $school }, student no. { $student_no }, ID { $id_number }
admin-evidence-score = Score record: { $name }, { $subject } { $score } points ({ $sitting }), ID { $id_number }
admin-evidence-no-score = Score record: this ticket number is not in the score records.
admin-review-decided = Decided; note: { $note }
admin-status-not-reviewed = not reviewed
admin-status-passed = passed (automatically)
admin-status-approved = approved
admin-status-rejected = rejected
admin-btn-approve = Approve
admin-btn-reject = Reject

admin-prompt-admin-note = Type the note for "{ $decision }" (the candidate will read it; at most { $limit } characters):
# The engine names what to type by chat-expects-<kind>.
chat-expects-note = a note
admin-decision-approve = approve
admin-decision-reject = reject
admin-decided = Request #{ $id } decided: { $decision }. The candidate will be told.

admin-prompt-admin-stats = { $session } registration figures ({ $scope }):
admin-stats-line = { $campus } · { $subject }: registered { $registered }, paid { $paid }, free seats { $free }, waiting { $waiting }
admin-stats-none = No campus belongs to your school.
admin-stats-no-session = No session is published yet.

# /approve and /reject (shortcuts of the admin menu).
admin-command-usage = Usage: /approve REQUEST_ID [NOTE], or /reject REQUEST_ID NOTE (e.g. /reject 12 the score belongs to another ID).
admin-note-approved = Checked and approved.
