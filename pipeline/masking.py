"""Personal data in answers, masked by pattern before an answer is parsed, stored, exported or shown.

People write their e-mail, phone number, bank account or street address into open answers; none of it is a theme
and none of it may leave the product. Names need the parser and are masked in ``pipeline.clean``; a title followed
by a capitalised word ("M. Martin", "Mme Dupont") is masked here, since the parser misses most of them.

Every pattern runs in linear time on any input: each repeat is bounded or starts only at a token boundary, so a
pasted blob of a million word characters costs one pass (the old e-mail pattern ``[\\w.+-]+@…`` tried every start
position to the end of such a run: quadratic, hours on 1.3 million characters). ``tests/test_masking.py`` holds
the hand-written recall set and the timing of that blob.
"""

from __future__ import annotations

import re

# One token each, so that spaCy keeps a placeholder whole and cleaning can leave it out of the lemmas.
PLACEHOLDERS = {
    "EMAIL": "[EMAIL]",
    "URL": "[URL]",
    "IBAN": "[IBAN]",
    "NIR": "[NIR]",
    "PHONE": "[TÉLÉPHONE]",
    "ADDRESS": "[ADRESSE]",
    "CARD": "[CARTE]",
    "PLATE": "[IMMATRICULATION]",
    "PERSON": "[NOM]",
}
PLACEHOLDER_WORDS = {p.strip("[]") for p in PLACEHOLDERS.values()}

_AT = r"(?:@|\s?[\[({]\s?(?:at|arobase)\s?[\])}]\s?|\s(?:at|arobase)\s)"
_DOT = r"(?:\.|\s?[\[({]\s?(?:dot|point)\s?[\])}]\s?|\s(?:dot|point)\s)"
# RFC 5321 caps the local part at 64 characters and a label at 63: the bounds that keep the pattern linear.
_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]{{1,64}}{_AT}[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{1,8}}", re.IGNORECASE)
_TLD = (
    r"(?:fr|com|org|net|eu|be|ch|lu|ca|io|info|biz|gouv\.fr|co\.uk|de|es|it|bzh|paris|alsace|corsica|eus|app|dev|me"
    r"|tv|co|uk|us)"
)
# The rest of an address, without the punctuation that ends the sentence around it: "voir https://x.fr/a, puis".
_REST = r"(?:\S{0,2047}[^\s.,;:!?)\]}»\"'])?"
_URL = re.compile(
    rf"(?:\b(?:https?|ftp)://|(?<![\w:/])//(?=[\w-])|\bwww\.){_REST}"  # schemes, protocol-relative //host, www.
    rf"|(?<![\w.@/-])(?:[\w-]{{1,63}}\.){{1,4}}{_TLD}\b(?:/{_REST})?"  # bare domains: exemple.fr/impots
    rf"|(?<![\w.@/-])[a-z][\w-]{{0,62}}(?:\.[\w-]{{1,63}}){{0,4}}:\d{{2,5}}/{_REST}",  # host:port/path, not "14:30"
    re.IGNORECASE,
)
# FR76 3000 6000 0112 3456 7890 189: country, check digits, then 11 to 30 letters or digits in groups of four; in
# any case only after a European country's code, and with at least 10 digits ("mp34 sont bien" is no IBAN)
_IBAN = re.compile(
    r"\b(?:[A-Z]{2}|(?i:fr|be|de|lu|ch|es|it|nl|pt|mc|at|ie|gb))\d{2}(?:\s?[A-Za-z0-9]{4}){2,7}(?:\s?[A-Za-z0-9]{1,3})?\b"
)
MIN_IBAN_DIGITS = 10
# NIR (French social-security number): sex, year, month, department (2A/2B in Corsica), commune, order, key.
_NIR = re.compile(
    r"(?<!\d)[12][\s.-]?\d{2}[\s.-]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.-]?(?:\d{2}|2[AB])[\s.-]?\d{3}[\s.-]?\d{3}"
    r"(?:[\s.-]?\d{2})?(?!\d)"
)
# A payment card: 13 to 19 digits in groups of four (a made-up number too: no Luhn check), unless every group is a
# year ("2018 2019 2020 2021")
_CARD = re.compile(r"(?<![\d.,])\d{4}(?:[\s.-]?\d{4}){2}[\s.-]?\d{1,4}(?:[\s.-]?\d{1,3})?(?![\d,])")
# French plates since 2009 (AB-123-CD); the older 123 ABC 75 reads too much like "35 CSG 20" to be masked
_PLATE = re.compile(r"\b[A-Z]{2}[-\s]\d{3}[-\s][A-Z]{2}\b")
_SEP = r"[\s.\-/]?"
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    rf"(?:\+|00)\s?33\s?(?:\(0\)\s?)?[1-9](?:{_SEP}\d{{2}}){{4}}"  # France, international: +33 (0)6 12 34 56 78
    rf"|0[1-9](?:{_SEP}\d{{2}}){{4}}"  # France: 06 12 34 56 78
    rf"|\(0[1-9]\)\s?\d{{2}}(?:{_SEP}\d{{2}}){{3}}"  # France, area code in brackets: (01) 23 45 67 89
    rf"|(?:\+|00)\s?32\s?(?:\(0\)\s?)?\d{{1,3}}(?:{_SEP}\d{{2,3}}){{2,4}}"  # Belgium: +32 470 12 34 56
    rf"|0\d{{3}}(?:{_SEP}\d{{2}}){{3}}"  # Belgian mobile: 0470 12 34 56
    rf"|(?:\+|00)\s?(?:41|352|1|44)\s?(?:\(0\)\s?)?\d{{1,4}}(?:{_SEP}\d{{2,4}}){{2,5}}"  # CH, LU, US, UK
    r")(?!\w)"
)
_STREET = (  # any case ("Rue", "RUE"); the name after it starts with a capital
    r"(?i:rue|avenue|av\.|bd|boulevard|chemin|allée|allee|impasse|place|quai|route|cours|square|passage|chaussée"
    r"|chaussee|faubourg|rond-point|voie|sentier|lieu-dit|résidence|residence|hameau)"
)
_ADDRESS = re.compile(
    rf"(?<!\w)\d{{1,4}}(?:\s?(?:bis|ter|quater|[a-d]))?,?\s{_STREET}\s"
    r"(?:(?:de|du|des|la|le|les|l'|d'|l’|d’)\s?){0,3}[\w'’-]{1,40}(?:\s[A-ZÀ-Ý][\w'’-]{0,40}){0,4}"
    r"(?:,?\s\d{5}(?:\s[A-ZÀ-Ý][\w'’-]{0,40}){0,3})?"
)
# A title then one or two capitalised words: "M. Martin", "Mme Le Goff", "Docteur Dupuis".
_TITLED_NAME = re.compile(
    r"(?<![\w.])(?:M\.|MM\.|Mmes?\.?|Mlle\.?|Mr\.?|Mrs\.?|Monsieur|Madame|Mademoiselle|Dr\.?|Docteur|Maître|Me|Pr\.?"
    r"|Professeur)(?:\s|(?<=\.))(?:(?:de|du|van|von)\s)?[A-ZÀ-Ý][\w'’-]{1,40}(?:\s[A-ZÀ-Ý][\w'’-]{1,40})?"
)


