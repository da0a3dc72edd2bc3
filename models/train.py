"""Trains the demo's three player models on synthetic players and exports them for MCMS's registry.

    python models/train.py [OUT_DIR]      # default: models/ beside this script

Needs the packages in models/requirements.txt (PyPI: `python3 -m venv V && V/bin/pip install -r
models/requirements.txt`); onnxruntime, if present, checks each export against scikit-learn. The
players are generated here with a fixed seed, so those versions give the same files byte for byte on
one machine; on another CPU the logistic regressions' coefficients can differ in their last bits
(seen once: the committed files were kept, and only the signatures' training distributions taken). For each model it writes, under OUT_DIR/NAME/:

- model.onnx       the scikit-learn pipeline exported by skl2onnx, in the form tract runs: logistic
                   regressions without ZipMap (probabilities as a plain tensor), scalers as `Div`;
- signature.yaml   what the registry reads beside the graph: the task, each feature with its type and
                   allowed range or categories (in the graph's input order), what the outputs mean, the
                   training metrics, where the training data came from, how the held-out predictions
                   spread over the score bins (the drift chart's reference), and an example instance;
- fixture.json     inputs with scikit-learn's own outputs, which tract must reproduce to 1e-5.

The models:
- first_purchase  binary: will a player who has not paid make a first purchase in the next 14 days?
- churn           binary: will a player not return in the next 14 days?
- segment         k-means, 4 clusters: casual, engaged, spender, lapsing (named after the centres).
"""
import json
import os
import sys

import numpy as np
import yaml
from skl2onnx import to_onnx
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score, silhouette_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 20261204
PLAYERS = 20_000
FIXTURE_ROWS = 64

# Each feature: name, type, allowed range (or categories), description. The graph takes them as one
# float tensor in this order; a category is sent as its index in `categories`.
FEATURES = [
    ("days_since_install", "integer", (0, 3650), None, "days since the player installed the game"),
    ("days_since_last_session", "integer", (0, 3650), None, "days since the player's last session"),
    ("sessions_7d", "integer", (0, 500), None, "sessions in the last 7 days"),
    ("minutes_7d", "float", (0.0, 10080.0), None, "minutes played in the last 7 days"),
    ("level", "integer", (1, 200), None, "the player's level"),
    ("purchases_28d", "integer", (0, 1000), None, "purchases in the last 28 days"),
    ("spend_28d_krw", "float", (0.0, 100_000_000.0), None, "spend in the last 28 days, KRW"),
    ("platform", "category", None, ["android", "ios"], "the player's platform"),
]


def players(rng):
    n = PLAYERS
    install = rng.integers(1, 366, n)
    last = np.minimum(install, rng.exponential(6.0, n).astype(int))
    active = np.exp(-last / 7.0)
    sessions = rng.poisson(1 + 20 * active * rng.gamma(2.0, 0.5, n))
    minutes = np.round(sessions * rng.gamma(3.0, 6.0, n), 1)
    level = np.clip((np.sqrt(install) * 3 + sessions * 0.8 + rng.normal(0, 5, n)).astype(int), 1, 200)
    payer = rng.random(n) < 0.12 + 0.2 * active
    purchases = np.where(payer, rng.poisson(2.0, n), 0)
    spend = np.where(purchases > 0, np.round(purchases * rng.gamma(2.0, 9000.0, n), 0), 0.0)
    platform = (rng.random(n) < 0.45).astype(int)
    x = np.column_stack([install, last, sessions, minutes, level, purchases, spend, platform]).astype(np.float32)

    def chance(z):
        return 1 / (1 + np.exp(-z))

    first = chance(-2.2 + 0.09 * sessions + 0.004 * minutes + 0.02 * level - 0.004 * install + 0.3 * platform)
    will_pay = (rng.random(n) < first) & (purchases == 0)
    leave = chance(-1.5 + 0.35 * last - 0.12 * sessions - 0.01 * level - 0.4 * (purchases > 0))
    will_leave = rng.random(n) < leave
    return x, will_pay.astype(int), will_leave.astype(int)


def signature(name, task, outputs, metrics, distribution, example, description):
    features = []
    for fname, ftype, bounds, categories, about in FEATURES:
        f = {"name": fname, "type": ftype, "description": about}
        if bounds is not None:
            f["min"], f["max"] = bounds
        if categories is not None:
            f["categories"] = categories
        features.append(f)
    return {
        "model": name,
        "task": task,
        "description": description,
        "input": {"name": "features", "features": features},
        "outputs": outputs,
        "metrics": metrics,
        "training_data": {
            "source": "models/train.py (synthetic players)",
            "seed": SEED,
            "rows": PLAYERS,
        },
        "training_distribution": {"shares": distribution},
        # The model reads float32: written as float32's shortest form (20.9, not 20.899999618530273),
        # the same number to the model and readable in the "try it" form.
        "example": {k: float(str(np.float32(v))) if isinstance(v, float) else v for k, v in example.items()},
    }


def shares(counts):
    """Each bin's share of the held-out predictions, rounded (they still add up to 1 within 0.01)."""
    counts = np.asarray(counts, dtype=np.float64)
    return [round(float(c), 4) for c in counts / counts.sum()]


def instance(row):
    out = {}
    for value, (fname, ftype, _, categories, _) in zip(row, FEATURES):
        if ftype == "category":
            out[fname] = categories[int(value)]
        elif ftype == "integer":
            out[fname] = int(value)
        else:
            out[fname] = float(value)
    return out


