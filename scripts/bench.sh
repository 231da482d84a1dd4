#!/bin/sh
# `npm run bench`: the buffer benchmark, the relay benchmark, the cluster benchmark (a private PostgreSQL and Redis), then the network benchmark; flags (e.g. --markdown) go to all.
# tsx must not apply the root tsconfig's `paths` here, so the engine is measured as users get it (dist/).
set -e
export TSX_TSCONFIG_PATH=packages/engine/bench/tsconfig.json
node --import tsx --expose-gc packages/engine/bench/run.ts "$@"
node --import tsx signaling-server/bench/run.ts "$@"
bash scripts/ensure-postgres.sh && bash scripts/ensure-redis.sh && node --import tsx signaling-server/bench/cluster.bench.ts "$@"
node --import tsx packages/engine/bench/network.bench.ts "$@"
