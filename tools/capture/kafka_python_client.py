#!/usr/bin/python3
"""kafka-python (Debian's python3-kafka) as a capture client. Run with Debian's /usr/bin/python3.

    kafka_python_client.py produce BOOTSTRAP TOPIC CODEC   < records.json
    kafka_python_client.py consume BOOTSTRAP GROUP COUNT TOPIC...

produce sends the records of records.json (a JSON list of {key, value, headers}, strings or
null, headers as [name, value] pairs) to partition 0 of TOPIC with compression CODEC (none,
gzip, snappy, lz4, zstd) in one batch, and waits for the acknowledgement. consume joins GROUP,
reads COUNT records from the TOPICs, commits and leaves the group. Prints what it did on stdout.
"""
import json
import sys

from kafka import KafkaConsumer, KafkaProducer

# The broker (librdkafka's mock) answers ApiVersions, from which kafka-python would guess a
# broker version; say it instead, so every codec (zstd needs 2.1) is allowed.
API_VERSION = (2, 1, 0)


def encode(s):
    return None if s is None else s.encode("utf-8")


def produce(bootstrap, topic, codec):
    records = json.load(sys.stdin)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        api_version=API_VERSION,
        compression_type=None if codec == "none" else codec,
        linger_ms=500,
        batch_size=4 * 1024 * 1024,
        max_request_size=8 * 1024 * 1024,
        acks="all",
    )
    futures = [
        producer.send(
            topic,
            key=encode(r["key"]),
            value=encode(r["value"]),
            headers=[(k, encode(v)) for k, v in r.get("headers", [])],
            partition=0,
        )
        for r in records
    ]
    producer.flush()
    offsets = [f.get(timeout=10).offset for f in futures]
    producer.close()
    print(json.dumps({"produced": len(offsets), "first": offsets[0], "last": offsets[-1]}))


def consume(bootstrap, group, count, topics):
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        api_version=API_VERSION,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        heartbeat_interval_ms=300,
        consumer_timeout_ms=10000,
        check_crcs=True,
    )
    seen = 0
    for _ in consumer:
        seen += 1
        if seen >= count:
            break
    consumer.commit()
    consumer.close()
    print(json.dumps({"consumed": seen}))


def main():
    cmd = sys.argv[1]
    if cmd == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "consume":
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
