"""The limits every surface shares, defined once.

Settings, the HTTP schemas, the CLI and the engine read these; nothing else spells a
number out. They bound what one request can cost (issue: one legal question must not
stall everyone), so changing one here changes it everywhere.
"""

from __future__ import annotations

# Passages returned per answer: the default of the ``QA_TOP_K`` setting and its bounds.
TOP_K_DEFAULT = 5
TOP_K_MIN = 1
TOP_K_MAX = 20

# The question (the last user turn): the default of ``QA_MAX_QUESTION_CHARS``.
MAX_QUESTION_CHARS = 2000
# Any turn of a conversation (earlier answers included), and how many turns.
MAX_MESSAGE_CHARS = 8000
MAX_MESSAGES = 50

# What an answer shows.
PASSAGE_MAX_CHARS = 1000
ANSWER_MAX_CHARS = 400

# What a request may make the engine do.
MAX_LEXICAL_TERMS = 16  # the rarest question terms scored by lexical search
MAX_CONTEXT_CHARS = 600  # borrowed follow-up context, per conversation
MAX_ANSWERED_TURNS = 4  # earlier answers a follow-up compares its sentences with
MAX_FILTER_VALUES = 100  # sources or article ids in one filter

# HTTP: the request body, and how long a client may take to send it.
MAX_BODY_BYTES = 1 << 20
# The whole body's deadline: this many seconds per 64 KiB declared, never less than the
# floor (the defaults of ``QA_BODY_DEADLINE_PER_64K`` and ``QA_BODY_DEADLINE``). A client
# must keep up about 32 KiB/s; one trickling a byte a second is dropped at the deadline.
BODY_DEADLINE_FLOOR = 5.0
BODY_DEADLINE_PER_64K = 2.0
