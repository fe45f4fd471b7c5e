"""What a question asks for, and whether a piece of text can be an answer to it.

A sentence can be true and still not answer the question: asked "How many people
attended the parade?", "The parade commemorated the 80th anniversary" is supported
by the article but holds no count. Grounding therefore checks two things beyond
support: the answer holds something of the kind asked for (a number for "how
many", a date for "when", a name for "who") that the question did not already
contain, and the supporting text is about what the question names (its content
words, and every number it mentions, occur there).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w’'-]+")
# Function words, plus words that only say what kind of answer is wanted.
_STOP = set("""a an the of to in on at for by with from and or but is are was were be been being
that this these those it its as into than then there their they them he she his her him we our
you your i not no do does did has have had will would can could may might should also about over
after before during which who whom whose what when where why how said says according many much
long name named called kind type happen happened take took place one ones s year years date
day month time percentage percent number amount purpose reason
week weeks recent recently currently now today latest following""".split())
# The second line: how news questions are dated and framed ("this week", "recently",
# "which of the following"); the article sentence that answers rarely repeats it.

NUMBER_WORDS = set("""two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
hundred hundreds thousand thousands million millions billion billions trillion dozen dozens half
single""".split())
_CARDINAL = re.compile(r"(?<![\w.])\d[\d,.]*(?!\d|st\b|nd\b|rd\b|th\b)")
_MONTHS = ("january february march april may june july august september october november "
           "december jan feb mar apr jun jul aug sep sept oct nov dec").split()
_DATE = re.compile(
    r"\b(?:" + "|".join(_MONTHS) + r")\b\.?|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|today|yesterday|tomorrow|tonight|weekend|ago|spring|summer|autumn|fall|winter|"
    r"morning|afternoon|evening|night|midnight|noon|century|centuries|decade|decades|era|"
    r"week|weeks|month|months|year|years)\b|\b\d{3,4}s?\b|\b\d{1,2}(?::\d\d)?\s?[ap]\.?m\b",
    re.I)

_KINDS = (
    ("date", re.compile(r"^\s*(when\b|(in|on|by|since|until)?\s*(what|which) (year|date|day|month|"
                        r"time|century|decade|season)\b)", re.I)),
    ("number", re.compile(r"^\s*(how (many|much|long|old|far|big|large|tall|high|deep|fast)\b|"
                          r"(what|which) (percentage|percent|number|amount|proportion|share|"
                          r"fraction|population)\b|(what|which)('s| is| was| are| were)? the (value|cost|"
                          r"price|worth|total|population|number|amount|size|percentage|share|rate)\b)", re.I)),
    ("person", re.compile(r"^\s*(who|whom|whose)\b", re.I)),
    ("place", re.compile(r"(^\s*|[.?!]\s+|\b(in|at|from|to|near|of)\s+)(where\b|(what|which) (city|country|town|"
                         r"place|region|state|province|capital|venue|location|island|nation|continent)\b)", re.I)),
    # What has a name of its own: the answer must name it ("Which show ..." is not
    # answered by "the wildly popular South Korean show").
    ("name", re.compile(r"\b(what|which) (\w+ ){0,2}(show|series|company|firm|team|airline|school|college|"
                        r"university|player|singer|band|film|movie|brand|organi[sz]ation|network|league|"
                        r"club|agency|app|newspaper|magazine|book|album|song|retailer|chain|carmaker|"
                        r"automaker|bank)\b", re.I)),
)


def question_kind(question: str) -> str:
    """number | date | person | place | name | other (other: anything goes)."""
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return "other"


def _norm(text: str) -> str:
    return text.replace("’", "'").replace("‘", "'").lower()


def stem(word: str) -> str:
    """A crude stem: the first five letters. Enough to match "invite"/"invitation",
    "organisation"/"organization", "visit"/"visiting" without a stemming library."""
    return word[:5]


def content_stems(text: str) -> set[str]:
    return {stem(w.strip("'-")) for w in _WORD.findall(_norm(text))
            if len(w.strip("'-")) > 1 and w.strip("'-") not in _STOP}


# Function words that open sentences capitalised: never names.
OPENERS = set("""while although though however despite because since if once yet still meanwhile
moreover furthermore thus hence therefore instead indeed nevertheless nonetheless unlike like
among amid within without through throughout""".split())


def names(text: str, acronyms: bool = False) -> set[str]:
    """Capitalised words that are not function words: the names a text mentions; with
    `acronyms`, also those of multi-word names, so "SCO" is found in "Shanghai
    Cooperation Organisation"."""
    out, run = set(), []
    for w in _WORD.findall(text) + ["."]:
        w = w.strip("'-’")
        if (w[:1].isupper() and w.lower() not in _STOP and w.lower() not in OPENERS
                and not re.fullmatch(r"[IVX]+", w)):
            out.add(_key(w))
            run.append(w[0])
        elif run and w.lower() in ("of", "the", "for"):
            continue
        else:
            if acronyms and len(run) > 1:
                out.add("".join(run).lower()[:5])
            run = []
    return out


