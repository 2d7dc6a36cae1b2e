"""Comparing models with the benchmark

`reczoo.run_suite` trains a list of entries into a folder and writes every
row (`results.jsonl`, `results.csv`), a Markdown report with the papers' and
the peers' numbers beside reczoo's, and plots. A folder run again skips what
finished, so a suite can be stopped and resumed.

Here the quick suite's MovieLens-100K entries (popularity, NeuMF under NCF's
protocol: leave the last item out, rank it among 99 sampled negatives) run
with a budget of four minutes of training, which the suite shares between the
entries by their measured speed.
"""

from pathlib import Path

import reczoo

rows = reczoo.run_suite(
    "quick", models="pop,neumf", datasets=["movielens-100k"], output="ml100k_bench",
    max_minutes=4, quiet=True,
)  # fmt: skip
for row in rows:
    m = row["metrics"]
    print(
        f"{row['model']:>6} {row['protocol']}: HR@10 {m['hr@10']:.4f}, NDCG@10 {m['ndcg@10']:.4f}"
    )
print(sorted(p.name for p in Path("ml100k_bench").iterdir()))
