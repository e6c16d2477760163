"""Named answer normalisers, each the rule of one official evaluation script.

* :func:`normalize_squad` - SQuAD v1.1/v2.0 ``normalize_answer``: lower-case, drop ASCII
  punctuation, drop the articles a/an/the, collapse whitespace.
* :func:`normalize_vqa` - VQAv2's ``vqaEval.py`` answer processing (GT-Vision-Lab/VQA):
  newlines/tabs to spaces, strip, :func:`vqa_process_punctuation`, then
  :func:`vqa_process_digit_article` (lower-case, number words to digits, articles dropped,
  apostrophe-less contractions restored).
* :func:`normalize_textvqa` - MMF's ``EvalAIAnswerProcessor`` (TextVQA): lower-case, every
  ``,`` and ``?`` deleted and ``'s`` split off first, then the same two steps.

The two VQA-family rules and where each is applied are written out in ``lmms_eval/metrics/vqa.py``.
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


# ---- VQA (vqaEval.py) and TextVQA (MMF EvalAIAnswerProcessor) ------------------------------

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

# The 21 punctuation marks both scripts treat, in their order (not ".", "'" or ":").
VQA_PUNCT: tuple[str, ...] = tuple(';/[]"{}()=+\\_-><@`,?!')
# vqaEval.py is Python 2 code whose patterns have no UNICODE flag, so its ``\d`` is [0-9];
# MMF runs on Python 3, where ``\d`` is any Unicode digit.
_VQA_COMMA = re.compile(r"[0-9],[0-9]")  # commaStrip "(\d)(\,)(\d)"
_MMF_COMMA = re.compile(r"(?<=\d),+(?=\d)")  # COMMA_STRIP
# periodStrip "(?!<=\d)(\.)(?!\d)": its "(?!<=\d)" is a lookahead for the text "<=digit", which
# can never start at a ".", so the pattern is "a period not followed by a digit".
_VQA_PERIOD = re.compile(r"\.(?![0-9])")
_MMF_PERIOD = re.compile(r"\.(?!\d)")
# Both scripts call ``sub("", text, re.UNICODE)``: re.UNICODE (32) lands in ``count``, so at most
# 32 periods are removed. Kept for identical output.
_PERIOD_COUNT = 32


def _process_punctuation(text: str, comma: re.Pattern[str], period: re.Pattern[str]) -> str:
    """processPunctuation: the decision for each mark reads the INPUT text; the edits pile up."""
    out = text
    has_digit_comma = comma.search(text) is not None
    for mark in VQA_PUNCT:
        if mark + " " in text or " " + mark in text or has_digit_comma:
            out = out.replace(mark, "")
        else:
            out = out.replace(mark, " ")
    return period.sub("", out, count=_PERIOD_COUNT)


def vqa_process_punctuation(text: str) -> str:
    """vqaEval's ``processPunctuation``: each of the 21 marks is deleted everywhere if it touches a
    space somewhere in the text (``"x "`` or ``" x"``) or the text has a digit,digit comma, else
    every occurrence becomes a space; then each period not followed by a digit goes (first 32)."""
    return _process_punctuation(text, _VQA_COMMA, _VQA_PERIOD)


def vqa_process_digit_article(text: str) -> str:
    """``processDigitArticle``: lower-case, split on whitespace, number words to digits, articles
    dropped, then contractions restored word by word (lower-case keys only, so the table's
    "Im"/"Ive"/"Id've"/"I'dve" never apply), joined by single spaces."""
    words = []
    for word in text.lower().split():
        word = VQA_NUMBER_WORDS.get(word, word)
        if word not in VQA_ARTICLES:
            words.append(word)
    return " ".join(VQA_CONTRACTIONS.get(word, word) for word in words)


def vqa_clean(text: str) -> str:
    """vqaEval's first step on every answer: newlines and tabs to spaces, then strip."""
    return str(text).replace("\n", " ").replace("\t", " ").strip()


def normalize_vqa(text: str) -> str:
    """vqaEval's whole processing of one answer: :func:`vqa_clean`, punctuation, digits/articles.
    (The script applies it only when the human answers disagree; see ``metrics/vqa.py``.)"""
    return vqa_process_digit_article(vqa_process_punctuation(vqa_clean(text)))


def normalize_textvqa(text: str) -> str:
    """MMF ``EvalAIAnswerProcessor.__call__`` (TextVQA), in order: lower-case; delete every ``,``
    and ``?``; ``'s`` -> `` 's``; strip; newlines/tabs to spaces; strip; the punctuation step
    (commas are already gone, so its digit-comma test never fires); digits/articles."""
    text = str(text).lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()
    text = text.replace("\n", " ").replace("\t", " ").strip()
    return vqa_process_digit_article(_process_punctuation(text, _MMF_COMMA, _MMF_PERIOD))
