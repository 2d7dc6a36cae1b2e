"""CL4SRec's encoder: SASRec's, with a mask token in the item table."""

import keras

from reczoo.models.sasrec.sasrec_backbone import SASRecBackbone


@keras.saving.register_keras_serializable(package="reczoo")
class CL4SRecBackbone(SASRecBackbone):
    """SASRec's causal self-attention encoder (`SASRecBackbone`), whose item
    table ends with a mask token (the last row, never recommended) for
    CL4SRec's mask augmentation.

    The contrastive objective lives in the task (`NextItem` with
    `contrastive_weight`); this backbone only declares the token. The
    history feature's `vocabulary_size` counts it: items `1..n`, the token
    `n + 1`.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with the history `Sequence`,
            whose vocabulary counts the mask token.
        history_feature: the history's name.
        num_blocks: attention blocks.
        num_heads: attention heads (they split the embedding width).
        dropout: dropout on the embeddings, attention weights and FFN.
        norm: the blocks' layer normalisation, `"sasrec"` or `"pre"`
            (`SASRecBackbone`).
        embeddings_regularizer: regularizer of the item table.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            # items 1..49 and the mask token, 50
            reczoo.Sequence("history", vocabulary_size=51, embedding_dim=16, max_length=10, table="item"),
        ])
        model = reczoo.get_model("cl4srec", feature_spec=spec)
        histories = np.array([[0, 0, 0, 0, 0, 0, 0, 3, 8, 5]])  # left-padded with 0
        top = model.recommend({"history": histories}, k=5)
        ```

    Reference:
        Xie et al. Contrastive Learning for Sequential Recommendation. ICDE 2022.
    """

    uses_mask_token = True
