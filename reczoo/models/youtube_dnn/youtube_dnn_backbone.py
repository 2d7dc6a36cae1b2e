"""YouTube DNN candidate generation (Covington et al., 2016)."""

import keras

from reczoo.models.two_tower.two_tower_backbone import TwoTowerBackbone


@keras.saving.register_keras_serializable(package="reczoo")
class YouTubeDNNBackbone(TwoTowerBackbone):
    """The two towers of YouTube's candidate generation network.

    The query tower averages the embeddings of the user's earlier items
    (the watch history: a `Sequence` feature, mean-pooled over real
    positions), concatenates the user's features and runs a ReLU tower; the
    candidate side is the item's own vector (the softmax weights of the
    paper), here an id embedding with an optional projection. Trained as
    extreme multi-class classification with a sampled softmax (the
    `Retriever`'s in-batch softmax with logQ correction).

    Args:
        feature_spec, query_features, candidate_features, candidate_id_feature,
        hidden_units, output_dim, activation, dropout, normalize,
        embeddings_regularizer, dtype: as `TwoTowerBackbone`'s; the history
        (a `Sequence`) is one of the query features.

    Example:

    ```python
    spec = reczoo.FeatureSpec([
        reczoo.Categorical("user_id", 944, 32),
        reczoo.Sequence("history", 1683, 32, max_length=50),
        reczoo.Categorical("item_id", 1683, 32),
    ])
    backbone = reczoo.models.YouTubeDNNBackbone(
        spec, ["user_id", "history"], ["item_id"], hidden_units=[128], output_dim=32
    )
    ```

    Reference:
        Covington et al. Deep Neural Networks for YouTube Recommendations.
        RecSys 2016.
    """

    uses_history = True
