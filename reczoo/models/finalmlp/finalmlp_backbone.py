"""FinalMLP (Mao et al., 2023): two MLP streams, gated inputs, bilinear fusion."""

import keras

from reczoo.features import FeatureEmbedding, FeatureSpec
from reczoo.layers import MLP, BilinearFusion, FeatureSelection
from reczoo.models.backbone import RankingBackbone, serialize_regularizer


@keras.saving.register_keras_serializable(package="reczoo")
class FinalMLPBackbone(RankingBackbone):
    """Two MLPs read the same field embeddings, each through its own feature
    gate, and a multi-head bilinear layer fuses their outputs into a logit.

    With `feature_selection`, stream 1 reads the embeddings times
    `2 * sigmoid(MLP(context_1))` and stream 2 times `2 * sigmoid(MLP(
    context_2))` (`reczoo.layers.FeatureSelection`); a context is the
    embeddings of the features named in `stream1_context` /
    `stream2_context` (own tables, as in the paper's code), or a learned
    vector where none is named. The fusion (`reczoo.layers.BilinearFusion`)
    adds each stream's linear score and, head by head, the bilinear form of
    the two streams: a plain MLP's implicit interactions, made explicit
    between two differently gated views. Returns `{"logit": (batch, 1),
    "features": (batch, width_1 + width_2)}`, the streams' outputs side by side.

    Args:
        feature_spec: a `reczoo.FeatureSpec`.
        stream1_units: widths of the first MLP.
        stream2_units: widths of the second MLP.
        stream1_dropout: dropout after each of the first MLP's layers.
        stream2_dropout: dropout after each of the second MLP's layers.
        activation: the MLPs' activation.
        batch_norm: batch normalisation in the MLPs' layers.
        feature_selection: whether to gate each stream's input.
        selection_units: widths of the gates' hidden layers.
        stream1_context: names of the features the first gate reads; empty
            for a learned context.
        stream2_context: the same for the second gate.
        num_heads: heads of the bilinear fusion (it must divide both
            streams' last widths).
        numerical_embedding: embed each numerical feature as a vector
            times its value, at the id features' width, in the streams' input
            and the gates' contexts (as FuxiCTR does); False reads the raw
            values.
        embeddings_initializer: initializer of the embedding tables.
        embeddings_regularizer: regularizer of every embedding table.
        kernel_regularizer: regularizer of the MLPs' kernels.
        dtype: the dtype policy of every layer.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("finalmlp", feature_spec=spec, stream1_units=[64], stream2_units=[32], num_heads=2)
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        Mao et al. FinalMLP: An Enhanced Two-Stream MLP Model for CTR
        Prediction. AAAI 2023.
    """

    computes_logit = True

    def __init__(
        self,
        feature_spec,
        stream1_units=(400, 400, 400),
        stream2_units=(400, 400, 400),
        stream1_dropout=0.0,
        stream2_dropout=0.0,
        activation="relu",
        batch_norm=False,
        feature_selection=True,
        selection_units=(64,),
        stream1_context=(),
        stream2_context=(),
        num_heads=1,
        numerical_embedding=False,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        kernel_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        contexts = [list(stream1_context), list(stream2_context)]
        common = next((f.embedding_dim for f in feature_spec if hasattr(f, "embedding_dim")), None)
        tables = {"embeddings_initializer": embeddings_initializer,
                  "embeddings_regularizer": embeddings_regularizer, "dtype": dtype}  # fmt: skip
        if numerical_embedding:
            tables["numerical_dim"] = common
        embedding = FeatureEmbedding(
            feature_spec, output_mode="concat", name="feature_embedding", **tables
        )
        context_embeddings, gates = _gates(
            feature_spec, contexts, selection_units if feature_selection else None, tables, common
        )
        streams = [
            MLP(units, activation=activation, dropout=rate, batch_norm=batch_norm,
                kernel_regularizer=kernel_regularizer, dtype=dtype, name=f"stream{i}")
            for i, (units, rate) in enumerate(
                ((stream1_units, stream1_dropout), (stream2_units, stream2_dropout)), start=1
            )
        ]  # fmt: skip
        fusion = BilinearFusion(num_heads, dtype=dtype, name="fusion")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        flat = embedding(inputs)
        views = []
        for context_embedding, gate, stream in zip(context_embeddings, gates, streams, strict=True):
            x = flat
            if gate is not None:
                context = None if context_embedding is None else context_embedding(inputs)
                x = gate(flat, context=context)
            views.append(stream(x))
        logit = fusion(views)
        features = keras.layers.Concatenate(dtype=dtype, name="streams")(views)
        super().__init__(
            inputs=inputs,
            outputs={"logit": logit, "features": features},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.stream1_units = list(streams[0].hidden_units)
        self.stream2_units = list(streams[1].hidden_units)
        self.stream1_dropout = streams[0].dropout
        self.stream2_dropout = streams[1].dropout
        self.activation = activation
        self.batch_norm = bool(batch_norm)
        self.feature_selection = bool(feature_selection)
        self.selection_units = [int(u) for u in selection_units]
        self.stream1_context, self.stream2_context = contexts
        self.num_heads = int(num_heads)
        self.numerical_embedding = bool(numerical_embedding)
        self.embeddings_initializer = embedding.embeddings_initializer
        self.embeddings_regularizer = embedding.embeddings_regularizer
        self.kernel_regularizer = streams[0].kernel_regularizer

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "stream1_units": self.stream1_units,
                "stream2_units": self.stream2_units,
                "stream1_dropout": self.stream1_dropout,
                "stream2_dropout": self.stream2_dropout,
                "activation": self.activation,
                "batch_norm": self.batch_norm,
                "feature_selection": self.feature_selection,
                "selection_units": self.selection_units,
                "stream1_context": self.stream1_context,
                "stream2_context": self.stream2_context,
                "num_heads": self.num_heads,
                "numerical_embedding": self.numerical_embedding,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
                "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
            }
        )
        return config


def _gates(feature_spec, contexts, selection_units, tables, common):
    """`(context embeddings, gates)`, one of each per stream: a stream's
    context features get tables of their own (None where it names none: its
    gate learns a context, `common` wide); no gates (None) without
    `selection_units`."""
    context_embeddings, gates = [], []
    for i, names in enumerate(contexts, start=1):
        unknown = [n for n in names if n not in feature_spec.names]
        if unknown:
            raise ValueError(
                f"FinalMLP's gate context names features the spec lacks: {unknown}. "
                f"Features: {feature_spec.names}"
            )
        context_embeddings.append(
            FeatureEmbedding(
                FeatureSpec([feature_spec[n] for n in names]),
                output_mode="concat",
                name=f"context{i}_embedding",
                **tables,
            )
            if names
            else None
        )
        gates.append(
            FeatureSelection(
                selection_units,
                context_dim=None if names else common,
                dtype=tables["dtype"],
                name=f"selection{i}",
            )
            if selection_units is not None
            else None
        )
    return context_embeddings, gates
