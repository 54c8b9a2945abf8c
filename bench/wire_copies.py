"""How wire-copy folding behaves on a real news archive: how many pages fold into how
many stories at each threshold, how long detection takes, and the precision of the
grouping on a labelled sample of pairs.

    python -m bench.wire_copies ARCHIVE.jsonl.gz [--labels LABELS.json] [--sample 40]

Without ``--labels`` it writes the sample of pairs to label (``pairs.json``, one entry a
pair: ``"same": null``); label each ``true`` (the same story: a syndicated or republished
copy) or ``false``, and pass the file back to get the precision.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from index.copies import copy_groups
from index.readers import SourceFile, read_file

RESULTS = Path(__file__).parent / "results"
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def pairs_of(groups: dict[int, int]) -> list[tuple[int, int]]:
    """Each grouped article with its group's lead (one pair a folded page)."""
    return sorted((lead, i) for i, lead in groups.items() if i != lead)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--labels", type=Path, help="labelled pairs (from a first run)")
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threshold", type=float, default=0.7, help="the one labelled")
    parser.add_argument("--thresholds", type=float, nargs="*", default=list(THRESHOLDS))
    args = parser.parse_args()
    articles = read_file(SourceFile(args.archive, args.archive.name))
    texts = [a.text for a in articles]
    rows = []
    chosen: dict[int, int] = {}
    for threshold in args.thresholds:
        began = time.perf_counter()
        groups = copy_groups(texts, threshold)
        seconds = time.perf_counter() - began
        stories = len(set(groups.values()))
        rows.append({"threshold": threshold, "pages": len(texts),
                     "pages_in_groups": len(groups), "stories": stories,
                     "pages_folded": len(groups) - stories,
                     "folded_share": round((len(groups) - stories) / len(texts), 4),
                     "seconds": round(seconds, 1)})
        print(rows[-1], flush=True)
        if threshold == args.threshold:
            chosen = groups
    pairs = pairs_of(chosen)
    sample = sorted(random.Random(args.seed).sample(pairs, min(args.sample, len(pairs))))
    result: dict = {"archive": args.archive.name, "thresholds": rows,
                    "labelled_threshold": args.threshold}
    if args.labels:
        labels = {(p["a"], p["b"]): p["same"] for p in json.loads(args.labels.read_text())}
        judged = [labels[(articles[a].id, articles[b].id)] for a, b in sample
                  if (articles[a].id, articles[b].id) in labels]
        judged = [j for j in judged if j is not None]
        result["labelled_pairs"] = len(judged)
        result["precision"] = round(sum(judged) / len(judged), 4) if judged else None
    else:
        out = [{"a": articles[a].id, "b": articles[b].id, "same": None,
                "a_title": articles[a].title, "b_title": articles[b].title,
                "a_url": articles[a].url, "b_url": articles[b].url,
                "a_start": articles[a].text[:300], "b_start": articles[b].text[:300]}
               for a, b in sample]
        Path("pairs.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
        print(f"wrote pairs.json: label {len(out)} pairs, then pass --labels")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "wire_copies.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| threshold | pages folded | share | stories | seconds |", "|---|---|---|---|---|"]
    lines += [f"| {r['threshold']} | {r['pages_folded']} | {r['folded_share']:.1%} | "
              f"{r['stories']} | {r['seconds']} |" for r in rows]
    if "precision" in result:
        lines.append(f"\nPrecision at {args.threshold}: {result['precision']} on "
                     f"{result['labelled_pairs']} labelled pairs.")
    (RESULTS / "wire_copies.md").write_text(
        f"# Wire-copy folding on {args.archive.name}\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
