"""A ranking model on a click log

A click log is one row per impression: a 0/1 label (clicked or not) and the
columns that describe it. Here they are categorical ids (`C1`-`C6`), counts
(`I1`-`I3`, some empty) and a bag of tags (`a|b`). `load_table` reads the file
under a schema that names each column's role: ids get a vocabulary (rare
values share id 0), counts a `log1p` transform fitted on the training rows
only, bags a pooled embedding. Any registered ranker then trains on the
dataset's feature spec; DeepFM sums a factorization machine and a DNN on the
same embeddings.

`reczoo.run` splits the rows (80/10/10 at random), trains with early stopping
on validation AUC and scores the test rows. The model saved with `output`
carries the schema, so `reczoo.predict` scores new rows from their raw values,
and `reczoo export` serves them without reczoo.
"""

import reczoo

reczoo.datasets.write_examples()  # shop_clicks.csv: 4,000 rows of a synthetic shop

data = reczoo.datasets.load_table(
    "shop_clicks.csv",
    label="clicked",
    categorical=["C1", "C2", "C3", "C4", "C5", "C6"],
    numerical=["I1", "I2", "I3"],
    numerical_transform="log1p",
    multi={"tags": "|"},
    drop=["id"],
)
print(f"{len(data.labels):,} rows, {data.labels.mean():.1%} clicked")
print("features:", ", ".join(data.feature_spec().names))

for model in ("fm", "deepfm"):
    result = reczoo.run(model, data, protocol="random_split", epochs=5, verbose=0,
                        output=f"shop_{model}", overwrite=True)  # fmt: skip
    metrics = result["metrics"]
    print(f"{model:>7}: test AUC {metrics['auc']:.4f}, logloss {metrics['logloss']:.4f}")

# New rows, raw values in: the preset applies its own vocabularies and transforms.
predictions = reczoo.predict("shop_deepfm", "shop_clicks.csv")
print("first five click probabilities:", predictions.scores[:5].round(3))
