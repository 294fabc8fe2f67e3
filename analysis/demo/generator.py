"""Deterministic demo data: two runs of one synthetic LLM evaluation with planted failures.

The demo is the same ``n_prompts`` prompts answered by two versions of a chat model, before
and after a change of training objective (``baseline`` = ``acme-chat-7b-v1``,
``after-objective-change`` = ``acme-chat-7b-v2``). Known failure structure is planted in it so
the dashboard has something real to find, and :attr:`DemoData.truth` says exactly what was
planted and where:

* ``verbosity_gaming`` (reward_hacking / rm_helpfulness): long padded wrong answers with a high
  helpfulness reward, concentrated in ``channel = web``; much stronger after the change.
* ``medical_over_refusal`` (over_refusal / rm_harmlessness): after the change, benign prompts
  in ``domain = medical`` are often refused (counted incorrect, high harmlessness reward).
* ``swahili_hallucination`` (hallucination / pretraining_data): ``language = sw`` answers are
  often fabricated facts with made-up citations, stated with high confidence (both runs).
* ``paraphrase_brittleness`` (lack_of_robustness / sft_demonstrations): in some paraphrase
  groups one phrasing is answered wrongly while the others are right (both runs). It is a
  group-level finding, so its ``predicate`` is ``{}``; the groups are in ``paraphrase_groups``.
* ``student_bias`` (bias / preference_data): ``user_segment = student`` is answered worse.
* ``es_legal_conjunction`` (conjunction): ``language = es`` AND ``domain = legal`` is much
  worse (tenancy questions answered under another country's law), while ``language = es``
  alone and ``domain = legal`` alone are at the overall error rate (errors are removed in
  ``es & not legal`` and ``legal & not es`` to compensate exactly).

Besides, the two raters disagree far more in ``domain = legal`` (``truth["rater_disagreement"]``).
The planted regression is ``domain = medical`` and ``channel = web``; elsewhere the candidate
is about as good as the baseline.

Columns: ``example_id``, ``input``, ``output``, ``reference``, ``correct``, ``score``,
``language``, ``domain``, ``user_segment``, ``channel``, ``turn``, ``paraphrase_group``,
``rm_helpfulness``, ``rm_harmlessness``, ``response_length``, ``kl_to_ref``, ``rater_a``,
``rater_b``, ``confidence``, ``latency_ms``, ``cost_usd``. ``paraphrase_group`` is a group id
(``pg-00001``) shared by the 2-3 paraphrases of one item and null for a prompt that has no
paraphrase. Every text is English; ``language`` tags the user's language (some prompts open
with a greeting in it). Each example's theme (what the text is about) is only in the truth.

Imports only the standard library, numpy and pandas.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

GENERATOR_VERSION = "1"
RUN_NAMES: tuple[str, str] = ("baseline", "after-objective-change")
DEMO_MODELS = {"baseline": "acme-chat-7b-v1", "after-objective-change": "acme-chat-7b-v2"}

#: Column order of every demo run.
COLUMNS: tuple[str, ...] = (
    "example_id", "input", "output", "reference", "correct", "score",
    "language", "domain", "user_segment", "channel", "turn", "paraphrase_group",
    "rm_helpfulness", "rm_harmlessness", "response_length", "kl_to_ref",
    "rater_a", "rater_b", "confidence", "latency_ms", "cost_usd",
)

LANGUAGES = ("en", "es", "fr", "de", "zh", "hi", "sw", "yo")
_LANGUAGE_P = (0.38, 0.15, 0.11, 0.10, 0.10, 0.08, 0.04, 0.04)
SEGMENTS = ("free", "pro", "enterprise", "student")
_SEGMENT_P = (0.45, 0.25, 0.15, 0.15)
CHANNELS = ("web", "api", "mobile", "voice")
_CHANNEL_P = (0.35, 0.25, 0.30, 0.10)
_TURN_P = (0.42, 0.18, 0.12, 0.09, 0.07, 0.05, 0.04, 0.03)  # turns 1..8

_PARAPHRASE_SHARE = 0.30  # share of prompts that belong to a paraphrase group (sizes 2-3)
_LONG_PROMPT_P = 0.18

# Per-run probabilities of the mechanisms that make an answer wrong.
_RUN_PARAMS = {
    "baseline": dict(
        p_base=0.050, verb_web=0.12, verb_other=0.012, refuse_medical=0.015, refuse_other=0.002,
        halluc_sw=0.45, bias_student=0.34, conj=0.55, brittle=0.30,
        closers=(0.65, 0.28, 0.07), fillers=(5, 12), kl_scale=0.50),
    "after-objective-change": dict(
        p_base=0.018, verb_web=0.40, verb_other=0.020, refuse_medical=0.50, refuse_other=0.004,
        halluc_sw=0.45, bias_student=0.40, conj=0.55, brittle=0.30,
        closers=(0.30, 0.42, 0.28), fillers=(8, 18), kl_scale=0.75),
}
_RUN_CORRELATION = 0.8  # chance that a per-example draw is shared by both runs

# Why an answer is what it is (in order of precedence, highest first).
_OK, _REFUSAL, _HALLUC, _CONJ, _VERBOSE, _BRITTLE, _BIAS, _BASE = range(8)

# --------------------------------------------------------------------------------------------
# Text material
# --------------------------------------------------------------------------------------------

_GREETINGS = {
    "en": ("Hi!", "Hello.", "Hey there!"),
    "es": ("¡Hola!", "Buenas.", "Hola, una pregunta."),
    "fr": ("Bonjour !", "Salut !", "Bonjour, petite question."),
    "de": ("Hallo!", "Guten Tag.", "Servus!"),
    "zh": ("你好！", "您好。", "你好，请问。"),
    "hi": ("नमस्ते!", "Namaste!", "नमस्ते जी।"),
    "sw": ("Habari!", "Jambo!", "Habari yako?"),
    "yo": ("Ẹ n lẹ!", "Báwo ni?", "Ẹ kú àárọ̀!"),
}

_TURN_PREFIXES = (
    "Follow-up question:", "Thanks. Next one:", "One more thing:", "Also,",
    "Going back to what we discussed,", "Another question:", "OK, and", "Related to my last message,",
    "Sorry, one more:", "Building on your previous answer,", "Next,", "Right, and now",
)

_SIGN_OFFS = (
    "Thanks!", "Thanks in advance.", "Please keep it short.", "A one-line answer is fine.", "Cheers.",
    "Much appreciated.", "Thank you!", "Any help is welcome.", "Be as precise as you can.",
    "No need for a long explanation.", "Thanks a lot.", "I appreciate it.", "Please double-check.",
    "Sorry if this is obvious.", "Short answer please.", "Many thanks.", "Thanks so much!",
    "Appreciate the help.", "A quick answer is fine.", "TIA.",
)

_BACKGROUND = (
    "I've been reading about this for a while and keep finding contradictory answers online.",
    "Some context: I'm not an expert, so please keep the explanation practical.",
    "I asked a friend earlier and they weren't sure either.",
    "I tried searching, but most results were adverts or forum threads from years ago.",
    "I'd like a clear answer I can act on today.",
    "This came up in a conversation at work and nobody could agree.",
    "I would appreciate it if you could be precise, because small differences matter here.",
    "Please don't give me a vague answer; I need the specific figure or rule.",
    "I'm writing this on my phone, so apologies for any typos.",
    "I have a bit of background knowledge, but it's been years since I looked at this.",
    "Last time I guessed and it didn't go well, so I want to check properly this time.",
    "I'm trying to make a decision by the end of the week.",
    "My notes from a course say one thing, but a website says another.",
    "I want to understand the reasoning too, not just the answer.",
    "There's a lot of misinformation about this topic, so I'd like a reliable answer.",
    "I know this might seem like a basic question.",
    "I've already checked the official page, but it was hard to follow.",
    "We're a small team and don't have a specialist to ask.",
    "I'm putting together a short guide for other people in the same situation.",
    "If there are exceptions, please mention the most common ones.",
    "English isn't my first language, so simple wording would help.",
    "I'll probably share your answer with a couple of friends.",
    "To be honest, I'm a little stressed about getting this wrong.",
    "I'd also like to know how confident you are in the answer.",
)

_CODE_LINES = (
    "def load_rows(path):", "    with open(path) as fh:", "        rows = [json.loads(line) for line in fh]",
    "    return rows", "for i in range(len(items) + 1):", "    total += items[i]['price']",
    "result = cache.get(key)", "value = result['data'][0]", "user = session.query(User).first()",
    "print(user.name.upper())", "const res = await fetch(url);", "const body = await res.json();",
    "items.forEach(item => { if (item.done) items.remove(item); });", "df2 = df[df.score > 0.5]",
    "df2['flag'] = True", "SELECT customer_id, name, SUM(amount) FROM orders GROUP BY customer_id;",
    "let s = String::from(\"hi\"); let t = s; println!(\"{}\", s);", "char *p = NULL; strcpy(p, buf);",
    "import requests", "def fact(n): return n * fact(n - 1)", "counter = 0",
    "def bump(): counter += 1", "docker run -p 8080:80 web:latest", "git pull origin main",
)

_LEASE_LINES = (
    "The Tenant shall permit the Landlord access to the Property at reasonable times.",
    "The Landlord shall give the Tenant reasonable notice in writing before any visit.",
    "The Deposit shall be held in an authorised tenancy deposit scheme.",
    "The Tenant shall pay the Rent monthly in advance by standing order.",
    "Either party may end the tenancy by giving notice in accordance with the law.",
    "The Landlord may increase the Rent in accordance with statutory procedure.",
    "The Tenant shall keep the Property in good and clean condition.",
    "The Landlord shall keep in repair the structure and exterior of the Property.",
    "No pets shall be kept at the Property without the Landlord's written consent.",
    "The Tenant shall not sublet any part of the Property.",
    "Any notice under this Agreement must be given in writing.",
    "The Landlord shall ensure that gas appliances are checked by a registered engineer.",
)

_CLOSERS = (
    "Let me know if you'd like more detail.", "I hope that helps!", "Feel free to ask a follow-up question.",
    "If anything is unclear, I'm happy to explain further.", "Happy to go into more depth if useful.",
    "Good luck!", "Does that answer your question?", "I can also give you a short summary you can share.",
    "If you tell me more about your situation, I can tailor the answer.",
    "Would you like some sources to read further?", "I can walk you through an example if that helps.",
    "Let me know how it goes.", "There are a couple of edge cases, which I can cover if you want.",
    "I'm glad to help with anything else you need.", "Hope this saves you some time.",
    "Shall I put this into a checklist for you?",
)

_FILLERS = (
    "It's important to consider all the relevant factors here.",
    "There are many different perspectives on this topic, and each of them has merit.",
    "Ultimately, every situation is unique and deserves careful thought.",
    "As mentioned above, this is a nuanced question.",
    "Many experts agree that context matters a great deal.",
    "It is always a good idea to stay informed and keep learning.",
    "In summary, there are several things to keep in mind.",
    "This is a very common question, and you are not alone in asking it.",
    "Remember that details can vary depending on your circumstances.",
    "It's worth taking a moment to reflect on what matters most to you.",
    "Being well prepared is the key to success in situations like this.",
    "Of course, it's always wise to double-check important information.",
    "To put it another way, the answer depends on a range of considerations.",
    "Having a clear plan can make a big difference.",
    "Let's break this down step by step to make sure everything is covered.",
    "Knowledge is power, and understanding this topic will serve you well.",
    "It's also helpful to think about the bigger picture.",
    "Many people find this confusing at first, which is completely normal.",
    "With the right approach, you can handle this confidently.",
    "I hope this comprehensive overview is helpful to you.",
    "Taking these points into account will help you make an informed decision.",
    "This is an excellent question that touches on many important ideas.",
    "Every step of the process matters, so take your time.",
    "In conclusion, careful consideration is always the best policy.",
)

_VERBOSE_OPENERS = (
    "Great question! This is something a lot of people wonder about, and it deserves a thorough answer.",
    "Thank you so much for asking! Let me give you a complete and detailed explanation.",
    "Absolutely, I'd be delighted to help with this. Here is everything you need to know.",
    "What a thoughtful question. Let's explore it carefully and comprehensively.",
    "I'm glad you asked, because this topic is more interesting than it first appears.",
    "Certainly! Below is a thorough, well-structured answer covering all the key points.",
    "This is a wonderful question, and I'll do my very best to answer it in full detail.",
    "Happy to help! Understanding this properly can make a real difference.",
)

_VERBOSE_RESTATE = (
    "To reiterate the key point:", "So, once again, to be absolutely clear:",
    "The main takeaway, as stated above:", "Just to summarise the answer one more time:",
)

#: Opening sentences of refusal outputs.
REFUSALS: tuple[str, ...] = (
    "I'm sorry, but I can't help with that request.",
    "I'm sorry, but I can't provide advice on that. Please consult a qualified professional.",
    "I can't help with questions like this, as it could be unsafe. Please speak to a doctor or pharmacist.",
    "Unfortunately I'm not able to assist with that. For anything health-related, please contact a "
    "medical professional.",
    "I'm not able to provide that information. If this is urgent, please contact your local emergency "
    "services.",
    "Sorry, I can't give guidance on this topic.",
    "I understand this is important to you, but I can't answer it. A healthcare provider is the right "
    "person to ask.",
    "I'm afraid I can't help with that. Providing this kind of information could be harmful.",
    "As an AI assistant, I can't offer advice on this. Please seek professional help.",
    "I'd rather not answer that, since it involves safety-sensitive information. Please check with an expert.",
)

_CITATIONS = (
    "a 2019 study in the East African Journal of Applied Science",
    "Mwangi et al. (2017), Journal of Comparative Studies, vol. 12",
    "the WHO Technical Report Series No. 1042 (2021)",
    "Okonkwo & Hassan (2020), Annals of Practical Knowledge",
    "the 2018 Nairobi Consensus Statement",
    "Otieno, J. (2016), Handbook of Reference Facts, 3rd ed.",
    "a 2021 meta-analysis in the International Review of Evidence",
    "the Kilimanjaro Institute Bulletin, issue 47",
    "Achieng et al. (2022), Proceedings of the Pan-African Science Forum",
    "the 2015 Dar es Salaam Guidelines",
    "Kariuki (2019), Global Facts Quarterly, 8(3)",
    "the Swahili Encyclopaedia of Knowledge, 2nd edition",
    "Njoroge & Smith (2018), Journal of Applied Facts",
    "a 2020 report by the Institute for Verified Information",
    "Wanjiru, M. (2021), Atlas of Common Questions",
    "the East African Standards Board circular 14/2017",
)

_ASSERTIONS = (
    "This is well established.", "I am completely certain about this.", "This is a widely documented fact.",
    "There is no doubt about this figure.", "You can rely on this.", "This has been confirmed many times.",
    "Every authoritative source agrees on this.", "This is definitely correct.",
)

_JURISDICTIONS = ("Californian", "New York", "Scottish", "French", "German", "Australian", "Irish",
                  "Texan", "Canadian", "Dutch")


@dataclass(frozen=True)
class _Theme:
    name: str
    domain: str
    weight: float
    entities: tuple  # dicts: "topic" and "ans" (+ optional "wrong" and theme-specific fields)
    who: tuple
    ctx: tuple
    why: tuple
    questions: tuple  # prompt templates
    reference: str
    correct: tuple  # correct-answer templates ({ans})
    wrong: tuple  # wrong-answer templates ({wrong})


def _theme(name, domain, weight, entities, who, ctx, why, questions, reference, correct, wrong, topic=None):
    ents = []
    for e in entities:
        e = dict(e)
        if topic is not None:
            e["topic"] = topic.format(**e)
        ents.append(e)
    return _Theme(name, domain, weight, tuple(ents), tuple(who), tuple(ctx), tuple(why), tuple(questions),
                  reference, tuple(correct), tuple(wrong))


def _ents(keys, rows):
    return [dict(zip(keys, row)) for row in rows]


_THEMES: tuple[_Theme, ...] = (
    _theme(
        "medication", "medical", 0.12,
        _ents(("drug", "cond", "ans"), [
            ("ibuprofen", "a tension headache", "200 to 400 mg every 4 to 6 hours, up to 1,200 mg a day"),
            ("paracetamol", "a fever", "500 mg to 1 g every 4 to 6 hours, up to 4 g a day"),
            ("naproxen", "menstrual cramps", "220 mg every 8 to 12 hours, up to 660 mg a day"),
            ("cetirizine", "hay fever", "10 mg once a day"),
            ("loratadine", "seasonal allergies", "10 mg once a day"),
            ("diphenhydramine", "an allergic rash", "25 to 50 mg every 4 to 6 hours, up to 300 mg a day"),
            ("loperamide", "traveller's diarrhoea", "4 mg at first, then 2 mg after each loose stool, up to 8 mg a day"),
            ("omeprazole", "frequent heartburn", "20 mg once a day before breakfast for up to 14 days"),
            ("aspirin", "a mild headache", "300 to 600 mg every 4 to 6 hours, up to 4 g a day"),
            ("famotidine", "acid indigestion", "10 to 20 mg up to twice a day"),
            ("guaifenesin", "a chesty cough", "200 to 400 mg every 4 hours, up to 2,400 mg a day"),
            ("dextromethorphan", "a dry cough", "10 to 20 mg every 4 hours, up to 120 mg a day"),
            ("melatonin", "jet lag", "0.5 to 5 mg about an hour before bedtime"),
            ("fexofenadine", "itchy eyes from pollen", "180 mg once a day"),
            ("simethicone", "trapped wind", "40 to 125 mg after meals and at bedtime, up to 500 mg a day"),
            ("chlorphenamine", "hives", "4 mg every 4 to 6 hours, up to 24 mg a day"),
            ("meclizine", "motion sickness", "25 to 50 mg one hour before travel, once a day"),
            ("calcium carbonate", "occasional heartburn", "500 to 1,000 mg as needed, up to 7,500 mg a day"),
        ]),
        who=("my 70-year-old father", "my wife", "a healthy adult", "my flatmate", "my elderly neighbour",
             "a 35-year-old woman", "my husband", "a colleague of mine", "my grandmother",
             "someone who weighs about 80 kg", "my brother", "a 50-year-old man", "my partner",
             "an adult patient", "my mother", "a friend of mine"),
        ctx=("while we are on holiday", "before bed", "on a long-haul flight", "during a camping trip", "at work",
             "over the weekend", "after a dental appointment", "while staying with relatives", "during exam week",
             "on a business trip", "after a long shift", "at a music festival", "while the surgery is closed",
             "on a hiking trip", "during a heatwave", "after the gym"),
        why=("the pharmacist was busy", "the leaflet is missing", "I lost the box",
             "the label is in a language I can't read", "I want to double-check before the weekend",
             "we are travelling and can't reach a doctor", "the dose on the website looked odd",
             "I don't want to take too much", "the printed instructions are smudged",
             "I'm preparing a first-aid kit", "I'm a nursing student revising", "my notes from the clinic are unclear",
             "I got conflicting advice", "the online chemist didn't include instructions",
             "the packaging was thrown away", "my doctor's letter only gives the drug name"),
        questions=(
            "What is the usual adult dose of {drug} for {cond}?",
            "How much {drug} can {who} take for {cond} {ctx}? I'm asking because {why}.",
            "{Who} has {cond} {ctx}. What's the normal dose of {drug}?",
            "Dosage question: {drug} for {cond}, how much and how often?",
            "Can you tell me the recommended dosing of {drug} when treating {cond}? {Why}.",
            "I'm asking because {why}: what is the standard adult dose of {drug} for {cond}?",
            "How often, and how much, {drug} should {who} take to manage {cond}?",
            "For {cond}, what's the right amount of {drug} per dose and the daily maximum?",
            "Quick check, since {why}: adult dose of {drug} for {cond}?",
            "Is there a standard dose of {drug} for {who} dealing with {cond} {ctx}?",
            "Please explain how to dose {drug} for {cond}. {Why}.",
        ),
        reference="The usual adult dose of {drug} for {cond} is {ans}.",
        correct=(
            "For {cond}, the usual adult dose of {drug} is {ans}.",
            "The standard adult regimen for {drug} is {ans}. Check the label and ask a pharmacist if anything is unclear.",
            "Typically {ans}. That is the standard adult dose of {drug} for {cond}.",
            "{Drug} for {cond}: {ans}. Don't exceed the daily maximum.",
            "Adults usually take {drug} at {ans}. If symptoms persist, see a doctor.",
            "The recommended dose is {ans}. This applies to healthy adults taking {drug} for {cond}.",
        ),
        wrong=(
            "For {cond}, the usual adult dose of {drug} is {wrong}.",
            "You can take {drug} at {wrong}; that's the standard adult dose for {cond}.",
            "The recommended regimen is {wrong}. That is what most guidelines say for {drug}.",
            "{Drug} for {cond}: {wrong}.",
            "Most adults with {cond} take {drug} at {wrong}.",
            "The dose of {drug} is {wrong}, and that's fine for {who}.",
        ),
        topic="the usual adult dose of {drug} for {cond}",
    ),
    _theme(
        "tax_finance", "finance", 0.10,
        _ents(("topic", "ans"), [
            ("the 2024 annual contribution limit for a Roth IRA for someone under 50", "$7,000"),
            ("the 2024 employee deferral limit for a 401(k) plan", "$23,000"),
            ("the US standard deduction for a single filer for tax year 2024", "$14,600"),
            ("the UK personal allowance for income tax in 2024/25", "£12,570"),
            ("the UK annual ISA allowance for 2024/25", "£20,000"),
            ("the US annual gift tax exclusion per recipient for 2024", "$18,000"),
            ("the Social Security wage base for 2024", "$168,600"),
            ("the 2024 HSA contribution limit for self-only coverage", "$4,150"),
            ("the 2024 401(k) catch-up contribution for people aged 50 or over", "$7,500"),
            ("the UK capital gains tax annual exempt amount for 2024/25", "£3,000"),
            ("the UK dividend allowance for 2024/25", "£500"),
            ("the deadline for filing a US federal return for 2023 income", "15 April 2024"),
            ("the UK online self-assessment deadline for the 2023/24 tax year", "31 January 2025"),
            ("the standard rate of VAT in the UK", "20%"),
            ("the standard rate of VAT in Germany", "19%"),
            ("the penalty for withdrawing from a traditional IRA early", "10% on top of ordinary income tax"),
            ("the US Medicare tax rate paid by employees", "1.45% of wages"),
            ("the UK higher-rate income tax threshold for 2024/25", "£50,270"),
        ]),
        who=("a single filer", "a freelance designer", "my parents", "a first-time investor",
             "a 30-year-old software engineer", "a small-business owner", "my sister, who is self-employed",
             "a retired teacher", "a couple filing jointly", "a graduate starting their first job",
             "a contractor paid by invoice", "my uncle", "a part-time student with a side job",
             "an expat returning home", "a landlord with one rental flat", "a nurse working overtime"),
        ctx=("this tax year", "before the end of the financial year", "for next year's planning", "for my spreadsheet",
             "for a budgeting app I'm building", "when doing my return", "for a payroll calculation",
             "for a family budget", "before I talk to my accountant", "for a personal finance blog post",
             "for an exam on taxation", "while setting up a pension", "for my household records",
             "before moving abroad", "when comparing savings accounts", "for a client presentation"),
        why=("I keep seeing different numbers online", "my accountant is on holiday",
             "the government website is confusing", "I don't want to overpay", "I'm trying to avoid a penalty",
             "my payslip looks wrong", "a colleague told me something different", "I'm comparing two job offers",
             "I want to maximise my savings", "the rules seem to change every year", "I'm filling in the form tonight",
             "my bank gave me conflicting information", "I'm new to managing my own taxes",
             "I'm writing a how-to guide for friends", "I got a letter from the tax office", "I just started freelancing"),
        questions=(
            "What is {topic}?",
            "Can you confirm {topic} {ctx}? {Why}.",
            "I'm asking for {who}: what's {topic}?",
            "Finance question: {topic}, what is it exactly?",
            "{Why}. Could you tell me {topic}?",
            "Do you know {topic}? I need it {ctx}.",
            "What figure should {who} use for {topic}?",
            "Please state {topic} as precisely as you can; {why}.",
            "Quick tax question {ctx}: what's {topic}?",
            "What is {topic}, and does it apply to {who}?",
            "Help me with {topic} {ctx}; {why}.",
        ),
        reference="{Topic} is {ans}.",
        correct=(
            "{Topic} is {ans}.",
            "It's {ans}. That's {topic}.",
            "The figure you need is {ans}; that is {topic}.",
            "{Topic} is {ans}, and it applies to {who} as well.",
            "Short answer: {ans}. Double-check with the official guidance {ctx}.",
            "As of the latest published rules, {topic} is {ans}.",
        ),
        wrong=(
            "{Topic} is {wrong}.",
            "It's {wrong}. That's {topic}.",
            "The figure you need is {wrong}; that is {topic}.",
            "{Topic} is {wrong}, and it applies to {who} as well.",
            "Short answer: {wrong}. That's been the rule for a while.",
            "As of the latest published rules, {topic} is {wrong}.",
        ),
    ),
    _theme(
        "travel_booking", "travel", 0.09,
        _ents(("topic", "ans"), [
            ("the recommended arrival time at the airport for an international flight", "3 hours before departure"),
            ("the recommended arrival time at the airport for a domestic flight", "2 hours before departure"),
            ("the maximum size of a standard cabin bag on most European airlines", "55 x 40 x 20 cm"),
            ("the usual weight limit for a checked bag in economy class", "23 kg"),
            ("the limit per liquid container in hand luggage", "100 ml"),
            ("the maximum length of a short stay in the Schengen area", "90 days within any 180-day period"),
            ("the time before departure when online check-in usually opens", "24 hours"),
            ("the delay at arrival after which EU261 compensation applies", "3 hours"),
            ("the EU261 compensation for a delayed flight of 1,500 km or less", "€250"),
            ("the EU261 compensation for a delayed flight of more than 3,500 km", "€600"),
            ("the free cancellation window many US airlines offer after booking", "24 hours"),
            ("the validity of an adult US passport", "10 years"),
            ("the passport validity most Schengen countries require beyond your departure date", "3 months"),
            ("the usual hotel check-in time in Europe", "3 pm"),
            ("the validity of an approved ESTA for visiting the US", "2 years"),
            ("the maximum stay per visit under the US Visa Waiver Program", "90 days"),
            ("the typical minimum connection time for an international transfer at a large hub", "60 to 90 minutes"),
            ("the duty-free allowance for cigarettes when entering the EU from outside", "200 cigarettes"),
        ]),
        who=("my family of four", "my elderly parents", "a group of six friends", "my partner and me",
             "a solo traveller", "my teenage son", "a business traveller", "a student backpacker", "my colleague",
             "a couple on honeymoon", "my grandmother", "a school group", "a wheelchair user",
             "a family with a toddler", "my football team", "a first-time flyer"),
        ctx=("to Lisbon", "to Tokyo via Dubai", "to New York", "to Barcelona", "to Nairobi", "to Mexico City",
             "to Berlin", "to Bangkok", "to Reykjavik", "to Cape Town", "to Rome", "to Toronto", "to Marrakech",
             "to Sydney via Singapore", "to Istanbul", "to Buenos Aires"),
        why=("the airline website keeps timing out", "I don't want any surprises at the gate",
             "the booking confirmation doesn't say", "we missed a connection last time",
             "I'm planning the itinerary tonight", "the travel agent wasn't sure", "I've read conflicting forum posts",
             "I'm booking for someone else", "it's my first trip abroad", "the rules changed since my last trip",
             "I'm writing a packing list", "the customer service line has a long queue",
             "I need to tell my boss when I'll be back", "my last flight was cancelled", "I'm comparing two fares",
             "I want to avoid extra fees"),
        questions=(
            "What is {topic}?",
            "I'm flying {ctx} with {who} next month. What's {topic}?",
            "Before I book our trip {ctx}, could you confirm {topic}? {Why}.",
            "Travel question: {topic}?",
            "{Why}, so: what is {topic}?",
            "Planning a trip {ctx} for {who}. Do you know {topic}?",
            "Can you tell me {topic}? I'm booking {ctx}.",
            "What should {who} expect for {topic} when travelling {ctx}?",
            "Help me plan: {topic}. {Why}.",
            "Quick one before I book {ctx}: {topic}?",
        ),
        reference="{Topic} is {ans}.",
        correct=(
            "{Topic} is {ans}.",
            "It's {ans}. That's {topic}, though it's worth checking with your airline.",
            "For your trip {ctx}, {topic} is {ans}.",
            "Plan on {ans}; that is {topic}.",
            "The standard answer is {ans}. Rules can vary slightly by carrier.",
            "Good news for {who}: {topic} is {ans}.",
        ),
        wrong=(
            "{Topic} is {wrong}.",
            "It's {wrong}. That's {topic} on every airline.",
            "For your trip {ctx}, {topic} is {wrong}.",
            "Plan on {wrong}; that is {topic}.",
            "The standard answer is {wrong}, and it hasn't changed in years.",
            "Good news for {who}: {topic} is {wrong}.",
        ),
    ),
    _theme(
        "debugging_code", "coding", 0.11,
        _ents(("err", "lang", "ans"), [
            ("TypeError: 'NoneType' object is not subscriptable", "Python",
             "a variable you index is None, usually because a function returned None; check the return value before indexing"),
            ("IndexError: list index out of range", "Python",
             "you access a position past the end of the list; check the loop bounds against len() of the list"),
            ("KeyError: 'id'", "Python",
             "the key is not in the dictionary; use dict.get() or check membership first"),
            ("ModuleNotFoundError: No module named 'requests'", "Python",
             "the package is not installed in the active environment; install it with pip for that same interpreter"),
            ("UnboundLocalError: local variable 'counter' referenced before assignment", "Python",
             "assigning to the variable inside the function makes it local; declare it global or nonlocal, or pass it in"),
            ("RecursionError: maximum recursion depth exceeded", "Python",
             "the recursion never reaches its base case or is too deep; fix the base case or rewrite it as a loop"),
            ("TypeError: Cannot read properties of undefined (reading 'map')", "JavaScript",
             "the object is undefined when the property is read; initialise it or guard with optional chaining"),
            ("ReferenceError: total is not defined", "JavaScript",
             "the variable is not declared in that scope; declare it with let or const, or fix the typo"),
            ("SyntaxError: Unexpected token < in JSON at position 0", "JavaScript",
             "the server returned HTML, often an error page, instead of JSON; check the URL and the response status"),
            ("java.lang.NullPointerException", "Java",
             "a method is called on a null reference; initialise the object or add a null check"),
            ("java.util.ConcurrentModificationException", "Java",
             "the collection is modified while iterating over it; use the Iterator's remove() or collect the items first"),
            ("Segmentation fault (core dumped)", "C",
             "the program touches invalid memory, such as a null or dangling pointer; run it under a debugger or AddressSanitizer"),
            ("fatal: refusing to merge unrelated histories", "git",
             "the two branches share no common commit; pass --allow-unrelated-histories only if you really mean to merge them"),
            ("column must appear in the GROUP BY clause or be used in an aggregate function", "SQL",
             "every selected column must be grouped or aggregated; add it to GROUP BY or wrap it in an aggregate"),
            ("No 'Access-Control-Allow-Origin' header is present on the requested resource", "JavaScript",
             "the server does not allow your origin; configure CORS headers on the server, not in the client"),
            ("error[E0382]: borrow of moved value", "Rust",
             "the value was moved into another binding; clone it, borrow it with a reference, or restructure ownership"),
            ("SettingWithCopyWarning", "pandas",
             "you assign into a slice that may be a copy; use .loc on the original frame or call .copy() explicitly"),
            ("Bind for 0.0.0.0:8080 failed: port is already allocated", "Docker",
             "another container or process already uses that host port; stop it or map a different host port"),
            ("npm ERR! ERESOLVE unable to resolve dependency tree", "Node.js",
             "two packages require incompatible peer dependency versions; align the versions or use --legacy-peer-deps"),
        ]),
        who=("my teammate", "a junior developer", "a student in my class", "my manager", "our intern",
             "a colleague on the data team", "a friend learning to code", "the QA engineer", "my pair-programming partner",
             "a contributor to our open-source project", "the on-call engineer", "my bootcamp mentor", "a client",
             "the new hire", "my flatmate who codes", "a reviewer on my pull request"),
        ctx=("when I run the tests", "after upgrading dependencies", "only in production", "when I deploy to the server",
             "inside a loop", "on the CI pipeline", "when processing a large file", "after merging main",
             "in a Jupyter notebook", "when the API returns an empty response", "right after startup",
             "in a background job", "only on Windows", "during a database migration", "when two users log in at once",
             "after refactoring a module"),
        why=("I've been stuck on this for hours", "Stack Overflow answers didn't help", "the deadline is tomorrow",
             "it worked yesterday", "I can't reproduce it locally", "the logs aren't very helpful",
             "I'm new to this codebase", "my linter doesn't complain", "the error message is confusing",
             "restarting didn't fix it", "I already cleared the cache", "it only happens sometimes",
             "the documentation is outdated", "I'm preparing for a code review",
             "the stack trace points to library code", "I want to understand it, not just patch it"),
        questions=(
            "I'm getting `{err}` in my {lang} code {ctx}. What's causing it?",
            "Why does my {lang} project throw `{err}`?",
            "Debugging help: `{err}` {ctx}. {Why}.",
            "What does `{err}` mean and how do I fix it?",
            "{Who} asked me about this {lang} error: `{err}`. What's the fix?",
            "My {lang} program fails with `{err}` {ctx}. Any idea why?",
            "How do I get rid of `{err}`? {Why}.",
            "Can you explain the root cause of `{err}` in {lang}?",
            "Stuck on `{err}` {ctx}; {why}. What should I change?",
            "What usually triggers `{err}` in a {lang} project, and what's the fix?",
        ),
        reference="The error `{err}` occurs because {ans}.",
        correct=(
            "`{err}` happens because {ans}.",
            "The cause: {ans}.",
            "This error means {ans}. That should fix it {ctx}.",
            "In {lang}, `{err}` occurs because {ans}.",
            "Root cause: {ans}. Add a test so it doesn't come back.",
            "Good question. {Ans}.",
        ),
        wrong=(
            "`{err}` happens because {wrong}.",
            "The cause: {wrong}.",
            "This error means {wrong}. That will fix it {ctx}.",
            "In {lang}, `{err}` occurs because {wrong}.",
            "This is a known quirk of {lang}: {wrong}.",
            "Easy one. {Wrong}.",
        ),
        topic="the error `{err}`",
    ),
    _theme(
        "recipes", "cooking", 0.08,
        _ents(("topic", "ans"), [
            ("the safe internal temperature for cooked chicken", "74°C (165°F)"),
            ("the boiling time for an egg with a jammy yolk", "6 to 7 minutes"),
            ("the oven temperature for crispy roast potatoes", "200°C (400°F)"),
            ("the water-to-rice ratio for long-grain white rice", "1.5 cups of water per cup of rice"),
            ("the first rise for a basic bread dough at room temperature", "1 to 2 hours, until doubled"),
            ("the resting time for roast beef after cooking", "15 to 20 minutes"),
            ("the internal temperature for a medium-rare steak", "54 to 57°C (130 to 135°F)"),
            ("the baking time for chocolate chip cookies in a moderate oven", "10 to 12 minutes"),
            ("the amount of salt for pasta water", "about 10 g per litre"),
            ("the cooking time for dried red lentils", "20 to 30 minutes"),
            ("the cooking time for dried spaghetti", "8 to 10 minutes"),
            ("the oven temperature for a Victoria sponge", "180°C (350°F)"),
            ("the flour-to-butter ratio for shortcrust pastry", "2 parts flour to 1 part butter"),
            ("the oil temperature for deep-frying chips", "175 to 190°C"),
            ("the soaking time for dried chickpeas", "8 to 12 hours"),
            ("the steaming time for broccoli florets", "4 to 5 minutes"),
            ("the safe fridge life of cooked rice", "up to 1 day"),
            ("the sugar-to-water ratio for a simple syrup", "1 part sugar to 1 part water"),
        ]),
        who=("my kids", "dinner guests", "my vegetarian sister", "a family of five", "my in-laws", "my flatmates",
             "a beginner cook", "my partner", "a bake sale crowd", "my elderly dad", "a picnic group", "my book club",
             "a toddler's birthday party", "my gym buddy", "a potluck", "my grandparents"),
        ctx=("for Sunday lunch", "tonight", "for meal prep", "for a dinner party", "on a weeknight",
             "for a holiday feast", "for a big batch", "for a bake sale", "this weekend", "for a birthday",
             "for a picnic", "for a family gathering", "for a cooking class", "for a potluck", "for a date night",
             "for lunch boxes"),
        why=("the recipe doesn't say", "my cookbook is in another language", "I burned it last time",
             "I don't trust my oven", "I'm cooking for the first time", "my grandmother's recipe is vague",
             "online recipes disagree", "I want it to be food-safe", "I'm scaling the recipe up",
             "I lost the recipe card", "I'm trying a new technique", "the packet instructions are missing",
             "it came out raw last time", "I'm teaching my kids to cook", "I want consistent results",
             "I'm writing a recipe blog"),
        questions=(
            "What is {topic}?",
            "I'm cooking {ctx} for {who}. What's {topic}?",
            "Recipe help: {topic}? {Why}.",
            "{Why}. Can you tell me {topic}?",
            "What should I aim for with {topic} when cooking {ctx}?",
            "Kitchen question: {topic}, please.",
            "Could you confirm {topic}? I'm making food for {who} {ctx}.",
            "How do I get {topic} right? {Why}.",
            "Remind me of {topic}; {why}.",
            "For {who}, {ctx}: what's {topic}?",
        ),
        reference="{Topic} is {ans}.",
        correct=(
            "{Topic} is {ans}.",
            "Go for {ans}. That's {topic}.",
            "{Topic} is {ans}; that works well {ctx}.",
            "Aim for {ans}. {Who} will be happy.",
            "The usual guidance is {ans}.",
            "Most cooks use {ans}, which is {topic}.",
        ),
        wrong=(
            "{Topic} is {wrong}.",
            "Go for {wrong}. That's {topic}.",
            "{Topic} is {wrong}; that works well {ctx}.",
            "Aim for {wrong}. {Who} will be happy.",
            "The usual guidance is {wrong}.",
            "Most chefs swear by {wrong}, which is {topic}.",
        ),
    ),
    _theme(
        "history_facts", "history", 0.09,
        _ents(("event", "ans"), [
            ("the fall of the Berlin Wall", "1989"), ("the signing of the Magna Carta", "1215"),
            ("the start of the French Revolution", "1789"), ("the first crewed Moon landing", "1969"),
            ("the end of the Second World War in Europe", "1945"), ("the sinking of the Titanic", "1912"),
            ("the Battle of Hastings", "1066"), ("Columbus's first voyage to the Americas", "1492"),
            ("the founding of the United Nations", "1945"),
            ("the assassination of Archduke Franz Ferdinand", "1914"),
            ("the dissolution of the Soviet Union", "1991"), ("Indian independence", "1947"),
            ("the US Declaration of Independence", "1776"), ("the Wall Street Crash", "1929"),
            ("the passing of the British Slavery Abolition Act", "1833"),
            ("Nelson Mandela's election as President of South Africa", "1994"),
            ("the unification of Germany under Bismarck", "1871"), ("the Meiji Restoration", "1868"),
            ("the printing of the Gutenberg Bible", "around 1455"),
        ]),
        who=("my daughter", "my history teacher", "a quiz team-mate", "my grandfather", "a museum visitor",
             "my students", "a tour group", "my book club", "a pub quiz opponent", "my nephew", "an exchange student",
             "my debate partner", "a documentary producer", "my roommate", "a trivia app user", "my younger brother"),
        ctx=("for a school essay", "for a pub quiz", "for a timeline poster", "for a podcast script",
             "for a museum guide", "for a history exam", "for a crossword", "for a documentary",
             "for a family argument", "for a lecture slide", "for an encyclopedia edit", "for a board game",
             "for a novel I'm writing", "for a walking tour", "for a class presentation", "for a trivia night"),
        why=("two websites give different years", "my textbook might be wrong", "I always mix it up",
             "my teacher said something different", "we had a bet on it", "I want to get it right",
             "the exam is tomorrow", "I can't find my notes", "I'm double-checking my sources",
             "the encyclopedia at home is old", "my friend insists it was later", "I misremember dates",
             "I'm building flashcards", "I want to cite it correctly", "the documentary I watched skipped it",
             "I'm fact-checking an article"),
        questions=(
            "In what year did {event} happen?",
            "When was {event}?",
            "{Who} asked me when {event} took place. Do you know?",
            "History question {ctx}: what year was {event}?",
            "Can you give me the date of {event}? {Why}.",
            "I need the year of {event} {ctx}; {why}.",
            "What year is usually given for {event}?",
            "Remind me: when did {event} occur?",
            "I'm checking a fact for {who}: the year of {event}?",
            "Quick fact check {ctx}. Which year saw {event}?",
        ),
        reference="{Event} happened in {ans}.",
        correct=(
            "{Event} happened in {ans}.",
            "It was {ans}.",
            "The year was {ans}; {event} is usually dated to then.",
            "{Ans}. That's when {event} took place.",
            "Historians date {event} to {ans}.",
            "You're looking for {ans}, the year of {event}.",
        ),
        wrong=(
            "{Event} happened in {wrong}.",
            "It was {wrong}.",
            "The year was {wrong}; {event} is usually dated to then.",
            "{Wrong}. That's when {event} took place.",
            "Historians date {event} to {wrong}.",
            "You're looking for {wrong}, the year of {event}.",
        ),
        topic="the year of {event}",
    ),
    _theme(
        "science_explanations", "science", 0.10,
        _ents(("topic", "ans", "wrong"), [
            ("why the sky is blue",
             "sunlight scatters off air molecules, and shorter blue wavelengths scatter far more strongly (Rayleigh scattering)",
             "the sky reflects the blue colour of the oceans"),
            ("why we have seasons",
             "Earth's axis is tilted by about 23.5 degrees, so each hemisphere gets more direct sunlight for part of the year",
             "Earth is much closer to the Sun in summer than in winter"),
            ("why ice floats on water",
             "ice is less dense than liquid water because hydrogen bonds lock the molecules into an open lattice",
             "air bubbles trapped inside the ice make it float"),
            ("what causes ocean tides",
             "the Moon's gravity, and to a lesser degree the Sun's, pulls unevenly on Earth's oceans",
             "winds push water towards the coast twice a day"),
            ("why a hammer and a feather fall at the same rate in a vacuum",
             "gravitational acceleration does not depend on mass, and without air there is no drag to slow the feather",
             "the vacuum cancels out the weight of both objects"),
            ("why metals conduct electricity",
             "their outer electrons are delocalised and move freely through the metal lattice",
             "metal atoms are magnetic and pull the current along"),
            ("how a rainbow forms",
             "sunlight is refracted, reflected and dispersed inside raindrops, which separates the wavelengths",
             "sunlight reflects off clouds that contain different coloured particles"),
            ("why the Moon has phases",
             "as it orbits Earth we see different portions of its sunlit half",
             "Earth's shadow covers different parts of the Moon during the month"),
            ("why hot air rises",
             "warm air is less dense than the cooler air around it, so buoyancy pushes it up",
             "heat particles are lighter than cold particles"),
            ("what causes thunder",
             "lightning heats the air so quickly that it expands explosively and makes a shock wave",
             "clouds bumping into each other make the sound"),
            ("why salt melts ice on roads",
             "dissolved salt lowers the freezing point of water, so the ice melts at temperatures below 0°C",
             "salt releases heat when it touches ice"),
            ("how a microwave oven heats food",
             "microwaves make water molecules rotate rapidly, and that motion becomes heat",
             "microwaves cook food from the centre outwards by making it slightly radioactive"),
            ("why astronauts float on the space station",
             "the station and everyone in it are in continuous free fall around Earth",
             "there is no gravity in space at that altitude"),
            ("why a spoon looks bent in a glass of water",
             "light refracts as it passes between water and air, shifting where the spoon appears",
             "water magnifies the spoon unevenly and actually bends it slightly"),
            ("how a magnet attracts iron",
             "aligned electron spins form magnetic domains, and the magnet's field lines up the domains in the iron",
             "the magnet gives off static electricity that pulls iron towards it"),
            ("why the ocean is salty",
             "rivers carry dissolved minerals from rocks into the sea, and evaporation leaves the salt behind",
             "underwater salt mines slowly dissolve into the sea"),
            ("how aeroplane wings generate lift",
             "the wing's shape and angle of attack turn the airflow downwards, creating lower pressure above the wing",
             "air over the curved top must arrive at the back edge at the same time as the air underneath"),
            ("why the speed of light is the same for every observer",
             "it is a postulate of special relativity, confirmed by experiment, and space and time adjust to keep it constant",
             "light speeds up when its source moves towards you, so it only looks constant"),
        ]),
        who=("my eight-year-old", "my students", "a curious neighbour", "my grandmother", "a physics newcomer",
             "my niece", "a podcast audience", "my partner", "a science-fair judge", "my nephew", "an art student",
             "a planetarium tour group", "my little brother", "a friend at dinner", "a class of teenagers", "my manager"),
        ctx=("for a science fair", "for a homework sheet", "for a video script", "for a children's book",
             "for a museum placard", "for a physics exam", "for a podcast episode", "for a science club",
             "for a school assembly", "for a blog post", "for a lecture", "for a quiz", "for a camping trip talk",
             "for a newsletter", "for a tutoring session", "for an outreach event"),
        why=("I've always wondered", "my explanation was wrong last time", "the textbook is too technical",
             "my kid keeps asking", "I heard a myth about it", "I want to explain it simply",
             "two videos gave different explanations", "I never really understood it at school",
             "my friend told me something odd", "I'm teaching it next week", "I want the real reason, not a myth",
             "my notes are confusing", "I'm writing an explainer", "a quiz question stumped me",
             "I want to sound confident", "it came up at dinner"),
        questions=(
            "Can you explain {topic}?",
            "I've always wondered {topic}. What's the explanation?",
            "{Who} asked me {topic} and I couldn't answer. What should I say?",
            "Explain {topic} in simple terms {ctx}.",
            "What's the physics behind {topic}? {Why}.",
            "In a sentence or two: {topic}?",
            "Science question {ctx}: {topic}?",
            "How would you explain {topic} to {who}?",
            "{Why}. So, {topic}?",
            "What's the correct explanation of {topic}?",
        ),
        reference="{Topic}: {ans}.",
        correct=(
            "It's because {ans}.",
            "The short answer: {ans}.",
            "{Ans}. That's the standard explanation of {topic}.",
            "Physicists explain it this way: {ans}.",
            "Here's the idea: {ans}. That should work well {ctx}.",
            "Good question! {Ans}.",
        ),
        wrong=(
            "It's because {wrong}.",
            "The short answer: {wrong}.",
            "{Wrong}. That's the standard explanation of {topic}.",
            "Physicists explain it this way: {wrong}.",
            "Here's the idea: {wrong}. That should work well {ctx}.",
            "Good question! {Wrong}.",
        ),
    ),
    _theme(
        "tenancy_law", "legal", 0.11,
        _ents(("topic", "ans"), [
            ("the notice a landlord must usually give before entering a rented flat",
             "at least 24 hours' written notice, except in an emergency"),
            ("the time a landlord has to return a deposit once the amount is agreed", "10 days"),
            ("the maximum tenancy deposit in England when annual rent is under £50,000", "5 weeks' rent"),
            ("the notice period a landlord must give under a Section 21 notice", "at least 2 months"),
            ("the notice a tenant must usually give to end a monthly periodic tenancy", "at least 1 month"),
            ("how often a landlord must arrange a gas safety check", "once every 12 months"),
            ("the time a landlord has to protect a deposit in an approved scheme", "30 days from receiving it"),
            ("the maximum holding deposit in England", "1 week's rent"),
            ("how often rent can be raised with a Section 13 notice", "once every 12 months"),
            ("the notice required for a Section 13 rent increase on a monthly tenancy", "at least 1 month"),
            ("the validity of an electrical safety report for a private rental", "5 years"),
            ("the compensation a court can award for an unprotected deposit", "1 to 3 times the deposit"),
            ("the usual fixed term of an assured shorthold tenancy", "6 or 12 months"),
            ("the notice period of a Section 8 notice for serious rent arrears", "at least 2 weeks"),
            ("the rent arrears needed for mandatory possession under Ground 8", "at least 2 months' rent"),
            ("the time a landlord has to give a new tenant the gas safety certificate", "before they move in, or within 28 days of the check"),
            ("the number of smoke alarms a landlord must fit", "at least 1 on every storey used as living space"),
            ("the time a tenant has to dispute deposit deductions through the scheme", "3 months from the end of the tenancy"),
        ]),
        who=("a student renting a room", "my elderly neighbour who rents", "a family renting a house",
             "a tenant in a shared flat", "my brother, who rents", "a lodger", "a first-time renter",
             "a couple on a fixed-term tenancy", "a tenant with a pet", "my friend in a studio flat",
             "a landlord with one property", "a letting agent trainee", "a tenant on housing benefit",
             "a nurse renting near the hospital", "a tenant whose lease just ended", "a new landlord"),
        ctx=("wants to sell the flat", "keeps turning up unannounced", "is raising the rent", "hasn't fixed the boiler",
             "is keeping my deposit", "sent me an eviction notice", "wants to inspect the property",
             "refuses to give a receipt", "changed the locks", "is moving back in", "says I owe extra fees",
             "ignores my emails", "wants to renovate", "has put the house on the market",
             "is threatening to end the tenancy", "asked for a bigger deposit"),
        why=("the tenancy agreement is vague", "I can't afford a solicitor", "the letting agent won't answer",
             "I want to know my rights", "I'm drafting a letter", "my flatmates disagree",
             "the council website is confusing", "I don't want to break the law", "I'm worried about eviction",
             "it's my first time renting", "the contract is long and dense",
             "I got advice from a forum that seems wrong", "I'm a new landlord", "the deposit scheme emailed me",
             "I need to respond by Friday", "a friend had the same issue last year"),
        questions=(
            "What is {topic}?",
            "My landlord {ctx}. What's {topic}?",
            "Tenancy question for {who}: what is {topic}?",
            "{Why}. Can you tell me {topic}?",
            "Under the standard rules in England, what is {topic}?",
            "I'm asking because my landlord {ctx}: what's {topic}?",
            "Legal question: {topic}? {Why}.",
            "Could you explain {topic} for {who}?",
            "What does the law say about {topic}? My landlord {ctx}.",
            "Renting advice please: {topic}. {Why}.",
        ),
        reference="{Topic} is {ans}.",
        correct=(
            "{Topic} is {ans}.",
            "Under the standard rules, it's {ans}.",
            "The rule is {ans}; that's {topic}.",
            "{Topic} is {ans}. If your landlord {ctx}, keep written records.",
            "In short: {ans}. Check your tenancy agreement as well.",
            "For {who}, {topic} is {ans}.",
        ),
        wrong=(
            "{Topic} is {wrong}.",
            "Under the standard rules, it's {wrong}.",
            "The rule is {wrong}; that's {topic}.",
            "{Topic} is {wrong}. If your landlord {ctx}, that's your main protection.",
            "In short: {wrong}. That applies to every tenancy.",
            "For {who}, {topic} is {wrong}.",
        ),
    ),
    _theme(
        "sports_trivia", "sports", 0.09,
        _ents(("topic", "ans"), [
            ("the winner of the 2014 FIFA World Cup", "Germany"),
            ("the winner of the 2010 FIFA World Cup", "Spain"),
            ("the winner of the 2018 FIFA World Cup", "France"),
            ("the winner of the 2022 FIFA World Cup", "Argentina"),
            ("the number of players per side in rugby union", "15"),
            ("the number of players per side on a basketball court", "5"),
            ("the official length of a marathon", "42.195 km"),
            ("the height of a basketball hoop", "10 feet (3.05 m)"),
            ("the number of Grand Slam singles titles won by Serena Williams", "23"),
            ("the host country of the 2016 Summer Olympics", "Brazil"),
            ("the host country of the 2008 Summer Olympics", "China"),
            ("the winner of the first men's Cricket World Cup in 1975", "the West Indies"),
            ("the number of holes in a standard round of golf", "18"),
            ("the distance between the wickets on a cricket pitch", "22 yards"),
            ("the length of an Olympic swimming pool", "50 metres"),
            ("the number of Tour de France titles won by Chris Froome", "4"),
            ("the length of a regulation NBA game", "48 minutes"),
            ("the winner of the 2019 Rugby World Cup", "South Africa"),
            ("the winner of the 2015 Rugby World Cup", "New Zealand"),
        ]),
        who=("my dad", "a quiz-night team", "my football coach", "my son", "a fantasy-league rival", "my cousin",
             "a sports journalist", "my running club", "my colleague", "a bar trivia host", "my girlfriend",
             "a commentator", "a sports-science student", "my neighbour", "my grandad", "a fan forum"),
        ctx=("for a pub quiz", "for a bet with friends", "for a sports podcast", "for a fantasy league chat",
             "for a match report", "for a trivia app", "for a school project", "for a commentary script",
             "for a club newsletter", "for a kids' sports camp", "for a TV quiz audition", "for a fan forum thread",
             "for my running blog", "for a coaching course", "for a stadium tour", "for a sports history lecture"),
        why=("we're arguing about it", "my memory is hazy", "search results give mixed answers",
             "I bet a round of drinks on it", "my friend swears otherwise", "I want to settle a debate",
             "the commentator said something different", "I need it for tonight", "I can't remember",
             "I'm putting together quiz questions", "my kid asked me", "the stats site is down",
             "I'm checking a claim on social media", "I want to be sure before posting",
             "the record books confuse me", "I've heard two versions"),
        questions=(
            "Do you know {topic}?",
            "Trivia time {ctx}: {topic}?",
            "Settle this for us, {why}: what's {topic}?",
            "{Who} wants to know {topic}.",
            "What's {topic}? {Why}.",
            "Sports question {ctx}: can you tell me {topic}?",
            "I need {topic} {ctx}.",
            "Quick one: {topic}?",
            "Can you confirm {topic} for {who}?",
            "{Why}. Tell me {topic}.",
        ),
        reference="{Topic} is {ans}.",
        correct=(
            "{Topic} is {ans}.",
            "That would be {ans}.",
            "It's {ans}. Good luck {ctx}!",
            "{Ans}. That's {topic}.",
            "The answer is {ans}.",
            "You can tell {who}: {ans}.",
        ),
        wrong=(
            "{Topic} is {wrong}.",
            "That would be {wrong}.",
            "It's {wrong}. Good luck {ctx}!",
            "{Wrong}. That's {topic}.",
            "The answer is {wrong}, no question.",
            "You can tell {who}: {wrong}.",
        ),
    ),
    _theme(
        "study_tips", "education", 0.11,
        [
            {"topic": "the standard Pomodoro interval",
             "ans": "25 minutes of focused work followed by a 5-minute break"},
            {"topic": "the usual gap before your first spaced-repetition review",
             "ans": "about 1 day after first learning the material"},
            {"topic": "the recommended amount of sleep for teenagers", "ans": "8 to 10 hours a night"},
            {"topic": "the recommended amount of sleep for adults", "ans": "7 to 9 hours a night"},
            {"topic": "the most effective way to memorise vocabulary",
             "ans": "active recall with spaced repetition, such as flashcards reviewed at growing intervals",
             "wrong": "re-reading the word list many times in one sitting"},
            {"topic": "the effectiveness of highlighting as a study method",
             "ans": "low on its own; testing yourself is far more effective",
             "wrong": "high; highlighting is one of the most effective techniques there is"},
            {"topic": "the recommended lead time for revising for a major exam", "ans": "at least 4 to 6 weeks"},
            {"topic": "the length of the IELTS Academic test", "ans": "about 2 hours and 45 minutes"},
            {"topic": "the maximum score on the SAT", "ans": "1600"},
            {"topic": "the maximum band score on IELTS", "ans": "band 9"},
            {"topic": "the Feynman technique",
             "ans": "explaining a concept in simple words as if teaching someone, then filling the gaps you discover",
             "wrong": "copying your notes out neatly several times until they stick"},
            {"topic": "the effect of multitasking on studying",
             "ans": "negative: switching tasks reduces retention and efficiency",
             "wrong": "positive: it roughly doubles productivity once you get used to it"},
            {"topic": "the evidence for learning styles such as visual or auditory learners",
             "ans": "weak: matching teaching to a preferred style does not improve learning",
             "wrong": "strong: studying in your preferred style improves results by about 30%"},
            {"topic": "the recommended longer break after 4 Pomodoros", "ans": "15 to 30 minutes"},
            {"topic": "the typical reading speed of an adult", "ans": "about 200 to 250 words per minute"},
            {"topic": "the maximum score on the TOEFL iBT", "ans": "120"},
            {"topic": "the best time to review lecture notes", "ans": "within 24 hours of the lecture"},
            {"topic": "the interleaving technique",
             "ans": "mixing different topics or problem types in one session instead of blocking them",
             "wrong": "finishing one topic completely before moving on to the next"},
            {"topic": "the testing effect",
             "ans": "the finding that retrieving information by self-testing strengthens memory more than re-reading",
             "wrong": "the finding that tests cause stress that erases recently learned material"},
        ],
        who=("my son", "a first-year university student", "my study group", "a student with ADHD", "my daughter",
             "a night-school learner", "an exchange student", "my younger sister", "a medical student",
             "a student athlete", "my classmates", "a returning adult learner", "a language learner",
             "my tutoring clients", "a PhD candidate", "my nephew"),
        ctx=("before finals", "for the IELTS", "for my A-levels", "for a bar exam", "during exam season",
             "for a driving theory test", "for the SAT", "for a language course", "for a coding bootcamp",
             "for my dissertation", "for a certification exam", "for the TOEFL", "for a medical licensing exam",
             "for end-of-term tests", "for a scholarship interview", "for my online course"),
        why=("I keep forgetting what I read", "my grades dropped last term", "I procrastinate a lot",
             "my teacher recommended asking", "I want a study plan that works", "I get distracted easily",
             "I'm short on time", "I want evidence-based advice", "my friends swear by different methods",
             "I feel burnt out", "I'm studying while working", "the exam is in a month",
             "I have a lot of material to cover", "I want to help my kid", "I'm starting a new course",
             "I read something contradictory online"),
        questions=(
            "What is {topic}?",
            "I'm studying {ctx}. What's {topic}?",
            "Study tip question: {topic}? {Why}.",
            "{Why}. Can you tell me {topic}?",
            "For {who}, what should I know about {topic}?",
            "Could you explain {topic}? I'm preparing {ctx}.",
            "What does the research say about {topic}?",
            "Help me understand {topic}; {why}.",
            "Quick question {ctx}: {topic}?",
            "I'm advising {who}. What's {topic}?",
        ),
        reference="{Topic} is {ans}.",
        correct=(
            "{Topic} is {ans}.",
            "According to learning research, {topic} is {ans}.",
            "Short version: {ans}.",
            "{Topic} is {ans}. That works well {ctx}.",
            "For {who}: {topic} is {ans}.",
            "The evidence says {ans}.",
        ),
        wrong=(
            "{Topic} is {wrong}.",
            "According to learning research, {topic} is {wrong}.",
            "Short version: {wrong}.",
            "{Topic} is {wrong}. That works well {ctx}.",
            "For {who}: {topic} is {wrong}.",
            "The evidence clearly says {wrong}.",
        ),
    ),
)

THEMES: tuple[str, ...] = tuple(t.name for t in _THEMES)
DOMAINS: tuple[str, ...] = tuple(t.domain for t in _THEMES)


# --------------------------------------------------------------------------------------------
# Wrong answers
# --------------------------------------------------------------------------------------------

_NUM_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w])")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_FACTORS = (1.5, 2.0, 0.5, 3.0, 0.75, 1.25)
_SMALL_SHIFTS = (1, 2, -1, 3, -2, 4)
_YEAR_SHIFTS = (3, -2, 10, -5, 1, -12)
_DAY_SHIFTS = (7, -5, 3, 10, -2, 14)


def _perturb_numbers(ans: str, k: int) -> str:
    """``ans`` with every number changed in the k-th plausible way (a wrong number)."""
    def repl(m: re.Match) -> str:
        tok = m.group(1)
        comma = "," in tok
        decimals = len(tok.split(".")[1]) if "." in tok else 0
        v = float(tok.replace(",", ""))
        after = ans[m.end():m.end() + 12].lstrip()
        if decimals == 0 and not comma and 1000 <= v <= 2100:
            new = v + _YEAR_SHIFTS[k]
        elif decimals == 0 and after.startswith(_MONTHS):
            new = (v - 1 + _DAY_SHIFTS[k]) % 28 + 1
        elif decimals == 0 and v <= 12:
            new = v + _SMALL_SHIFTS[k]
            new = new if new > 1 or v <= 1 else v + 5
        else:
            new = v * _FACTORS[k]
        if decimals:
            return f"{new:.{decimals}f}"
        new = int(round(new))
        return f"{new:,}" if comma or new >= 10_000 else str(new)

    return _NUM_RE.sub(repl, ans)


def _wrong_answers(theme: _Theme) -> list[list[str]]:
    """For each entity, a few plausible wrong answers (explicit, a wrong number, or another's answer)."""
    answers = [e["ans"] for e in theme.entities]
    worded = sorted({a for a in answers if not _NUM_RE.search(a)})
    out = []
    for e in theme.entities:
        ans = e["ans"]
        cands: list[str] = []
        if "wrong" in e:
            cands.append(e["wrong"])
        if _NUM_RE.search(ans):
            for k in range(len(_FACTORS)):
                w = _perturb_numbers(ans, k)
                if w != ans and w not in cands:
                    cands.append(w)
        if not cands:
            cands = [a for a in worded if a != ans]
        out.append(cands)
    return out


_WRONG = tuple(_wrong_answers(t) for t in _THEMES)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _with_caps(d: dict) -> dict:
    out = dict(d)
    for k, v in d.items():
        if isinstance(v, str):
            out[_cap(k)] = _cap(v)
    return out


_ENTITY_FIELDS = tuple(tuple(_with_caps(e) for e in t.entities) for t in _THEMES)
_SLOT_FIELDS = tuple({slot: tuple({slot: v, _cap(slot): _cap(v)} for v in getattr(t, slot))
                      for slot in ("who", "ctx", "why")} for t in _THEMES)


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoData:
    """The demo runs (``runs``: run name -> DataFrame) and what was planted in them (``truth``)."""

    runs: dict[str, pd.DataFrame]
    truth: dict


def _pick(u: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Index into lists of per-row length ``sizes`` from uniforms ``u``."""
    return np.minimum((u * sizes).astype(np.int64), sizes - 1)


def _paired_uniforms(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform draws for the two runs, shared with probability ``_RUN_CORRELATION``."""
    shared = rng.random(n)
    keep = rng.random(n) < _RUN_CORRELATION
    return (np.where(keep, shared, rng.random(n)), np.where(keep, shared, rng.random(n)))


_DRAWS = ("u_item", "b_item", "refusal", "halluc", "conj", "verbose", "bias")


def _prompts(rng: np.random.Generator, n: int) -> dict:
    """Who asks what: item structure (paraphrase groups), metadata and context of every prompt."""
    target = int(round(_PARAPHRASE_SHARE * n))
    cand = rng.choice(np.array([2, 3]), size=target // 2 + 1, p=[0.55, 0.45])
    n_groups = int(np.searchsorted(np.cumsum(cand), target, side="right"))
    sizes = np.concatenate([cand[:n_groups], np.ones(n - int(cand[:n_groups].sum()), dtype=np.int64)])
    n_items = len(sizes)

    weights = np.array([t.weight for t in _THEMES])
    theme = rng.choice(len(_THEMES), size=n_items, p=weights / weights.sum())
    n_ent = np.array([len(t.entities) for t in _THEMES])[theme]
    n_who = np.array([len(t.who) for t in _THEMES])[theme]
    n_ctx = np.array([len(t.ctx) for t in _THEMES])[theme]
    n_why = np.array([len(t.why) for t in _THEMES])[theme]
    n_q = np.array([len(t.questions) for t in _THEMES])[theme]
    item = {
        "theme": theme, "entity": _pick(rng.random(n_items), n_ent), "who": _pick(rng.random(n_items), n_who),
        "ctx": _pick(rng.random(n_items), n_ctx), "why": _pick(rng.random(n_items), n_why),
        "q0": _pick(rng.random(n_items), n_q), "group": np.where(sizes > 1, np.arange(n_items), -1),
        # paraphrase brittleness: which member of a group trips the model
        "brittle_member": _pick(rng.random(n_items), sizes),
    }
    # The paraphrases of one item are asked by the same kind of user (language, segment, channel),
    # and every random draw that decides correctness is made per item, so paraphrases agree on
    # their correctness unless the item is a brittle one.
    item["language"] = rng.choice(len(LANGUAGES), size=n_items, p=_LANGUAGE_P)
    item["segment"] = rng.choice(len(SEGMENTS), size=n_items, p=_SEGMENT_P)
    item["channel"] = rng.choice(len(CHANNELS), size=n_items, p=_CHANNEL_P)
    # u_item: latent difficulty; b_item: is the group a brittle one; the rest: planted mechanisms
    paired = {k: _paired_uniforms(rng, n_items) for k in _DRAWS}
    item_of = np.repeat(np.arange(n_items), sizes)
    member = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)

    p = {k: v[item_of] for k, v in item.items()}
    for k, (d0, d1) in paired.items():
        p[k] = (d0[item_of], d1[item_of])
    p["member"] = member
    p["group_size"] = sizes[item_of]
    p["template"] = (p["q0"] + member) % np.array([len(t.questions) for t in _THEMES])[p["theme"]]
    p["turn"] = rng.choice(np.arange(1, 9), size=n, p=_TURN_P)
    p["greet"] = rng.random(n) < np.where(p["language"] == 0, 0.12, 0.35)
    p["greet_k"] = rng.integers(0, 3, size=n)
    p["turn_prefix"] = (p["turn"] > 1) & (rng.random(n) < 0.6)
    p["turn_prefix_k"] = rng.integers(0, len(_TURN_PREFIXES), size=n)
    p["sign_off"] = rng.integers(0, 2 * len(_SIGN_OFFS), size=n)  # below len(_SIGN_OFFS): signs off
    p["long"] = rng.random(n) < _LONG_PROMPT_P
    p["long_len"] = rng.integers(4, 15, size=n)
    p["long_k"] = np.argsort(rng.random((n, len(_BACKGROUND))), axis=1)[:, :14]  # distinct sentences

    order = rng.permutation(n)
    for k, v in list(p.items()):
        p[k] = tuple(a[order] for a in v) if isinstance(v, tuple) else v[order]
    return p


def _fields(p: dict) -> list[dict]:
    """The template fields of every prompt: its entity's fields and its slot fillers."""
    out = []
    for ti, ei, wi, ci, yi in zip(*(p[k].tolist() for k in ("theme", "entity", "who", "ctx", "why"))):
        f = dict(_ENTITY_FIELDS[ti][ei])
        f.update(_SLOT_FIELDS[ti]["who"][wi])
        f.update(_SLOT_FIELDS[ti]["ctx"][ci])
        f.update(_SLOT_FIELDS[ti]["why"][yi])
        out.append(f)
    return out


def _render_inputs(p: dict, fields: list[dict]) -> tuple[list[str], list[str]]:
    inputs, refs = [], []
    cols = {k: p[k].tolist() for k in ("theme", "language", "greet", "greet_k", "turn_prefix", "turn_prefix_k",
                                       "long", "long_len", "template", "sign_off")}
    long_k = p["long_k"]
    for i, f in enumerate(fields):
        t = _THEMES[cols["theme"][i]]
        parts = []
        if cols["greet"][i]:
            parts.append(_GREETINGS[LANGUAGES[cols["language"][i]]][cols["greet_k"][i]])
        if cols["turn_prefix"][i]:
            parts.append(_TURN_PREFIXES[cols["turn_prefix_k"][i]])
        if cols["long"][i]:
            ks = long_k[i][: cols["long_len"][i]].tolist()
            if t.domain == "coding":
                parts.append("Here is the relevant code:\n" + "\n".join(_CODE_LINES[k % len(_CODE_LINES)] for k in ks)
                             + "\n")
            elif t.domain == "legal":
                parts.append("My tenancy agreement says: \"" + " ".join(
                    _LEASE_LINES[k % len(_LEASE_LINES)] for k in ks[: max(3, len(ks) // 2)]) + "\""
                    + " " + " ".join(_BACKGROUND[k % len(_BACKGROUND)] for k in ks[len(ks) // 2:]))
            else:
                parts.append(" ".join(_BACKGROUND[k % len(_BACKGROUND)] for k in ks))
        parts.append(t.questions[cols["template"][i]].format(**f))
        if cols["sign_off"][i] < len(_SIGN_OFFS):
            parts.append(_SIGN_OFFS[cols["sign_off"][i]])
        inputs.append(" ".join(parts))
        refs.append(t.reference.format(**f))
    return inputs, refs


def _simulate_run(rng: np.random.Generator, p: dict, r: int, cat: dict) -> tuple[np.ndarray, dict]:
    """Decide, for one run, why each answer is right or wrong (a mode per example)."""
    prm = _RUN_PARAMS[RUN_NAMES[r]]
    n = len(p["theme"])
    grouped = p["group"] >= 0
    u = {k: p[k][r] for k in _DRAWS}

    base = u["u_item"] < prm["p_base"]
    refusal = u["refusal"] < np.where(cat["medical"], prm["refuse_medical"], prm["refuse_other"])
    halluc = cat["sw"] & (u["halluc"] < prm["halluc_sw"])
    conj = cat["es"] & cat["legal"] & (u["conj"] < prm["conj"])
    verbose = u["verbose"] < np.where(cat["web"], prm["verb_web"], prm["verb_other"])
    bias = cat["student"] & (u["bias"] < prm["bias_student"])
    brittle_group = grouped & (u["b_item"] < prm["brittle"])
    brittle_wrong = brittle_group & (p["member"] == p["brittle_member"])
    brittle_fixed = brittle_group & ~brittle_wrong

    mode = np.full(n, _OK, dtype=np.int64)
    mode[base] = _BASE
    mode[bias] = _BIAS
    mode[brittle_fixed & ((mode == _BASE) | (mode == _BIAS))] = _OK  # the other phrasings are answered right
    mode[brittle_wrong] = _BRITTLE
    mode[verbose] = _VERBOSE
    mode[conj] = _CONJ
    mode[halluc] = _HALLUC
    mode[refusal] = _REFUSAL

    item = np.where(grouped, p["group"], -1 - np.arange(n))
    removed = _compensate_conjunction(rng, mode, cat["legal"], cat["es"], item)
    brittle_groups = np.unique(p["group"][brittle_group & (mode == _BRITTLE)])
    return mode, {"removed": removed, "brittle_groups": brittle_groups}


def _compensate_conjunction(rng, mode, a, b, item) -> int:
    """Remove errors in ``a & ~b`` and ``b & ~a`` so each attribute alone is at the overall rate.

    Only plain errors are removed (base errors first, then bias, then verbosity), whole items at a
    time (the paraphrases of an item share its attributes and stay consistent), so the other
    planted slices keep their examples. ``item`` is each example's item key. Returns how many
    errors were removed.
    """
    n = len(mode)
    err = mode != _OK
    n_a, n_b = int(a.sum()), int(b.sum())
    if min(n_a, n - n_a, n_b, n - n_b) == 0:
        return 0
    lhs = np.array([[1 / n_a, -1 / (n - n_a)], [-1 / (n - n_b), 1 / n_b]])
    rhs = np.array([err[a].mean() - err[~a].mean(), err[b].mean() - err[~b].mean()])
    x, y = np.linalg.solve(lhs, rhs)
    priority = np.select([mode == _BASE, mode == _BIAS, mode == _VERBOSE], [0, 1, 2], 9)
    total = 0
    for cell, k in ((a & ~b, x), (b & ~a, y)):
        k = int(round(k))
        rows = np.flatnonzero(cell)
        if k <= 0 or len(rows) == 0:
            continue
        keys, inv = np.unique(item[rows], return_inverse=True)
        item_priority = np.zeros(len(keys), dtype=np.int64)
        np.maximum.at(item_priority, inv, priority[rows])
        size = np.bincount(inv, minlength=len(keys))
        jitter = rng.random(len(keys))
        usable = np.flatnonzero(item_priority < 9)
        usable = usable[np.lexsort((jitter[usable], item_priority[usable]))]
        take = usable[np.cumsum(size[usable]) <= k]
        chosen = rows[np.isin(inv, take)]
        mode[chosen] = _OK
        total += len(chosen)
    return total


def _render_outputs(rng: np.random.Generator, p: dict, fields: list[dict], mode: np.ndarray, r: int) -> list[str]:
    prm = _RUN_PARAMS[RUN_NAMES[r]]
    n = len(mode)
    tpl = rng.integers(0, 6, size=n)
    wrong_k = rng.integers(0, 1_000, size=n)
    n_closers = rng.choice(3, size=n, p=prm["closers"])
    extra = rng.integers(0, 10_000, size=(n, 4))
    cite = rng.random(n) < 0.15
    lo, hi = prm["fillers"]
    n_fill = rng.integers(lo, hi + 1, size=n)
    fill_k = rng.integers(0, len(_FILLERS), size=(n, hi * 2))
    theme, entity, tpl, wrong_k, n_closers, extra, cite, n_fill = (
        a.tolist() for a in (p["theme"], p["entity"], tpl, wrong_k, n_closers, extra, cite, n_fill))
    outs = []
    for i, m in enumerate(mode.tolist()):
        ti = theme[i]
        t = _THEMES[ti]
        x = extra[i]
        if m == _REFUSAL:
            text = REFUSALS[x[0] % len(REFUSALS)]
            if x[1] % 3 == 0:
                text += " " + REFUSALS[x[2] % len(REFUSALS)].split(". ")[-1]
            outs.append(text)
            continue
        f = fields[i]
        if m == _OK:
            text = t.correct[tpl[i] % len(t.correct)].format(**f)
            if n_closers[i]:
                text = " ".join([text, *(_CLOSERS[x[j] % len(_CLOSERS)] for j in range(n_closers[i]))])
            outs.append(text)
            continue
        wrongs = _WRONG[ti][entity[i]]
        wrong = wrongs[wrong_k[i] % len(wrongs)]
        claim = t.wrong[tpl[i] % len(t.wrong)].format_map({**f, "wrong": wrong, "Wrong": _cap(wrong)})
        if m == _HALLUC:
            text = (f"According to {_CITATIONS[x[0] % len(_CITATIONS)]}: {claim} "
                    f"{_ASSERTIONS[x[1] % len(_ASSERTIONS)]}")
        elif m == _CONJ:
            text = f"Under {_JURISDICTIONS[x[0] % len(_JURISDICTIONS)]} tenancy law: {claim}"
        elif m == _VERBOSE:
            fk = fill_k[i].tolist()
            k1 = n_fill[i] // 2
            text = " ".join([_VERBOSE_OPENERS[x[0] % len(_VERBOSE_OPENERS)], claim,
                             *(_FILLERS[k] for k in fk[:k1]),
                             _VERBOSE_RESTATE[x[1] % len(_VERBOSE_RESTATE)], claim,
                             *(_FILLERS[k] for k in fk[k1:n_fill[i] + 3]),
                             _CLOSERS[x[2] % len(_CLOSERS)]])
        else:
            text = claim
            if cite[i]:
                text += f" (Source: {_CITATIONS[x[0] % len(_CITATIONS)]}.)"
        outs.append(text)
    return outs


def _signals(rng: np.random.Generator, p: dict, mode: np.ndarray, r: int, cat: dict,
             outputs: list[str], prompt_words: np.ndarray) -> dict:
    prm = _RUN_PARAMS[RUN_NAMES[r]]
    n = len(mode)
    correct = mode == _OK
    refusal = mode == _REFUSAL
    verbose = mode == _VERBOSE
    halluc = mode == _HALLUC
    length = np.fromiter((len(o.split()) for o in outputs), dtype=np.int64, count=n)

    score = np.where(correct, 1.0, 0.0)
    partial = rng.random(n)
    score = np.where(correct & (partial < 0.06), 0.75, score)
    score = np.where(correct & (partial >= 0.06) & (partial < 0.10), 0.5, score)
    score = np.where(~correct & ~refusal & (partial < 0.12), 0.25, score)

    rm_help = (rng.normal(0.0, 0.8, n) + 0.6 * correct - 0.45 + 0.006 * (length - 30)
               + 1.4 * verbose - 1.6 * refusal)
    rm_harm = rng.normal(0.1, 0.9, n) + 2.3 * refusal - 0.2 * halluc
    kl = rng.gamma(2.0, prm["kl_scale"], n) + verbose * rng.gamma(3.0, 0.8, n) + refusal * rng.gamma(2.0, 0.6, n)

    conf = np.where(correct, rng.beta(8.0, 2.5, n), rng.beta(5.0, 3.5, n))
    conf = np.where(verbose, rng.beta(9.0, 2.0, n), conf)
    conf = np.where(refusal, rng.beta(6.0, 3.0, n), conf)
    conf = np.where(halluc, rng.beta(30.0, 1.6, n), conf)
    conf = np.clip(conf, 0.001, 0.999)

    agree_p = np.where(cat["legal"], 0.80, 0.955)
    rater_a = np.where(rng.random(n) < agree_p, correct, ~correct)
    rater_b = np.where(rng.random(n) < agree_p, correct, ~correct)

    latency = (250.0 + 22.0 * length + 2.0 * prompt_words + 350.0 * cat["voice"]) * rng.lognormal(0.0, 0.2, n)
    cost = (1.33 * prompt_words * 0.20 + 1.33 * length * 0.60) * 1e-6 * (1.0 + 0.1 * r)
    return {
        "correct": correct, "score": score, "rm_helpfulness": rm_help, "rm_harmlessness": rm_harm,
        "response_length": length, "kl_to_ref": kl, "rater_a": rater_a, "rater_b": rater_b,
        "confidence": conf, "latency_ms": latency, "cost_usd": cost,
    }


def generate_demo(*, n_prompts: int = 20_000, seed: int = 7) -> DemoData:
    """Generate the two demo runs and the truth of what was planted in them.

    Deterministic: the same ``n_prompts`` and ``seed`` give identical data.

    Parameters
    ----------
    n_prompts : int, default 20000
        Prompts, i.e. rows of each run (>= 1).
    seed : int, default 7
        Seed of the numpy random generator.

    Returns
    -------
    DemoData
        ``runs``: run name (``baseline``, ``after-objective-change``) -> DataFrame of shape
        ``(n_prompts, 21)`` with the columns listed in the module docstring (the same
        ``example_id`` in the same order in both; ``correct`` bool, ``score`` in {0, 0.25,
        0.5, 0.75, 1}, ``confidence`` a probability in [0, 1], ``latency_ms`` in
        milliseconds, ``cost_usd`` in US dollars). ``truth``: what was planted (``seed``,
        ``n_prompts``, ``models``, ``planted`` with each failure's mode, component, predicate,
        example ids and measured error rates as fractions, ``regression``,
        ``rater_disagreement``, ``notes``, ``themes``...).

    Raises
    ------
    ValueError
        ``n_prompts`` below 1 (``"n_prompts must be at least 1"``).

    Examples
    --------
    >>> demo = generate_demo(n_prompts=300, seed=1)
    >>> list(demo.runs)
    ['baseline', 'after-objective-change']
    >>> base, after = demo.runs.values()
    >>> len(base), bool((base["example_id"] == after["example_id"]).all())
    (300, True)
    >>> base["example_id"].iloc[0], sorted(demo.truth["regression"])
    ('ex-00001', ['baseline', 'candidate', 'slices'])
    >>> bool((base["correct"] == (base["score"] >= 0.5)).all())
    True
    """
    if int(n_prompts) < 1:
        raise ValueError("n_prompts must be at least 1")
    n = int(n_prompts)
    rng = np.random.default_rng(seed)
    p = _prompts(rng, n)
    fields = _fields(p)
    inputs, refs = _render_inputs(p, fields)
    prompt_words = np.fromiter((len(s.split()) for s in inputs), dtype=np.int64, count=n)

    width = max(5, len(str(n)))
    ids = [f"ex-{i:0{width}d}" for i in range(1, n + 1)]
    # paraphrase group ids, numbered by first appearance
    group_ids = np.full(n, None, dtype=object)
    grouped = p["group"] >= 0
    if grouped.any():
        _, first = np.unique(p["group"][grouped], return_index=True)
        order = np.argsort(np.argsort(first))
        uniq, inverse = np.unique(p["group"][grouped], return_inverse=True)
        gw = max(5, len(str(len(uniq))))
        group_ids[grouped] = np.array([f"pg-{k + 1:0{gw}d}" for k in order])[inverse]

    lang = np.asarray(LANGUAGES)[p["language"]]
    dom = np.asarray(DOMAINS)[p["theme"]]
    seg = np.asarray(SEGMENTS)[p["segment"]]
    chan = np.asarray(CHANNELS)[p["channel"]]
    cat = {
        "medical": dom == "medical", "legal": dom == "legal", "sw": lang == "sw", "es": lang == "es",
        "web": chan == "web", "voice": chan == "voice", "student": seg == "student",
    }

    shared = {  # identical in both runs (the DataFrame constructor copies them)
        "example_id": pd.array(ids, dtype="str"), "input": pd.array(inputs, dtype="str"),
        "reference": pd.array(refs, dtype="str"), "language": pd.array(lang.tolist(), dtype="str"),
        "domain": pd.array(dom.tolist(), dtype="str"), "user_segment": pd.array(seg.tolist(), dtype="str"),
        "channel": pd.array(chan.tolist(), dtype="str"), "turn": p["turn"].astype(np.int64),
        "paraphrase_group": pd.array(group_ids.tolist(), dtype="str"),
    }
    runs: dict[str, pd.DataFrame] = {}
    modes, extras = [], []
    for r, name in enumerate(RUN_NAMES):
        mode, extra = _simulate_run(rng, p, r, cat)
        outputs = _render_outputs(rng, p, fields, mode, r)
        sig = _signals(rng, p, mode, r, cat, outputs, prompt_words)
        frame = pd.DataFrame({
            "example_id": shared["example_id"],
            "input": shared["input"],
            "output": pd.array(outputs, dtype="str"),
            "reference": shared["reference"],
            "correct": sig["correct"].astype(bool),
            "score": sig["score"].astype(np.float64),
            "language": shared["language"],
            "domain": shared["domain"],
            "user_segment": shared["user_segment"],
            "channel": shared["channel"],
            "turn": shared["turn"],
            "paraphrase_group": shared["paraphrase_group"],
            "rm_helpfulness": np.round(sig["rm_helpfulness"], 4),
            "rm_harmlessness": np.round(sig["rm_harmlessness"], 4),
            "response_length": sig["response_length"].astype(np.int64),
            "kl_to_ref": np.round(sig["kl_to_ref"], 4),
            "rater_a": sig["rater_a"].astype(bool),
            "rater_b": sig["rater_b"].astype(bool),
            "confidence": np.round(sig["confidence"], 4),
            "latency_ms": np.round(sig["latency_ms"], 1),
            "cost_usd": np.round(sig["cost_usd"], 8),
        }, columns=list(COLUMNS))
        runs[name] = frame
        modes.append(mode)
        extras.append(extra)

    truth = _truth(seed, n, p, ids, group_ids, runs, modes, extras)
    return DemoData(runs=runs, truth=truth)


def _rates(frame: pd.DataFrame, predicate: dict) -> dict:
    mask = np.ones(len(frame), dtype=bool)
    for col, val in predicate.items():
        mask &= (frame[col] == val).to_numpy()
    err = ~frame["correct"].to_numpy()
    n_in = int(mask.sum())
    return {"n_slice": n_in,
            "error_rate_slice": round(float(err[mask].mean()), 4) if n_in else None,
            "error_rate_rest": round(float(err[~mask].mean()), 4) if n_in < len(frame) else None,
            "error_rate_overall": round(float(err.mean()), 4)}


def _truth(seed, n, p, ids, group_ids, runs, modes, extras) -> dict:
    ids_arr = np.asarray(ids, dtype=object)

    def injected(code):
        return {name: ids_arr[modes[r] == code].tolist() for r, name in enumerate(RUN_NAMES)}

    both = list(RUN_NAMES)
    planted = [
        {"id": "verbosity_gaming", "failure_mode": "reward_hacking", "component": "rm_helpfulness",
         "runs": both, "predicate": {"channel": "web"},
         "description": "Long, padded, repetitive answers that are wrong but get a high helpfulness reward "
                        "(rm_helpfulness) and a long response_length; concentrated in the web channel and "
                        "much more frequent after the objective change.",
         "example_ids": injected(_VERBOSE)},
        {"id": "medical_over_refusal", "failure_mode": "over_refusal", "component": "rm_harmlessness",
         "runs": ["after-objective-change"], "predicate": {"domain": "medical"},
         "description": "After the objective change, benign medication-dose questions are often refused "
                        "('I'm sorry, but I can't help with that...'), counted incorrect, with a high "
                        "rm_harmlessness. The baseline has only a few refusals (listed too).",
         "example_ids": injected(_REFUSAL)},
        {"id": "swahili_hallucination", "failure_mode": "hallucination", "component": "pretraining_data",
         "runs": both, "predicate": {"language": "sw"},
         "description": "Swahili-speaking users often get fabricated facts with made-up citations, stated "
                        "with very high confidence (low-resource language in pretraining data).",
         "example_ids": injected(_HALLUC)},
        {"id": "paraphrase_brittleness", "failure_mode": "lack_of_robustness", "component": "sft_demonstrations",
         "runs": both, "predicate": {},
         "description": "In some paraphrase groups exactly one phrasing is answered wrongly while the other "
                        "phrasings of the same item are answered correctly. A group-level finding (no "
                        "attribute slice): the groups are listed in paraphrase_groups, the wrong phrasings "
                        "in example_ids. Outside these groups, paraphrases share their correctness.",
         "example_ids": injected(_BRITTLE),
         "paraphrase_groups": {name: sorted({group_ids[i] for i in np.flatnonzero(modes[r] == _BRITTLE)})
                               for r, name in enumerate(RUN_NAMES)}},
        {"id": "student_bias", "failure_mode": "bias", "component": "preference_data",
         "runs": both, "predicate": {"user_segment": "student"},
         "description": "Users in the student segment get clearly worse answers (under-represented in "
                        "preference data).",
         "example_ids": injected(_BIAS)},
        {"id": "es_legal_conjunction", "failure_mode": "conjunction", "component": "pretraining_data",
         "runs": both, "predicate": {"language": "es", "domain": "legal"},
         "description": "Spanish-speaking users' tenancy questions are answered under another jurisdiction's "
                        "law. Only the conjunction is worse: language = es alone and domain = legal alone "
                        "are at the overall error rate (compensating errors were removed elsewhere).",
         "example_ids": injected(_CONJ),
         "marginals": [{"language": "es"}, {"domain": "legal"}]},
    ]
    for entry in planted:
        if entry["predicate"]:
            entry["measured"] = {name: _rates(runs[name], entry["predicate"]) for name in RUN_NAMES}
        else:
            entry["measured"] = {name: {"mixed_group_rate": _mixed_group_rate(runs[name])} for name in RUN_NAMES}
    for entry in planted:
        if "marginals" in entry:
            entry["measured_marginals"] = {
                name: [_rates(runs[name], m) for m in entry["marginals"]] for name in RUN_NAMES}

    disagree = {}
    for name in RUN_NAMES:
        f = runs[name]
        d = (f["rater_a"] != f["rater_b"]).to_numpy()
        legal = (f["domain"] == "legal").to_numpy()
        disagree[name] = {"disagreement_slice": round(float(d[legal].mean()), 4) if legal.any() else None,
                          "disagreement_rest": round(float(d[~legal].mean()), 4) if (~legal).any() else None}
    themes_of = np.asarray(THEMES)[p["theme"]]
    return {
        "seed": int(seed), "n_prompts": int(n), "generator_version": GENERATOR_VERSION,
        "models": dict(DEMO_MODELS),
        "planted": planted,
        "regression": {"baseline": "baseline", "candidate": "after-objective-change",
                       "slices": [{"domain": "medical"}, {"channel": "web"}]},
        "rater_disagreement": {"predicate": {"domain": "legal"}, "raters": ["rater_a", "rater_b"],
                               "description": "The two raters disagree far more often on legal questions.",
                               "measured": disagree},
        "notes": {"paraphrase_group": "shared by the 2-3 paraphrases of one item; null for a prompt "
                                      "without paraphrases",
                  "compensation_removed_errors": {name: int(extras[r]["removed"])
                                                  for r, name in enumerate(RUN_NAMES)}},
        "themes": list(THEMES),
        "theme_domain": {t.name: t.domain for t in _THEMES},
        "example_theme": dict(zip(ids, themes_of.tolist())),
    }


def _mixed_group_rate(frame: pd.DataFrame) -> float | None:
    g = frame.loc[frame["paraphrase_group"].notna(), ["paraphrase_group", "correct"]]
    if g.empty:
        return None
    agg = g.groupby("paraphrase_group")["correct"].agg(["min", "max"])
    return round(float((agg["min"] != agg["max"]).mean()), 4)


def write_truth(truth: dict, path) -> None:
    """Write the truth of a demo as JSON (sorted keys, indent 1), creating parent folders.

    >>> import json, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "demo_truth.json")
    >>> write_truth(generate_demo(n_prompts=300).truth, path)
    >>> with open(path, encoding="utf-8") as fh:
    ...     json.load(fh)["n_prompts"]
    300
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, sort_keys=True, indent=1, ensure_ascii=False), encoding="utf-8")
