#!/usr/bin/env python3
"""Writes server/data/poc-demo-runs.csv, the demo PoC's runs (`mcms serve --demo` loads it).

The runs are synthetic: a small load model shaped by the vendors' published guidance (cited in
the file's header), with seeded noise, so the demo reports look like a real PoC without claiming
to be one. Run it again to regenerate the same file.
"""
import math, random, sys

random.seed(20261126)
GB = 1024 ** 3
RAW_BYTES = 100 * GB        # the table: about 600 M rows of TPC-H lineitem-like data
ROWS = 600_000_000
RATIO = {"csv/gzip": 0.30, "csv/none": 1.0, "parquet/snappy": 0.25, "json/gzip": 0.35}
# Sustained load rate in raw MB/s per file reader, and readers in parallel.
SYSTEMS = {
    "redshift": {"readers": 16, "per_reader": {"csv": 16.0, "parquet": 22.0, "json": 6.0}, "usd_per_hour": 13.04},
    "snowflake": {"readers": 64, "per_reader": {"csv": 5.5, "parquet": 4.0, "json": 3.5}, "usd_per_hour": 24.00},
}
SIZES_MB = [1, 16, 128, 250, 1024, 10240]
lines = []

def batch_run(system, fmt, comp, size_mb, day, attempt):
    s = SYSTEMS[system]
    total = int(RAW_BYTES * RATIO[f"{fmt}/{comp}"])
    files = max(1, math.ceil(total / (size_mb * 1024 * 1024)))
    # Redshift splits across slices: idle slices when files are fewer than slices or not a multiple.
    readers = min(files, s["readers"])
    waves = math.ceil(files / s["readers"])
    per_file_overhead = 0.35 if system == "snowflake" else 0.9
    raw_mb_per_file = RAW_BYTES / 1048576 / files
    seconds = waves * (raw_mb_per_file / s["per_reader"][fmt] + per_file_overhead)
    if comp == "gzip" and size_mb >= 10240:
        seconds *= 1.15  # one large gzip stream cannot be split
    seconds *= random.uniform(0.93, 1.08)
    error = ""
    if system == "snowflake" and size_mb == 10240 and fmt == "csv" and (attempt == 0 or comp == "gzip"):
        error = "Statement reached its statement or warehouse timeout of 3600 second(s) and was canceled."
    if system == "redshift" and fmt == "json" and size_mb == 1 and attempt == 0:
        error = "S3ServiceException: Please reduce your request rate. Status 503, Error SlowDown"
    cost = seconds / 3600 * s["usd_per_hour"]
    credits = seconds / 3600 * 8 if system == "snowflake" else ""
    lines.append([system, "batch_copy", fmt, comp, files, size_mb, total, ROWS,
                  "" if error else f"{seconds:.1f}", "", "", f"{credits:.3f}" if credits != "" and not error else "",
                  "" if error else f"{cost:.2f}", error, day, "1.0.78430" if system == "redshift" else "9.2.1",
                  random.choice(["jkim", "sypark", "mchoi"]), f"attempt {attempt + 1}"])

day = 1
for system in SYSTEMS:
    for fmt, comp in [("csv", "gzip"), ("csv", "none"), ("parquet", "snappy"), ("json", "gzip")]:
        for size in SIZES_MB:
            if fmt == "json" and size not in (1, 128, 1024):
                continue
            for attempt in range(2):
                batch_run(system, fmt, comp, size, f"2026-09-{1 + (day % 28):02d}", attempt)
                day += 1

# Near-real-time: CDC micro-batches every 60 s; latency from commit to visible in a query.
for system, p50, p95, load in [("redshift", 74_000, 118_000, 9.5), ("snowflake", 63_000, 96_000, 7.8)]:
    for i in range(6):
        jitter = random.uniform(0.9, 1.12)
        lines.append([system, "cdc_microbatch", "json", "gzip", 60, 2, 60 * 2 * 1048576, 1_200_000,
                      f"{load * jitter:.1f}", f"{p50 * jitter:.0f}", f"{p95 * jitter:.0f}",
                      f"{0.011 * jitter:.3f}" if system == "snowflake" else "",
                      f"{(0.04 if system == 'redshift' else 0.05) * jitter:.2f}", "",
                      f"2026-10-{1 + i * 3:02d}", "1.0.78430" if system == "redshift" else "9.2.1", "sypark",
                      "Debezium → S3 every 60 s; auto-copy / Snowpipe"])
# Data sharing: time until a consumer account can query a 100 GB share.
for system, seconds in [("redshift", 41.0), ("snowflake", 6.5)]:
    for i in range(3):
        lines.append([system, "data_share", "parquet", "snappy", 1, 0, RAW_BYTES, ROWS,
                      f"{seconds * random.uniform(0.9, 1.1):.1f}", "", "", "", "0.00", "", f"2026-10-{10 + i:02d}",
                      "1.0.78430" if system == "redshift" else "9.2.1", "mchoi", "consumer in a second account"])
# Connector: Kafka sink, 10 minutes of 50,000 events/s.
for system, seconds, err in [("redshift", 655.0, ""), ("snowflake", 610.0, "")]:
    for i in range(3):
        fail = system == "redshift" and i == 0
        lines.append([system, "kafka_sink", "json", "none", 1, 0, 30_000_000 * 512, 30_000_000,
                      "" if fail else f"{seconds * random.uniform(0.97, 1.05):.1f}", "", "", "", "" if fail else "1.90", 
                      "Connector task failed: org.apache.kafka.connect.errors.RetriableException after 10 retries" if fail else "",
                      f"2026-10-{20 + i:02d}", "1.0.78430" if system == "redshift" else "9.2.1", "jkim",
                      "Kafka Connect sink connector, 50k events/s for 10 minutes"])

header = """# The demo PoC's recorded runs (synthetic; regenerate with scripts/gen-poc-demo.py).
# Not measurements: a load model shaped by published guidance, with seeded noise.
# Sources the model follows:
# - Snowflake, "Preparing your data files": aim for files of roughly 100-250 MB compressed;
#   very large files should be split. https://docs.snowflake.com/en/user-guide/data-load-considerations-prepare
# - Snowflake, "Loading Parquet": semi-structured and columnar files load through a conversion step.
#   https://docs.snowflake.com/en/user-guide/data-load-considerations-load
# - Amazon Redshift, "Loading data files": split the data into files whose number is a multiple
#   of the number of slices, each 1 MB to 1 GB after compression.
#   https://docs.aws.amazon.com/redshift/latest/dg/c_best-practices-use-multiple-files.html
# - Amazon Redshift ra3.4xlarge: 4 slices per node; on-demand price assumed USD 3.26/node-hour.
#   https://aws.amazon.com/redshift/pricing/
# - Snowflake Large warehouse: 8 credits/hour; USD 3.00/credit assumed (Enterprise list price).
#   https://www.snowflake.com/pricing/
"""
cols = "system,scenario,format,compression,file_count,file_size_mb,total_bytes,rows,load_seconds,latency_p50_ms,latency_p95_ms,credits,cost_usd,error,run_date,system_version,run_by,notes"
import csv, io
out = io.StringIO()
w = csv.writer(out, lineterminator="\n")
for l in lines:
    w.writerow(l)
path = sys.argv[1] if len(sys.argv) > 1 else "server/data/poc-demo-runs.csv"
with open(path, "w") as f:
    f.write(header + cols + "\n" + out.getvalue())
print(f"{len(lines)} runs written to {path}")
