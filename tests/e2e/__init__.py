"""End-to-end tests: the real ``rltui`` driven in tmux, as a user would."""
