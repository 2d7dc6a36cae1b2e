"""The `reczoo` command: `reczoo SUBCOMMAND [--flag=value ...]`.

Each subcommand has its own absl `FlagValues`, so a flag that belongs to
another subcommand is an error rather than silently ignored. Usage errors
exit with status 2, like argparse and absl's own parser.
"""

import dataclasses
import os
import signal
import sys
from pathlib import Path

from absl import flags
from absl import logging as absl_logging

from reczoo.provenance import finite as _finite
from reczoo.terminal import table as _table

USAGE_EXIT = 2


@dataclasses.dataclass(frozen=True)
class Command:
    name: str
    summary: str
    define: callable
    run: callable
    positional: str | None = None  # the one positional argument it takes, if any


# --- reczoo models -----------------------------------------------------------


def _define_models(fv):
    flags.DEFINE_string(
        "pattern", "*", "Wildcard over model names, families and tags.", flag_values=fv
    )


def _run_models(fv):
    from reczoo import registry

    names = registry.list_models(fv.pattern)
    if not names:
        print(f"No model matches {fv.pattern!r}. Registered: {', '.join(registry.list_models())}")
        return 1
    rows = []
    for name in names:
        entry = registry.model_info(name)
        rows.append([name, entry.family, entry.task_name, entry.paper])
    print(_table(rows, ["name", "family", "task", "paper"]))
    return 0


# --- reczoo presets ----------------------------------------------------------


def _define_presets(fv):
    flags.DEFINE_string("pattern", "*", "Wildcard over preset names.", flag_values=fv)


def _run_presets(fv):
    from reczoo import registry

    names = registry.list_presets(fv.pattern)
    if not names:
        print(
            "No built-in presets match. Load your own with "
            "reczoo.from_preset('path/to/preset') or a URL with its sha256."
        )
        return 0
    rows = []
    for name in names:
        info = registry.preset_info(name)
        metrics = info.get("metrics") or {}
        shown = ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if v is not None)
        where = "built-in" if info.get("builtin") else "url"
        rows.append([name, info["model"], info.get("dataset", ""), shown or "-",
                     info.get("weights_dtype", "-"), where])  # fmt: skip
    print(_table(rows, ["name", "model", "dataset", "test metrics", "weights", "from"]))
    return 0


# --- reczoo zoo build / evaluate ----------------------------------------------


