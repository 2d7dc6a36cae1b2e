"""Product-based neural networks (Qu et al., 2016): IPNN and OPNN."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.layers import MLP, InnerProduct, OuterProduct
from reczoo.models.backbone import RankingBackbone

_PRODUCTS = ("inner", "outer")


@keras.saving.register_keras_serializable(package="reczoo")
class PNNBackbone(RankingBackbone):
    """A product layer between the embeddings and a DNN.

    The DNN reads `[z, p]`: `z` the concatenated field embeddings (the linear
    signal) and `p` the product signal: with `product="inner"` the inner
    products of all field pairs (IPNN); with `product="outer"` the paper's
    efficient outer-product form, the (dim x dim) outer product of the
    summed field embeddings (OPNN with "superposition", Section 3.3). The
    output is the DNN's last hidden layer; `Ranker` adds the output unit.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with one embedding width.
        product: `"inner"` or `"outer"`.
        hidden_units: widths of the DNN.
        activation: the DNN's activation.
        dropout: dropout after each DNN layer.
        batch_norm: batch normalisation in each DNN layer.
        embeddings_regularizer: regularizer of the embedding tables.
        kernel_regularizer: regularizer of the DNN's kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Raises:
        ValueError: an unknown `product`.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("opnn", feature_spec=spec, hidden_units=[64, 64])
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        Qu et al. Product-based Neural Networks for User Response Prediction.
        ICDM 2016.
    """

    def __init__(
        self,
        feature_spec,
        product="inner",
        hidden_units=(400, 400, 400),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        embeddings_regularizer=None,
        kernel_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        if product not in _PRODUCTS:
            raise ValueError(f"`product` must be one of {_PRODUCTS}. Received: product={product!r}")
        embedding = FeatureEmbedding(
            feature_spec,
            output_mode="stack",
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        product_layer = (
            InnerProduct(dtype=dtype, name="inner_product")
            if product == "inner"
            else OuterProduct(dtype=dtype, name="outer_product")
        )
        tower = MLP(
            hidden_units,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            kernel_regularizer=kernel_regularizer,
            dtype=dtype,
            name="dnn",
        )

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        fields = embedding(inputs)
        flat = ops.reshape(fields, (-1, fields.shape[1] * fields.shape[2]))
        outputs = tower(ops.concatenate([flat, product_layer(fields)], axis=-1))
        super().__init__(
            inputs=inputs,
            outputs={"features": outputs},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.product = product
        self.keep_tower_config(embedding, tower, activation)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "product": self.product,
                **self.tower_config(),
            }
        )
        return config
