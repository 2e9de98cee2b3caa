// SPDX-License-Identifier: Apache-2.0
// Leases: small objects under `<root>/__lock/` by which every server sharing a repository says
// what it is doing there. A BACKUP holds a backup lease from before it looks for objects to
// reuse until its snapshot is published (or its partial manifest written); DROP SNAPSHOT holds a
// drop lease while it deletes data. Each side writes its own lease first and then looks for the
// other's, so of two that start together at least one sees the other: a backup waits for the
// drop lease to go, a drop that sees a backup lease deletes no data (docs/repository-gc.md).
// A lease is live while its object was written within `lease_timeout`: holders rewrite it
// every third of that, so a crashed holder's lease lapses on its own.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "remote/object_store.hh"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace tv::jobs {

inline constexpr std::string_view lease_dir_name = "__lock";

enum class lease_kind { backup, drop };

struct lease {
    std::string key;
    lease_kind kind = lease_kind::backup;
    std::string label;         ///< a backup's label; empty for a drop
    int64_t start_ms = 0;      ///< when its holder first wrote it
    int64_t refreshed_ms = 0;  ///< the object's last write
};

/// `<root>/__lock/<kind>-<cluster_id>-<id>`.
std::string lease_key(std::string_view root, lease_kind kind, std::string_view cluster_id, std::string_view id);

/// Writes (or rewrites, which refreshes) a lease.
io::task<remote::remote_result<void>> write_lease(remote::object_store& store, std::string key, lease_kind kind,
                                                  std::string label, int64_t start_ms, std::stop_token stop = {});

/// The live leases under `root`, each read for its label and start. The kind comes from the
/// name; a lease named neither way is taken for a backup lease: when in doubt, keep data.
io::task<remote::remote_result<std::vector<lease>>> live_leases(remote::object_store& store, std::string root,
                                                                int64_t now_ms, int64_t timeout_ms,
                                                                std::stop_token stop = {});

/// The key of a live drop lease under `root`, if there is one. From the listing alone (a lease's
/// kind leads its name), so a backup taking its lease spends one round trip here, not one per
/// lease held. Ages are measured by the store's clock from the caller's own lease `own_key`,
/// just written (store_now_ms); `now_ms` only when the listing lacks it.
io::task<remote::remote_result<std::optional<std::string>>> live_drop_lease(remote::object_store& store,
                                                                            std::string root, std::string own_key,
                                                                            int64_t now_ms, int64_t timeout_ms,
                                                                            std::stop_token stop = {});

/// "Now" by the store's clock, which stamps every lease: the last write of the caller's own
/// lease, `own_key`, among `listed` (the caller has just written it, or keeps it refreshed). An
/// age measured from it is never longer than the true one, however far this server's clock is
/// from the store's or another server's; `fallback_ms` when `own_key` is not listed.
int64_t store_now_ms(std::span<const remote::object_info> listed, std::string_view own_key, int64_t fallback_ms);
/// The same from leases read by live_leases.
int64_t store_now_ms(std::span<const lease> leases, std::string_view own_key, int64_t fallback_ms);

/// How often a holder rewrites its lease: a third of the timeout (at least 100 ms).
std::chrono::milliseconds lease_refresh_period(int64_t timeout_ms);

/// A held lease as its holder knows it, on the steady clock (a wall-clock step must not hide a
/// gap): when its last write began (never later than the store stamped it), and how many times
/// it went a whole timeout unwritten. Each time, it counted as abandoned for a while, and
/// another server's DROP SNAPSHOT may have deleted what the holder relies on.
struct lease_clock {
    int64_t written_ms = now_ms();
    uint64_t lapses = 0;

    static int64_t now_ms();
    /// Unwritten for a whole timeout now (lapsed, not yet counted).
    bool unwritten_for(int64_t timeout_ms) const { return now_ms() - written_ms >= timeout_ms; }
};

/// Keeps `key` written every `timeout_ms / 3` until `until` stops, keeping `clock`. Failures are
/// logged: the lease may lapse, which `clock` then says, and the holder checks what it relies on
/// before it publishes (a backup) or gives up.
io::task<void> refresh_lease(remote::object_store& store, std::string key, lease_kind kind, std::string label,
                             int64_t start_ms, int64_t timeout_ms, lease_clock& clock, std::stop_token until);

}  // namespace tv::jobs
