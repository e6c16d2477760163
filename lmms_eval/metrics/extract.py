"""Deterministic answer extraction shared by filters and metrics.

Nothing here guesses: when the evidence is missing or contradictory the functions return
``None`` (or an empty string in the filters), and the metrics count that as wrong.

* :func:`answer_tag_content` - the text inside the last ``<answer>...</answer>``.
* :func:`last_boxed` - the content of the last ``\\boxed{...}`` / ``\\fbox{...}`` (balanced braces).
* :func:`extract_choice` - the option letter of a multiple-choice answer (see its priority order).
* :func:`extract_yes_no` - ``"yes"``/``"no"`` from a free-text answer (MME rule).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any

LETTERS = string.ascii_uppercase

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)


def answer_tag_content(text: str) -> str | None:
    """The stripped text inside the last ``<answer>...</answer>``; ``None`` if there is none."""
    found = _ANSWER_TAG.findall(str(text))
    return found[-1].strip() if found else None


_BOXED_START = re.compile(r"\\(?:boxed|fbox)\s*(\{)?")


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced; ``None`` if absent.

    ``\\boxed 5`` (no braces) gives the token up to the next space or ``$``. An opening brace
    that is never closed gives ``None``: a truncated answer is not an answer.
    """
    text = str(text)
    starts = list(_BOXED_START.finditer(text))
    for match in reversed(starts):
        if match.group(1) is None:
            rest = text[match.end() :]
            token = re.match(r"[^\s$]+", rest)
            if token:
                return token.group(0)
            continue
        depth, i = 1, match.end()
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                i += 2  # an escaped character (\{ or \}) does not count as a brace
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return text[match.end() : i].strip()
            i += 1
    return None


# ---- yes / no ------------------------------------------------------------------------------

_FIRST_STANDALONE_ABCD = re.compile(r"\b([A-D])\b")


def first_standalone_letter(text: Any) -> str | None:
    """The first capital A-D standing as a word of its own (regex ``\\b([A-D])\\b``), or None.

    The rule of EgoRAG's ``extract_single_option_answer`` and of lmms-eval's PerceptionTest: "B.",
    "(C)" and "C:" count, the B of "Based" does not, the article "A" of "A person ..." does."""
    found = _FIRST_STANDALONE_ABCD.search("" if text is None else str(text))
    return found.group(1) if found else None


_YES_NO_START = re.compile(r"(yes|no)\b")
_YES_NO_ANY = re.compile(r"\b(yes|no)\b")


def extract_yes_no(text: str) -> str | None:
    """``"yes"``/``"no"``: the answer's first word if it is one, else the only one of the two
    words that occurs, else ``None`` (both or neither occur)."""
    t = str(text).lower().replace("*", "").strip()
    t = t.lstrip(" \t\n\"'`([{:-")
    start = _YES_NO_START.match(t)
    if start:
        return start.group(1)
    found = set(_YES_NO_ANY.findall(t))
    return found.pop() if len(found) == 1 else None


# ---- multiple choice ----------------------------------------------------------------------

# An answer statement: "Answer: B", "the answer is (B)", "the correct option is b",
# "Final answer - C", "option B", "答案是 B". The letter (or option text) follows the cue.
_CUE = re.compile(
    r"(?:\b(?:final|correct|right|best)\s+)?\b(?:answer|option|choice)s?\b"
    r"(?:\s+(?:is|would\s+be|should\s+be|will\s+be|must\s+be|appears\s+to\s+be|seems\s+to\s+be))?"
    r"\s*(?:[:=\-]|\bis\b)?\s*"
    r"|答案\s*(?:是|为|:|：)?\s*",
    re.IGNORECASE,
)
# A letter token at the start of a fragment: "B", "(B)", "[b]", "B.", "B)", "option B".
_LETTER_HEAD = re.compile(
    r"\s*(?:(?:option|choice)\s+)?(?P<open>[(\[])?(?P<letter>[A-Za-z])(?(open)[)\]])(?=$|[\s.,;:!?)\]])",
    re.IGNORECASE,
)
_WHOLE_LETTER = re.compile(r"[(\[]?([A-Za-z])[)\]]?[.:]?")
_BRACKETED = re.compile(r"[(\[]([A-Za-z])[)\]]")
_LEADING_DELIMITED = re.compile(r"([A-Za-z])(?:[.):](?:\s|$)|[ \t]*\n)")
_STANDALONE_CAPITAL = re.compile(r"(?<![\w'’\-])([A-Z])(?![\w'’\-])")
# After "A"/"I" these words mean the letter names an option ("A is correct", "A or B"),
# not the article "A" or the pronoun "I".
_LETTER_VERBS = {
    "is",
    "was",
    "seems",
    "appears",
    "matches",
    "fits",
    "would",
    "should",
    "could",
    "must",
    "can",
    "will",
    "or",
    "and",
    "nor",
    "vs",
}
_TEX_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")


