"""Conversations as the browser keeps them: every turn with its own answer and passages.

The whole record lives in the browser's storage (Gradio's BrowserState), so a reload, another
server process or a restart shows the same conversations and no account is needed on the server.
Each turn stores what was shown, not a reference to server state, so an old answer's [1] always
opens that answer's passage 1.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field, ValidationError

from .models import Answer, Citation, ScoredSpan

# The browser gives an origin about 5 million characters of storage, and the record travels with
# every question. A turn with its ten passages is 6.3 KB of JSON on average (8.6 KB at most, the
# dev set's 36 questions), about 8.5 K characters once encrypted and base64-encoded; 300 turns keep
# the record near 2.5 million characters. Over either limit, the least recent conversation goes.
MAX_CONVERSATIONS = 40
MAX_STORED_TURNS = 300
TITLE_CHARS = 40


class Turn(BaseModel):
    question: str
    rewritten: str | None = None
    answer: str = ""
    answerable: bool = False
    citations: list[Citation] = Field(default_factory=list)
    uncited: list[ScoredSpan] = Field(default_factory=list)  # retrieved but not cited
    notices: list[str] = Field(default_factory=list)
    error: str | None = None  # shown instead of an answer, in the asker's language
    error_detail: str | None = None

    @classmethod
    def from_answer(cls, answer: Answer) -> Turn:
        cited = {(c.doc, c.start, c.end) for c in answer.citations}
        uncited = [
            ScoredSpan(**p.model_dump(include=set(ScoredSpan.model_fields)))
            for p in answer.retrieved
            if (p.doc, p.start, p.end) not in cited
        ]
        return cls(
            question=answer.question,
            rewritten=answer.rewritten,
            answer=answer.answer,
            answerable=answer.answerable,
            citations=answer.citations,
            uncited=uncited,
            notices=answer.notices,
        )


class Conversation(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    title: str = ""  # empty: named after its first question
    turns: list[Turn] = Field(default_factory=list)

    def name(self, untitled: str) -> str:
        if self.title:
            return self.title
        if self.turns:
            first = self.turns[0].question
            return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"
        return untitled

    @property
    def questions(self) -> list[str]:
        """The history a follow-up is understood from: the questions that were answered (or refused),
        oldest first; one that failed was never asked, as in `aiqa chat`."""
        return [turn.question for turn in self.turns if not turn.error]


class Conversations(BaseModel):
    """The browser's record; `current` is the conversation shown. Most recent first."""

    items: list[Conversation] = Field(default_factory=list)
    current: str | None = None

    @classmethod
    def load(cls, stored: object) -> Conversations:
        """What the browser holds, or a fresh record when it holds nothing usable (a first visit, or
        data from an incompatible version, which is dropped rather than shown wrong)."""
        try:
            record = cls.model_validate(stored) if stored else cls()
        except ValidationError:
            record = cls()
        if not any(item.id == record.current for item in record.items):
            record.current = record.items[0].id if record.items else None
        return record

    def active(self) -> Conversation:
        for item in self.items:
            if item.id == self.current:
                return item
        return self.start()

    def start(self) -> Conversation:
        """A new, empty conversation shown from now on (an empty current one is reused)."""
        current = next((item for item in self.items if item.id == self.current), None)
        if current is not None and not current.turns:
            return current
        conversation = Conversation()
        self.items.insert(0, conversation)
        del self.items[MAX_CONVERSATIONS:]
        self.current = conversation.id
        return conversation

    def record(self, turn: Turn) -> None:
        conversation = self.active()
        conversation.turns.append(turn)
        # The conversation asked in most recently comes first in the list.
        self.items.remove(conversation)
        self.items.insert(0, conversation)
        while len(self.items) > 1 and sum(len(item.turns) for item in self.items) > MAX_STORED_TURNS:
            self.items.pop()

    def switch(self, conversation_id: str | None) -> None:
        if any(item.id == conversation_id for item in self.items):
            self.current = conversation_id

    def rename(self, title: str) -> None:
        self.active().title = " ".join(title.split())[:TITLE_CHARS]

    def delete(self) -> None:
        self.items = [item for item in self.items if item.id != self.current]
        self.current = self.items[0].id if self.items else None

    def choices(self, untitled: str) -> list[tuple[str, str]]:
        return [(item.name(untitled), item.id) for item in self.items]
