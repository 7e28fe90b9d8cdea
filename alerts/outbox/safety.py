"""The words of a safety or legal report: harm, a recall, a legal threat, a breach.

Read by triage (such a report is alerted whatever its tone or stars) and by the reply drafts (it
gets a draft of its own: stop using it, tell us, a person looks into it first).
"""

from __future__ import annotations

import re

from monitor.core.folding import readings

# A report of harm, a recall, a legal threat or a breach needs a person even when it reads calm
# ("Is my unit affected by the recall?") or happy ("Love it! Though the charger overheated and
# burned my hand", 5 stars): it is alerted whatever its label, like every alert only when it is
# about one of our brands. The phrases are written to miss idioms and other people's business:
# "add insult to injury", "I don't recall", "sales exploded", "my brother is a lawyer".
_WHO = (r"(?:i|we|my|our|me|us|my \w+|our \w+|the (?:kids?|baby|dog|cat)|"
        r"(?:my )?(?:son|daughter|kid|child|wife|husband))")
_THING = (r"(?:it|battery|batteries|charger|cable|plug|device|unit|phone|power ?bank|bank|machine|kettle|heater|"
          r"scooter|toy|bottle|lid|lamp|appliance|product|oven|cooker|stove|fan|blender|adapter)")
KINDS: dict[str, list[str]] = {
    "harm": [
        # illness and allergy
        r"food[- ]poison(?:ing|ed)|food poisioning", r"salmonella", r"e\.? ?coli", r"listeria", r"stomach bug",
        r"(?:made|making|left) (?:me|us|him|her|them|my(?: \w+){1,2}) (?:so |really |violently )?(?:sick|ill)"
        r"(?! (?:with|of) laugh)",
        # what should never be in food
        r"found (?:a |some |two |broken |tiny )?(?:glass|metal|wire|plastic|hair|bugs?|insects?|maggots?|worms?|mou?ld|"
        r"a (?:piece|shard|bit|sliver) of (?:glass|metal|plastic|wire))",
        r"(?:glass|metal|wire|plastic) (?:shards?|pieces?|fragments?|bits?) in",
        r"(?:piece|shard) of (?:glass|metal) in", r"(?:glass|metal wire|wire|plastic) in (?:my|the|our)",
        r"(?:bugs?|insects?|cockroach(?:es)?|roach(?:es)?|maggots?|worms?) in (?:my|the|our)",
        r"(?:raw|slimy|spoiled|rotten|expired|out[- ]of[- ]date|undercooked|off) "
        r"(?:chicken|meat|beef|pork|fish|seafood|"
        r"shrimp|prawns|eggs|milk)",
        r"allerg\w* mix-?up", r"(?:nuts|peanuts|gluten|dairy|shellfish|sesame|soy) (?:in|despite|even though)",
        r"(?:got|was|were|been) (?:so |really |violently )?(?:sick|ill) (?:after|from)",
        r"(?:vomit(?:ing|ed)|diarrh(?:o)?ea|threw up|throwing up|sick) "
        r"(?:all night|after (?:eating|drinking|using)|since "
        r"(?:eating|drinking))",
        r"(?:gave|giving) (?:me|us|him|her|them|my \w+) (?:\w+ )?(?:diarrh(?:o)?ea|food poisoning|a rash|hives|burns?)",
        r"allergic (?:reaction|to)", r"(?:nut|peanut|gluten|dairy|egg|soy|shellfish|sesame) allerg(?:y|ies)",
        r"anaphyla\w*", r"epi-?pen", r"(?:broke|breaking) out in hives",
        r"had an? (?:bad |severe |allergic )?reaction (?:to|after|from)",
        # fire, heat, electricity
        r"caught (?:on )?fire", r"(?:burst into|catch(?:es|ing)? (?:on )?) ?(?:fire|flames)", r"fire hazard",
        r"(?:went|go(?:es|ing)?) up in flames", r"fire waiting to happen", r"(?:set|caught|catch) (?:\w+ ){0,2}alight",
        r"set off (?:the|my|our) (?:smoke|fire) alarm", r"burning (?:smell|plastic)",
        r"smells? (?:like )?burn(?:ing|t)",
        r"burn marks?", r"scorch(?:ed|es)? (?:marks?|the|my|our)\b", r"scorch marks?",
        r"(?:battery|it|bank) (?:is |was |went |got )?puff(?:y|ed up|ing up)",
        r"(?:set|started) (?:a |my |the |our )?(?:\w+ )?(?:on )?fire", r"over[- ]?heat(?:ed|ing|s)?|overheatting",
        r"too hot to (?:touch|hold)", r"dangerously hot",
        _THING + r" (?:has |had |is |was )?melt(?:ed|ing)", r"melted (?:the|through|a hole|into)", r"melting plastic",
        r"(?:smok(?:ed|ing)|smoke (?:came|coming|pouring)) (?:in|from|out)", r"(?:started|began|kept|is|was) smoking\b",
        r"spark(?:ed|ing) (?:when|from|out|in|inside)", r"sparks? (?:flying|came|coming|from|out)",
        _THING + r" (?:is |was |has |had |started |keeps |kept )?(?:swelling|swollen|swelled|bulging|bulged)(?: up)?",
        r"(?:swollen|bulging) (?:battery|batteries|case|bank|cell)",
        _THING + r" (?:has |had |just )?(?:exploded|blew up|burst)",
        r"electric(?:al)? sho(?:ck|k)", r"(?:shocked|zapped) (?:me|him|her|us|them|my)\b", r"got (?:shocked|zapped)",
        r"got (?:a|an electric) shock", r"electrocut\w*",
        # injury
        _WHO + r" (?:was |were |got |have been |has been )?(?:injured|burned|burnt|scalded|cut) "
        r"(?:by|from|on|when|after|using|while)",
        r"(?:injured|burned|burnt|scalded) (?:me|my|us|our|him|her|him ?self|her ?self|them ?selves|my ?self)\b",
        r"(?:got|gave \w+) (?:a )?burns?\b(?!-)", r"burns? on (?:my|his|her|their|the)\b",
        r"chok(?:ed|ing) on", r"chok(?:ing|ed) hazard", r"carbon monoxide", r"gas leak", r"cut (?:me|my|his|her)\b",
        r"(?:nearly |almost )?swallow(?:ed|ing) (?:it|a|the|one|part|battery|magnet)",
        r"(?:ended up|was|were|went|been|got) (?:rushed )?(?:in|to|into) (?:the )?(?:hospital|er|a&e|emergency)"
        r"\b(?! episode)",
        r"admitted to (?:the )?hospital", r"hospitali[sz]ed", r"(?:called|call|calling) (?:an |the )?ambulance",
    ],
    "recall": [
        # recalls
        r"(?:the|a|this|safety|product|voluntary) recall",
        r"recall(?:ed|ing) (?:the|its|all|every|my|our|this|that|\d[\d,]*)",
        r"recall(?:ed|ing) (?:\w+ ){0,2}(?:models?|units?|batch(?:es)?|products?|batteries|chargers)",
        r"recalls? (?:notice|letter|email|page|program(?:me)?|list|announced)",
        r"(?:been|being|was|were|is|are|get|got) recalled",
    ],
    "legal": [
        # legal threats
        r"lawsuit against",
        r"(?:file|filing|filed|start|starting|join|joining|joined) (?:a |the )?(?:class action )?lawsuit",
        r"class action", r"legal action", r"small claims", r"see (?:you|u) in court",
        r"(?:i'?m|we'?re|am|are|be) suing(?! (?:nobody|no one|anyone))", r"suing (?:you|them|\w+ (?:for|over))",
        r"trading standards", r"cpsc", r"attorney general", r"better business bureau",
        r"(?:report(?:ed|ing)?|complain(?:ed|t|ing)) (?:\w+ ){0,3}to (?:the )?(?:ftc|fda|bbb|ombudsman|regulators?|"
        r"consumer (?:protection|agency|council))",
        r"(?:going to|gonna|will|i'?ll|we'?ll) sue", r"take (?:you|them|\w+) to court",
        r"(?:contact(?:ing|ed)?|call(?:ing|ed)?|hir(?:e|ing|ed)|get(?:ting)?|consult(?:ing|ed)?|talk(?:ing|ed)? to|"
        r"spoke to|speak to|hear from) (?:a|an|my|our) (?:lawyer|solicitor|attorney|legal team)",
        r"(?:my|our) (?:lawyer|solicitor|attorney|legal team) (?:will|is|are|has|says|said)",
    ],
    "breach": [
        # breaches
        r"data (?:breach|leak)",
        r"(?:password|data|details|address|card(?: number)?) (?:was |were |got |has been )?leak(?:ed)?",
        r"(?:leaked|exposed|sold) (?:my|our|customers'?) (?:personal |payment |card |bank )?"
        r"(?:data|details|information|"
        r"address|card|credit card(?: number)?|password)",
        r"(?:account|card|details) (?:was |were |got |has been )?(?:hacked|stolen|compromised)",
        r"(?:someone|somebody|a stranger) (?:logged|got) in(?:to)? (?:to )?my (?:\w+ )?account",
    ],
}
_KIND_WORDS = {kind: re.compile(r"\b(?:" + "|".join(phrases) + r")", re.IGNORECASE) for kind, phrases in KINDS.items()}
# "never overheats", "not a fire hazard", "hasn't been recalled", "no issues with overheating": a
# phrase denied in its own sentence ("Never again. It caught fire" is no denial), or asked about as
# a feature ("overheating protection?", "overheat and surge protection"), is no report.
_DENIED = re.compile(r"(?:\b(?:never|not|no|without|zero|nothing|isn'?t|wasn'?t|hasn'?t|haven'?t|doesn'?t|didn'?t|"
                     r"won'?t)\b|n't)(?:\W+\w+){0,3}\W*$|\b(?:no|zero|never any|without|"
                     r"(?:haven'?t|hasn'?t|never|not) (?:had|seen|noticed)) (?:\w+ ){0,2}"
                     r"(?:issues?|problems?|trouble|complaints?) (?:with|from)\W*$", re.IGNORECASE)