def valid_letters(choices: Sequence[Any] | None, letters: str = LETTERS) -> str:
    """The letters in play: the first ``len(choices)`` of ``letters``, or all of them."""
    letters = letters.upper()
    if not letters.isalpha():
        raise ValueError(f"letters must be alphabetic, got {letters!r}")
    return letters[: len(choices)] if choices else letters


def _norm_option(text: Any) -> str:
    out = " ".join(str(text).casefold().split())
    return out.strip(" .!?;:,\"'`")


def _letter_at_head(fragment: str, valid: str) -> str | None:
    """The letter a fragment starts with ("B", "(b)", "B. text"), not the article "a"."""
    match = _LETTER_HEAD.match(fragment)
    if not match:
        return None
    letter = match.group("letter")
    if letter.upper() not in valid:
        return None
    if not match.group("open") and letter.islower():
        after = fragment[match.end() :]
        if re.match(r"\s+[A-Za-z]", after):
            return None  # "the answer is a dog": the article, not option (a)
    return letter.upper()


def _option_at_head(fragment: str, choices: Sequence[Any], valid: str) -> str | None:
    """The option whose text the fragment starts with (longest such option, if unique)."""
    head = _norm_option(fragment)
    hits: list[tuple[int, int]] = []
    for i, choice in enumerate(choices[: len(valid)]):
        option = _norm_option(choice)
        if option and re.match(re.escape(option) + r"(?!\w)", head):
            hits.append((len(option), i))
    if not hits:
        return None
    longest = max(length for length, _ in hits)
    best = [i for length, i in hits if length == longest]
    return valid[best[0]] if len(best) == 1 else None


def _from_statements(text: str, choices: Sequence[Any] | None, valid: str) -> str | None:
    """Level 3: the last answer statement ("the answer is B") that names an option."""
    for cue in reversed(list(_CUE.finditer(text))):
        tail = text[cue.end() :]
        tail = re.split(r"\n|(?<=[.!?])\s", tail, maxsplit=1)[0]
        letter = _option_at_head(tail, choices, valid) if choices else None
        if letter is None:
            letter = _letter_at_head(tail, valid)
        if letter is not None:
            return letter
    return None


def _from_leading_marker(text: str, valid: str) -> str | None:
    """Level 4: the whole answer is a letter ("B", "(b)", "B.") or starts with "(B)", "B.", "B)", "B:"
    and brackets no other option letter ("(A) is wrong, (C) ..." is not an answer A)."""
    stripped = text.strip()
    for pattern, match_fn in (
        (_WHOLE_LETTER, "fullmatch"),
        (_BRACKETED, "match"),
        (_LEADING_DELIMITED, "match"),
    ):
        match = getattr(pattern, match_fn)(stripped)
        if match and match.group(1).upper() in valid:
            letter = match.group(1).upper()
            others = {m.upper() for m in _BRACKETED.findall(stripped)} & set(valid)
            return letter if others <= {letter} else None
    return None


def _from_option_text(text: str, choices: Sequence[Any], valid: str) -> str | None:
    """Level 5: the answer is one option's text, or mentions exactly one option's text."""
    body = _norm_option(text)
    options = [_norm_option(c) for c in choices[: len(valid)]]
    equal = [i for i, option in enumerate(options) if option and option == body]
    if equal:
        return valid[equal[0]] if len(equal) == 1 else None
    spans: dict[int, list[tuple[int, int]]] = {}
    for i, option in enumerate(options):
        if not option:
            continue
        found = [m.span() for m in re.finditer(r"(?<!\w)" + re.escape(option) + r"(?!\w)", body)]
        if found:
            spans[i] = found
    # An option found only inside a longer option's occurrence ("red" in "dark red") drops out.
    kept = [
        i
        for i, own in spans.items()
        if not all(
            any(j != i and len(options[j]) > len(options[i]) and s >= a and e <= b for j in spans for a, b in spans[j])
            for s, e in own
        )
    ]
    return valid[kept[0]] if len(kept) == 1 else None