def _define_zoo(fv):
    flags.DEFINE_string(
        "folder", None, "Where the preset goes; default: the package's reczoo/pretrained.",
        flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_boolean("quiet", False, "No line per evaluation.", flag_values=fv)


def _run_zoo(fv, action=None, *names):
    import json

    from reczoo import registry, zoo

    if action not in ("build", "evaluate", "index") or not names:
        raise ValueError(
            "usage: reczoo zoo build|evaluate|index NAME [NAME ...]: build trains a preset "
            "from its recipe into the package, evaluate scores it again on its dataset, "
            f"index rewrites its index entry. Zoo presets: {registry.list_built_in_presets()}"
        )
    for name in names:
        zoo.entry(name)  # every name checked before any work
    for name in names:
        if action == "build":
            meta = zoo.build(name, folder=fv.folder, verbose=0 if fv.quiet else 1)
            print(json.dumps({"preset": name, "metrics": meta["metrics"],
                              "weights_dtype": meta["weights_dtype"]}), flush=True)  # fmt: skip
        elif action == "index":
            zoo.index_preset(name, fv.folder)
            print(json.dumps({"preset": name, **zoo.read_index(fv.folder)[name]}), flush=True)
        else:
            metrics, recorded = zoo.evaluate(name)
            print(json.dumps({"preset": name, "metrics": metrics, "recorded": recorded}),
                  flush=True)  # fmt: skip
    return 0


# --- reczoo finetune -------------------------------------------------------------


def _define_finetune(fv):
    flags.DEFINE_string("preset", None, "The preset: built-in name, folder or URL.", flag_values=fv)
    _define_data_flags(fv)
    flags.DEFINE_string(
        "protocol", None, "Split of the new data; default: the preset's.", flag_values=fv
    )
    flags.DEFINE_integer("epochs", None, "Most epochs; default: the preset's.", flag_values=fv)
    flags.DEFINE_float("learning_rate", None, "Default: a tenth of the preset's.", flag_values=fv)
    flags.DEFINE_enum(
        "freeze", "none", ["none", "embeddings", "backbone"],
        "Keep the pretrained embedding rows, or every pretrained weight, fixed; new "
        "users' and items' rows always train.", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_integer("seed", 0, "Seed of the split and the new rows.", flag_values=fv)
    flags.DEFINE_string("output", None, "Write the fine-tuned preset here.", flag_values=fv)
    flags.DEFINE_boolean("overwrite", False, "Replace a non-empty --output folder.", flag_values=fv)
    flags.DEFINE_boolean("quiet", False, "Print only the result row.", flag_values=fv)
    _define_tensorboard(fv, "fine-tuning")


def _run_finetune(fv):
    import json

    from reczoo.training.finetuning import finetune

    if not fv.preset or not fv.output:
        raise ValueError("usage: reczoo finetune --preset=NAME (--dataset=NAME | "
                         "--data_file=PATH) [--epochs=N] --output=DIR: --preset and "
                         "--output are required.")  # fmt: skip
    if (fv.dataset is None) == (fv.data_file is None and fv.train_file is None):
        raise ValueError("Give exactly one of --dataset=NAME or --data_file=PATH.")
    data = fv.dataset if _data_source(fv) == "dataset" else _data_file(fv)[0]
    row = finetune(
        fv.preset, data, protocol=fv.protocol, epochs=fv.epochs, output=fv.output,
        learning_rate=fv.learning_rate, freeze=None if fv.freeze == "none" else fv.freeze,
        seed=fv.seed, overwrite=fv.overwrite, verbose=0 if fv.quiet else 1,
        tensorboard_dir=fv.tensorboard_dir,
    )  # fmt: skip
    print(json.dumps(_finite(dict(row)), allow_nan=False), flush=True)
    return 0


# --- reczoo train ------------------------------------------------------------


def _define_train(fv):
    flags.DEFINE_string(
        "model", None, "Registered model name (see `reczoo models`).", flag_values=fv
    )
    _define_data_flags(fv)
    flags.DEFINE_string(
        "protocol",
        None,
        "Protocol name; default: the dataset's own, except for a model it does not fit and for "
        "a retriever on leave-last-out data (which fits it when named): then the model's "
        "recipe's on that dataset, else random_split.",
        flag_values=fv,
    )
    flags.DEFINE_string("ratios", None, "Train, validation and test fractions of a row split "
                        "(random_split, temporal_split, user_split), such as 0.7,0.15,0.15.",
                        flag_values=fv)  # fmt: skip
    flags.DEFINE_integer(
        "epochs", None, "Most epochs (early stopping on validation).", flag_values=fv
    )
    flags.DEFINE_float("max_minutes", None, "Stop training after about this many minutes, at "
                       "the end of an evaluation, keeping the best weights (the row's "
                       "stopped_by says so); same as --set=max_minutes=N.", flag_values=fv)  # fmt: skip
    flags.DEFINE_integer(
        "seed", 0, "Seed of the split, sampling and initialisation.", flag_values=fv
    )
    flags.DEFINE_multi_string(
        "set", [], "KEY=VALUE model or training override (JSON values); repeatable.", flag_values=fv
    )
    flags.DEFINE_string(
        "recipe",
        None,
        "Recipe name (see `reczoo recipes`); default: the recipe of (model, dataset, "
        "protocol) if one exists; 'none' for defaults adapted to the data.",
        flag_values=fv,
    )
    flags.DEFINE_string("output", None, "Save the trained model as a preset here.", flag_values=fv)
    flags.DEFINE_boolean("overwrite", False, "Replace a non-empty --output folder.", flag_values=fv)
    flags.DEFINE_string(
        "checkpoint_dir", None, "Save the training state here after every evaluation; "
        "the same command resumes an interrupted run from it.", flag_values=fv,
    )  # fmt: skip
    _define_tensorboard(fv)
    flags.DEFINE_string(
        "shards", None, "Train on a shard folder (`reczoo shards`) instead of --dataset.",
        flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_enum(
        "strategy", "default", ["default", "mirrored", "multi_worker", "model_parallel"],
        "default: one device; mirrored: every local GPU (or --cpu_devices logical CPUs); "
        "multi_worker: one process per worker, the cluster in TF_CONFIG; model_parallel "
        "(JAX): embedding tables' rows split across the devices of --mesh.", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_string(
        "mesh", None, "With --strategy=model_parallel: N (rows and batch split N ways) or "
        "BxM (batch B ways, rows M ways); default every device on one axis.", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_integer(
        "cpu_devices", None, "With --strategy=mirrored or model_parallel and no GPU: split "
        "the CPU into this many devices (to test the path).", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_boolean("quiet", False, "Print only the result row.", flag_values=fv)


def _define_data_flags(fv, public=True):
    """--dataset, or --data_file and how to read it (train, finetune; the
    benchmark takes the file flags only)."""
    if public:
        flags.DEFINE_string(
            "dataset", None, "Public dataset name (see `reczoo datasets`).", flag_values=fv
        )
    flags.DEFINE_string(
        "data_file", None, "Your own interactions file (CSV, TSV, .dat).", flag_values=fv
    )
    flags.DEFINE_string("user_col", "user_id", "User column of --data_file.", flag_values=fv)
    flags.DEFINE_string("item_col", "item_id", "Item column of --data_file.", flag_values=fv)
    flags.DEFINE_string("rating_col", None, "Rating column of --data_file.", flag_values=fv)
    flags.DEFINE_string("time_col", None, "Timestamp column of --data_file.", flag_values=fv)
    flags.DEFINE_boolean(
        "header", True, "--data_file's first line names the columns; with --noheader, "
        "give --user_col and --item_col as positions (0, 1, ...).", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_string("sep", None, "--data_file's separator; sniffed when unset.", flag_values=fv)
    flags.DEFINE_string(
        "encoding", "utf-8", "--data_file's text encoding (latin-1, cp1252, ...).", flag_values=fv
    )
    flags.DEFINE_string(
        "label_col", None, "With it, --data_file is a click log with features: its 0/1 label "
        "column (give the feature columns below; every other one is dropped or refused).",
        flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_string("categorical_cols", None, "Click log: categorical columns, ranges "
                        "such as C1-C26 accepted.", flag_values=fv)  # fmt: skip
    flags.DEFINE_string("numerical_cols", None, "Click log: numerical columns (I1-I13).",
                        flag_values=fv)  # fmt: skip
    flags.DEFINE_string("multi_cols", None, "Click log: bag columns with their separator, "
                        "genres:| (several: genres:|,tags:;).", flag_values=fv)  # fmt: skip
    flags.DEFINE_string("drop_cols", None, "Columns to leave out.", flag_values=fv)
    # reczoo.datasets.schema.TRANSFORMS, named here to keep TensorFlow unloaded.
    flags.DEFINE_enum("numerical_transform", "none", ["none", "log1p", "standardize", "bucketize"],
                      "Numerical columns as they are, log(1 + x) (counts), standardized or "
                      "bucketized into 10 quantile bins (both fitted on training rows).",
                      flag_values=fv)  # fmt: skip
    flags.DEFINE_integer("min_count", 1, "Categorical values seen fewer times share id 0.",
                         flag_values=fv)  # fmt: skip
    flags.DEFINE_string("schema", None, "A schema file (JSON) of --data_file's columns, "
                        "instead of the column flags; `reczoo schema infer` writes one.",
                        flag_values=fv)  # fmt: skip
    for stage in ("train", "valid", "test"):
        flags.DEFINE_string(f"{stage}_file", None, f"Your {stage} split (with --train_file and "
                            "--test_file instead of --data_file; protocol fixed_split).",
                            flag_values=fv)  # fmt: skip
    for owner in ("item", "user"):
        flags.DEFINE_string(f"{owner}_table", None, f"A table of {owner} attributes joined on "
                            f"the {owner} column (--sep, --header, --encoding apply to it too).",
                            flag_values=fv)  # fmt: skip
        flags.DEFINE_string(f"{owner}_key", None, f"--{owner}_table's {owner} id column.",
                            flag_values=fv)  # fmt: skip
        flags.DEFINE_string(f"{owner}_cols", None, f"--{owner}_table's categorical columns "
                            "(ranges such as 5-23 accepted).", flag_values=fv)  # fmt: skip
        flags.DEFINE_string(
            f"{owner}_numerical_cols", None, f"--{owner}_table's numerical columns.", flag_values=fv
        )
        flags.DEFINE_string(f"{owner}_multi_cols", None, f"--{owner}_table's bag columns "
                            "(genres:|).", flag_values=fv)  # fmt: skip
        flags.DEFINE_string(
            f"{owner}_drop_cols", None, f"--{owner}_table's columns to leave out.", flag_values=fv
        )


# Flags that declare columns: refused beside --schema, which holds them.
COLUMN_FLAGS = ("label_col", "categorical_cols", "numerical_cols", "multi_cols", "drop_cols",
                "numerical_transform", "min_count", "user_col", "item_col", "rating_col",
                "time_col", "sep", "header", "encoding",
                *(f"{o}_{f}" for o in ("item", "user")
                  for f in ("table", "key", "cols", "numerical_cols", "multi_cols",
                            "drop_cols")))  # fmt: skip


def _data_source(fv):
    """What the data flags name: `"dataset"`, `"data_file"` (interactions
    read as before), `"click_log"`, `"split_files"` or `"table"` (a schema
    or side tables), checked before anything is read."""
    files = [getattr(fv, f"{s}_file") for s in ("train", "valid", "test")]
    if any(files):
        if fv.data_file is not None:
            raise ValueError("Give --data_file, or split files (--train_file, --valid_file, "
                             "--test_file), not both.")  # fmt: skip
        if not (fv.train_file and fv.test_file):
            raise ValueError("Split files need --train_file and --test_file (and optionally "
                             "--valid_file).")  # fmt: skip
        return "split_files"
    if fv.data_file is None:
        return "dataset"
    if fv.schema is not None:
        from reczoo.datasets.schema import Schema

        return "click_log" if Schema.load(fv.schema).kind == "ctr" else "table"
    if fv.label_col is not None:
        return "click_log"
    if fv.item_table or fv.user_table:
        return "table"
    return "data_file"


def _data_file(fv):
    """The dataset the data flags name, and those flags as the reproducing
    command writes them (`{flag: value}`)."""
    from reczoo import datasets
    from reczoo.datasets.schema import Schema, column_list, multi_list

    source = _data_source(fv)
    stages = {s: getattr(fv, f"{s}_file") for s in ("train", "valid", "test")}
    if source == "split_files":
        path, record = {s: p for s, p in stages.items() if p}, {f"{s}_file": p for s, p in
                                                               stages.items()}  # fmt: skip
    else:
        path, record = fv.data_file, {"path": fv.data_file}
    if fv.schema is not None:
        given = [f for f in COLUMN_FLAGS if fv[f].present]
        if given:
            raise ValueError(f"--schema holds the columns and how to read the file; leave out "
                             f"{', '.join('--' + f for f in given)} (or edit the schema).")  # fmt: skip
        record["schema"] = fv.schema
        return datasets.load_table(path, schema=fv.schema), record
    if source == "data_file":
        record.update(user_col=fv.user_col, item_col=fv.item_col, rating_col=fv.rating_col,
                      time_col=fv.time_col, sep=fv.sep, header=fv.header, encoding=fv.encoding)  # fmt: skip
        data = datasets.load_interactions(
            fv.data_file, user=_column(fv.user_col, fv.header),
            item=_column(fv.item_col, fv.header), rating=_column(fv.rating_col, fv.header),
            time=_column(fv.time_col, fv.header), sep=fv.sep, header=fv.header,
            encoding=fv.encoding,
        )  # fmt: skip
        return data, record
    click_log = fv.label_col is not None
    # In a click log the user and item columns are optional features.
    interaction = {f: getattr(fv, f) for f in ("user_col", "item_col", "rating_col", "time_col")
                   if not click_log or fv[f].present}  # fmt: skip
    sides = {}
    for owner in ("item", "user"):
        if getattr(fv, f"{owner}_table"):
            if not getattr(fv, f"{owner}_key"):
                raise ValueError(f"--{owner}_table needs --{owner}_key, its {owner} id column.")
            sides[owner] = {
                "path": getattr(fv, f"{owner}_table"), "key": getattr(fv, f"{owner}_key"),
                "categorical": column_list(getattr(fv, f"{owner}_cols")),
                "numerical": column_list(getattr(fv, f"{owner}_numerical_cols")),
                "multi": multi_list(getattr(fv, f"{owner}_multi_cols"), f"--{owner}_multi_cols"),
                "drop": column_list(getattr(fv, f"{owner}_drop_cols")),
                "numerical_transform": fv.numerical_transform,
            }  # fmt: skip
    schema = Schema.from_options(
        label=fv.label_col, categorical=column_list(fv.categorical_cols),
        numerical=column_list(fv.numerical_cols), multi=multi_list(fv.multi_cols),
        drop=column_list(fv.drop_cols), user=interaction.get("user_col"),
        item=interaction.get("item_col"), rating=interaction.get("rating_col"),
        time=interaction.get("time_col"), min_count=fv.min_count,
        numerical_transform=fv.numerical_transform, sep=fv.sep, header=fv.header,
        encoding=fv.encoding, item_table=sides.get("item"), user_table=sides.get("user"),
    )  # fmt: skip
    for flag in ("label_col", "categorical_cols", "numerical_cols", "multi_cols", "drop_cols",
                 *interaction, "numerical_transform", "min_count"):  # fmt: skip
        record[flag] = getattr(fv, flag)
    for owner in sides:
        for flag in ("table", "key", "cols", "numerical_cols", "multi_cols", "drop_cols"):
            record[f"{owner}_{flag}"] = getattr(fv, f"{owner}_{flag}")
    record.update(sep=fv.sep, header=fv.header, encoding=fv.encoding)
    return datasets.load_table(path, schema=schema), record


def parse_overrides(items):
    """`["k=v", ...]` to a dict, values parsed as JSON when they are JSON.

    A comma-separated list of numbers is a list (`hidden_units=64,32` is
    `[64, 32]`); any other text is a string.
    """
    import json

    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set takes KEY=VALUE. Received: {item!r}")
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError as error:
            if text.lstrip().startswith(("[", "{")):
                raise ValueError(
                    f"--set={item}: the value is not valid JSON ({error.msg} at character "
                    f"{error.pos}); write a list as [64,32] or 64,32."
                ) from None
            out[key] = _number_list(text)
    return out


def _number_list(text):
    import json

    parts = text.split(",")
    if len(parts) > 1:
        try:
            values = [json.loads(p) for p in parts]
        except json.JSONDecodeError:
            return text
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return values
    return text


def _column(value, header):
    """A column flag: a name, or a position when the file has no header."""
    if not header and value is not None and value.isdigit():
        return int(value)
    return value


def _run_train(fv):
    import json

    from reczoo import datasets
    from reczoo.training import RunSettings, default_protocol, execute

    if fv.model is None:
        raise ValueError("--model is required (see `reczoo models`).")
    if sum(x is not None for x in (fv.dataset, fv.data_file or fv.train_file, fv.shards)) != 1:
        raise ValueError("Give exactly one of --dataset=NAME, --data_file=PATH (or split files: "
                         "--train_file, --test_file) or --shards=DIR.")  # fmt: skip
    if fv.cpu_devices is not None and fv.strategy not in ("mirrored", "model_parallel"):
        raise ValueError("--cpu_devices is for --strategy=mirrored or model_parallel.")
    if fv.cpu_devices is not None and fv.cpu_devices < 1:
        raise ValueError(f"--cpu_devices must be 1 or more. Received: {fv.cpu_devices}")
    if fv.mesh is not None and fv.strategy != "model_parallel":
        raise ValueError("--mesh is for --strategy=model_parallel.")
    source = "shards" if fv.shards else _data_source(fv)
    name = fv.dataset or fv.data_file or fv.shards or fv.train_file
    overrides = parse_overrides(fv.set)
    if fv.max_minutes is not None:
        if "max_minutes" in overrides:
            raise ValueError("Give --max_minutes or --set=max_minutes=N, not both.")
        overrides["max_minutes"] = fv.max_minutes
    # Every flag, setting and the output location, before any data is read.
    protocol = fv.protocol or default_protocol(name, source=source, model=fv.model)
    if fv.ratios is not None:
        from reczoo.datasets.protocols import with_ratios

        protocol = with_ratios(protocol, fv.ratios)
    settings = RunSettings.build(
        fv.model, name, protocol,
        overrides, epochs=fv.epochs, recipe=fv.recipe, seed=fv.seed,
        output=fv.output, overwrite=fv.overwrite, strategy=fv.strategy,
    )  # fmt: skip
    strategy = None
    if fv.strategy != "default":
        from reczoo import distribute

        # First thing on TensorFlow's runtime: a strategy made later fails.
        strategy = distribute.get_strategy(fv.strategy, cpu_devices=fv.cpu_devices, mesh=fv.mesh)
    if not fv.quiet:
        _announce(settings)
    data_file = None
    dataset = fv.dataset
    if fv.shards is not None:
        dataset = datasets.open_shards(fv.shards)
    if fv.data_file is not None or fv.train_file is not None:
        dataset, data_file = _data_file(fv)
        for note in getattr(dataset, "notes", ()):
            print(f"reczoo train: note: {note}", file=sys.stderr, flush=True)
    row = execute(
        settings, dataset, verbose=0 if fv.quiet else 1, data_file=data_file,
        checkpoint_dir=fv.checkpoint_dir, strategy=strategy, tensorboard_dir=fv.tensorboard_dir,
    )  # fmt: skip
    if not fv.quiet:
        keys = ("hr@10", "ndcg@10", "mrr@10", "auc", "logloss", "rmse", "mae")
        shown = ", ".join(f"{k}={row['metrics'][k]:.4f}" for k in keys if k in row["metrics"])
        print(f"test {shown}", flush=True)
    # Standard JSON: a metric that could not be computed is null, never NaN.
    print(json.dumps(_finite(dict(row)), allow_nan=False), flush=True)
    return 0


def _announce(settings):
    """Says which recipe, or which defaults, a run will use."""
    from reczoo.training.settings import DEFAULT_MAX_MINUTES, DEFAULT_ROWS_PER_MINUTE

    recipe = settings.recipe
    if recipe is None:
        budget = ""
        if settings.epochs is None and settings.max_minutes is None:
            budget = (
                f" Training stops after {DEFAULT_MAX_MINUTES:g} minutes, or a minute per "
                f"{DEFAULT_ROWS_PER_MINUTE:,} rows if that is more (--max_minutes sets another)."
            )
        print(
            f"No recipe for ({settings.model}, {settings.dataset}, {settings.protocol.name}): "
            f"defaults adapted to the data; `reczoo recipes` lists the recipes.{budget}",
            flush=True,
        )
        return
    given = {"epochs"} if settings.epochs_given is not None else set()
    changed = sorted(set(settings.overrides) | given)
    extra = f", with {', '.join(changed)} overridden" if changed else ""
    print(f"Recipe {recipe.name} ({recipe.source}){extra}.", flush=True)


# --- reczoo recipes ----------------------------------------------------------


def _define_recipes(fv):
    flags.DEFINE_string(
        "pattern", "*", "Wildcard over recipe names, models, datasets and protocols.",
        flag_values=fv,
    )  # fmt: skip


def _run_recipes(fv):
    from reczoo import registry

    names = registry.list_recipes(fv.pattern)
    if not names:
        print(f"No recipe matches {fv.pattern!r}. Recipes: {', '.join(registry.list_recipes())}")
        return 1
    rows = []
    for name in names:
        r = registry.get_recipe(name)
        t = r.training
        procedure = f"batch {t.get('batch_size', 256)}, {t.get('epochs', 20)} epochs"
        rows.append([name, r.model, r.dataset, r.protocol, "yes" if r.default else "no", procedure])
    print(_table(rows, ["name", "model", "dataset", "protocol", "default", "procedure"]))
    return 0


# --- reczoo shards ------------------------------------------------------------


def _define_shards(fv):
    flags.DEFINE_string(
        "input", None, "A click log in Criteo's format (train.txt: label, I1..I13, C1..C26, "
        "tab-separated), or DeepCTR's CSV sample.", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_string(
        "dataset", None, "Or a public CTR dataset to write out with its split.", flag_values=fv
    )
    flags.DEFINE_string("protocol", None, "--dataset's split; default: its own.", flag_values=fv)
    flags.DEFINE_string("output", None, "The new shard folder.", flag_values=fv)
    flags.DEFINE_integer(
        "min_count", 10, "--input: values seen fewer times become id 0.", flag_values=fv
    )
    flags.DEFINE_integer(
        "hash_buckets", None, "--input: hash values into this many ids instead of counting "
        "them (no vocabulary; constant memory).", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_list(
        "ratios", ["0.8", "0.1", "0.1"], "--input: train, validation, test fractions.",
        flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_integer("seed", 0, "Seed of the split.", flag_values=fv)
    flags.DEFINE_integer("rows_per_shard", 1_000_000, "Rows per file.", flag_values=fv)
    flags.DEFINE_integer(
        "block_rows", 65_536, "--input: rows read, converted and written at once (memory "
        "holds a few such blocks).", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_integer("max_rows", None, "--input: read only the first N rows.", flag_values=fv)
    flags.DEFINE_boolean("overwrite", False, "Replace a non-empty --output folder.", flag_values=fv)
    flags.DEFINE_string("schema", None, "--input is your click log (a file, folder or glob of "
                        "parts, CSV or parquet) read under this schema file; without it, "
                        "Criteo's layout.", flag_values=fv)  # fmt: skip
    for stage in ("train", "valid", "test"):
        flags.DEFINE_string(f"{stage}_file", None, f"Your {stage} split (with --schema, in place "
                            "of --input: each row stays in its file's part; vocabularies count "
                            "the training file).", flag_values=fv)  # fmt: skip


def _run_shards(fv):
    import json

    from reczoo import datasets

    if sum(x is not None for x in (fv.input, fv.dataset, fv.train_file)) != 1:
        raise ValueError("Give exactly one of --input=FILE, --dataset=NAME or split files "
                         "(--train_file, --valid_file, --test_file).")  # fmt: skip
    if fv.output is None:
        raise ValueError("--output=DIR is required: the new shard folder.")
    if fv.train_file is not None:
        if fv.schema is None:
            raise ValueError("Split files are read under --schema=FILE (`reczoo schema infer "
                             "--data_file=TRAIN_FILE` writes one).")  # fmt: skip
        given = [f"--{f}" for f in ("ratios", "seed", "min_count", "hash_buckets") if fv[f].present]
        if given:
            raise ValueError(f"Split files keep their parts and --schema their columns; leave "
                             f"out {', '.join(given)}.")  # fmt: skip
        files = {s: fv[f"{s}_file"].value for s in ("train", "valid", "test")}
        data = datasets.convert_table(
            {s: f for s, f in files.items() if f is not None}, fv.output, fv.schema,
            rows_per_shard=fv.rows_per_shard, block_rows=fv.block_rows, max_rows=fv.max_rows,
            name=Path(fv.train_file).stem, overwrite=fv.overwrite,
        )  # fmt: skip
        print(json.dumps({"folder": fv.output, **data.statistics(), **data.conversion}),
              flush=True)  # fmt: skip
        return 0
    if fv.valid_file is not None or fv.test_file is not None:
        raise ValueError("--valid_file and --test_file go with --train_file.")
    if fv.input is not None:
        try:
            ratios = [float(r) for r in fv.ratios]
        except ValueError:
            raise ValueError(
                "--ratios takes three fractions (train, validation, test) such as 0.8,0.1,0.1. "
                f"Received: --ratios={','.join(fv.ratios)}"
            ) from None
        if fv.schema is not None:
            given = [f"--{f}" for f in ("min_count", "hash_buckets") if fv[f].present]
            if given:
                raise ValueError(f"--schema holds each column's min_count or hash_buckets; "
                                 f"leave out {', '.join(given)}.")  # fmt: skip
            data = datasets.convert_table(
                fv.input, fv.output, fv.schema, ratios=ratios, seed=fv.seed,
                rows_per_shard=fv.rows_per_shard, block_rows=fv.block_rows,
                max_rows=fv.max_rows, overwrite=fv.overwrite,
            )  # fmt: skip
            print(json.dumps({"folder": fv.output, **data.statistics(), **data.conversion}),
                  flush=True)  # fmt: skip
            return 0
        data = datasets.convert_criteo(
            fv.input, fv.output, min_count=fv.min_count, hash_buckets=fv.hash_buckets,
            ratios=ratios, seed=fv.seed, rows_per_shard=fv.rows_per_shard,
            max_rows=fv.max_rows, name=Path(fv.input).stem, overwrite=fv.overwrite,
            block_rows=fv.block_rows,
        )  # fmt: skip
    else:
        loaded = datasets.load(fv.dataset)
        protocol = fv.protocol or datasets.dataset_info(fv.dataset).default_protocol
        split = datasets.split(loaded, protocol, seed=fv.seed)
        data = datasets.write_shards(
            loaded, fv.output, split=split, rows_per_shard=fv.rows_per_shard,
            overwrite=fv.overwrite,
        )  # fmt: skip
    conversion = getattr(data, "conversion", {})  # rows/s of a conversion
    print(json.dumps({"folder": fv.output, **data.statistics(), **conversion}), flush=True)
    return 0


# --- reczoo datasets ----------------------------------------------------------


def _define_datasets(fv):
    flags.DEFINE_boolean(
        "stats", True, "Load local datasets to show their statistics.", flag_values=fv
    )


def _run_datasets(fv):
    from reczoo import datasets

    rows, failing = [], []
    for name in datasets.list_datasets():
        info = datasets.dataset_info(name)
        folder = datasets.locate(name)
        stats = ""
        if folder is None:
            stats = "published: " + ", ".join(f"{k}={v:,}" for k, v in info.published.items())
        elif fv.stats and name not in ("criteo", "movielens-20m", "movielens-25m"):
            try:
                found = datasets.statistics(name)
                stats = ", ".join(f"{k}={v}" for k, v in found.items())
            except (datasets.DatasetError, OSError, ValueError) as error:
                # One broken dataset is listed with its reason; the rest still are.
                stats = f"FAILING: {_one_line(error)}"
                failing.append(name)
        rows.append([name, "yes" if folder else "no", info.default_protocol, stats])
    print(_table(rows, ["name", "local", "protocol", "statistics"]))
    if failing:
        print(f"Error: {len(failing)} local dataset(s) failed to load: {', '.join(failing)} "
              "(the reason is in the listing).", file=sys.stderr)  # fmt: skip
        return 1
    return 0


# --- reczoo benchmark ----------------------------------------------------------


def _define_benchmark(fv):
    flags.DEFINE_string(
        "suite",
        "quick",
        "Suite: quick, paper, frappe, finetune, throughput, backends, or ranking (on "
        "your data: --data_file and its columns, or --datasets=NAME).",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "models",
        None,
        "Comma-separated wildcards over entry labels and models (--suite=ranking: over every "
        "model that trains on your data; '*' for all).",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "datasets", None, "Comma-separated datasets (or throughput shapes) to keep.", flag_values=fv
    )
    flags.DEFINE_string(
        "output", "benchmark-results", "Output folder; finished runs there are skipped.",
        flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_string("device", "auto", "auto, cpu or gpu (an error without a GPU).",
                        flag_values=fv)  # fmt: skip
    flags.DEFINE_string(
        "precision",
        "float32",
        "float32, mixed_float16 or mixed_bfloat16 (with --peers: reczoo's side of each pair; "
        "the peer trains in float32).",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "jit", "auto", "XLA: auto (each model's measured default: off on CPU but for the NCF models MF-BPR, GMF, MLP and NeuMF, and DeepFM, DCN-v2, xDeepFM, IPNN, OPNN, AutoInt, AutoInt+ and FinalMLP on CPUs with AVX2 and without AVX-512, in runs of 1,000 steps or more; see reczoo.benchmark.devices), on or off.",
        flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_string("seeds", "0", "Comma-separated seeds; cells report mean ± sd.",
                        flag_values=fv)  # fmt: skip
    flags.DEFINE_boolean(
        "peers", False, "Also run DeepCTR and RecBole side by side (their own environments).",
        flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_boolean("quiet", False, "One line per run, no Keras progress.", flag_values=fv)
    _define_tensorboard(fv, "training runs, one subfolder per run,")
    flags.DEFINE_string("backends", None, "Of a suite that runs its entries under several Keras "
                        "backends (throughput, backends): the ones to keep (tensorflow, jax).",
                        flag_values=fv)  # fmt: skip
    flags.DEFINE_float("max_minutes", None, "Minutes the suite's training runs may take in "
                       "all: each trains for at most its share of the time left (default: the "
                       "suite's own: 9 for quick, none for the others).", flag_values=fv)  # fmt: skip
    _define_data_flags(fv, public=False)
    flags.DEFINE_string("protocol", None, "--suite=ranking: the split of your data; default: "
                        "its own (random_split for a click log; for a model it does not fit, "
                        "one that does).", flag_values=fv)  # fmt: skip


def _run_benchmark(fv, *positional):
    if positional:
        raise ValueError(
            f"unexpected arguments {list(positional)}; did you mean `reczoo benchmark report DIR`?"
        )
    from reczoo.benchmark.suite import run_suite
    from reczoo.training import default_protocol

    data = data_file = protocol = None
    if fv.data_file is not None or fv.train_file is not None:
        source = _data_source(fv)
        data, data_file = _data_file(fv)
        for note in data.notes:
            print(f"reczoo benchmark: note: {note}", file=sys.stderr, flush=True)
        protocol = fv.protocol
        if protocol is None and data.kind == "ctr":
            protocol = default_protocol(data, source=source)
        # Interactions without --protocol: each model under the data's
        # protocol, or one that fits it (a retriever: a split of rows).
    elif fv.protocol is not None:
        protocol = fv.protocol
    run_suite(
        fv.suite, models=fv.models, datasets=fv.datasets, output=fv.output, device=fv.device,
        precision=fv.precision, jit=fv.jit, seeds=fv.seeds, peers=fv.peers, quiet=fv.quiet,
        data=data, data_flags=data_file, protocol=protocol, max_minutes=fv.max_minutes,
        backends=fv.backends, tensorboard_dir=fv.tensorboard_dir,
    )  # fmt: skip
    return 0


def _define_benchmark_report(fv):
    flags.DEFINE_boolean(
        "check", False, "Write nothing; exit 1 if report.md, results.csv or a plot is stale.",
        flag_values=fv,
    )  # fmt: skip


def _run_benchmark_report(fv, folder=None):
    if folder is None:
        raise ValueError("usage: reczoo benchmark report DIR [--check]: DIR is required.")
    from reczoo.benchmark.report import build

    changed = build(folder, check=fv.check)
    verb = "stale" if fv.check else "written"
    for path in changed:
        print(f"{verb}: {path}")
    if not changed:
        print(f"{folder}: report, results.csv and plots are up to date with the rows.")
    return 1 if fv.check and changed else 0


# --- reczoo recommend --------------------------------------------------------


def _define_recommend(fv):
    flags.DEFINE_string(
        "preset", None, "A preset: folder, built-in name or URL (`reczoo train --output`).",
        flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_list(
        "user", None, "User id(s), comma-separated, as in the data (raw ids).", flag_values=fv
    )
    flags.DEFINE_list(
        "history", None, "Instead of --user, for next-item presets: item ids in time order, "
        "comma-separated (raw ids).", flag_values=fv,
    )  # fmt: skip
    flags.DEFINE_integer("k", 10, "How many items per user.", flag_values=fv)
    flags.DEFINE_boolean(
        "exclude_seen", True, "Leave out the items each user had in training.", flag_values=fv
    )
    flags.DEFINE_boolean(
        "json", False, "One JSON line per user instead of a table.", flag_values=fv
    )


def _run_recommend(fv):
    if not fv.preset or bool(fv.user) == bool(fv.history):
        raise ValueError("usage: reczoo recommend --preset=DIR (--user=ID | --history=ITEM,...) "
                         "[--k=10]: --preset and one of --user or --history are required.")  # fmt: skip
    if fv.k < 1:
        raise ValueError(f"--k must be a positive integer. Received: --k={fv.k}")
    from reczoo.models.next_item import NextItem
    from reczoo.presets import from_preset

    task = from_preset(fv.preset, compile=False)
    raw = bool(task.vocabularies)
    if fv.history:
        if not isinstance(task, NextItem):
            raise ValueError(f"--history is for next-item presets; {fv.preset!r} holds a "
                             f"{type(task).__name__}. Use --user.")  # fmt: skip
        history = fv.history if raw else [int(i) for i in fv.history]
        found = task.recommend(histories=[history], k=fv.k, exclude_seen=fv.exclude_seen,
                               raw_ids=raw)  # fmt: skip
        return _print_recommendations(fv, [None], found)
    users = fv.user if raw else [int(u) for u in fv.user]
    if isinstance(task, NextItem):
        found = task.recommend(users=users, k=fv.k, exclude_seen=fv.exclude_seen, raw_ids=raw)
    else:
        found = task.recommend(users, k=fv.k, exclude_seen=fv.exclude_seen, raw_ids=raw)
    return _print_recommendations(fv, users, found)


def _print_recommendations(fv, users, found):
    import json
    import math

    for user, all_items, all_scores in zip(users, found.items, found.scores, strict=True):
        # A user with fewer than --k items left to recommend gets those only
        # (the arrays' padding, scored -inf, is no recommendation).
        kept = [(i, s) for i, s in zip(all_items, all_scores, strict=True) if math.isfinite(s)]
        items, scores = [i for i, _ in kept], [s for _, s in kept]
        if len(kept) < fv.k:
            who = f"user {user}" if user is not None else "the history"
            print(f"Note: {who} has {len(kept)} item(s) left to recommend, fewer than "
                  f"--k={fv.k}.", file=sys.stderr)  # fmt: skip
        if fv.json:
            who = {"user": user} if user is not None else {"history": fv.history}
            print(json.dumps({**who, "items": [str(i) for i in items],
                              "scores": [round(float(s), 6) for s in scores]}))  # fmt: skip
            continue
        print(f"user {user}:" if user is not None else "after the history:")
        rows = [[rank, str(item), f"{score:.4f}"]
                for rank, (item, score) in enumerate(zip(items, scores, strict=True), 1)]  # fmt: skip
        print(_table(rows, ["rank", "item", "score"]))
    return 0


def _define_tensorboard(fv, what="training"):
    flags.DEFINE_string("tensorboard_dir", None, f"Write Keras' TensorBoard logs of the {what} "
                        "here (loss, learning rate, validation metrics of every evaluation): "
                        "`tensorboard --logdir=DIR`.", flag_values=fv)  # fmt: skip


# --- reczoo tune ---------------------------------------------------------------


def _define_tune(fv):
    flags.DEFINE_string("model", None, "Registered model name (see `reczoo models`).",
                        flag_values=fv)  # fmt: skip
    _define_data_flags(fv)
    flags.DEFINE_string("protocol", None, "Split; default: the dataset's own.", flag_values=fv)
    flags.DEFINE_string("recipe", None, "The recipe (name or JSON file) trials start from; "
                        "default: the (model, dataset, protocol) recipe, or the adaptive "
                        "defaults.", flag_values=fv)  # fmt: skip
    flags.DEFINE_integer("trials", 20, "Trials in all, those already in --output included.",
                         flag_values=fv)  # fmt: skip
    flags.DEFINE_float("max_hours", None, "Start no trial after this many hours.", flag_values=fv)
    flags.DEFINE_enum("algorithm", "bayesian", ["bayesian", "hyperband", "random"],
                      "KerasTuner's search: Bayesian optimisation, Hyperband or random.",
                      flag_values=fv)  # fmt: skip
    flags.DEFINE_string("output", None, "The search's folder (a search started again there "
                        "resumes); default: tune-MODEL-DATASET.", flag_values=fv)  # fmt: skip
    flags.DEFINE_integer("seed", 0, "Seed of the split, every trial and the tuner.", flag_values=fv)
    flags.DEFINE_boolean("quiet", False, "Print only the final row.", flag_values=fv)
    _define_tensorboard(fv, "trials, one subfolder per trial,")


def _run_tune(fv):
    import json

    from reczoo.training import default_protocol
    from reczoo.training.tuning import tune

    if fv.model is None:
        raise ValueError("--model is required (see `reczoo models`).")
    if (fv.dataset is None) == (fv.data_file is None and fv.train_file is None):
        raise ValueError("Give exactly one of --dataset=NAME or --data_file=PATH.")
    source = _data_source(fv)
    data, data_file = (fv.dataset, None) if source == "dataset" else _data_file(fv)
    name = fv.dataset or Path(fv.data_file or fv.train_file).stem
    protocol = fv.protocol or default_protocol(data, source=source, model=fv.model)
    output = fv.output or f"tune-{fv.model}-{name}"
    found = tune(
        fv.model, data, protocol=protocol, recipe=fv.recipe, trials=fv.trials,
        max_hours=fv.max_hours, algorithm=fv.algorithm, output=output, seed=fv.seed,
        verbose=0 if fv.quiet else 1, data_file=data_file, tensorboard_dir=fv.tensorboard_dir,
    )  # fmt: skip
    if not fv.quiet:
        metric = found.best["monitor"]
        print(f"Best of {len(found.trials)} trials: trial {found.best['trial']}, valid {metric} "
              f"{found.best['valid_metrics'][metric]:.4f}. Recipe: {found.recipe_file} "
              f"(reczoo train --recipe={found.recipe_file} ...); report: "
              f"{found.folder / 'report.md'}.", flush=True)  # fmt: skip
    print(json.dumps(_finite(dict(found.final)), allow_nan=False, default=str), flush=True)
    return 0


# --- reczoo export -----------------------------------------------------------


def _define_export(fv):
    flags.DEFINE_string(
        "preset",
        None,
        "A trained model's preset (a ranker, a next-item model or a retriever): folder, "
        "built-in name or URL.",
        flag_values=fv,
    )
    flags.DEFINE_string("output", None, "A new folder for the SavedModel.", flag_values=fv)
    flags.DEFINE_integer("k", 100, "How many items each query of a next-item model or a "
                         "retriever gets.", flag_values=fv)  # fmt: skip
    flags.DEFINE_enum("format", "savedmodel", ["savedmodel", "keras"], "savedmodel: a "
                      "TensorFlow SavedModel that serves with TensorFlow alone; keras: "
                      "model.keras and vocabularies.json, for Keras users.", flag_values=fv)  # fmt: skip
    flags.DEFINE_boolean("overwrite", False, "Replace a non-empty --output folder.", flag_values=fv)


def _run_export(fv):
    if not fv.preset or not fv.output:
        raise ValueError("usage: reczoo export --preset=DIR --output=DIR [--k=100]: "
                         "--preset and --output are required.")  # fmt: skip
    if fv.k < 1:
        raise ValueError(f"--k must be a positive integer. Received: --k={fv.k}")
    import json
    from pathlib import Path

    from reczoo.exporting import export

    path = export(fv.preset, fv.output, k=fv.k, overwrite=fv.overwrite, format=fv.format)
    described = json.loads((Path(path) / "reczoo_export.json").read_text())
    print(_exported(path, described, fv.k))
    return 0


def _exported(path, described, asked):
    """What `reczoo export` wrote, in one line (a note on stderr where --k
    was more than the catalogue)."""
    kind = described["kind"]
    if kind == "keras":
        return (f"Keras archive written to {path}: model.keras (load it with "
                "keras.saving.load_model after `import reczoo`) and vocabularies.json.")  # fmt: skip
    (name, signature), *others = described["signatures"].items()
    inputs = ", ".join(signature["inputs"])
    if kind == "ranker":
        return (f"SavedModel written to {path}: signature {name}({inputs}) (serving_default), raw "
                "values in, the model's score out.")  # fmt: skip
    k = described["k"]
    if k < asked:
        print(f"Note: --k={asked} is more than the catalogue's {k} items: each query gets "
              f"all {k}.", file=sys.stderr)  # fmt: skip
    also = "".join(f" and {n}({', '.join(s['inputs'])})" for n, s in others if "inputs" in s)
    return (
        f"SavedModel written to {path}: signatures {name}({inputs}) (serving_default)"
        f"{also}, top {k} raw item ids and scores."
    )


# --- reczoo predict ------------------------------------------------------------


def _define_predict(fv):
    flags.DEFINE_string("preset", None, "A preset trained on a click log (`reczoo train "
                        "--label_col=... --output=DIR`).", flag_values=fv)  # fmt: skip
    flags.DEFINE_string("data_file", None, "The rows to score (a file, folder or glob of parts, "
                        "CSV or parquet), read as the preset's training rows were; the label "
                        "column may be absent.", flag_values=fv)  # fmt: skip
    flags.DEFINE_string("output", None, "Write a CSV here (a new file): --keep_cols, then "
                        "score; default: print it.", flag_values=fv)  # fmt: skip
    flags.DEFINE_string("keep_cols", None, "Columns of the rows to copy beside each score "
                        "(an id, say).", flag_values=fv)  # fmt: skip


def _run_predict(fv):
    import csv
    import io
    import json

    from reczoo.datasets.schema import column_list
    from reczoo.datasets.tables import read_columns
    from reczoo.training.scoring import predict

    if not fv.preset or not fv.data_file:
        raise ValueError("usage: reczoo predict --preset=DIR --data_file=PATH "
                         "[--output=scores.csv] [--keep_cols=id]")  # fmt: skip
    output = Path(fv.output) if fv.output else None
    if output is not None and output.exists():
        raise FileExistsError(f"{output} exists; reczoo leaves it as it is. Give another "
                              "--output, or remove it first.")  # fmt: skip
    found = predict(fv.preset, fv.data_file)
    keep = column_list(fv.keep_cols)
    kept = []
    if keep:
        table = found.data.schema.table
        names, columns, _, _ = read_columns(fv.data_file, table.sep, table.header, table.encoding)
        missing = [c for c in keep if c not in names]
        if missing:
            raise ValueError(f"--keep_cols: {fv.data_file} has no column {missing}. "
                             f"Columns found: {names}")  # fmt: skip
        kept = [columns[names.index(c)] for c in keep]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*keep, "score"])
    for row, score in enumerate(found.scores.tolist()):
        writer.writerow([*(c[row] for c in kept), f"{score:.6g}"])
    if output is None:
        print(buffer.getvalue(), end="", flush=True)
    else:
        with open(output, "x", encoding="utf-8") as f:  # never over a file of yours
            f.write(buffer.getvalue())
    summary = {"rows": len(found.scores), "metrics": found.metrics,
               "unknown_values": found.unknown, "output": fv.output}  # fmt: skip
    print(json.dumps(_finite(summary), allow_nan=False), file=sys.stderr if output is None
          else sys.stdout, flush=True)  # fmt: skip
    return 0


# --- reczoo schema infer ---------------------------------------------------------


def _define_schema_infer(fv):
    flags.DEFINE_string("data_file", None, "The file (or folder, glob, parquet) to look at.",
                        flag_values=fv)  # fmt: skip
    flags.DEFINE_string("sep", None, "Its separator; sniffed when unset.", flag_values=fv)
    flags.DEFINE_boolean("header", True, "Its first line names the columns.", flag_values=fv)
    flags.DEFINE_string("encoding", "utf-8", "Its text encoding.", flag_values=fv)
    flags.DEFINE_string("output", None, "Write the schema here (a new file) instead of "
                        "printing it.", flag_values=fv)  # fmt: skip


def _run_schema_infer(fv):
    import json

    from reczoo.datasets.schema import infer

    if not fv.data_file:
        raise ValueError("usage: reczoo schema infer --data_file=PATH [--output=schema.json]")
    config = infer(fv.data_file, sep=fv.sep, header=fv.header, encoding=fv.encoding)
    text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if fv.output is None:
        print(text, end="", flush=True)
        return 0
    output = Path(fv.output)
    try:
        with open(output, "x", encoding="utf-8") as f:  # never over a file of yours
            f.write(text)
    except FileExistsError:
        raise FileExistsError(f"{output} exists; reczoo leaves it as it is. Give another "
                              "--output, or remove it first.") from None  # fmt: skip
    roles = [c["role"] for c in config["columns"].values()]
    counted = ", ".join(f"{roles.count(r)} {r}" for r in dict.fromkeys(roles))
    print(f"Schema of {fv.data_file} written to {output}: {counted}. Read it, edit it, then "
          f"train with --data_file={fv.data_file} --schema={output}.", flush=True)  # fmt: skip
    return 0


COMMANDS = {
    "train": Command(
        "train", "Train and evaluate a model; print a JSON result row.", _define_train, _run_train
    ),
    "tune": Command(
        "tune",
        "Search a model's settings on the validation split (KerasTuner), retrain the best.",
        _define_tune,
        _run_tune,
    ),
    "shards": Command(
        "shards",
        "Write a click log (or a CTR dataset) into TFRecord shards to train on.",
        _define_shards,
        _run_shards,
    ),
    "datasets": Command(
        "datasets",
        "List known datasets, whether present, statistics.",
        _define_datasets,
        _run_datasets,
    ),
    "models": Command("models", "List registered models.", _define_models, _run_models),
    "recipes": Command(
        "recipes",
        "List recipes: the settings behind published rows.",
        _define_recipes,
        _run_recipes,
    ),
    "presets": Command(
        "presets", "List built-in pretrained presets.", _define_presets, _run_presets
    ),
    "zoo": Command(
        "zoo",
        "Build the built-in presets from their recipes, or score them again.",
        _define_zoo,
        _run_zoo,
        positional="build|evaluate|index NAME ...",
    ),
    "finetune": Command(
        "finetune",
        "Fine-tune a preset on new data (new users and items get new rows).",
        _define_finetune,
        _run_finetune,
    ),
    "recommend": Command(
        "recommend",
        "Top-k items for users from a preset (raw ids in and out).",
        _define_recommend,
        _run_recommend,
    ),
    "export": Command(
        "export",
        "Write a preset as a TensorFlow SavedModel (or a .keras archive) that answers raw "
        "values: a ranker's scores, or a next-item model's or retriever's top-k raw ids.",
        _define_export,
        _run_export,
    ),
    "benchmark": Command(
        "benchmark",
        "Run a benchmark suite into a folder: rows, report, plots (resumable).",
        _define_benchmark,
        _run_benchmark,
        positional="ARGS",
    ),
    "predict": Command(
        "predict",
        "Score new rows of a click log with a preset trained on one (raw values in).",
        _define_predict,
        _run_predict,
    ),
    "schema infer": Command(
        "schema infer",
        "Print (or write) a schema guessed from a data file, for you to edit.",
        _define_schema_infer,
        _run_schema_infer,
    ),
    "benchmark report": Command(
        "benchmark report",
        "Rebuild report.md, results.csv and plots of a benchmark folder from its rows.",
        _define_benchmark_report,
        _run_benchmark_report,
        positional="DIR",
    ),
}


def _usage():
    width = max(len(n) for n in COMMANDS)
    lines = [
        "usage: reczoo SUBCOMMAND [--flag=value ...]",
        "",
        "A Keras 3 model zoo for recommender systems.",
        "",
        "subcommands:",
    ]
    lines += [f"  {c.name.ljust(width)}  {c.summary}" for c in COMMANDS.values()]
    lines += ["", "Run 'reczoo SUBCOMMAND --help' for a subcommand's flags."]
    return "\n".join(lines)


def _command_help(command, fv):
    text = fv.get_help(include_special_flags=False).strip()
    body = text if text else "  (no flags)"
    return f"usage: reczoo {command.name} [--flag=value ...]\n\n{command.summary}\n\nflags:\n{body}"


def command_flags(name):
    """The flags of subcommand `name`, defined in a new `FlagValues` (the
    command line's parser, and the CLI reference's source)."""
    fv = flags.FlagValues()
    COMMANDS[name].define(fv)
    if name in KERAS_COMMANDS:
        flags.DEFINE_enum(
            "backend", None, BACKENDS, "Keras backend to run on (default: KERAS_BACKEND, else "
            "tensorflow); jax needs `pip install \"keras-reczoo[jax]\"`.", flag_values=fv,
        )  # fmt: skip
    return fv


def main(argv):
    """Runs the command line `argv` (program name first); returns the exit code."""
    args = list(argv[1:])
    if not args:
        print(_usage(), file=sys.stderr)
        return USAGE_EXIT
    if args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name = args.pop(0)
    if (name, args[0] if args else None) in (("benchmark", "report"), ("schema", "infer")):
        name = f"{name} {args.pop(0)}"
    command = COMMANDS.get(name)
    if command is None:
        print(f"reczoo: unknown subcommand {name!r}\n\n{_usage()}", file=sys.stderr)
        return USAGE_EXIT
    fv = command_flags(name)
    if any(a in ("-h", "--help", "-help") for a in args):
        print(_command_help(command, fv))
        return 0
    try:
        rest = fv([f"reczoo {name}", *args])
    except flags.Error as e:
        print(f"reczoo {name}: {e}\n\n{_command_help(command, fv)}", file=sys.stderr)
        return USAGE_EXIT
    if len(rest) > 1 and not command.positional:
        print(
            f"reczoo {name}: unexpected arguments {rest[1:]}\n\n{_command_help(command, fv)}",
            file=sys.stderr,
        )
        return USAGE_EXIT
    # Log through absl without its "logging before flag parsing" warning.
    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()
    absl_logging.set_verbosity(absl_logging.INFO)
    previous = signal.signal(signal.SIGTERM, _terminate)
    if name in KERAS_COMMANDS:
        from reczoo.terminal import import_tensorflow

        try:
            use_backend(fv.backend)
        except ValueError as e:
            print(f"reczoo {name}: error: {e}", file=sys.stderr)
            return USAGE_EXIT
        import_tensorflow()
    try:
        return command.run(fv, *rest[1:]) or 0
    except KeyboardInterrupt:
        print(f"reczoo {name}: interrupted; nothing half-written was left behind.", file=sys.stderr)
        return 130
    except Exception as e:  # every error is one line that names the problem
        if os.environ.get("RECZOO_TRACEBACK"):
            raise
        print(f"reczoo {name}: error: {_one_line(e)}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)


# The commands that run Keras, and take --backend.
KERAS_COMMANDS = (
    "train", "benchmark", "recommend", "export", "zoo", "finetune", "predict", "tune",
)  # fmt: skip
BACKENDS = ("tensorflow", "jax")


def use_backend(backend):
    """Makes this process's Keras run on `backend` (None: leave it to
    KERAS_BACKEND). Keras reads its backend once, when first imported."""
    if backend is None:
        return
    import importlib.util

    loaded = sys.modules.get("keras")
    if loaded is not None:
        current = loaded.backend.backend()
        if current != backend:
            raise ValueError(
                f"--backend={backend}: Keras is already running on {current!r} in this "
                f"process; start a new one with KERAS_BACKEND={backend}."
            )
        return
    if importlib.util.find_spec(backend) is None:
        raise ValueError(
            f"--backend={backend}: {backend} is not installed "
            f'(pip install "keras-reczoo[{backend}]").'
        )
    os.environ["KERAS_BACKEND"] = backend


def _terminate(signum, frame):
    # SIGTERM unwinds like Ctrl-C, so a preset being written is removed.
    raise KeyboardInterrupt


def _one_line(error):
    """The error's message on one line, with its type where the message alone
    would not say what went wrong (a bare KeyError, IndexError, ...)."""
    text = " ".join(str(error).split()) or repr(error)
    known = (ValueError, FileNotFoundError, FileExistsError, TypeError, PermissionError)
    if isinstance(error, known) and not isinstance(error, KeyError):
        return text
    return f"{type(error).__name__}: {text} (set RECZOO_TRACEBACK=1 for the traceback)"


def run_main():
    """Console-script entry point."""
    sys.exit(main(sys.argv))


if __name__ == "__main__":
    run_main()