def question_names(question: str) -> set[str]:
    """The names a question mentions. A sentence's first word is capitalised by position
    ("Dozens of people ...", "Primary voters in which state ..."): it counts as a name
    only when a capitalised word follows it ("Nancy Pelosi") or it recurs capitalised.
    Weekdays ("early Thursday") date a news question; they are not what it is about."""
    found = names(question) - _WEEKDAYS
    capitalised = [_key(w) for w in (w.strip("'-’") for w in _WORD.findall(question)) if w[:1].isupper()]
    for sentence in re.split(r"(?<=[.?!])\s+", question.strip()):
        first = [w.strip("'-’") for w in _WORD.findall(sentence)][:2]
        if (first and first[0][:1].isupper() and not (len(first) > 1 and first[1][:1].isupper())
                and capitalised.count(_key(first[0])) < 2):
            found.discard(_key(first[0]))
    return found


_WEEKDAYS = {stem(d) for d in "monday tuesday wednesday thursday friday saturday sunday".split()}


def _key(word: str) -> str:
    return stem(_norm(word).removesuffix("'s"))


_WH_PHRASE = re.compile(r"\b(?:which|what|whose|how many|how much)\s+[\w'’-]+", re.I)


def echoes(question: str, answer: str) -> bool:
    """The answer repeats the question's own wh-phrase ("... near which national park")
    or asks instead of telling: it restates the question, it does not answer it."""
    if answer.rstrip().endswith("?"):
        return True
    low = _norm(answer)
    return any(_norm(m.group()) in low for m in _WH_PHRASE.finditer(question))


def numbers(text: str) -> set[str]:
    found = {m.group().rstrip(".,").replace(",", "") for m in _CARDINAL.finditer(text)}
    found |= {w for w in _WORD.findall(_norm(text)) if w in NUMBER_WORDS}
    return found


def has_kind(kind: str, text: str, question: str) -> bool:
    """The text holds an answer of the kind asked for that the question did not contain."""
    if kind == "number":
        return bool(numbers(text) - numbers(question))
    if kind == "date":
        asked = {m.group().lower() for m in _DATE.finditer(question)}
        return any(m.group().lower() not in asked for m in _DATE.finditer(text))
    if kind in ("person", "place", "name"):  # a name the question does not hold ("Tianjin")
        return bool(names(text) - question_names(question) - content_stems(question))
    return True


def coverage(question: str, text: str, names_too: bool = True) -> float:
    """Share of the question's content words (crudely stemmed) found in the text;
    with names_too=False only the other words ("invite", "attend"): in a story about
    Sharif and Putin every sentence names them, what tells sentences apart is the rest."""
    asked = content_stems(question) - (set() if names_too else question_names(question))
    if not asked:
        return 1.0
    return len(asked & content_stems(text)) / len(asked)


_HYPHEN_NUMBER = re.compile(r"\b(" + "|".join(sorted(NUMBER_WORDS - {"half", "single"})) + r")-[a-z]", re.I)


def numbers_present(question: str, text: str) -> bool:
    """Every figure the question mentions ("in 2024", "12 schools", "the 22nd") occurs
    in the text as a figure of its own: "2000" is not found in "the 2000s", nor "22nd"
    in "32nd"."""
    hay = _norm(text)
    asked = {n for n in numbers(question) if n[:1].isdigit()} | ordinals(question)
    # number words bound into a name or a measure ("the Seven-Day War", "a two-cylinder engine")
    asked |= {m.group(1).lower() for m in _HYPHEN_NUMBER.finditer(question)}
    hays = (hay.replace(",", ""), hay)  # "12,000" asked as "12000" or as written
    return all(any(re.search(r"(?<![\w.])" + re.escape(n) + r"(?![\w]|[.,]\d)", h) for h in hays)
               for n in asked)


_ORDINAL = re.compile(r"\b(\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|"
                      r"ninth|tenth)\b", re.I)


def ordinals(text: str) -> set[str]:
    """Ranks a question may hinge on: "the 22nd", "the second wave"."""
    return {m.group().lower() for m in _ORDINAL.finditer(_norm(text))}


_NEGATION = re.compile(r"\b(not|no|never|none|nor|neither|without|cannot)\b|n't\b", re.I)


def negated(text: str) -> bool:
    return bool(_NEGATION.search(_norm(text)))


