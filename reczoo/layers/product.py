"""Product layers of the product-based neural network (PNN)."""

import keras
import numpy as np
from keras import ops


def _check_fields(inputs, name):
    if len(inputs.shape) != 3:
        raise ValueError(
            f"{name} expects (batch, fields, dim) inputs. Received: shape={inputs.shape}"
        )


@keras.saving.register_keras_serializable(package="reczoo")
class InnerProduct(keras.layers.Layer):
    """Inner products of every pair of fields, `<v_i, v_j>` for `i < j`.

    Takes (batch, fields, dim) and returns (batch, fields * (fields - 1) / 2),
    pairs in row-major order of the upper triangle: (0,1), (0,2), ..., (1,2), ...

    Example:
        ```python
        v = np.array([[[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]]])
        reczoo.layers.InnerProduct()(v)  # [[2.0, 0.0, 3.0]]
        ```

    Reference:
        Qu et al. Product-based Neural Networks for User Response Prediction.
        ICDM 2016 (IPNN).
    """

    def call(self, inputs):
        _check_fields(inputs, "InnerProduct")
        n = inputs.shape[1]
        gram = ops.matmul(inputs, ops.transpose(inputs, (0, 2, 1)))
        rows, cols = np.triu_indices(n, k=1)
        flat = ops.reshape(gram, (-1, n * n))
        return ops.take(flat, rows * n + cols, axis=1)

    def compute_output_shape(self, input_shape):
        n = input_shape[1]
        return (input_shape[0], n * (n - 1) // 2)


@keras.saving.register_keras_serializable(package="reczoo")
class OuterProduct(keras.layers.Layer):
    """The outer product of the summed field embeddings, flattened.

    PNN's efficient outer-product form ("superposition"): rather than the
    outer product of every pair of fields, it takes `p = f_S f_S^T` with
    `f_S = sum_i v_i`, a (dim, dim) matrix, which costs O(dim^2) instead of
    O(fields^2 dim^2). Returns (batch, dim * dim).

    Example:
        ```python
        product = reczoo.layers.OuterProduct()
        product(np.ones((2, 3, 4))).shape  # (2, 16): the 4x4 outer product, flattened
        ```

    Reference:
        Qu et al. Product-based Neural Networks for User Response Prediction.
        ICDM 2016 (OPNN, Section 3.3).
    """

    def call(self, inputs):
        _check_fields(inputs, "OuterProduct")
        summed = ops.sum(inputs, axis=1)
        outer = ops.expand_dims(summed, 2) * ops.expand_dims(summed, 1)
        return ops.reshape(outer, (-1, inputs.shape[2] * inputs.shape[2]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2] * input_shape[2])


@keras.saving.register_keras_serializable(package="reczoo")
class OuterProductMap(keras.layers.Layer):
    """The outer product of two vectors as a one-channel 2-D map.

    Takes `[p, q]`, each (batch, dim), and returns (batch, dim, dim, 1) with
    `E[b, i, j, 0] = p[b, i] * q[b, j]`: every pairwise interaction of the
    user's and the item's embedding dimensions, the image ConvNCF's
    convolutions read.

    Example:
        ```python
        p, q = np.array([[1.0, 2.0]]), np.array([[3.0, -1.0]])
        reczoo.layers.OuterProductMap()([p, q])[0, :, :, 0]  # [[3, -1], [6, -2]]
        ```

    Reference:
        He et al. Outer Product-based Neural Collaborative Filtering. IJCAI
        2018 (Section 3.2).
    """

    def call(self, inputs):
        p, q = inputs
        if len(p.shape) != 2 or len(q.shape) != 2:
            raise ValueError(
                "OuterProductMap expects two (batch, dim) inputs. Received shapes: "
                f"{p.shape} and {q.shape}"
            )
        return ops.expand_dims(ops.einsum("bi,bj->bij", p, q), -1)

    def compute_output_shape(self, input_shape):
        p, q = input_shape
        return (p[0], p[1], q[1], 1)
