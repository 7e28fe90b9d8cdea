"""The words of a safety or legal report: harm, a recall, a legal threat, a breach.

Read by triage (such a report is alerted however calm it reads) and by the reply drafts (it gets
a draft of its own: stop using it, tell us, a person looks into it first).
"""

from __future__ import annotations

import re

# Words of harm, recalls, legal threats and breaches. A report of them needs a person even when it
# reads calm or neutral ("How do I check if my unit is affected by the recall?"), so it is alerted
# unless it reads positive; like every alert, only when it is about one of our brands. Phrased to
# miss idioms and other people's news: "add insult to injury", "I don't recall", "hurt my feelings".
_WHO = r"(?:i|we|my|our|me|us|my \w+|our \w+|the (?:kids?|baby|dog|cat))"
SAFETY_WORDS = re.compile(r"\b(?:" + "|".join([
    r"food poisoning", r"(?:made|making|left) (?:me|us|him|her|them|my \w+) (?:so |really |violently )?(?:sick|ill)",
    r"(?:got|was|were|been) (?:so |really |violently )?(?:sick|ill) (?:after|from)",
    r"allergic (?:reaction|to)", r"(?:nut|peanut|gluten|dairy|egg|soy|shellfish|sesame) allerg(?:y|ies)",
    r"anaphyla\w*", r"epi-?pen",
    r"caught fire", r"(?:burst into|catch(?:es|ing)?) (?:fire|flames)", r"fire hazard", r"overheat(?:ed|ing|s)?",
    r"too hot to (?:touch|hold)", r"melt(?:ed|ing)",
    r"(?:smok(?:ed|ing)|smoke (?:came|coming|pouring)) (?:in|from|out)",
    r"spark(?:ed|ing) (?:when|from|out|in|inside)",
    r"sparks? (?:flying|came|coming|from|out)", r"swell(?:ing|ed)", r"swollen", r"bulg(?:ing|ed)",
    r"explod(?:ed|es|ing)", r"electric(?:al)? shock", r"(?:shocked|zapped) me", r"got (?:a|an electric) shock",
    r"electrocut\w*",
    _WHO + r" (?:was |were |got |have been |has been )?(?:injured|burned|burnt|scalded) (?:by|from|on|when|after)",
    r"(?:injured|burned|burnt|scalded) (?:me|my|us|our|him|her)\b", r"(?:got|gave \w+) (?:a )?burns?\b",
    r"burns? on (?:my|his|her|their|the)\b",
    r"(?:ended up|was|were|went) (?:in|to) (?:the )?(?:hospital|er|a&e)", r"hospitali[sz]ed", r"ambulance",
    r"chok(?:ing|ed) hazard", r"carbon monoxide", r"gas leak",
    r"(?:the|a|this|safety|product|voluntary) recall", r"recall(?:ed|ing) (?:the|its|all|every|\d[\d,]*)",
    r"recall (?:notice|letter|email|page|program(?:me)?|list)",
    r"(?:been|being|was|were|is|are) recalled",
    r"lawsuit", r"class action", r"lawyers?", r"attorneys?", r"legal action", r"small claims", r"suing",
    r"data breach",
    r"(?:leaked|exposed|sold) (?:my|our|customers'?) (?:personal )?(?:data|details|information|address|card)",
    r"(?:account|card|details) (?:was |were |got |has been )?(?:hacked|stolen|compromised)",
]) + r")\b", re.IGNORECASE)