# Words whose opposite, found in place of them, turns a matching sentence into the answer
# to another question ("When did the Rhine take a right turn?" / "... took a left turn").
_OPPOSITES = [("left", "right"), ("east", "west"), ("north", "south"), ("eastward", "westward"),
              ("eastern", "western"), ("northern", "southern"), ("first", "last"), ("before", "after"),
              ("increase", "decrease"), ("increased", "decreased"), ("increasing", "decreasing"),
              ("rise", "fall"), ("rose", "fell"), ("rising", "falling"), ("higher", "lower"),
              ("highest", "lowest"), ("largest", "smallest"), ("larger", "smaller"), ("most", "least"),
              ("more", "less"), ("maximum", "minimum"), ("win", "lose"), ("won", "lost"),
              ("gain", "loss"), ("early", "late"), ("earlier", "later"), ("earliest", "latest"),
              ("positive", "negative"), ("legal", "illegal"), ("encrypted", "unencrypted"),
              ("public", "private"), ("import", "export"), ("imports", "exports"),
              ("inside", "outside"), ("upper", "lower"), ("accept", "reject"), ("accepted", "rejected"),
              ("support", "oppose"), ("supported", "opposed"), ("allow", "forbid"), ("allowed", "banned"),
              ("open", "closed"), ("start", "end"), ("began", "ended"), ("minor", "major"),
              ("strong", "weak"), ("stronger", "weaker"), ("old", "new"), ("older", "newer"),
              ("oldest", "newest"), ("younger", "older"), ("youngest", "oldest"),
              ("mild", "severe"), ("success", "failure"), ("successful", "unsuccessful"),
              ("victory", "defeat"), ("attack", "defend"), ("attacked", "defended")]
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in _OPPOSITES:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)


_TITLE = (r"(?i:prime minister|foreign minister|defen[cs]e minister|finance minister|minister|"
          r"vice president|president|premier|chancellor|king|queen|governor|mayor|ambassador|ceo|"
          r"army chief|head of state)")
_ROLE_PATTERNS = (
    # prime minister of India, President of the United States
    re.compile(r"\b(" + _TITLE + r")\s+of\s+(?:the\s+)?([A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)?)"),
    # India's prime minister, the Pakistani prime minister, US President
    re.compile(r"\b([A-Z][\w’'.-]*?)(?:’s|'s)?\s+(" + _TITLE + r")\b"),
)
# Words that qualify an office rather than say whose it is ("Former President ...").
_TITLE_WORDS = set("""former then vice deputy new current late acting interim incoming outgoing
first chief senior junior prime foreign""".split())
_NOT_PLACES = _STOP | OPENERS | _TITLE_WORDS
_SAME_PLACE = {"united states": "us", "u.s": "us", "u.s.": "us", "america": "us", "american": "us",
               "united kingdom": "uk", "britain": "uk", "british": "uk"}


def roles(text: str) -> dict[str, set[str]]:
    """Offices and whose they are: {"prime minister": {"pakis"}} for "Pakistan's Prime
    Minister Shehbaz Sharif" or "the Pakistani prime minister" (names stemmed as in
    `names`, so "Pakistani" is "Pakistan")."""
    out: dict[str, set[str]] = {}
    for k, pattern in enumerate(_ROLE_PATTERNS):
        for m in pattern.finditer(text):
            office, place = (m.group(1), m.group(2)) if k == 0 else (m.group(2), m.group(1))
            place = place.strip(".")
            if place.lower() in _NOT_PLACES:
                continue
            key = _SAME_PLACE.get(place.lower()) or _key(place.split()[0])
            out.setdefault(" ".join(office.lower().split()), set()).add(key)
    return out


def role_conflict(claim: str, text: str) -> bool:
    """The claim gives an office to one country or body ("the prime minister of India")
    and the text gives that office only to another ("Pakistan's Prime Minister")."""
    theirs = roles(text)
    return any(office in theirs and not places & theirs[office]
               for office, places in roles(claim).items())


def mismatch(question: str, text: str) -> str | None:
    """Why `text`, though about the same things, cannot answer `question`, or None:
    "negation" (the question asks what did *not* happen, the text says nothing negative),
    "opposite" (the question's "left", "increase", "first" is the text's "right",
    "decrease", "last", and the question's word is not there too), "role" (the
    question's "prime minister of India" is the text's "Pakistan's Prime Minister")."""
    if negated(question) and not negated(text):
        return "negation"
    if role_conflict(question, text):
        return "role"
    qw = set(_WORD.findall(_norm(question)))
    tw = set(_WORD.findall(_norm(text)))
    text_stems = {stem(w) for w in tw}
    for w in qw - tw:
        if stem(w) not in text_stems and _OPPOSITE.get(w, set()) & (tw - qw):
            return "opposite"
    return None
