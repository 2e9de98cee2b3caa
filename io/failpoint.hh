// SPDX-License-Identifier: Apache-2.0
// Named failure points for crash and error tests. In builds with TV_FAILPOINTS (test builds), the
// environment variable TV_FAILPOINTS="name=action[@hit],..." makes the named point, on its
// hit-th pass (1 by default), either kill the process with SIGKILL ("crash", a kill -9 at an exact
// place), throw ("throw", an unexpected exception), report an error the caller fails with
// ("error"), or, at a delay point, hold the caller back ("delay:<ms>", which its loop sleeps, so
// that a test can make two jobs meet in an exact order). Without TV_FAILPOINTS every point
// compiles to nothing.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tv::io {

/// What may arm a point. A crash-only point sits where an exception or an error could not be
/// handled (a transfer worker's callback, between a write and its fsync); an error-only point
/// stands for an I/O error; a delay point is read with failpoint_delay, and only "delay:<ms>"
/// arms it.
enum class failpoint_use { any, crash_only, error_only, delay_only };

struct failpoint_spec {
    std::string_view name;
    failpoint_use use;
};

/// Every point, so that a misspelt name in TV_FAILPOINTS is refused at start-up and a test can
/// check that each one is exercised. Names are "<area>.<where>".
inline constexpr std::array<failpoint_spec, 21> failpoints{{
    {"backup.snapshot.after_links", failpoint_use::any},                // links made, SNAPSHOTING not yet journaled as done
    {"backup.upload.after_put", failpoint_use::crash_only},             // an object is in the repository, its record not journaled
    {"backup.save_meta.after_meta_put", failpoint_use::crash_only},     // meta uploaded, the manifest's PUT perhaps not
    {"backup.save_meta.after_puts", failpoint_use::any},                // meta and manifest uploaded, not journaled
    {"backup.upload_info.after_put", failpoint_use::any},               // the info object is written, FINISHED not journaled
    {"backup.cancel.before_cleanup", failpoint_use::crash_only},        // CANCELLED journaled, links and partial manifest not handled
    {"restore.download.after_file", failpoint_use::crash_only},         // a file is staged and verified, its record not journaled
    {"restore.commit.before_publish", failpoint_use::any},              // staged files linked into tablet dirs, nothing published
    {"restore.commit.after_publish", failpoint_use::crash_only},        // the publish record is durable, COMMITTING not journaled
    {"restore.cancel.before_cleanup", failpoint_use::crash_only},       // CANCELLED journaled, staging not removed
    {"journal.meta.before_fsync", failpoint_use::crash_only},           // a catalog journal record is written, not yet fsynced
    {"journal.meta.fdatasync_fails", failpoint_use::error_only},        // a catalog record is written, its fdatasync fails (EIO)
    {"journal.jobs.before_fsync", failpoint_use::crash_only},           // a job store record is written, not yet fsynced
    {"repository.put.before_rename", failpoint_use::crash_only},        // a local repository object is under its temp name
    {"drop.after_info", failpoint_use::crash_only},                     // DROP SNAPSHOT removed the info objects only
    {"drop.after_metadata", failpoint_use::crash_only},                 // ... and the meta and manifests, no data yet
    {"drop.repack.after_manifest", failpoint_use::crash_only},          // a manifest points at the new pack, the old is there
    {"drop.delete.midway", failpoint_use::crash_only},                  // half of the unreferenced objects are deleted
    {"backup.sweep.before", failpoint_use::delay_only},                 // a backup's sweep of interrupted writes, beside its lease
    {"drop.delete.before", failpoint_use::delay_only},                  // DROP chose the objects to delete, deletes none yet
    {"lease.refresh.before", failpoint_use::delay_only},                // a lease's refresh, due: held back, it lapses
}};

enum class failpoint_action { none, error };

/// Thrown by a point whose action is "throw".
struct failpoint_exception : std::runtime_error {
    using std::runtime_error::runtime_error;
};

#ifdef TV_FAILPOINTS
/// Reads TV_FAILPOINTS once. Returns an error message for an unknown name or action.
std::string configure_failpoints_from_env();
/// Counts a pass through `name`; crashes, throws, or returns error when its action says so.
/// An "error" or "throw" point fires once, so the retry that follows can succeed.
failpoint_action failpoint(std::string_view name);
/// Counts a pass through the delay point `name`: the pause to take on this pass, zero when none.
std::chrono::milliseconds failpoint_delay(std::string_view name);
#else
inline std::string configure_failpoints_from_env() { return {}; }
inline constexpr failpoint_action failpoint(std::string_view) { return failpoint_action::none; }
inline constexpr std::chrono::milliseconds failpoint_delay(std::string_view) { return {}; }
#endif

/// A crash-only point: the process dies here when the point is armed.
inline void crash_point(std::string_view name) { (void)failpoint(name); }

}  // namespace tv::io
