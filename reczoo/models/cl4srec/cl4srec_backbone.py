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
        feature_spec, history_feature, num_blocks, num_heads, dropout,
        embeddings_regularizer, dtype: as `SASRecBackbone`'s.

    Example:

    ```python
    spec = reczoo.FeatureSpec([reczoo.Sequence("history", 23717, 64, max_length=50, table="item")])
    model = reczoo.get_model("cl4srec", feature_spec=spec)
    ```

    Reference:
        Xie et al. Contrastive Learning for Sequential Recommendation. ICDE 2022.
    """

    uses_mask_token = True
