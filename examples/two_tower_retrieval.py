"""Two-tower retrieval, exported as a SavedModel

A two-tower model embeds users and items in one space, so that retrieval is a
nearest-neighbour search over the catalogue. It trains with an in-batch
softmax: each (user, item) pair's item is the positive, the batch's other
items the negatives, corrected for how often each item appears (logQ). This
is TF Recommenders' retrieval tutorial on MovieLens-100K (`tfrs_retrieval`:
ratings as positives, 80/20 random split), scored by top-100 accuracy.

The trained model exports as a SavedModel whose `recommend` signature takes a
raw user id and returns raw item ids with their scores: it needs TensorFlow
alone, not reczoo, as a TensorFlow Serving deployment would load it.
"""

import tensorflow as tf

import reczoo

data = reczoo.datasets.load("movielens-100k")
result = reczoo.run("two_tower", data, protocol="tfrs_retrieval", epochs=3, verbose=0,
                    output="ml100k_two_tower", overwrite=True)  # fmt: skip
print("test top-100 accuracy:", round(result["metrics"]["top_100_accuracy"], 4))

reczoo.export("ml100k_two_tower", "two_tower_savedmodel", k=10, overwrite=True)
served = tf.saved_model.load("two_tower_savedmodel")
print("signatures:", sorted(served.signatures))
answer = served.recommend(tf.constant(["42"]))  # also the serving_default signature
print("user 42's top 10:", [i.decode() for i in answer["items"].numpy()[0]])
