"""The shard converter's engine (`reczoo.datasets.conversion`): exact counts
in bounded memory, records byte for byte TensorFlow's, blocks read by
pyarrow as the Python reader reads them."""

import collections

import numpy as np
import pyarrow as pa
import pytest

from reczoo import datasets
from reczoo.datasets import conversion
from reczoo.datasets.sources import DatasetError
from reczoo.datasets.tables import iter_blocks


def _long_tail(rng, n):
    return [str(int(x)) for x in rng.pareto(1.0, n)] + ["", "é", "Z", "日本"]


@pytest.mark.parametrize("memory_bytes,flush_pairs", [(2_000, 100), (10**9, 1 << 15)])
def test_counts_are_exact_whatever_the_memory(tmp_path, memory_bytes, flush_pairs):
    # A budget of 2 KB splits the spill again and again by hash (4 levels);
    # the kept values are Counter's, in Python's order, empty left out.
    rng = np.random.default_rng(0)
    counter = conversion.VocabularyCounter(tmp_path, memory_bytes=memory_bytes,
                                           flush_pairs=flush_pairs)  # fmt: skip
    expected = collections.Counter()
    for _ in range(6):
        block = _long_tail(rng, 5_000)
        expected.update(block)
        counter.update("c", pa.array(block))
        counter.update("other", pa.array(block[:10]))
    kept = counter.write("c", tmp_path / "c.txt", 3, first=["[PAD]"])
    want = sorted(v for v, n in expected.items() if v and n >= 3)
    assert (tmp_path / "c.txt").read_text(encoding="utf-8").splitlines() == ["[PAD]", *want]
    assert kept == len(want) > 50
    assert counter.write("other", tmp_path / "o.txt", 100) == 0
    counter.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt", "o.txt"]  # spill removed


def test_partition_hash_is_a_function_of_the_value():
    values = pa.array(["a", "b", "a", "", "abc", "a" * 300])
    h = conversion.partition_hash(values)
    assert h[0] == h[2] and len(set(h.tolist())) == 5
    np.testing.assert_array_equal(conversion.partition_hash(values.slice(2, 3)), h[2:5])
    spread = np.bincount(conversion.partition_hash(pa.array([str(i) for i in range(16_000)]))
                         % np.uint64(16))  # fmt: skip
    assert spread.min() > 800


def test_records_are_tensorflows_byte_for_byte(tmp_path):
    tf = pytest.importorskip("tensorflow")
    values = ["", "a", "x" * 200, "é", "ab" * 70_000, *map(str, range(300))]
    array = pa.array(values)
    for part in (array, array.slice(3, 5), array.slice(0, 0)):
        encoded = np.asarray([v.encode() for v in part.to_pylist()], dtype=object)
        want = tf.make_tensor_proto(encoded.astype(bytes) if not len(part) else encoded)
        want = want.SerializeToString()
        assert conversion.string_tensor_proto(part) == want
    for numbers in (np.arange(5, dtype="float32"), np.arange(300, dtype="int64"), np.zeros(0)):
        want = tf.make_tensor_proto(numbers).SerializeToString()
        assert conversion.numeric_tensor_proto(numbers) == want
    columns = {"label": b"\x01" * 300, "C1": [b"abc" * 1000, b"xy"]}
    parsed = tf.train.Example.FromString(conversion.example_bytes(columns)).features.feature
    assert parsed["C1"].bytes_list.value == [b"abc" * 1000 + b"xy"]
    assert parsed["label"].bytes_list.value == [b"\x01" * 300]
    record = conversion.TFRecordFile(tmp_path / "ours.tfrecord")
    record.write(b"hello")
    record.write(b"x" * 100_000)
    record.close()
    with tf.io.TFRecordWriter(str(tmp_path / "tf.tfrecord")) as w:
        w.write(b"hello")
        w.write(b"x" * 100_000)
    assert (tmp_path / "ours.tfrecord").read_bytes() == (tmp_path / "tf.tfrecord").read_bytes()


def test_arrow_blocks_are_the_python_readers(tmp_path):
    path = tmp_path / "log.csv"
    lines = ["clicked,user,price"] + [f"{i % 2},u{i % 7},{i * 0.5}" for i in range(1000)]
    path.write_text("\n".join(lines) + "\n")
    ours = list(conversion.arrow_blocks(path, block_rows=300))
    theirs = list(iter_blocks(path, block_rows=300))
    assert [b[3] for b in ours] == [b[3] for b in theirs] == [2, 302, 602, 902]
    for (names, columns, _, _), (names2, columns2, _, _) in zip(ours, theirs, strict=True):
        assert names == names2
        assert [c.to_pylist() for c in columns] == columns2
    typed = list(conversion.arrow_blocks(path, block_rows=300, numeric=["price"]))
    assert typed[1][1][2].type == pa.float64()


def test_a_bad_number_or_line_is_named(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("clicked,price\n1,2.5\n0,abc\n")
    blocks = conversion.arrow_blocks(path, numeric=["price"])
    _, columns, part, first = next(blocks)  # read as text once arrow refuses
    with pytest.raises(DatasetError, match=r"log.csv, line 3: column 'price' should be a finite"):
        conversion.numbers(columns[1], part, first, "price")
    path.write_text("clicked,price\n1,2.5\n0,1,7\n")
    with pytest.raises(DatasetError, match=r"log.csv, line 3: expected 2 fields separated by ','"):
        list(conversion.arrow_blocks(path))


def test_the_converter_reports_its_speed(tmp_path):
    log = datasets.synthetic_long_tail(tmp_path / "log.csv", 20_000)
    data = datasets.convert_table(log, tmp_path / "s", datasets.synthetic.LONG_TAIL_SCHEMA)
    assert data.conversion["rows"] == 20_000 and data.conversion["rows_per_second"] > 0
    assert data.statistics()["rows"] == 20_000
    assert data.encoding["user"]["size"] > 10 and data.encoding["category"]["size"] == 201