def export(pipeline, x, options, out_dir, name, sig, fixture):
    onx = to_onnx(pipeline, x[:1], options=options, target_opset=17)
    # The graph's one input is named as the signature says.
    onx.graph.input[0].name = "features"
    for node in onx.graph.node:
        node.input[:] = ["features" if i == "X" else i for i in node.input]
    # skl2onnx lists the opsets in a set's order, which changes from one Python process to the next.
    imports = sorted(onx.opset_import, key=lambda o: o.domain)
    del onx.opset_import[:]
    onx.opset_import.extend(imports)
    os.makedirs(os.path.join(out_dir, name), exist_ok=True)
    with open(os.path.join(out_dir, name, "model.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    with open(os.path.join(out_dir, name, "signature.yaml"), "w") as f:
        f.write(f"# Written by models/train.py: the {name} model's signature, read by MCMS's registry.\n")
        yaml.safe_dump(sig, f, sort_keys=False, allow_unicode=True)
    with open(os.path.join(out_dir, name, "fixture.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    try:
        import onnxruntime as ort

        session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
        got = session.run(None, {"features": np.array(fixture["inputs"], dtype=np.float32)})
        print(f"{name}: onnxruntime agrees with scikit-learn to {check(got, fixture):.2e}")
    except ImportError:
        pass


def check(got, fixture):
    """The largest difference between onnxruntime's outputs and scikit-learn's."""
    worst = 0.0
    for key, values in fixture["expected"].items():
        index = {"label": 0}.get(key, 1)
        worst = max(worst, float(np.max(np.abs(np.array(got[index], dtype=np.float64) - np.array(values)))))
    return worst


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(SEED)
    x, will_pay, will_leave = players(rng)
    # Only players who have not paid can make a first purchase.
    never_paid = x[:, 5] == 0

    binary_options = {LogisticRegression: {"zipmap": False}, StandardScaler: {"div": "div"}}
    for name, xs, y, about in [
        ("first_purchase", x[never_paid], will_pay[never_paid],
         "Chance that a player who has never paid makes a first purchase in the next 14 days."),
        ("churn", x, will_leave, "Chance that a player does not come back in the next 14 days."),
    ]:
        train_x, test_x, train_y, test_y = train_test_split(xs, y, test_size=0.25, random_state=SEED)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(train_x, train_y)
        p = model.predict_proba(test_x)
        metrics = {
            "auc": round(float(roc_auc_score(test_y, p[:, 1])), 4),
            "log_loss": round(float(log_loss(test_y, p)), 4),
            "positive_rate": round(float(np.mean(y)), 4),
            "test_rows": int(len(test_y)),
        }
        fx = test_x[:FIXTURE_ROWS]
        fixture = {
            "inputs": fx.tolist(),
            "expected": {"label": model.predict(fx).tolist(), "probabilities": model.predict_proba(fx).tolist()},
        }
        outputs = {
            "label": {"output": "label", "classes": ["no", "yes"]},
            "probabilities": {"output": "probabilities", "positive": 1},
        }
        # The drift chart's reference: the held-out players' positive probability in tenths.
        distribution = shares(np.histogram(p[:, 1], bins=10, range=(0.0, 1.0))[0])
        sig = signature(name, "binary_classification", outputs, metrics, distribution, instance(fx[0]), about)
        export(model, train_x, binary_options, out_dir, name, sig, fixture)
        print(f"{name}: {metrics}")

    # Segments: k-means on the scaled features, its clusters named after their centres.
    train_x, test_x = train_test_split(x, test_size=0.25, random_state=SEED)
    model = make_pipeline(StandardScaler(), KMeans(n_clusters=4, n_init=10, random_state=SEED))
    model.fit(train_x)
    centres = model[0].inverse_transform(model[1].cluster_centers_)
    names = segment_names(centres)
    sample = test_x[:2000]
    metrics = {
        "silhouette": round(float(silhouette_score(model[0].transform(sample), model.predict(sample))), 4),
        "inertia": round(float(model[1].inertia_), 1),
        "test_rows": int(len(sample)),
    }
    fx = test_x[:FIXTURE_ROWS]
    fixture = {"inputs": fx.tolist(), "expected": {"label": model.predict(fx).tolist(), "scores": model.transform(fx).tolist()}}
    outputs = {
        "label": {"output": "label", "classes": names},
        "scores": {"output": "scores", "meaning": "distance to each cluster's centre, in scaled units"},
    }
    distribution = shares(np.bincount(model.predict(test_x), minlength=4))
    sig = signature("segment", "clustering", outputs, metrics, distribution, instance(fx[0]),
                    "The player's segment: the nearest of four cluster centres.")
    export(model, train_x, {StandardScaler: {"div": "div"}}, out_dir, "segment", sig, fixture)
    print(f"segment: {metrics} {names}")


def segment_names(centres):
    """casual, engaged, spender, lapsing: each name given to the cluster its centre fits best."""
    last, sessions, spend = centres[:, 1], centres[:, 2], centres[:, 6]
    names = [None] * len(centres)
    order = [("spender", np.argsort(-spend)), ("lapsing", np.argsort(-last)), ("engaged", np.argsort(-sessions))]
    for label, ranked in order:
        i = next(int(i) for i in ranked if names[int(i)] is None)
        names[i] = label
    return [n or "casual" for n in names]


if __name__ == "__main__":
    main()
