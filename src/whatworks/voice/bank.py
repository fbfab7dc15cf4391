"""The question bank: short questions on relationships, feeling safe, being listened to,
stability and wellbeing for children, care leavers and families, and on morale and
workload for staff, each with its answer scale and the answers that count as good.

A question's `indicator` phrase makes its indicator's title: "% of children in care who
say they trust their social worker".
"""

from __future__ import annotations

from dataclasses import dataclass

from whatworks.core.errors import NotFound

AUDIENCES = ("children in care", "care leavers", "families", "staff")
#: Audiences whose results are children's and young people's (the stricter threshold).
YOUNG_AUDIENCES = ("children in care", "care leavers")
YOUNG = YOUNG_AUDIENCES  # short name for the bank below
THEMES = (
    "relationships",
    "feeling safe",
    "being listened to",
    "stability",
    "wellbeing",
    "staff morale",
    "workload",
    "anything else",
)
#: The longest free-text answer accepted, in characters.
MAX_TEXT = 1_000

YES = ("Yes", "Sometimes", "No", "I don't know")
HAPPY = ("Very happy", "Quite happy", "Not very happy", "Not at all happy")
AGREE = ("Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree")
WORKERS = ("One", "Two", "Three or more", "I don't know")


@dataclass(frozen=True)
class BankQuestion:
    """A question in the bank: whom it is for, its scale and its good answers."""

    id: str
    theme: str
    audiences: tuple[str, ...]
    text: str
    kind: str = "scale"  # scale or text
    answers: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    indicator: str = ""  # "say they trust their social worker"


BANK = (
    BankQuestion(
        "trust_social_worker", "relationships", YOUNG, "Do you trust your social worker?",
        answers=YES, positive=("Yes",), indicator="say they trust their social worker",
    ),
    BankQuestion(
        "trusted_adult", "relationships", YOUNG,
        "Is there an adult in your life you trust, who sticks by you?",
        answers=YES, positive=("Yes",),
        indicator="say they have a trusted adult who sticks by them",
    ),
    BankQuestion(
        "feel_safe", "feeling safe", (*YOUNG, "families"), "Do you feel safe where you live?",
        answers=YES, positive=("Yes",), indicator="say they feel safe where they live",
    ),
    BankQuestion(
        "listened_to", "being listened to", AUDIENCES[:3],
        "Do the adults who make decisions about your life listen to you?",
        answers=YES, positive=("Yes",),
        indicator="say they are listened to in decisions about their life",
    ),
    BankQuestion(
        "social_workers_this_year", "stability", YOUNG,
        "How many social workers have you had in the last 12 months?",
        answers=WORKERS, positive=("One",),
        indicator="say they had one social worker in the last year",
    ),
    BankQuestion(
        "settled_home", "stability", YOUNG, "Do you feel settled where you live now?",
        answers=YES, positive=("Yes",), indicator="say they feel settled where they live",
    ),
    BankQuestion(
        "happy_with_life", "wellbeing", (*YOUNG, "families"),
        "How happy are you with your life at the moment?",
        answers=HAPPY, positive=HAPPY[:2], indicator="say they are happy with their life",
    ),
    BankQuestion(
        "help_made_difference", "wellbeing", ("families",),
        "Has the help your family got made things better?",
        answers=YES, positive=("Yes",), indicator="say the help they got made things better",
    ),
    BankQuestion(
        "happy_at_work", "staff morale", ("staff",), "I am happy at work.",
        answers=AGREE, positive=AGREE[:2], indicator="say they are happy at work",
    ),
    BankQuestion(
        "supported_by_manager", "staff morale", ("staff",),
        "I get the support I need from my manager.",
        answers=AGREE, positive=AGREE[:2],
        indicator="say they get the support they need from their manager",
    ),
    BankQuestion(
        "manageable_workload", "workload", ("staff",), "My workload is manageable.",
        answers=AGREE, positive=AGREE[:2], indicator="say their workload is manageable",
    ),
    BankQuestion(
        "anything_else", "anything else", AUDIENCES,
        "Is there anything else you want to tell us?", kind="text",
    ),
)  # fmt: skip


def question(question_id: str) -> BankQuestion:
    """The bank's question with this id."""
    for item in BANK:
        if item.id == question_id:
            return item
    raise NotFound(
        f"The question bank has no question {question_id!r}; "
        f"use one of {', '.join(q.id for q in BANK)}."
    )


def for_audience(audience: str) -> list[BankQuestion]:
    """The bank's questions suited to an audience."""
    return [q for q in BANK if audience in q.audiences]


def is_young(audience: str) -> bool:
    """Whether an audience's answers are children's or young people's."""
    return audience in YOUNG_AUDIENCES