def _unique(letters: list[str], valid: str) -> str | None:
    found = {letter.upper() for letter in letters if letter.upper() in valid}
    return found.pop() if len(found) == 1 else None


def _from_bracketed(text: str, valid: str) -> str | None:
    """Level 6: exactly one distinct option letter in brackets anywhere, "(C)" or "[c]"."""
    return _unique(_BRACKETED.findall(text), valid)


def _from_standalone(text: str, valid: str) -> str | None:
    """Level 7: exactly one distinct standalone capital option letter ("I pick C")."""
    letters = []
    for match in _STANDALONE_CAPITAL.finditer(text):
        letter = match.group(1)
        if letter in "AI":
            after = re.match(r"\s+([a-z]+)", text[match.end() :])
            if after and after.group(1) not in _LETTER_VERBS:
                continue  # "A cat ...", "I think ...": article / pronoun
        letters.append(letter)
    return _unique(letters, valid)


def _extract_from_fragment(text: str, choices: Sequence[Any] | None, valid: str) -> str | None:
    for level in (
        lambda: _from_statements(text, choices, valid),
        lambda: _from_leading_marker(text, valid),
        lambda: _from_option_text(text, choices, valid) if choices else None,
        lambda: _from_bracketed(text, valid),
        lambda: _from_standalone(text, valid),
    ):
        letter = level()
        if letter is not None:
            return letter
    return None


def extract_choice(text: str, choices: Sequence[Any] | None = None, letters: str = LETTERS) -> str | None:
    """The option letter a multiple-choice answer names, or ``None`` when it names none.

    ``choices`` (option texts, in letter order) limits the valid letters to the first
    ``len(choices)`` of ``letters`` and lets an answer name its option by text. Markdown
    asterisks are ignored. The evidence is tried in this order and the first level that
    gives exactly one option wins:

    1. the last ``<answer>...</answer>``, its content read with levels 3-7;
    2. the last ``\\boxed{...}``, its content read with levels 3-7;
    3. the last answer statement that names an option: "Answer: B", "The answer is (B)",
       "the correct option is b", "答案是 B", or a statement followed by an option's text
       (an option's text right after the cue is read before a letter, so "Answer: A cat"
       is the option "A cat", not option A);
    4. the whole answer is a letter ("B", "(b)", "B.") or starts with "(B)", "B.", "B)", "B:"
       and no other option letter appears in brackets;
    5. the answer equals one option's text, or contains exactly one option's text as whole
       words (an option found only inside a longer option's text does not count);
    6. exactly one distinct bracketed letter anywhere: "(C)", "[C]";
    7. exactly one distinct standalone capital letter ("I pick C"); "A"/"I" followed by a
       lower-case word count only before a verb like "is" or a conjunction ("A is correct",
       "A or B"), never as the article ("A cat sits") or pronoun ("I think").

    A letter inside a word never counts ("A" in "Apple"), nor a letter outside the valid set.
    A level that sees two different options gives no answer and the next level is tried.
    Returns an upper-case letter from ``letters``.
    """
    text = str(text or "").replace("*", "")
    valid = valid_letters(choices, letters)
    for inner in (answer_tag_content(text), last_boxed(text)):
        if inner:
            inner = _TEX_WRAPPER.sub(r"\1", inner)
            letter = _extract_from_fragment(inner, choices, valid)
            if letter is not None:
                return letter
    return _extract_from_fragment(text, choices, valid)


def gold_letter(reference: Any, choices: Sequence[Any] | None = None, letters: str = LETTERS) -> str | None:
    """The option letter a reference names: an option index, an option's text, or a letter.

    With ``choices``, a reference equal to exactly one option's text (case and surrounding
    whitespace ignored) is that option. Otherwise a single letter ("B", "(B)", "b.") in the
    valid set is that letter, and an int is an index into the options. ``None`` otherwise.
    """
    if isinstance(reference, (list, tuple)) and len(reference) == 1:
        reference = reference[0]
    valid = valid_letters(choices, letters)
    if isinstance(reference, int) and not isinstance(reference, bool):
        return valid[reference] if 0 <= reference < len(valid) else None
    if not isinstance(reference, str):
        return None
    if choices:
        target = _norm_option(reference)
        same = [i for i, c in enumerate(choices[: len(valid)]) if _norm_option(c) == target]
        if len(same) == 1:
            return valid[same[0]]
    match = _WHOLE_LETTER.fullmatch(reference.strip())
    if match and match.group(1).upper() in valid:
        return match.group(1).upper()
    return None
