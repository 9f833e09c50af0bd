#!/usr/bin/env python3
"""librdkafka's built-in mock Kafka cluster, for testing Tributary's client against a Kafka
broker implementation nobody here wrote.

Loads Debian's librdkafka1 (librdkafka.so.1) with ctypes, creates a producer handle (the mock
cluster runs on that handle's threads), creates a mock cluster of N brokers
(rd_kafka_mock_cluster_new, rdkafka_mock.h), optionally pre-creates topics
(rd_kafka_mock_topic_create), prints the bootstrap servers on one stdout line, then serves until
stdin closes or SIGTERM/SIGINT arrives, and destroys the cluster.

    python3 mock_cluster.py [--lib PATH] [--brokers N] [--topic NAME:PARTITIONS[:RF]]...
                            [--api-versions APIKEY:MIN:MAX]...

--api-versions changes what the mock advertises for an API (rd_kafka_mock_set_apiversion);
MIN = MAX = -1 disables it.

The mock auto-creates unknown topics on Metadata requests (4 partitions by default).
"""
import argparse
import ctypes
import signal
import sys
import threading

RD_KAFKA_PRODUCER = 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default="librdkafka.so.1")
    ap.add_argument("--brokers", type=int, default=3)
    ap.add_argument("--topic", action="append", default=[])
    ap.add_argument("--api-versions", action="append", default=[])
    ap.add_argument("--debug", default="", help="librdkafka debug contexts, e.g. mock,protocol")
    args = ap.parse_args()

    lib = ctypes.CDLL(args.lib)
    lib.rd_kafka_version_str.restype = ctypes.c_char_p
    lib.rd_kafka_conf_new.restype = ctypes.c_void_p
    lib.rd_kafka_conf_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                      ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_conf_set.restype = ctypes.c_int
    lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_new.restype = ctypes.c_void_p
    lib.rd_kafka_destroy.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
    lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
    lib.rd_kafka_mock_cluster_destroy.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_topic_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                               ctypes.c_int]
    lib.rd_kafka_mock_topic_create.restype = ctypes.c_int
    lib.rd_kafka_mock_set_apiversion.argtypes = [ctypes.c_void_p, ctypes.c_int16, ctypes.c_int16,
                                                 ctypes.c_int16]
    lib.rd_kafka_mock_set_apiversion.restype = ctypes.c_int
    lib.rd_kafka_err2str.argtypes = [ctypes.c_int]
    lib.rd_kafka_err2str.restype = ctypes.c_char_p

    errstr = ctypes.create_string_buffer(512)
    conf = lib.rd_kafka_conf_new()
    # The handle only hosts the mock cluster: keep it quiet.
    lib.rd_kafka_conf_set(conf, b"log_level", b"7" if args.debug else b"3", errstr, len(errstr))
    if args.debug:
        lib.rd_kafka_conf_set(conf, b"debug", args.debug.encode(), errstr, len(errstr))
    rk = lib.rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, len(errstr))
    if not rk:
        print(f"rd_kafka_new failed: {errstr.value.decode()}", file=sys.stderr)
        return 1

    mcluster = lib.rd_kafka_mock_cluster_new(rk, args.brokers)
    if not mcluster:
        print("rd_kafka_mock_cluster_new failed", file=sys.stderr)
        lib.rd_kafka_destroy(rk)
        return 1

    for spec in args.topic:
        parts = spec.split(":")
        name, partitions = parts[0], int(parts[1]) if len(parts) > 1 else 1
        rf = int(parts[2]) if len(parts) > 2 else min(3, args.brokers)
        err = lib.rd_kafka_mock_topic_create(mcluster, name.encode(), partitions, rf)
        if err:
            print(f"rd_kafka_mock_topic_create({name}): {lib.rd_kafka_err2str(err).decode()}",
                  file=sys.stderr)
            return 1

    for spec in args.api_versions:
        key, lo, hi = (int(x) for x in spec.split(":"))
        err = lib.rd_kafka_mock_set_apiversion(mcluster, key, lo, hi)
        if err:
            print(f"rd_kafka_mock_set_apiversion({spec}): {lib.rd_kafka_err2str(err).decode()}",
                  file=sys.stderr)
            return 1

    version = lib.rd_kafka_version_str().decode()
    bootstraps = lib.rd_kafka_mock_cluster_bootstraps(mcluster).decode()
    print(f"librdkafka {version} mock cluster of {args.brokers} brokers", file=sys.stderr, flush=True)
    print(bootstraps, flush=True)

    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.wait(0.2):
        pass

    lib.rd_kafka_mock_cluster_destroy(mcluster)
    lib.rd_kafka_destroy(rk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
