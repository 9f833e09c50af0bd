#!/usr/bin/env bash
# Builds librdkafka 2.12.0, for the kcat-librdkafka-2.12.0 capture scenario (kcat runs on it
# through LD_LIBRARY_PATH, and its mock cluster is the broker). Debian bookworm ships 2.0.2
# only; the source comes from npm's node-rdkafka 3.6.1, which bundles librdkafka 2.12.0 in
# deps/librdkafka. The result stays in tools/capture/.build/ (ignored by git).
#
# Needs: gcc, make, zlib1g-dev, libzstd-dev, liblz4-dev (apt-get install -y libzstd-dev liblz4-dev).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/.build"
mkdir -p "$out"
cd "$out"
if [ ! -f node-rdkafka-3.6.1.tgz ]; then
  npm pack node-rdkafka@3.6.1 --silent
fi
rm -rf package librdkafka-2.12.0
tar xzf node-rdkafka-3.6.1.tgz
mv package/deps/librdkafka librdkafka-2.12.0
rm -rf package
cd librdkafka-2.12.0
grep -q 'RD_KAFKA_VERSION  *0x020c00ff' src/rdkafka.h
./configure --disable-ssl --disable-gssapi --disable-sasl --disable-curl --enable-zstd --enable-lz4-ext >../librdkafka-configure.txt
make -j"$(nproc)" libs >../librdkafka-make.txt
ls -l src/librdkafka.so.1
