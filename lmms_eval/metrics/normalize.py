"""Named answer normalisers, each the rule of one official evaluation script.

* :func:`normalize_squad` - SQuAD v1.1/v2.0 ``normalize_answer``: lower-case, drop ASCII
  punctuation, drop the articles a/an/the, collapse whitespace.
* :func:`normalize_vqa` - the VQA / EvalAI answer processing: punctuation rules, number
  words to digits (``"two"`` -> ``"2"``), articles dropped, contractions restored
  (``"dont"`` -> ``"don't"``). Two punctuation variants exist; see :func:`vqa_punctuation`.
"""

from __future__ import annotations

import re
import string

# ---- SQuAD ---------------------------------------------------------------------------------

_SQUAD_PUNCT = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_squad(text: str) -> str:
    """SQuAD rule: lower-case, remove ASCII punctuation, remove a/an/the, collapse whitespace."""
    text = str(text).lower()
    text = "".join(ch for ch in text if ch not in _SQUAD_PUNCT)
    text = _SQUAD_ARTICLES.sub(" ", text)
    return " ".join(text.split())


# ---- VQA / EvalAI --------------------------------------------------------------------------

# Number words the VQA script maps to digits (only these: zero to ten, and "none").
VQA_NUMBER_WORDS = {
    "none": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
VQA_ARTICLES = frozenset({"a", "an", "the"})
# Apostrophe-less spellings the VQA script restores. Its table also lists "Im", "Ive", "Id've"
# and "I'dve" with a capital I; words are lower-cased before the lookup, so those never
# apply and are left out here ("im" stays "im", as in the script).
VQA_CONTRACTIONS = {
    "aint": "ain't",
    "arent": "aren't",
    "cant": "can't",
    "couldve": "could've",
    "couldnt": "couldn't",
    "couldn'tve": "couldn't've",
    "couldnt've": "couldn't've",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "dont": "don't",
    "hadnt": "hadn't",
    "hadnt've": "hadn't've",
    "hadn'tve": "hadn't've",
    "hasnt": "hasn't",
    "havent": "haven't",
    "hed": "he'd",
    "hed've": "he'd've",
    "he'dve": "he'd've",
    "hes": "he's",
    "howd": "how'd",
    "howll": "how'll",
    "hows": "how's",
    "isnt": "isn't",
    "itd": "it'd",
    "itd've": "it'd've",
    "it'dve": "it'd've",
    "itll": "it'll",
    "let's": "let's",
    "maam": "ma'am",
    "mightnt": "mightn't",
    "mightnt've": "mightn't've",
    "mightn'tve": "mightn't've",
    "mightve": "might've",
    "mustnt": "mustn't",
    "mustve": "must've",
    "neednt": "needn't",
    "notve": "not've",
    "oclock": "o'clock",
    "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at",
    "'ows'at": "'ow's'at",
    "'ow'sat": "'ow's'at",
    "shant": "shan't",
    "shed've": "she'd've",
    "she'dve": "she'd've",
    "she's": "she's",
    "shouldve": "should've",
    "shouldnt": "shouldn't",
    "shouldnt've": "shouldn't've",
    "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd",
    "somebodyd've": "somebody'd've",
    "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll",
    "somebodys": "somebody's",
    "someoned": "someone'd",
    "someoned've": "someone'd've",
    "someone'dve": "someone'd've",
    "someonell": "someone'll",
    "someones": "someone's",
    "somethingd": "something'd",
    "somethingd've": "something'd've",
    "something'dve": "something'd've",
    "somethingll": "something'll",
    "thats": "that's",
    "thered": "there'd",
    "thered've": "there'd've",
    "there'dve": "there'd've",
    "therere": "there're",
    "theres": "there's",
    "theyd": "they'd",
    "theyd've": "they'd've",
    "they'dve": "they'd've",
    "theyll": "they'll",
    "theyre": "they're",
    "theyve": "they've",
    "twas": "'twas",
    "wasnt": "wasn't",
    "wed've": "we'd've",
    "we'dve": "we'd've",
    "weve": "we've",
    "werent": "weren't",
    "whatll": "what'll",
    "whatre": "what're",
    "whats": "what's",
    "whatve": "what've",
    "whens": "when's",
    "whered": "where'd",
    "wheres": "where's",
    "whereve": "where've",
    "whod": "who'd",
    "whod've": "who'd've",
    "who'dve": "who'd've",
    "wholl": "who'll",
    "whos": "who's",
    "whove": "who've",
    "whyll": "why'll",
    "whyre": "why're",
    "whys": "why's",
    "wont": "won't",
    "wouldve": "would've",
    "wouldnt": "wouldn't",
    "wouldnt've": "wouldn't've",
    "wouldn'tve": "wouldn't've",
    "yall": "y'all",
    "yall'll": "y'all'll",
    "y'allll": "y'all'll",
    "yall'd've": "y'all'd've",
    "y'alld've": "y'all'd've",
    "y'all'dve": "y'all'd've",
    "youd": "you'd",
    "youd've": "you'd've",
    "you'dve": "you'd've",
    "youll": "you'll",
    "youre": "you're",
    "youve": "you've",
}

# The 21 punctuation marks the VQA script treats (note: not "." , "'" or ":").
VQA_PUNCT = ';/[]"{}()=+\\_-><@`,?!'
_CLS = re.escape(VQA_PUNCT)
_LEADING_PUNCT = re.compile(rf"\A[ {_CLS}]+(?=[a-zA-Z0-9 ])")
_TRAILING_PUNCT = re.compile(rf"(?<=[a-zA-Z0-9 ])[ {_CLS}]+\Z")
_DIGIT_COMMAS = re.compile(r"(?<=\d),+(?=\d)")
_PUNCT_BESIDE_PUNCT_OR_SPACE = re.compile(rf"(?<=[ {_CLS}])[{_CLS}]|[{_CLS}](?=[ {_CLS}])")
_SPACE_RUNS = re.compile(r" +")
_PUNCT_BETWEEN_LETTERS = re.compile(rf"(?<=[a-zA-Z])[{_CLS}](?=[a-zA-Z])")
_DIGIT_COMMA_DIGIT = re.compile(r"\d,\d")
# The script's period pattern removes a "." not followed by a digit; it passes re.UNICODE
# where ``sub`` expects ``count``, so at most 32 periods go. Kept for identical output.
_PERIOD = re.compile(r"\.(?!\d)")
_PERIOD_COUNT = 32


def _punctuation_evalai(text: str) -> str:
    """EvalAI (VQA challenge server) rule: strip edge punctuation, drop digit-group commas,
    punctuation next to a space or another mark becomes a space, punctuation between two
    letters becomes a space, then periods not followed by a digit go."""
    text = _LEADING_PUNCT.sub("", text)
    text = _TRAILING_PUNCT.sub("", text)
    text = _DIGIT_COMMAS.sub("", text)
    text = _PUNCT_BESIDE_PUNCT_OR_SPACE.sub(" ", text)
    text = _SPACE_RUNS.sub(" ", text)
    text = _PUNCT_BETWEEN_LETTERS.sub(" ", text)
    return _PERIOD.sub("", text, count=_PERIOD_COUNT)


def _punctuation_vqa_v1(text: str) -> str:
    """Original VQA API rule: each mark is deleted if it touches a space anywhere in the
    answer (or the answer has a digit,digit comma), otherwise replaced by a space; then
    periods not followed by a digit go."""
    out = text
    has_digit_comma = _DIGIT_COMMA_DIGIT.search(text) is not None
    for mark in VQA_PUNCT:
        if has_digit_comma or mark + " " in text or " " + mark in text:
            out = out.replace(mark, "")
        else:
            out = out.replace(mark, " ")
    return _PERIOD.sub("", out, count=_PERIOD_COUNT)


_PUNCTUATION_RULES = {"evalai": _punctuation_evalai, "vqa_v1": _punctuation_vqa_v1}


def vqa_punctuation(text: str, variant: str = "evalai") -> str:
    """The VQA punctuation step. ``evalai``: the EvalAI challenge server's script (default);
    ``vqa_v1``: the original VQA API script (GT-Vision-Lab). They differ only on rare inputs."""
    try:
        rule = _PUNCTUATION_RULES[variant]
    except KeyError:
        choices = sorted(_PUNCTUATION_RULES)
        raise ValueError(f"unknown VQA punctuation variant {variant!r}; use one of {choices}") from None
    return rule(text)


def vqa_digits_articles(text: str) -> str:
    """The VQA word step: lower-case, number words to digits, drop articles, fix contractions."""
    words = []
    for word in text.lower().split():
        word = VQA_NUMBER_WORDS.get(word, word)
        if word not in VQA_ARTICLES:
            words.append(VQA_CONTRACTIONS.get(word, word))
    return " ".join(words)


def normalize_vqa(text: str, variant: str = "evalai") -> str:
    """Full VQA answer processing of a prediction: newlines/tabs to spaces, strip,
    punctuation step, then the word step (digits, articles, contractions)."""
    text = str(text).replace("\n", " ").replace("\t", " ").strip()
    return vqa_digits_articles(vqa_punctuation(text, variant))
