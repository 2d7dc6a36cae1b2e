"""Next-item recommendation from histories

A next-item model reads a user's items in time order and scores every item as
the next one. Here SASRec (causal self-attention over the history) trains on
MovieLens-100K's ratings as histories, under the `loo_full` protocol: each
user's last item is held out for test, the one before for validation, and
each is ranked against the whole catalogue (no sampled negatives), so HR@10 is
the share of users whose next movie is in the model's top ten. A popularity
baseline, trained on the same split, says how much the order of a history
adds.

The data is downloaded from GroupLens and checked against its pinned sha256,
unless `RECZOO_DATA_DIR` points at a folder that holds it. Training is capped
at three minutes (`max_minutes`); the best validation weights are kept.
"""

import reczoo

data = reczoo.datasets.load("movielens-100k")
print(f"{data.num_users} users, {data.num_items} movies, {data.num_interactions:,} ratings")

baseline = reczoo.run("pop", data, protocol="loo_full", verbose=0)
result = reczoo.run("sasrec", data, protocol="loo_full", max_minutes=3, verbose=0,
                    output="ml100k_sasrec", overwrite=True)  # fmt: skip
for name, row in (("popularity", baseline), ("sasrec", result)):
    m = row["metrics"]
    print(f"{name:>10}: HR@10 {m['hr@10']:.4f}, NDCG@10 {m['ndcg@10']:.4f}")

# What comes after three Star Wars films? Raw MovieLens ids in and out.
model = reczoo.from_preset("ml100k_sasrec")
history = ["50", "172", "181"]  # Star Wars, The Empire Strikes Back, Return of the Jedi
items, scores = model.recommend(histories=[history], k=5, raw_ids=True)
for item, score in zip(items[0], scores[0], strict=True):
    print(f"  {score:6.2f}  {data.titles[int(item)]}")  # titles by raw MovieLens id
