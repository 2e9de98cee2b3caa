// SPDX-License-Identifier: Apache-2.0
// The TTL sweep (see snapshot_ttl.hh). Expired snapshots are found by reading info objects,
// which costs one GET per snapshot the first time only: answers are kept by (immutable) key.
#include "jobs/snapshot_ttl.hh"

#include "io/log.hh"
#include "io/ops.hh"
#include "jobs/job_info.hh"
#include "jobs/live_job.hh"
#include "jobs/repository_access.hh"
#include "pipeline/hash.hh"
#include "remote/snapshot_layout.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <chrono>
#include <set>
#include <unordered_map>
#include <vector>

namespace tv::jobs {

namespace {

/// Expiry by info key. Statements and the sweep run on loop 0 only, so no lock; bounded by
/// forgetting everything once it holds more keys than any sane set of repositories lists.
std::unordered_map<std::string, int64_t>& known_expiries() {
    static std::unordered_map<std::string, int64_t> known;
    return known;
}

constexpr size_t max_known_expiries = 1 << 16;

/// Round for one repository; errors are the caller's to log.
io::task<job_result<uint64_t>> sweep_repository(const repository_access& repo, const std::string& cluster_id,
                                                const gc_options& gc, int64_t now_ms, std::stop_token stop) {
    auto opened = repo.open();
    if (!opened) {
        co_return opened.error();
    }
    remote::object_store& store = **opened;
    auto listed = co_await remote::list_snapshots(store, repo.root, stop);
    if (!listed) {
        co_return from_remote(listed.error(), "list snapshots");
    }
    std::set<std::pair<std::string, std::string>> expired;
    for (const auto& snapshot : *listed) {
        for (const auto& [timestamp, key] : snapshot.info_keys) {
            auto expiry = co_await snapshot_expiry(store, key, stop);
            if (!expiry) {
                // A snapshot whose expiry cannot be read is kept: when in doubt, keep data.
                TV_LOG_WARN("snapshot ttl: repository {}: keeping {} ({}): {}", repo.name, snapshot.label, timestamp,
                            expiry.error().message);
                continue;
            }
            if (*expiry > 0 && *expiry <= now_ms) {
                expired.emplace(snapshot.label, timestamp);
            }
        }
    }
    if (expired.empty()) {
        auto unfinished = co_await has_unfinished_drop(store, repo.root, stop);
        if (!unfinished) {
            co_return unfinished.error();
        }
        if (!*unfinished) {
            co_return uint64_t{0};
        }
    }
    std::vector<std::string> names;
    for (const auto& [label, timestamp] : expired) {
        names.push_back(fmt::format("{} ({})", label, timestamp));
    }
    snapshot_choice choice;
    choice.exact = std::move(expired);
    auto report = co_await drop_snapshots(repo, cluster_id, std::move(choice), gc, stop);
    if (!report) {
        co_return report.error();
    }
    TV_LOG_INFO("snapshot ttl: repository {}: dropped {} expired snapshot(s) [{}], freed {} objects ({} bytes), "
                "repacked {} packs: {}",
                repo.name, report->snapshots_dropped, fmt::join(names, ", "), report->objects_freed,
                report->bytes_freed, report->packs_repacked, report->status);
    co_return report->snapshots_dropped;
}

}  // namespace

io::task<job_result<int64_t>> snapshot_expiry(remote::object_store& store, std::string info_key,
                                              std::stop_token stop) {
    auto& known = known_expiries();
    if (auto it = known.find(info_key); it != known.end()) {
        co_return it->second;
    }
    auto body = co_await store.get(info_key, std::nullopt, stop);
    if (!body) {
        co_return from_remote(body.error(), "read " + info_key);
    }
    auto named = remote::split_checksum(info_key);
    std::string got = pipeline::xxh3_128(std::as_bytes(std::span(*body))).hex();
    if (!named || named->second != got) {
        co_return make_job_error(status_code::bad_file,
                                 fmt::format("{} does not match its checksum (xxh3-128 {})", info_key, got));
    }
    auto info = decode_job_info(*body, info_key);
    if (!info) {
        co_return info.error();
    }
    if (known.size() >= max_known_expiries) {
        known.clear();
    }
    known.emplace(std::move(info_key), info->expire_time_ms);
    co_return info->expire_time_ms;
}

io::task<uint64_t> sweep_expired_snapshots(storage::catalog& catalog, gc_options gc, int64_t now_ms,
                                           std::stop_token stop) {
    // Names first: the catalog may change while a repository is swept.
    std::vector<std::string> names;
    for (const auto& [name, r] : catalog.repositories()) {
        names.push_back(name);
    }
    uint64_t dropped = 0;
    for (const auto& name : names) {
        if (stop.stop_requested()) {
            break;
        }
        auto repo = find_repository(catalog, name);
        if (!repo || repo->read_only) {
            continue;  // dropped since, or READ ONLY: nothing is deleted from it
        }
        auto swept = co_await sweep_repository(*repo, catalog.cluster_id(), gc, now_ms, stop);
        if (!swept) {
            if (!stop.stop_requested()) {
                TV_LOG_WARN("snapshot ttl: repository {}: {}; trying again next round", name, swept.error().message);
            }
            continue;
        }
        dropped += *swept;
    }
    co_return dropped;
}

io::task<void> run_snapshot_ttl_sweep(storage::catalog& catalog, std::function<ttl_sweep_settings()> settings,
                                      std::stop_token stop) {
    int64_t last_round = unix_now_ms();
    while (!stop.stop_requested()) {
        auto slept = co_await io::sleep(std::chrono::seconds(1), stop);
        if (!slept && io::is_cancelled(slept.error())) {
            break;
        }
        ttl_sweep_settings now_settings = settings();
        const int64_t now = unix_now_ms();
        if (now_settings.interval_s <= 0 || now - last_round < now_settings.interval_s * 1000) {
            continue;
        }
        co_await sweep_expired_snapshots(catalog, now_settings.gc, now, stop);
        last_round = unix_now_ms();
    }
}

}  // namespace tv::jobs
