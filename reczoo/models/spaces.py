"""What `reczoo tune` searches: plain data, declared beside each model's
recipes (`registry.register_search_space`), with a default per task kind.

A space maps a setting (a run setting or a model argument, as
`reczoo train --set=NAME=VALUE` takes it) to how KerasTuner draws it:

- `("log", low, high)`: a float on a log scale;
- `("float", low, high, step)` and `("int", low, high, step)`;
- `("choice", [values])`: any JSON values, lists of layer widths included;
- `("l2", low, high)`: a Keras `L2` regularizer config whose factor is drawn
  on a log scale.
"""

LEARNING = {"learning_rate": ("log", 1e-4, 1e-2)}
EMBEDDING = {
    "embedding_dim": ("choice", [8, 16, 32, 64]),
    "embeddings_regularizer": ("l2", 1e-6, 1e-1),
}
# An MLP tower and its regularisation (DeepFM, DCN-v2, the product models...).
DNN = {
    "hidden_units": ("choice", [[400, 400, 400], [512, 256, 128], [256, 128], [200, 200]]),
    "dropout": ("float", 0.0, 0.5, 0.1),
}

RANKING = {**LEARNING, **EMBEDDING}
NEXT_ITEM = {
    **LEARNING,
    "embedding_dim": ("choice", [32, 50, 64, 128]),
    "dropout": ("float", 0.1, 0.7, 0.1),
}
RETRIEVAL = {**LEARNING, "embedding_dim": ("choice", [16, 32, 64, 128])}

DEFAULTS = {"ranking": RANKING, "next_item": NEXT_ITEM, "retrieval": RETRIEVAL}
