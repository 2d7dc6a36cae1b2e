"""Benchmark suites: the runs behind the committed result tables.

Each entry names a recipe (`reczoo recipes`): the model, dataset, protocol,
settings and training procedure live there, in the model's folder, and
`reczoo train` uses the same recipe. A suite here only says which recipes
make up a table.
"""

import reczoo

# BARS' Frappe models, on its own rows (frappe-x1) and on a random split of
# the rebuilt log (frappe).
_FRAPPE = ("fm", "mlp", "deepfm", "ipnn", "opnn", "autoint", "autoint_plus", "dcnv2", "xdeepfm")

SUITES = {
    "frappe": [f"{m}/frappe" for m in _FRAPPE],
    "frappe-x1": [f"{m}/frappe-x1" for m in _FRAPPE],
    # Next-item models on Amazon Games under the SASRec paper's protocol.
    "games": [
        "sasrec/amazon-games",
        "sasrec-ce/amazon-games",
        "gru4rec/amazon-games",
        "caser/amazon-games",
    ],
    # DIN against the same DNN reading the history mean-pooled: what target
    # attention adds.
    "movielens-ctr": ["din/movielens-100k-ctr", "mlp/movielens-100k-ctr"],
}


def entries(suite):
    """The suite's recipes, each with its label (the recipe name before `/`)."""
    return [(reczoo.get_recipe(name), name.split("/")[0]) for name in SUITES[suite]]
