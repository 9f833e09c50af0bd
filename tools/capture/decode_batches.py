#!/usr/bin/python3
"""Decodes record batches (magic 2) with kafka-python (Debian's python3-kafka), an
implementation independent of Tributary's, and prints them as the JSON of
test/fixtures/records/README.md: header fields and records. Run with Debian's /usr/bin/python3
(python3-kafka, python3-snappy, python3-lz4, python3-zstandard).

    decode_batches.py FILE.bin   > batches.json

Fails if a batch's CRC-32C does not match or its records do not decode completely.
"""
import json
import sys

from kafka.record.default_records import DefaultRecordBatch


def as_fixture_bytes(b):
    if b is None:
        return None
    b = bytes(b)
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": b.hex()}
    return s if s.encode("utf-8") == b else {"hex": b.hex()}


def main():
    data = open(sys.argv[1], "rb").read()
    pos = 0
    batches = []
    while pos < len(data):
        length = int.from_bytes(data[pos + 8:pos + 12], "big", signed=True)
        end = pos + 12 + length
        if end > len(data):
            raise SystemExit(f"truncated batch at {pos}")
        batch = DefaultRecordBatch(data[pos:end])
        if batch.magic != 2:
            raise SystemExit(f"magic {batch.magic} at {pos}")
        if not batch.validate_crc():
            raise SystemExit(f"CRC mismatch in the batch at {pos}")
        h = batch._header_data  # the 61-byte header, field by field
        records = [
            {
                "offset": r.offset,
                "timestamp": r.timestamp,
                "key": as_fixture_bytes(r.key),
                "value": as_fixture_bytes(r.value),
                "headers": [[k, as_fixture_bytes(v)] for k, v in r.headers],
            }
            for r in batch
        ]
        batches.append({
            "baseOffset": h[0],
            "partitionLeaderEpoch": h[2],
            "attributes": h[5],
            "lastOffsetDelta": h[6],
            "baseTimestamp": h[7],
            "maxTimestamp": h[8],
            "producerId": h[9],
            "producerEpoch": h[10],
            "baseSequence": h[11],
            "isTransactional": batch.is_transactional,
            "isControl": batch.is_control_batch,
            "timestampType": batch.timestamp_type,
            "recordCount": h[12],
            "crc": h[4],
            "records": records,
        })
        pos = end
    json.dump(batches, sys.stdout)


if __name__ == "__main__":
    main()
