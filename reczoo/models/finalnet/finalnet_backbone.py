"""FinalNet / FINAL (Zhu et al., 2023): factorized interaction blocks in
place of MLPs, one block or two distilled into each other."""

import keras

from reczoo.features import FeatureEmbedding
from reczoo.layers import EnsembleDistillation, FieldGate, FinalBlock
from reczoo.models.backbone import RankingBackbone, serialize_regularizer

_BLOCKS = (1, 2)


@keras.saving.register_keras_serializable(package="reczoo")
class FinalNetBackbone(RankingBackbone):
    """One or two FINAL blocks over the field embeddings, each with its own
    output unit.

    A block (`reczoo.layers.FinalBlock`) is an MLP whose dense layers are
    factorized interaction layers, `[h2, h1 * h2]` of a linear map split in
    halves, so that depth raises the order of the interactions it models.
    Block 1 may read the fields through a field gate
    (`reczoo.layers.FieldGate`: the fields and their linearly gated copy).
    With two blocks the logit is the mean of theirs, and in training each
    block is also taught the ensemble's probability
    (`reczoo.layers.EnsembleDistillation`, weight `distillation`). Returns
    `{"logit": (batch, 1), "features": (batch, width)}`, the blocks' last
    layers side by side.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with one embedding width.
        num_blocks: 1 or 2.
        block1_units: widths of the first block's layers.
        block2_units: widths of the second block's layers (two blocks).
        block1_dropout: dropout after each of the first block's layers.
        block2_dropout: dropout after each of the second block's layers.
        activation: activation after each layer, or None.
        batch_norm: batch normalisation after each layer.
        residual: `"concat"` or `"sum"` (`reczoo.layers.FactorizedInteraction`).
        field_gate: whether block 1 reads the fields through a field gate.
        distillation: weight of each block's loss against the ensemble
            (two blocks only; 0 to train on the task's loss alone).
        embeddings_initializer: initializer of the embedding tables.
        embeddings_regularizer: regularizer of the embedding tables.
        dtype: the dtype policy of every layer.

    Raises:
        ValueError: `num_blocks` other than 1 or 2.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("finalnet", feature_spec=spec, num_blocks=2)
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        Zhu et al. FINAL: Factorized Interaction Layer for CTR Prediction.
        SIGIR 2023.
    """

    computes_logit = True

    def __init__(
        self,
        feature_spec,
        num_blocks=2,
        block1_units=(64, 64, 64),
        block2_units=(64, 64, 64),
        block1_dropout=0.0,
        block2_dropout=0.0,
        activation="relu",
        batch_norm=True,
        residual="concat",
        field_gate=False,
        distillation=1.0,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        if num_blocks not in _BLOCKS:
            raise ValueError(f"`num_blocks` must be 1 or 2. Received: num_blocks={num_blocks!r}")
        embedding = FeatureEmbedding(
            feature_spec,
            output_mode="stack",
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        gate = FieldGate(dtype=dtype, name="field_gate") if field_gate else None
        settings = ((block1_units, block1_dropout), (block2_units, block2_dropout))[:num_blocks]
        blocks = [
            FinalBlock(units, activation=activation, dropout=rate, batch_norm=batch_norm,
                       residual=residual, dtype=dtype, name=f"block{i}")
            for i, (units, rate) in enumerate(settings, start=1)
        ]  # fmt: skip
        heads = [keras.layers.Dense(1, dtype=dtype, name=f"head{i}") for i in (1, 2)][:num_blocks]

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        fields = embedding(inputs)
        flatten = keras.layers.Flatten(dtype=dtype, name="flatten")
        views = [flatten(gate(fields)) if gate is not None else flatten(fields)]
        if num_blocks == 2:
            views.append(flatten(fields))
        states = [block(view) for block, view in zip(blocks, views, strict=True)]
        logits = [head(state) for head, state in zip(heads, states, strict=True)]
        if num_blocks == 2:
            logit = EnsembleDistillation(distillation, dtype=dtype, name="ensemble")(logits)
            features = keras.layers.Concatenate(dtype=dtype, name="blocks")(states)
        else:
            logit, features = logits[0], states[0]
        super().__init__(
            inputs=inputs,
            outputs={"logit": logit, "features": features},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.num_blocks = num_blocks
        self.block1_units = list(blocks[0].hidden_units)
        self.block2_units = [int(u) for u in block2_units]
        self.block1_dropout = float(block1_dropout)
        self.block2_dropout = float(block2_dropout)
        self.activation = activation
        self.batch_norm = bool(batch_norm)
        self.residual = residual
        self.field_gate = bool(field_gate)
        self.distillation = float(distillation)
        self.embeddings_initializer = embedding.embeddings_initializer
        self.embeddings_regularizer = embedding.embeddings_regularizer

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_blocks": self.num_blocks,
                "block1_units": self.block1_units,
                "block2_units": self.block2_units,
                "block1_dropout": self.block1_dropout,
                "block2_dropout": self.block2_dropout,
                "activation": self.activation,
                "batch_norm": self.batch_norm,
                "residual": self.residual,
                "field_gate": self.field_gate,
                "distillation": self.distillation,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
            }
        )
        return config
