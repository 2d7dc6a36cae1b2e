"""CL4SRec's sequence augmentations, in the graph, on left-padded id batches.

Each function takes (batch, length) int ids, left-padded with 0, and
returns an augmented batch of the same shape, still left-padded. Random
draws come from a `keras.random.SeedGenerator`, per row.

Reference:
    Xie et al. Contrastive Learning for Sequential Recommendation. ICDE 2022.
"""

from keras import ops, random


def _lengths(ids):
    valid = ops.not_equal(ids, 0)
    n = ops.sum(ops.cast(valid, "int32"), axis=1)
    return valid, n, ops.shape(ids)[1] - n


def _span(n, ratio, seed, at_least):
    """A random contiguous span per row: (start within the real items, length)."""
    nf = ops.cast(n, "float32")
    length = ops.maximum(ops.cast(ops.floor(ratio * nf), "int32"), at_least)
    length = ops.minimum(length, n)
    room = ops.cast(n - length + 1, "float32")
    start = ops.cast(ops.floor(random.uniform(ops.shape(n), seed=seed) * room), "int32")
    return ops.minimum(start, n - length), length


def crop(ids, ratio, seed):
    """A random contiguous `ratio` of each sequence (at least one item)."""
    _, n, pad = _lengths(ids)
    start, length = _span(n, ratio, seed, at_least=1)
    width = ops.shape(ids)[1]
    j = ops.expand_dims(ops.arange(width, dtype="int32"), 0)
    # Output position j takes source position end - (width - j): right-aligned.
    end = ops.expand_dims(pad + start + length, 1)
    source = ops.clip(end - (width - j), 0, width - 1)
    keep = j >= ops.expand_dims(width - length, 1)
    return ops.where(keep, ops.take_along_axis(ids, source, axis=1), ops.zeros_like(ids))


def mask(ids, ratio, mask_token, seed):
    """Each real item replaced by `mask_token` with probability `ratio`."""
    valid, _, _ = _lengths(ids)
    hit = ops.logical_and(valid, random.uniform(ops.shape(ids), seed=seed) < ratio)
    return ops.where(hit, ops.cast(mask_token, ids.dtype), ids)


def reorder(ids, ratio, seed):
    """A random contiguous `ratio` of each sequence, shuffled in place."""
    _, n, pad = _lengths(ids)
    start, length = _span(n, ratio, seed, at_least=0)
    width = ops.shape(ids)[1]
    j = ops.arange(width, dtype="int32")[None, :]
    first = ops.expand_dims(pad + start, 1)
    inside = ops.logical_and(j >= first, j < first + ops.expand_dims(length, 1))
    # Keys inside the span fall in (first - 0.5, first + length - 0.5), strictly
    # between the integer keys of the positions around it: sorting by key
    # shuffles the span and leaves the rest in place.
    noise = random.uniform(ops.shape(ids), seed=seed)
    spread = (
        ops.cast(first, "float32") - 0.5 + noise * ops.cast(ops.expand_dims(length, 1), "float32")
    )
    keys = ops.where(inside, spread, ops.cast(j, "float32") + ops.zeros_like(spread))
    return ops.take_along_axis(ids, ops.argsort(keys, axis=1), axis=1)


def augment(ids, crop_ratio, mask_ratio, reorder_ratio, mask_token, seed):
    """One of crop, mask or reorder per row, chosen uniformly (CL4SRec)."""
    ids = ops.cast(ids, "int32")
    choice = ops.expand_dims(random.randint(ops.shape(ids)[:1], 0, 3, seed=seed), 1)
    cropped = crop(ids, crop_ratio, seed)
    masked = mask(ids, mask_ratio, mask_token, seed)
    shuffled = reorder(ids, reorder_ratio, seed)
    return ops.where(choice == 0, cropped, ops.where(choice == 1, masked, shuffled))
