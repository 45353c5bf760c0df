"""Decision categories: what a reviewer may call an item, per kind of content.

The names are the policy's (``policy.decisions.DECISION_CATEGORIES``: one spelling everywhere); here
is what people see and which content each fits. An image or video is classed with the industry
classification (A1-B2, ``csam``); a text or a link has its own categories: a link to CSAM,
grooming / solicitation (NCMEC's "Online Enticement of Children for Sexual Acts") and sextortion.
A post with both media and text offers both sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from suraksha.policy.decisions import DECISION_CATEGORIES

INDUSTRY_CLASSES = ("A1", "A2", "B1", "B2")
#: Categories whose final decision is reported to the authorities (child sexual exploitation).
REPORTABLE = frozenset({"csam", "csam_link", "grooming", "sextortion"})
#: NCMEC CyberTipline incident type per reportable category (the schema's spelling).
NCMEC_INCIDENT_TYPE = {
    "csam": "Child Pornography (possession, manufacture, and distribution)",
    "csam_link": "Child Pornography (possession, manufacture, and distribution)",
    "grooming": "Online Enticement of Children for Sexual Acts",
    "sextortion": "Online Enticement of Children for Sexual Acts",
}
LABELS = {
    "not_violating": "Not violating",
    "csam": "CSAM",
    "csam_link": "Link to CSAM",
    "grooming": "Grooming / solicitation",
    "sextortion": "Sextortion",
    "ncii": "NCII",
    "adult": "Adult (legal)",
    "other": "Other violation",
}
#: Which categories need what the item holds: ``media`` (a picture or video to class), ``text``
#: (text or links). Absent: any item.
NEEDS = {"csam": "media", "csam_link": "text"}


@dataclass(frozen=True)
class Choice:
    """One button of the decision form: keyboard key, category, class, label."""

    key: str
    category: str
    industry_class: str
    label: str

    @property
    def value(self) -> str:
        return f"{self.category}:{self.industry_class}" if self.industry_class else self.category


_MEDIA_CHOICES = tuple(Choice(str(i + 1), "csam", c, f"CSAM {c}") for i, c in enumerate(INDUSTRY_CLASSES))
_TEXT_CHOICES = (
    Choice("l", "csam_link", "", LABELS["csam_link"]),
    Choice("g", "grooming", "", LABELS["grooming"]),
    Choice("x", "sextortion", "", LABELS["sextortion"]),
)
_ANY = (
    Choice("i", "ncii", "", "NCII"),
    Choice("a", "adult", "", "Adult"),
    Choice("o", "other", "", "Other"),
)


def choices_for(has_media: bool, has_text: bool) -> list[Choice]:
    """The decision form's buttons for an item: image classes only with media, the text and link
    categories only with text or links; not violating, NCII, adult and other always."""
    out = [Choice("0", "not_violating", "", LABELS["not_violating"])]
    if has_media:
        out += _MEDIA_CHOICES
    if has_text:
        out += _TEXT_CHOICES
    return out + list(_ANY)


def fits(category: str, has_media: bool, has_text: bool) -> str | None:
    """None when the category fits the item, else why not (for the person)."""
    need = NEEDS.get(category)
    if need == "media" and not has_media:
        return (
            "this item has no picture or video: an image class (A1-B2) does not apply; for a text or a "
            "link choose link to CSAM, grooming / solicitation or sextortion"
        )
    if need == "text" and not has_text:
        return "this item has no text or link: 'link to CSAM' does not apply"
    return None


assert set(LABELS) == set(DECISION_CATEGORIES)
