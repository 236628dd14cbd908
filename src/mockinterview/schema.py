"""Pydantic models for everything that crosses a boundary: bank files, session files, scores.

Every model forbids unknown keys: a typo in a coach's YAML or a hand-edited session.json is an
error that names the field, never a silently ignored value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Section = Literal[
    "introduction",
    "technical",
    "coding",
    "behavioral",
    "system_design",
    "candidate_questions",
    "feedback",
]
Role = Literal["ml-engineer", "data-scientist", "genai-engineer"]
TurnKind = Literal["question", "follow_up", "coding", "candidate_question", "statement"]
Level = Literal["junior", "mid", "senior"]
Style = Literal["friendly", "neutral", "demanding"]

# the same values as tuples, in interview order, for choices and loops
SECTIONS: tuple[str, ...] = get_args(Section)
ROLES: tuple[str, ...] = get_args(Role)
LEVELS: tuple[str, ...] = get_args(Level)
STYLES: tuple[str, ...] = get_args(Style)

# How the offline engine estimates a criterion. The LLM engine reads the descriptors instead.
Measure = Literal[
    "coverage",  # share of the question's key points the answer covers
    "correctness",  # coverage, minus stated misconceptions
    "depth",  # specifics: numbers, examples, trade-offs, technical vocabulary in context
    "structure",  # organisation; STAR for behavioural answers
    "communication",  # delivery: pace, fillers, pauses, sentence completeness
    "tests",  # coding: share of hidden test cases passed
    "code_quality",  # coding: static checks, edge-case handling, readability
    "explanation",  # coding: the spoken walk-through (approach, complexity)
]

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ----------------------------------------------------------------------------- the bank


class KeyPoint(Strict):
    """One thing a strong answer covers, with the phrasings that count as covering it.

    `phrasings` are the words that show the point is *named*; `claims` are the precise forms a
    correct statement of it takes ("scaled by the square root of the key dimension", "L1 drives
    weights to exactly zero"). Naming a point is vocabulary; stating one of its claims is
    knowledge, and only that lifts correctness above 2.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    point: str = Field(min_length=3, max_length=400)
    phrasings: list[str] = Field(default_factory=list, max_length=60)
    claims: list[str] = Field(default_factory=list, max_length=30)

    @field_validator("phrasings", mode="before")
    @classmethod
    def _numbers_are_text(cls, v: Any) -> Any:
        # YAML reads an unquoted 0.5 or 2 as a number; in a phrasing it is the spoken text
        if isinstance(v, list):
            return [str(x) if isinstance(x, int | float) and not isinstance(x, bool) else x
                    for x in v]
        return v

    @field_validator("phrasings")
    @classmethod
    def _non_empty_phrasings(cls, v: list[str]) -> list[str]:
        for p in v:
            if not p.strip():
                raise ValueError("a phrasing is empty")
        return v


class Probe(Strict):
    """A follow-up question, asked when its key point was missed."""

    key_point: str
    text: str = Field(min_length=3, max_length=400)


class TestCase(Strict):
    """A hidden test case of a coding question: call the function with args, compare."""

    __test__ = False  # not a pytest class

    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    tolerance: float | None = Field(default=None, ge=0)
    raises: str | None = None  # name of the exception type the call must raise instead
    note: str = ""


class CodingSpec(Strict):
    function: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    signature: str
    starter: str
    example: str = ""
    cases: list[TestCase] = Field(min_length=1)
    time_limit_s: float = Field(default=5.0, gt=0, le=60)
    memory_mb: int = Field(default=512, ge=64, le=4096)


MisconceptionKind = Literal["swapped", "formula", "direction", "absolute", "confusion",
                            "constraint", "other"]


class Misconception(Strict):
    """A wrong claim candidates actually state, how they say it, and what is right instead.

    kind: swapped (a term bound to its partner's definition), formula (a wrong formula or
    quantity), direction (an effect stated the wrong way round), absolute (a false "always",
    "never", "eliminates"), confusion (a method taken for its neighbour), constraint (a design
    that ignores the problem's constraint). A plain string in YAML is read as a claim whose only
    phrasing is itself.
    """

    claim: str = Field(min_length=3, max_length=300)
    phrasings: list[str] = Field(default_factory=list, max_length=30)
    correction: str = Field(default="", max_length=500)
    kind: MisconceptionKind = "other"

    @model_validator(mode="after")
    def _claim_is_a_phrasing(self) -> Misconception:
        if self.claim not in self.phrasings:
            self.phrasings = [self.claim, *self.phrasings]
        return self


class Question(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    section: Section
    text: str = Field(min_length=5, max_length=1000)
    rephrasing: str | None = None
    roles: list[Role] = Field(min_length=1)
    levels: list[Level] = Field(min_length=1)
    topics: list[str] = Field(default_factory=list)
    time_limit_s: int = Field(default=180, ge=15, le=3600)
    key_points: list[KeyPoint] = Field(min_length=1)
    probes: list[Probe] = Field(default_factory=list)
    misconceptions: list[Misconception] = Field(default_factory=list)
    outline: str = ""

    @field_validator("misconceptions", mode="before")
    @classmethod
    def _plain_misconceptions(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"claim": m} if isinstance(m, str) else m for m in v]
        return v
    coding: CodingSpec | None = None

    def key_point(self, kp_id: str) -> KeyPoint | None:
        return next((k for k in self.key_points if k.id == kp_id), None)


class PairSide(Strict):
    """One side of a paired concept: its term, other ways to say it, and what defines it.

    ``defines`` are short phrases that state this side's meaning ("too simple", "underfits",
    "of the actual positives"); a sentence that binds the partner's term to one of them states the
    pair the wrong way round.
    """

    term: str = Field(min_length=1, max_length=80)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    defines: list[str] = Field(min_length=1, max_length=30)

    @field_validator("aliases", "defines")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        for p in v:
            if not p.strip():
                raise ValueError("an entry is empty")
        return v


class Pair(Strict):
    """Two concepts candidates swap (bias/variance, precision/recall): a general check, not tied
    to one question. ``sides`` holds exactly two sides."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    sides: list[PairSide] = Field(min_length=2, max_length=2)
    note: str = Field(default="", max_length=300)


class Criterion(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    weight: float = Field(gt=0, le=1)
    measure: Measure
    levels: dict[int, str]

    @field_validator("levels")
    @classmethod
    def _five_levels(cls, v: dict[int, str]) -> dict[int, str]:
        missing = [lvl for lvl in range(1, 6) if not str(v.get(lvl, "")).strip()]
        if missing:
            raise ValueError(f"level {missing[0]} descriptor missing (levels 1-5 are all required)")
        extra = sorted(set(v) - set(range(1, 6)))
        if extra:
            raise ValueError(f"level {extra[0]} is outside 1-5")
        return v


class SectionRubric(Strict):
    section: Section
    title: str
    criteria: list[Criterion] = Field(min_length=1)
    common_terms: list[str] = Field(default_factory=list)


class ProfileAnswer(Strict):
    topics: list[str] = Field(min_length=1)
    answer: str


class RoleProfile(Strict):
    role: Role
    title: str
    company: str
    team: str
    summary: str
    answers: list[ProfileAnswer] = Field(default_factory=list)
    fallback: str = "That's a good question; your recruiter can give you the details."


# ----------------------------------------------------------------------------- transcripts


class Word(Strict):
    word: str
    start: float
    end: float
    probability: float = 1.0


class Segment(Strict):
    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)


class Correction(Strict):
    """A near miss the vocabulary pass changed: kept so reviewers see what was altered."""

    original: str
    corrected: str
    position: int  # word index in the raw transcript
    score: float = 1.0
    # how the change was justified: "biased" (imported from the hotwords decoding), "sound-alike"
    # (the offline pass), "verified" (the model scored the audio with and without it),
    # "spelling" (the term's letters were heard, spaced otherwise: "light GBM" -> "LightGBM")
    via: str | None = None
    gain: float | None = None  # verified edits: log-probability gained, in nats


class Transcript(Strict):
    text: str  # what scoring reads (corrected when a correction pass ran)
    raw_text: str | None = None  # the decoder's words before corrections
    corrections: list[Correction] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    duration_s: float = 0.0
    language: str = "en"
    source: Literal["audio", "text"] = "audio"
    notes: list[str] = Field(default_factory=list)  # e.g. a repetition loop decoded again


class TranscriptionRun(Strict):
    """A re-transcription of a session's answers (``batch transcribe``), kept beside the live
    transcripts and any earlier run: which model and decoding options made it, and when.

    ``transcripts`` maps a turn's index to its new transcript; the live ``Turn.transcript`` is
    never overwritten.
    """

    id: str
    created: datetime = Field(default_factory=utcnow)
    model: str
    options: dict[str, Any] = Field(default_factory=dict)
    job: str | None = None
    transcripts: dict[int, Transcript] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)


class Delivery(Strict):
    duration_s: float = 0.0
    speaking_time_s: float = 0.0
    words: int = 0
    wpm: float = 0.0
    fillers: dict[str, int] = Field(default_factory=dict)
    filler_count: int = 0
    filler_rate: float = 0.0  # fillers per 100 words
    long_pauses: int = 0
    longest_pause_s: float = 0.0
    pause_threshold_s: float = 2.0
    pace: list[float] = Field(default_factory=list)  # words per minute in consecutive windows


# ----------------------------------------------------------------------------- scores


class CriterionScore(Strict):
    criterion: str
    level: int = Field(ge=1, le=5)
    rationale: str = ""
    evidence: list[str] = Field(default_factory=list)


class QuestionScore(Strict):
    question_id: str
    section: Section
    criteria: list[CriterionScore]
    overall: float = Field(ge=1, le=5)
    covered: list[str] = Field(default_factory=list)
    missed: list[str] = Field(default_factory=list)
    dropped_quotes: int = 0
    engine: str = "offline"
    notes: list[str] = Field(default_factory=list)


class ScoringRun(Strict):
    id: str
    created: datetime = Field(default_factory=utcnow)
    engine: str
    rubric_dir: str = ""
    prompt_dir: str = ""
    hashes: dict[str, str] = Field(default_factory=dict)
    scores: list[QuestionScore] = Field(default_factory=list)
    job: str | None = None  # the batch job that made it (`batch rescore`): a rerun skips it


# ----------------------------------------------------------------------------- sessions


class PlannedSection(Strict):
    section: Section
    budget_s: float
    question_ids: list[str] = Field(default_factory=list)


class Plan(Strict):
    role: Role
    level: Level
    minutes: int
    style: Style = "neutral"
    focus: str | None = None
    sections: list[PlannedSection]
    reasons: list[str] = Field(default_factory=list)


class Event(Strict):
    kind: str
    t_mono: float
    t_wall: datetime = Field(default_factory=utcnow)
    turn: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class CodingRun(Strict):
    question_id: str
    code_path: str
    code: str
    verdict: str
    passed: int
    total: int
    cases: list[dict[str, Any]] = Field(default_factory=list)
    run_time_s: float = 0.0
    static_issues: list[str] = Field(default_factory=list)
    sandbox: list[str] = Field(default_factory=list)  # layers in force for this run
    sandbox_missing: list[str] = Field(default_factory=list)  # layers wanted but not available


class Turn(Strict):
    index: int
    section: Section
    question_id: str | None = None
    kind: TurnKind = "question"
    prompt_text: str
    prompt_audio: str | None = None  # path relative to the session folder
    answer_audio: str | None = None
    transcript: Transcript | None = None
    delivery: Delivery | None = None
    started: datetime = Field(default_factory=utcnow)
    capture: dict[str, Any] = Field(default_factory=dict)  # overflow counts, device, end reason


class FollowUpPlan(Strict):
    focus: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    suggested_date: str | None = None


class Feedback(Strict):
    summary: str = ""
    strengths: list[str] = Field(default_factory=list)
    improvements: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    follow_up: FollowUpPlan | None = None
    engine: str = "offline"


class Annotation(Strict):
    reviewer: str = "reviewer"
    created: datetime = Field(default_factory=utcnow)
    question_id: str | None = None
    turn: int | None = None
    at_s: float | None = None
    comment: str = ""
    levels: dict[str, int] = Field(default_factory=dict)  # criterion id -> 1..5


class JobTerm(Strict):
    """A term of the bank's vocabulary found in a job description (issue 19)."""

    term: str
    count: int = 1
    main: bool = True  # in the job's requirements, not only in its "nice to have" part
    covered_by: list[str] = Field(default_factory=list)  # planned question ids covering it


class Tailoring(Strict):
    """What a job description (and a CV) changed in a session's plan, and why.

    The job and CV texts themselves are files in the session folder (``job_file``, ``cv_file``,
    mode 0600); this record keeps what was extracted from them, so reports and follow-up sessions
    need not parse them again.
    """

    job_name: str = ""  # the job file's name without extension, for `progress --job`
    job_sha256: str = ""
    job_file: str | None = None  # relative to the session folder
    cv_file: str | None = None
    job_terms: list[JobTerm] = Field(default_factory=list)
    uncovered: list[str] = Field(default_factory=list)  # job terms no bank question covers
    competencies: list[str] = Field(default_factory=list)  # behavioural topics the job asks for
    question_terms: dict[str, list[str]] = Field(default_factory=dict)  # question id -> job terms
    cv_follow_ups: list[str] = Field(default_factory=list)  # introduction follow-ups (templates)
    notes: list[str] = Field(default_factory=list)  # what could not be used, and why
    generated: list[Question] = Field(default_factory=list)  # model-written, checker-approved
    dropped: list[str] = Field(default_factory=list)  # model-written questions the checker refused


class Session(Strict):
    schema_version: int = SCHEMA_VERSION
    id: str
    created: datetime = Field(default_factory=utcnow)
    status: Literal["in_progress", "completed", "aborted"] = "in_progress"
    engine: str = "offline"
    stt_model: str = ""
    answer_source: str = ""  # demo | files | text | mic: resume goes on with the same kind
    answer_folder: str | None = None  # the answers folder of a `files` session
    plan: Plan
    cursor: dict[str, int] = Field(default_factory=dict)  # where resume continues
    turns: list[Turn] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    scoring_runs: list[ScoringRun] = Field(default_factory=list)
    coding_runs: list[CodingRun] = Field(default_factory=list)
    feedback: Feedback | None = None
    hashes: dict[str, str] = Field(default_factory=dict)  # bank/prompt file -> sha256
    annotations: list[Annotation] = Field(default_factory=list)
    follow_up_of: str | None = None
    tailoring: Tailoring | None = None  # set when the interview was planned for a job (issue 19)
    transcription_runs: list[TranscriptionRun] = Field(default_factory=list)
    # the interviewer's voice this session spoke with: name, model file, sample rate
    voice: dict[str, str | int | float | None] = Field(default_factory=dict)

    @property
    def latest_scores(self) -> list[QuestionScore]:
        return self.scoring_runs[-1].scores if self.scoring_runs else []
