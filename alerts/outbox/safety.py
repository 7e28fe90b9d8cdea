"""The words of a safety or legal report: harm, a recall, a legal threat, a breach.

Read by triage (such a report is alerted whatever its tone or stars) and by the reply drafts (it
gets a draft of its own: stop using it, tell us, a person looks into it first).
"""

from __future__ import annotations

import re

# A report of harm, a recall, a legal threat or a breach needs a person even when it reads calm
# ("Is my unit affected by the recall?") or happy ("Love it! Though the charger overheated and
# burned my hand", 5 stars): it is alerted whatever its label, like every alert only when it is
# about one of our brands. The phrases are written to miss idioms and other people's business:
# "add insult to injury", "I don't recall", "sales exploded", "my brother is a lawyer".
_WHO = (r"(?:i|we|my|our|me|us|my \w+|our \w+|the (?:kids?|baby|dog|cat)|"
        r"(?:my )?(?:son|daughter|kid|child|wife|husband))")
_THING = (r"(?:it|battery|batteries|charger|cable|plug|device|unit|phone|power ?bank|bank|machine|kettle|heater|"
          r"scooter|toy|bottle|lid|lamp|appliance|product|oven|cooker|stove|fan|blender|adapter)")
_PHRASES = [
    # illness and allergy
    r"food[- ]poison(?:ing|ed)|food poisioning", r"salmonella", r"e\.? ?coli", r"listeria",
    r"(?:made|making|left) (?:me|us|him|her|them|my \w+) (?:so |really |violently )?(?:sick|ill)",
    r"(?:got|was|were|been) (?:so |really |violently )?(?:sick|ill) (?:after|from)",
    r"(?:threw|throwing) up (?:all night|after)", r"vomit(?:ing|ed)", r"diarrh(?:o)?ea",
    r"allergic (?:reaction|to)", r"(?:nut|peanut|gluten|dairy|egg|soy|shellfish|sesame) allerg(?:y|ies)",
    r"anaphyla\w*", r"epi-?pen", r"(?:broke|breaking) out in hives",
    r"had an? (?:bad |severe |allergic )?reaction (?:to|after|from)",
    # fire, heat, electricity
    r"caught (?:on )?fire", r"(?:burst into|catch(?:es|ing)? (?:on )?) ?(?:fire|flames)", r"fire hazard",
    r"(?:set|started) (?:a |my |the |our )?(?:\w+ )?(?:on )?fire", r"overheat(?:ed|ing|s)?|overheatting",
    r"too hot to (?:touch|hold)", r"dangerously hot", r"melt(?:ed|ing)",
    r"(?:smok(?:ed|ing)|smoke (?:came|coming|pouring)) (?:in|from|out)",
    r"spark(?:ed|ing) (?:when|from|out|in|inside)", r"sparks? (?:flying|came|coming|from|out)",
    r"swell(?:ing|ed)", r"swollen", r"bulg(?:ing|ed)",
    _THING + r" (?:has |had |just )?(?:exploded|blew up|burst)", r"explosion",
    r"electric(?:al)? sho(?:ck|k)", r"(?:shocked|zapped) me", r"got (?:a|an electric) shock", r"electrocut\w*",
    # injury
    _WHO + r" (?:was |were |got |have been |has been )?(?:injured|burned|burnt|scalded|cut) "
    r"(?:by|from|on|when|after|using|while)",
    r"(?:injured|burned|burnt|scalded) (?:me|my|us|our|him|her|him ?self|her ?self|them ?selves|my ?self)\b",
    r"(?:got|gave \w+) (?:a )?burns?\b(?!-)", r"burns? on (?:my|his|her|their|the)\b",
    r"chok(?:ed|ing) on", r"chok(?:ing|ed) hazard", r"carbon monoxide", r"gas leak",
    r"(?:ended up|was|were|went|been|got) (?:rushed )?(?:in|to|into) (?:the )?(?:hospital|er|a&e|emergency)"
    r"\b(?! episode)",
    r"admitted to (?:the )?hospital", r"hospitali[sz]ed", r"(?:called|call|calling) (?:an |the )?ambulance",
    # recalls
    r"(?:the|a|this|safety|product|voluntary) recall", r"recall(?:ed|ing) (?:the|its|all|every|\d[\d,]*)",
    r"recalls? (?:notice|letter|email|page|program(?:me)?|list|announced)",
    r"(?:been|being|was|were|is|are|get|got) recalled",
    # legal threats
    r"lawsuit", r"class action", r"legal action", r"small claims", r"see you in court", r"suing",
    r"(?:going to|gonna|will|i'?ll|we'?ll) sue", r"take (?:you|them|\w+) to court",
    r"(?:contact(?:ing|ed)?|call(?:ing|ed)?|hir(?:e|ing|ed)|get(?:ting)?|consult(?:ing|ed)?|talk(?:ing|ed)? to|"
    r"spoke to|speak to|hear from) (?:a|an|my|our) (?:lawyer|solicitor|attorney|legal team)",
    r"(?:my|our) (?:lawyer|solicitor|attorney|legal team) (?:will|is|are|has|says|said)",
    # breaches
    r"data breach", r"(?:password|data|details|address|card(?: number)?) (?:was |were |got |has been )?leaked",
    r"(?:leaked|exposed|sold) (?:my|our|customers'?) (?:personal )?(?:data|details|information|address|"
    r"card|credit card(?: number)?|password)",
    r"(?:account|card|details) (?:was |were |got |has been )?(?:hacked|stolen|compromised)",
    r"(?:someone|somebody|a stranger) (?:logged|got) in(?:to)? (?:to )?my (?:\w+ )?account",
]
SAFETY_WORDS = re.compile(r"\b(?:" + "|".join(_PHRASES) + r")", re.IGNORECASE)
# "never overheats", "not a fire hazard", "hasn't been recalled", "overheating protection?": a
# phrase denied or asked about as a feature is no report.
_DENIED = re.compile(r"(?:\b(?:never|not|no|without|isn'?t|wasn'?t|hasn'?t|haven'?t|doesn'?t|didn'?t|won'?t|"
                     r"zero|nothing)\b|n't)\W+(?:\w+\W+){0,3}$", re.IGNORECASE)
_FEATURE = re.compile(r"^\W*(?:protection|prevention|proof|resistant|safe\b|warning light)", re.IGNORECASE)


def safety_report(text: str) -> bool:
    """Whether the text reports harm, a recall, a legal threat or a breach (one phrase not denied)."""
    for match in SAFETY_WORDS.finditer(text[:20_000]):
        before = text[max(0, match.start() - 60):match.start()]
        if _DENIED.search(before) or _FEATURE.match(text[match.end():match.end() + 30]):
            continue
        return True
    return False