def _not_years(number: str) -> bool:
    return not all(len(group) == 4 and 1900 <= int(group) <= 2099 for group in re.findall(r"\d+", number))


def _enough_digits(number: str) -> bool:
    return sum(c.isdigit() for c in number) >= MIN_IBAN_DIGITS


def _when(check, placeholder: str):
    """A replacement that masks a match only when ``check`` holds on it."""
    return lambda match: placeholder if check(match.group(0)) else match.group(0)


_MASKS = (
    (_EMAIL, PLACEHOLDERS["EMAIL"]),
    (_URL, PLACEHOLDERS["URL"]),
    (_IBAN, _when(_enough_digits, PLACEHOLDERS["IBAN"])),
    (_CARD, _when(_not_years, PLACEHOLDERS["CARD"])),
    (_NIR, PLACEHOLDERS["NIR"]),
    (_PLATE, PLACEHOLDERS["PLATE"]),
    (_PHONE, PLACEHOLDERS["PHONE"]),
    (_ADDRESS, PLACEHOLDERS["ADDRESS"]),
    (_TITLED_NAME, PLACEHOLDERS["PERSON"]),
)


def mask_patterns(text: str) -> str:
    """Every personal-data pattern replaced by its placeholder, most specific first (an e-mail holds a domain,
    an IBAN digits that read like a phone number)."""
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    return text


def has_placeholder(text: str) -> bool:
    return any(placeholder in text for placeholder in PLACEHOLDERS.values())