_SAYINGS = re.compile(r"\b(?:no (?:joke|lie|kidding|exaggeration)|not (?:gonna|going to) lie|not even kidding)\b",
                      re.IGNORECASE)
_SENTENCE = re.compile(r"[.!?;]")
_FEATURE = re.compile(r"^\W*(?:\w+\W+){0,3}?(?:protection|prevention|cut-?off|proof|resistant|sensor|safety feature)",
                      re.IGNORECASE)
# Advice to someone else is no report of one's own ("try another outlet first, worked for me"); an
# imperative warning ("Unplug your charger now, mine caught fire!") is.
_ADVICE = re.compile(r"\b(?:worked for me|what worked|fixed (?:it|mine) by|"
                     r"you (?:can|could|should|might) (?:just )?try|"
                     r"try (?:a|an|another|a different|unplugging|resetting|holding))\b", re.IGNORECASE)
# The phrases are written with single spaces; what the rules read has its look-alike letters folded
# (monitor.core.folding) and every run of blank space made one space.
SCANNED = 100_000


def safety_kind(text: str) -> str | None:
    """``harm``, ``recall``, ``legal`` or ``breach`` when the text reports one (a phrase not denied); else None.
    A report of several kinds is named by the first in that order: harm before a recall it led to."""
    head = text[:SCANNED]
    if _ADVICE.search(head):
        return None
    for reading in readings(head):
        line = " ".join(reading.split())
        for kind, words in _KIND_WORDS.items():
            for match in words.finditer(line):
                before = _SAYINGS.sub("", _SENTENCE.split(line[max(0, match.start() - 80):match.start()])[-1])
                if _DENIED.search(before) or _FEATURE.match(line[match.end():match.end() + 40]):
                    continue
                return kind
    return None


def safety_report(text: str) -> bool:
    """Whether the text reports harm, a recall, a legal threat or a breach (a phrase not denied)."""
    return safety_kind(text) is not None
