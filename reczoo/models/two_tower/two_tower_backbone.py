"""Two towers: a query vector from user features, a candidate vector from item features."""

import keras

from reczoo.features import FeatureEmbedding
from reczoo.layers import MLP
from reczoo.models.backbone import Backbone, serialize_regularizer


@keras.saving.register_keras_serializable(package="reczoo")
class TwoTowerBackbone(Backbone):
    """A query tower and a candidate tower over one `FeatureSpec`.

    Each tower embeds its features (`query_features`, `candidate_features`),
    concatenates them, runs `hidden_units` dense layers and a linear
    projection to `output_dim`, and L2-normalises the result with
    `normalize`. With no hidden units and no projection a tower is its
    embeddings alone (the TF Recommenders tutorial model: a user-id and an
    item-id embedding). Returns `{"query_embedding", "candidate_embedding"}`,
    (batch, dim) each; `query_tower` and `candidate_tower` are the towers as
    models of their own features, for indexing and serving.

    Args:
        feature_spec: a `reczoo.FeatureSpec` holding both towers' features.
        query_features: names of the query tower's features.
        candidate_features: names of the candidate tower's features.
        candidate_id_feature: the candidate's id feature (accidental hits,
            logQ correction and recommendations are by this id).
        hidden_units: widths of each tower's hidden layers.
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
            reczoo.Categorical("item_id", 1683, 32),
        ])
        backbone = reczoo.models.TwoTowerBackbone(spec, ["user_id"], ["item_id"])
        ```

    Reference:
        Yi et al. Sampling-Bias-Corrected Neural Modeling for Large Corpus
        Item Recommendations. RecSys 2019.
    """

    output_keys = ("query_embedding", "candidate_embedding")
    # Whether the query tower also reads the user's earlier items (YouTube DNN).
    uses_history = False

    def __init__(
        self,
        feature_spec,
        query_features=("user_id",),
        candidate_features=("item_id",),
        candidate_id_feature="item_id",
        hidden_units=(),
        output_dim=None,
        activation="relu",
        dropout=0.0,
        normalize=False,
        embeddings_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        query_features, candidate_features = list(query_features), list(candidate_features)
        self._check_towers(feature_spec, query_features, candidate_features, candidate_id_feature)

        # === Layers ===
        def tower(names, side):
            layers = [
                FeatureEmbedding(
                    feature_spec.subset(names), output_mode="concat",
                    embeddings_regularizer=embeddings_regularizer, dtype=dtype,
                    name=f"{side}_embedding",
                )
            ]  # fmt: skip
            if hidden_units:
                hidden = MLP(
                    hidden_units, activation=activation, dropout=dropout, dtype=dtype,
                    name=f"{side}_hidden",
                )  # fmt: skip
                layers.append(hidden)
            if output_dim:
                layers.append(keras.layers.Dense(output_dim, dtype=dtype, name=f"{side}_output"))
            return layers

        query_layers = tower(query_features, "query")
        candidate_layers = tower(candidate_features, "candidate")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()

        def run(layers, names):
            x = {n: inputs[n] for n in names}
            for layer in layers:
                x = layer(x)
            if normalize:
                x = keras.layers.UnitNormalization(dtype=dtype)(x)
            return x

        query = run(query_layers, query_features)
        candidate = run(candidate_layers, candidate_features)
        super().__init__(
            inputs=inputs,
            outputs={"query_embedding": query, "candidate_embedding": candidate},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )
        self.query_tower = keras.Model(
            {n: inputs[n] for n in query_features}, query, name="query_tower"
        )
        self.candidate_tower = keras.Model(
            {n: inputs[n] for n in candidate_features}, candidate, name="candidate_tower"
        )
        for tower_model in (self.query_tower, self.candidate_tower):
            tower_model.dtype_policy = self.dtype_policy

        # === Config ===
        self.query_features = query_features
        self.candidate_features = candidate_features
        self.candidate_id_feature = candidate_id_feature
        self.hidden_units = list(hidden_units)
        self.output_dim = output_dim
        self.activation = activation
        self.dropout = dropout
        self.normalize = bool(normalize)
        self.embeddings_regularizer = query_layers[0].embeddings_regularizer

    @staticmethod
    def _check_towers(feature_spec, query_features, candidate_features, candidate_id_feature):
        for side, names in (("query", query_features), ("candidate", candidate_features)):
            missing = [n for n in names if n not in feature_spec]
            if not names or missing:
                raise ValueError(
                    f"The {side} tower's features {names} must be non-empty and in the "
                    f"spec; missing {missing}. Spec features: {feature_spec.names}"
                )
        shared = set(query_features) & set(candidate_features)
        if shared:
            raise ValueError(f"A feature belongs to one tower only. In both: {sorted(shared)}")
        if candidate_id_feature not in candidate_features:
            raise ValueError(
                f"`candidate_id_feature` {candidate_id_feature!r} must be a candidate "
                f"feature: {candidate_features}"
            )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "query_features": self.query_features,
                "candidate_features": self.candidate_features,
                "candidate_id_feature": self.candidate_id_feature,
                "hidden_units": self.hidden_units,
                "output_dim": self.output_dim,
                "activation": self.activation,
                "dropout": self.dropout,
                "normalize": self.normalize,
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
            }
        )
        return config
