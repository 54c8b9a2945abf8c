"""A generator of article-like news briefs, for benchmarks that need thousands of articles.

Deterministic for a seed; every article has a title, a date, a URL and 4-9 sentences
built from varied templates with names, places, organisations and numbers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

PEOPLE = ["Anna Kovacs", "Luis Ortega", "Mei Lin", "Tomasz Nowak", "Amara Okafor", "Jonas Berg",
          "Priya Raman", "Omar Haddad", "Elena Petrova", "Samuel Adeyemi", "Ines Varga",
          "Hiro Tanaka", "Clara Mills", "Dmitri Volkov", "Fatima Zahra", "Marco Rossi"]
PLACES = ["Elmswick", "Harlow", "Dunmore", "Port Averly", "Kestrel Bay", "Norrvik", "San Teodoro",
          "Brackenfield", "Ostrava", "Lakemoor", "Vallen", "Greystone", "Marisol", "Tarn"]
ORGS = ["the city council", "the health ministry", "the port authority", "the transport agency",
        "the national bank", "the teachers' union", "the water utility", "the regional court",
        "the energy regulator", "the university", "the fire service", "the chamber of commerce"]
TOPICS = [("bridge", "repairs"), ("hospital", "wing"), ("rail line", "upgrade"),
          ("school", "reform"), ("harbour", "expansion"), ("budget", "vote"),
          ("flood", "defences"), ("wind farm", "project"), ("library", "renovation"),
          ("bus", "strike"), ("water", "shortage"), ("housing", "plan")]
OPENERS = [
    "{org_cap} announced on {day} that the {topic} {noun} in {place} would go ahead.",
    "Officials in {place} said on {day} that the {topic} {noun} had been delayed.",
    "{person}, a spokesperson for {org}, confirmed the {topic} {noun} on {day}.",
    "Residents of {place} gathered on {day} to protest against the {topic} {noun}.",
]
BODY = [
    "The project is expected to cost {money} million euros over {n} years.",
    "About {big} people live in the affected districts, according to {org}.",
    "{person} said the decision was \"long overdue\" and promised regular updates.",
    "Critics argued that {org} had not consulted local businesses.",
    "Work is scheduled to begin in {month} and finish by {year}.",
    "A survey found that {pct} percent of residents supported the plan.",
    "The previous {topic} {noun} in {place} was abandoned in {old_year}.",
    "{org_cap} will hold a public hearing on {day} at the town hall.",
    "Around {n2} workers will be hired during the construction phase.",
    "{person} added that the funding came partly from a regional grant.",
    "Local newspapers reported that {n3} complaints had been filed since {month}.",
    "The mayor of {place} described the {topic} {noun} as a turning point for the area.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def articles(n: int, seed: int = 7) -> Iterator[dict]:
    """Yield ``n`` article objects in the project's JSON ingest format."""
    rng = random.Random(seed)
    for i in range(n):
        topic, noun = rng.choice(TOPICS)
        org = rng.choice(ORGS)
        fields = {
            "org": org, "org_cap": org[0].upper() + org[1:], "topic": topic, "noun": noun,
            "place": rng.choice(PLACES), "person": rng.choice(PEOPLE), "day": rng.choice(DAYS),
            "money": rng.randint(2, 900), "n": rng.randint(2, 12), "big": rng.randint(900, 90000),
            "month": rng.choice(MONTHS), "year": rng.randint(2025, 2032),
            "pct": rng.randint(20, 85), "old_year": rng.randint(1990, 2020),
            "n2": rng.randint(20, 2000), "n3": rng.randint(3, 400),
        }
        sentences = [rng.choice(OPENERS).format(**fields)]
        sentences += [s.format(**fields) for s in rng.sample(BODY, rng.randint(3, 8))]
        paragraphs = [" ".join(sentences[j : j + 3]) for j in range(0, len(sentences), 3)]
        yield {
            "id": f"brief-{i:05d}",
            "title": f"{fields['place']} {topic} {noun}: {fields['org']} acts ({i})",
            "published": f"20{rng.randint(20, 26)}-{rng.randint(1, 12):02d}-"
                         f"{rng.randint(1, 28):02d}",
            "url": f"https://news.example/briefs/{i}",
            "text": "\n\n".join(paragraphs),
        }
