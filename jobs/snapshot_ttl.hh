// SPDX-License-Identifier: Apache-2.0
// Snapshot TTL: a BACKUP with PROPERTIES ("ttl" = "7 DAY") writes its expiry into the snapshot's
// info object, so every server sharing the repository sees it. A sweep on each server lists the
// snapshots of every writable repository and drops the expired ones by DROP SNAPSHOT's own
// protocol (snapshot_drop.hh: leases, grace period, intents); a failed round is logged and the
// next one tries again.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "jobs/snapshot_drop.hh"
#include "remote/object_store.hh"

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

namespace tv::storage {
class catalog;
}

namespace tv::jobs {

/// When the snapshot whose info object is `info_key` expires, ms since the epoch; 0: never.
/// An info object is named by its checksum and never rewritten under its name, so the answer
/// is remembered by key.
io::task<job_result<int64_t>> snapshot_expiry(remote::object_store& store, std::string info_key,
                                              std::stop_token stop = {});

struct ttl_sweep_settings {
    int64_t interval_s = 300;  ///< snapshot_ttl_check_interval_seconds; 0: no sweep
    gc_options gc;
};

/// One round: in every repository that is not READ ONLY, drops the snapshots that expired at
/// or before `now_ms`, and finishes the drops an earlier round (or a DROP SNAPSHOT) left
/// unfinished. Yields how many snapshots it dropped; never fails (each repository's failure is
/// logged).
io::task<uint64_t> sweep_expired_snapshots(storage::catalog& catalog, gc_options gc, int64_t now_ms,
                                           std::stop_token stop);

/// Rounds every `settings().interval_s` seconds until `stop` (the settings are read each second,
/// so a changed interval applies at once). Runs on the catalog's loop.
io::task<void> run_snapshot_ttl_sweep(storage::catalog& catalog, std::function<ttl_sweep_settings()> settings,
                                      std::stop_token stop);

}  // namespace tv::jobs
