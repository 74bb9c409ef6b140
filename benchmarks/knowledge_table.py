"""Figures for docs/knowledge.md: table size and load time, how the acronym rule does on the ontology's
own acronyms, match_text speed, and (optionally) how a list of trait names resolves. Usage:

    .venv/bin/python benchmarks/knowledge_table.py
    .venv/bin/python benchmarks/knowledge_table.py --traits all_traits.csv   # one name a line, or a CSV
                                                                            # with a "Trait" column
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import time
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--traits", type=Path, help="Trait names to resolve (text or CSV with a Trait column)."
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    from omicsagent.expression import knowledge as kn
    from omicsagent.expression.knowledge.text import acronym_fits

    tm = time.perf_counter()
    table = kn.load_table()
    t1 = time.perf_counter()
    size = kn.table_path().stat().st_size
    n_abbr = Counter(src for t in table.terms.values() for _, src in t.abbreviations)
    print(
        f"table: {len(table.terms)} terms, abbreviations {dict(n_abbr)}, {size / 1024:.0f} KiB, "
        f"import {tm - t0:.2f} s, load + index {t1 - tm:.2f} s"
    )

    # The acronym rule against the ontology's own acronyms (letters only; numbered subtypes such as
    # "CMT2B2" cannot fit a name and count as misses).
    pairs = [(t, a) for t in table.terms.values() for a, src in t.abbreviations if src == "acronym"]
    fits = sum(any(acronym_fits(a, n) for n in (t.name, *t.exact)) for t, a in pairs)
    plain = [(t, a) for t, a in pairs if re.fullmatch(r"[A-Z]{2,8}", a)]
    fits_plain = sum(any(acronym_fits(a, n) for n in (t.name, *t.exact)) for t, a in plain)
    rng = random.Random(0)
    by_initial: dict[str, list] = {}
    for t in table.terms.values():
        by_initial.setdefault(t.name[:1].lower(), []).append(t)
    trials, false = 20000, 0
    for _ in range(trials):
        t, a = rng.choice(pairs)
        other = rng.choice(by_initial.get(a[:1].lower(), list(table.terms.values())))
        if other.id != t.id and acronym_fits(a, other.name):
            false += 1
    print(
        f"acronym rule: fits {fits}/{len(pairs)} ontology acronyms ({fits / len(pairs):.1%}); "
        f"letters-only acronyms {fits_plain}/{len(plain)} ({fits_plain / len(plain):.1%}); "
        f"fits another term's name with the same initial in {false}/{trials} draws ({false / trials:.2%})"
    )

    texts = [f"{w}, donor {i}" for i in range(500) for w in ("CRC tumour", "healthy control", "colon mucosa")]
    kn.match_text("Colorectal_Cancer", "warm up")
    t2 = time.perf_counter()
    for text in texts:
        kn.match_text("Colorectal_Cancer", text)
    t3 = time.perf_counter()
    print(f"match_text: {len(texts) / (t3 - t2):.0f} texts/s (Colorectal_Cancer, short sample titles)")

    if args.traits:
        text = args.traits.read_text()
        if "Trait" in text.splitlines()[0]:
            names = [row["Trait"] for row in csv.DictReader(text.splitlines()) if row.get("Trait")]
        else:
            names = [ln.strip() for ln in text.splitlines() if ln.strip()]
        names = list(
            dict.fromkeys(re.sub(r"\s+", "_", n.replace("'", "").replace("\u2019", "")) for n in names)
        )
        hows = Counter()
        for name in names:
            terms = kn.trait_terms(name)
            hows[terms.how] += 1
            print(f"  {name:45s} -> {terms.canonical} [{', '.join(terms.doids) or '-'}] ({terms.how})")
        resolved = sum(v for k, v in hows.items() if k not in ("not in the table", "contains a name"))
        print(f"traits: {resolved}/{len(names)} resolved to a term whose names are matched; {dict(hows)}")


if __name__ == "__main__":
    main()
