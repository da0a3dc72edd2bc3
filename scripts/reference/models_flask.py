"""The model-serving benchmark's reference: the demo's models served the way the data team would
without MCMS, with Flask + pydantic + onnxruntime (under gunicorn), answering the same request and
response shapes as MCMS's POST /api/v1/models/{name}/predict, with the same checks (a bearer key
looked up by SHA-256, every feature present, typed and in range, at most 1,000 instances).

    MODELS_DIR=models REF_KEY=secret gunicorn -w 4 -b 127.0.0.1:8002 --chdir scripts/reference models_flask:app

Not part of the product: scripts/bench-models.sh runs it beside MCMS's release build.
"""
import hashlib
import hmac
import os
from typing import Literal, Optional

import numpy as np
import onnxruntime as ort
import yaml
from flask import Flask, jsonify, request
from pydantic import Field, ValidationError, conlist, create_model

MODELS_DIR = os.environ.get("MODELS_DIR", "models")
KEY_HASH = hashlib.sha256(os.environ.get("REF_KEY", "secret").encode()).hexdigest()

app = Flask(__name__)


def instance_model(name, features):
    fields = {}
    for f in features:
        if f["type"] == "category":
            fields[f["name"]] = (Literal[tuple(f["categories"])], ...)
        elif f["type"] == "integer":
            fields[f["name"]] = (int, Field(..., ge=f.get("min"), le=f.get("max"), strict=True))
        elif f["type"] == "boolean":
            fields[f["name"]] = (bool, ...)
        else:
            fields[f["name"]] = (float, Field(..., ge=f.get("min"), le=f.get("max"), allow_inf_nan=False))
    instance = create_model(f"{name}_instance", __config__={"extra": "forbid"}, **fields)
    return create_model(f"{name}_request", __config__={"extra": "forbid"},
                        instances=(conlist(instance, min_length=1, max_length=1000), ...),
                        sticky_id=(Optional[str], None))


MODELS = {}
for name in sorted(os.listdir(MODELS_DIR)):
    folder = os.path.join(MODELS_DIR, name)
    if not os.path.exists(os.path.join(folder, "model.onnx")):
        continue
    with open(os.path.join(folder, "signature.yaml")) as f:
        sig = yaml.safe_load(f)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"), options, providers=["CPUExecutionProvider"])
    MODELS[name] = (sig, session, instance_model(name, sig["input"]["features"]))


def authorized():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(hashlib.sha256(header[7:].encode()).hexdigest(), KEY_HASH)


@app.post("/api/v1/models/<name>/predict")
def predict(name):
    if not authorized():
        return jsonify(title="Not authenticated"), 401
    if name not in MODELS:
        return jsonify(title="Not found"), 404
    sig, session, Request = MODELS[name]
    try:
        req = Request.model_validate_json(request.get_data())
    except ValidationError as e:
        return jsonify(title="Invalid request", errors=e.errors(include_url=False, include_context=False)), 400
    features = sig["input"]["features"]
    rows = np.empty((len(req.instances), len(features)), dtype=np.float32)
    for i, inst in enumerate(req.instances):
        for j, f in enumerate(features):
            v = getattr(inst, f["name"])
            rows[i, j] = f["categories"].index(v) if f["type"] == "category" else float(v)
    outputs = sig["outputs"]
    wanted = [o["output"] for o in outputs.values()]
    answers = dict(zip(wanted, session.run(wanted, {sig["input"]["name"]: rows})))
    classes = outputs.get("label", {}).get("classes", [])
    predictions = []
    labels = answers[outputs["label"]["output"]]
    for i in range(len(rows)):
        p = {"label": classes[int(labels[i])], "class": int(labels[i])}
        if "probabilities" in outputs:
            probs = answers[outputs["probabilities"]["output"]][i]
            p["probability"] = float(probs[outputs["probabilities"].get("positive", 1)])
            p["probabilities"] = {c: float(x) for c, x in zip(classes, probs)}
        if "scores" in outputs:
            p["scores"] = {c: float(x) for c, x in zip(classes, answers[outputs["scores"]["output"]][i])}
        predictions.append(p)
    return jsonify(model=name, version=1, stage="production", predictions=predictions)
