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
        feature_spec: a `reczoo.FeatureSpec` holding both towers' features.
        query_features: names of the query tower's features; the history (a
            `Sequence`, mean-pooled) is one of them.
        candidate_features: names of the candidate tower's features.
        candidate_id_feature: the candidate's id feature (accidental hits,
            logQ correction and recommendations are by this id).
        hidden_units: widths of the query tower's ReLU layers.
        output_dim: width of each tower's final linear layer; None for none.
        activation: activation of the hidden layers.
        dropout: dropout after each hidden layer.
        normalize: L2-normalise both outputs (dot products are cosines).
        embeddings_regularizer: regularizer of the embedding tables.
        dtype: the dtype policy of every layer.

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
