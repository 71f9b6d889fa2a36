"""The data-science guard: how well a plain model does on a fabtwin dataset.

Trains scikit-learn's HistGradientBoostingClassifier with its default settings on
the per-row feature columns alone (no machine id, no engineered features) of the
training runs, and scores it on the test runs, as the dataset card splits them.
Prints one JSON object: F1 of faulty (health != healthy) against healthy rows,
macro F1 over fault modes on the faulty rows, and the row counts.

    python3 tests/python/guard_model.py DATASET_DIR
"""

import json
import sys

import numpy as np
import pyarrow.dataset as ds
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score

FEATURES = [
    "speed_rpm",
    "load",
    "ambient_c",
    "velocity_mm_s",
    "kurtosis",
    "rms_g",
    "peak_g",
    "crest",
    "hf_band_g2",
    "temperature_c",
]
ZONES = {"A": 0.0, "B": 1.0, "C": 2.0, "D": 3.0}


def matrix(table):
    cols = [
        np.array([np.nan if v is None else v for v in table.column(c).to_pylist()], dtype=float)
        for c in FEATURES
    ]
    zone = [ZONES.get(z, np.nan) for z in table.column("iso_zone").to_pylist()]
    return np.column_stack(cols + [np.array(zone, dtype=float)])


def main(root):
    card = json.load(open(f"{root}/dataset.json"))
    data = ds.dataset(f"{root}/features", format="parquet", partitioning="hive")
    train_runs = [int(r) for r in card["split"]["train"]]
    test_runs = [int(r) for r in card["split"]["test"]]
    table = data.to_table()
    runs = np.array([int(r) for r in table.column("run").to_pylist()])
    x = matrix(table)
    health = np.array(table.column("health").to_pylist())
    mode = np.array(table.column("fault_mode").to_pylist())
    faulty = health != "healthy"
    train = np.isin(runs, train_runs)
    test = np.isin(runs, test_runs)

    model = HistGradientBoostingClassifier(random_state=0)
    model.fit(x[train], faulty[train])
    f1 = f1_score(faulty[test], model.predict(x[test]))

    modes = HistGradientBoostingClassifier(random_state=0)
    tr, te = train & faulty, test & faulty
    modes.fit(x[tr], mode[tr])
    mode_f1 = f1_score(mode[te], modes.predict(x[te]), average="macro")

    print(json.dumps({
        "f1_faulty": round(float(f1), 4),
        "macro_f1_mode": round(float(mode_f1), 4),
        "rows_train": int(train.sum()),
        "rows_test": int(test.sum()),
        "faulty_share_test": round(float(faulty[test].mean()), 4),
        "modes_test": sorted(set(mode[te].tolist())),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
