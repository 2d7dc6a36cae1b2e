"""Fine-tuning a built-in preset on new data

A preset is a trained model with its vocabularies and checksums. Fine-tuning
keeps its architecture and weights and continues training on new data: the
new data's raw ids are aligned to the preset's vocabularies, so an item the
preset knows keeps its learned row, and new users and items get new rows.

The built-in `bpr_mf_movielens_100k` preset is matrix factorisation trained on
MovieLens-100K. The new data here is the usual cold-start case: users the
preset has never seen (the ratings of 150 MovieLens users, under new ids),
rating movies it knows. Fine-tuning learns their rows against the pretrained
item table; the same model trained from scratch on the same file has only
these 150 users to learn the items from. `freeze="embeddings"` would keep every
pretrained row fixed and train only the new ones.
"""

import csv

import reczoo

ml = reczoo.datasets.load("movielens-100k")
users, items = ml.vocabularies["user"].values, ml.vocabularies["item"].values
with open("new_users.csv", "w", newline="") as f:
    rows = csv.writer(f)
    rows.writerow(["user", "item", "timestamp"])
    for u, i, t in zip(ml.users, ml.items, ml.timestamps, strict=True):
        if u <= 150:  # new ids: the preset has never seen these users
            rows.writerow([f"new-{users[u]}", items[i], t])
data = reczoo.datasets.load_interactions(
    "new_users.csv", user="user", item="item", time="timestamp"
)
print(f"{data.num_users} new users, {data.num_items} movies, {data.num_interactions:,} ratings")

tuned = reczoo.finetune("bpr_mf_movielens_100k", data, epochs=10, verbose=0,
                        output="my_bpr_mf", overwrite=True)  # fmt: skip
print("vocabulary growth:", tuned["vocabulary_growth"])
scratch = reczoo.run("bpr_mf", data, protocol=tuned["protocol"], epochs=10, verbose=0)
for name, row in (("fine-tuned", tuned), ("from scratch", scratch)):
    print(f"{name:>12}: HR@10 {row['metrics']['hr@10']:.4f} ({row['protocol']})")

model = reczoo.from_preset("my_bpr_mf")  # its metadata names its parent
print("parent:", model.preset_metadata["parent"]["preset"])
