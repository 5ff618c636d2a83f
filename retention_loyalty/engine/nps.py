"""Net Promoter Score from 0-10 answers ("How likely are you to recommend
us?"): promoters answer 9 or 10, detractors 0 to 6, passives 7 or 8; the
score is the share of promoters minus the share of detractors, in points
from -100 to +100."""

from dataclasses import dataclass

PROMOTER_MIN = 9
DETRACTOR_MAX = 6


def nps_category(score):
    """ "promoter", "passive" or "detractor" for an answer from 0 to 10."""
    if not 0 <= score <= 10:
        raise ValueError(f"An NPS answer lies between 0 and 10, not {score}.")
    if score >= PROMOTER_MIN:
        return "promoter"
    if score <= DETRACTOR_MAX:
        return "detractor"
    return "passive"


@dataclass(frozen=True)
class NetPromoterScore:
    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self):
        return self.promoters + self.passives + self.detractors

    @property
    def score(self):
        """% promoters - % detractors; None without answers (not 0: no
        answer is no opinion, not a neutral one)."""
        if not self.responses:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.responses


def net_promoter_score(promoters, passives, detractors):
    """The score of counted answers."""
    if min(promoters, passives, detractors) < 0:
        raise ValueError("Answer counts cannot be negative.")
    return NetPromoterScore(promoters, passives, detractors)


def nps_of_scores(scores):
    """The score of raw 0-10 answers."""
    counts = {"promoter": 0, "passive": 0, "detractor": 0}
    for score in scores:
        counts[nps_category(score)] += 1
    return NetPromoterScore(counts["promoter"], counts["passive"], counts["detractor"])


def nps_by_group(rows):
    """``{group: NetPromoterScore}`` from ``(group, category, count)`` rows,
    as a grouped count query returns them."""
    counts = {}
    for group, category, count in rows:
        if category not in ("promoter", "passive", "detractor"):
            raise ValueError(f"Unknown NPS category {category!r}")
        counts.setdefault(group, {"promoter": 0, "passive": 0, "detractor": 0})
        counts[group][category] += count
    return {
        group: NetPromoterScore(c["promoter"], c["passive"], c["detractor"])
        for group, c in counts.items()
    }
