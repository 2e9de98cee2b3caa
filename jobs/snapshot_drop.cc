// SPDX-License-Identifier: Apache-2.0
// DROP SNAPSHOT's order of work, each step safe to repeat:
//   1. the drop lease, then the intents `__dropping/<label>/<ts|all>` of what is chosen (a re-run
//      after a crash finds them and finishes, even once the snapshot itself is gone);
//   2. the chosen info objects, then everything else of those snapshots;
//   3. garbage collection, only when no other lease is live (repository_gc.cc);
//   4. the intents, then the lease.
#include "jobs/snapshot_drop.hh"

#include "io/failpoint.hh"
#include "io/log.hh"
#include "io/when_all.hh"
#include "jobs/live_job.hh"
#include "jobs/repository_lease.hh"
#include "remote/snapshot_layout.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>

namespace tv::jobs {

namespace {

constexpr std::string_view intent_dir_name = "__dropping";
constexpr std::string_view whole_label = "all";

/// One object of a snapshot directory.
struct snapshot_object {
    std::string key;
    std::string timestamp;  ///< empty when its name carries none
    bool info = false;
};

/// Everything under `__ss_*`, by label.
using label_objects = std::map<std::string, std::vector<snapshot_object>>;

std::string intent_key(std::string_view root, std::string_view label, std::string_view timestamp) {
    return fmt::format("{}/{}/{}/{}", root, intent_dir_name, label, timestamp);
}

/// The timestamp in `__info_<ts>.<sum>`, `__meta_<ts>.<sum>`, `__manifest_<ts>[_partial].<sum>`.
std::string timestamp_of(std::string_view name) {
    for (std::string_view prefix : {remote::info_prefix, remote::meta_prefix, remote::manifest_prefix}) {
        if (name.starts_with(prefix) && name.size() >= prefix.size() + 23) {
            std::string_view ts = name.substr(prefix.size(), 23);
            if (remote::parse_snapshot_timestamp(ts)) {
                return std::string(ts);
            }
        }
    }
    return {};
}

io::task<job_result<label_objects>> list_snapshot_objects(remote::object_store& store, std::string root,
                                                          std::stop_token stop) {
    std::string prefix = fmt::format("{}/{}", root, remote::snapshot_dir_prefix);
    auto listed = co_await store.list(prefix, stop);
    if (!listed) {
        co_return from_remote(listed.error(), "list snapshots");
    }
    label_objects out;
    for (const auto& o : *listed) {
        std::string_view rest = std::string_view(o.key).substr(prefix.size());
        size_t slash = rest.find('/');
        if (slash == std::string_view::npos || slash == 0) {
            continue;
        }
        std::string_view name = rest.substr(slash + 1);
        out[std::string(rest.substr(0, slash))].push_back(
            snapshot_object{o.key, timestamp_of(name), name.starts_with(remote::info_prefix)});
    }
    co_return out;
}

/// (label, timestamp or "all") pairs.
using target_set = std::set<std::pair<std::string, std::string>>;

io::task<job_result<target_set>> pending_intents(remote::object_store& store, std::string root, std::stop_token stop) {
    std::string prefix = fmt::format("{}/{}/", root, intent_dir_name);
    auto listed = co_await store.list(prefix, stop);
    if (!listed) {
        co_return from_remote(listed.error(), "list unfinished drops");
    }
    target_set out;
    for (const auto& o : *listed) {
        std::string_view rest = std::string_view(o.key).substr(prefix.size());
        size_t slash = rest.find('/');
        if (slash != std::string_view::npos && slash != 0 && slash + 1 < rest.size()) {
            out.emplace(std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1)));
        }
    }
    co_return out;
}

bool matches(const snapshot_object& o, const std::string& timestamp) {
    return timestamp == whole_label || o.timestamp == timestamp;
}

/// What `choice` names among `objects`; not_found for a named label or timestamp that has
/// neither objects nor an unfinished drop.
job_result<target_set> choose(const label_objects& objects, const target_set& pending, const snapshot_choice& choice,
                              const std::string& repo) {
    target_set out;
    auto pending_label = [&](const std::string& label) {
        return std::any_of(pending.begin(), pending.end(), [&](const auto& p) { return p.first == label; });
    };
    if (choice.exact) {
        for (const auto& [label, timestamp] : *choice.exact) {
            auto it = objects.find(label);
            bool present = it != objects.end() && std::any_of(it->second.begin(), it->second.end(), [&](const auto& o) {
                               return matches(o, timestamp);
                           });
            if (present || pending.contains({label, timestamp})) {
                out.emplace(label, timestamp);
            }
        }
        return out;
    }
    if (choice.timestamp_at_most) {
        for (const auto& [label, list] : objects) {
            if (choice.labels && !choice.labels->contains(label)) {
                continue;
            }
            for (const auto& o : list) {
                if (!o.timestamp.empty() && o.timestamp <= *choice.timestamp_at_most) {
                    out.emplace(label, o.timestamp);
                }
            }
        }
        return out;
    }
    if (!choice.labels) {
        return make_job_error(status_code::common_error, "DROP SNAPSHOT needs a snapshot label or a timestamp");
    }
    std::vector<std::string> missing;
    for (const auto& label : *choice.labels) {
        auto it = objects.find(label);
        std::string timestamp = choice.timestamp.value_or(std::string(whole_label));
        bool present = it != objects.end() && std::any_of(it->second.begin(), it->second.end(), [&](const auto& o) {
                           return matches(o, timestamp);
                       });
        if (present || pending.contains({label, timestamp}) || (!choice.timestamp && pending_label(label))) {
            out.emplace(label, timestamp);
        } else {
            missing.push_back(choice.timestamp ? fmt::format("{} with timestamp {}", label, timestamp) : label);
        }
    }
    if (!missing.empty()) {
        return make_job_error(status_code::not_found, fmt::format("Snapshot {} does not exist in repository {}",
                                                                  fmt::join(missing, ", "), repo));
    }
    return out;
}

/// Removes the objects of `targets`: every info object first, then the rest.
io::task<job_result<uint64_t>> remove_snapshots(remote::object_store& store, const label_objects& objects,
                                                const target_set& targets, std::stop_token stop) {
    std::vector<std::string> infos;
    std::vector<std::string> rest;
    std::set<std::pair<std::string, std::string>> dropped;
    for (const auto& [label, timestamp] : targets) {
        auto it = objects.find(label);
        if (it == objects.end()) {
            continue;
        }
        for (const auto& o : it->second) {
            if (matches(o, timestamp)) {
                (o.info ? infos : rest).push_back(o.key);
                dropped.emplace(label, o.timestamp);
            }
        }
    }
    if (auto removed = co_await remove_keys(store, std::move(infos), stop); !removed) {
        co_return removed.error();
    }
    io::crash_point("drop.after_info");
    if (auto removed = co_await remove_keys(store, std::move(rest), stop); !removed) {
        co_return removed.error();
    }
    io::crash_point("drop.after_metadata");
    co_return static_cast<uint64_t>(dropped.size());
}

/// The drop leases this process holds. Statements run on loop 0 only, so no lock. A drop lease
/// of this cluster that is not here was left by a DROP that died with an earlier run of this
/// server: it is ignored (and removed), so a re-run after a crash need not wait for it to lapse.
std::set<std::string>& own_drop_leases() {
    static std::set<std::string> leases;
    return leases;
}

/// The live leases that stop garbage collection: all but `own_lease` and our dead predecessors'.
io::task<job_result<std::vector<lease>>> blocking_leases(remote::object_store& store, std::string root,
                                                         std::string cluster_id, std::string own_lease,
                                                         int64_t timeout_ms, std::stop_token stop) {
    // Every lease, lapsed ones too: a dead predecessor's lease is removed however old it is.
    auto leases = co_await live_leases(store, root, unix_now_ms(), std::numeric_limits<int64_t>::max(), stop);
    if (!leases) {
        co_return from_remote(leases.error(), "list leases");
    }
    // Ages by the store's clock: a server whose clock runs ahead of the store's would otherwise
    // take a live backup's lease for lapsed and delete what that backup reuses.
    const int64_t now = store_now_ms(*leases, own_lease, unix_now_ms());
    std::string ours = lease_key(root, lease_kind::drop, cluster_id, "");
    std::vector<std::string> dead;
    std::erase_if(*leases, [&](const lease& l) {
        if (l.key == own_lease) {
            return true;
        }
        if (l.key.starts_with(ours) && !own_drop_leases().contains(l.key)) {
            dead.push_back(l.key);
            return true;
        }
        return now - l.refreshed_ms >= timeout_ms;  // lapsed
    });
    if (auto removed = co_await remove_keys(store, std::move(dead), stop); !removed) {
        co_return removed.error();
    }
    co_return std::move(*leases);
}

/// Refuses a drop of a label that a running BACKUP writes: by its lease, as the snapshot may have
/// nothing in the repository yet. Ages by the store's clock, from `own_lease` (just written).
io::task<job_result<void>> refuse_labels_being_written(remote::object_store& store, std::string root,
                                                       std::string own_lease, const snapshot_choice& choice,
                                                       const job_result<target_set>& chosen, int64_t timeout_ms,
                                                       std::stop_token stop) {
    auto leases = co_await live_leases(store, root, unix_now_ms(), std::numeric_limits<int64_t>::max(), stop);
    if (!leases) {
        co_return from_remote(leases.error(), "list leases");
    }
    const int64_t now = store_now_ms(*leases, own_lease, unix_now_ms());
    for (const auto& l : *leases) {
        bool writing = (choice.labels && choice.labels->contains(l.label)) ||
                       (chosen && std::any_of(chosen->begin(), chosen->end(),
                                              [&](const auto& t) { return t.first == l.label; }));
        if (l.kind == lease_kind::backup && writing && now - l.refreshed_ms < timeout_ms) {
            co_return make_job_error(status_code::common_error,
                                     fmt::format("Snapshot {} is being written by a running BACKUP (lease {}); "
                                                 "cancel it or wait for it to finish",
                                                 l.label, l.key));
        }
    }
    co_return job_result<void>{};
}

/// Removes this server's drop lease, even after a stop.
io::task<void> release_drop_lease(remote::object_store& store, std::string own_lease) {
    own_drop_leases().erase(own_lease);
    std::vector<std::string> release(1, own_lease);
    std::stop_token unstoppable;
    if (auto released = co_await store.remove(std::move(release), unstoppable); !released) {
        TV_LOG_WARN("DROP SNAPSHOT: could not release the lease {}: {}", own_lease, released.error().message);
    }
}

/// Steps 1 (intents) to 4 (intents removed), under this server's drop lease.
io::task<job_result<drop_report>> drop_and_collect(remote::object_store& store, const repository_access& repo,
                                                   const gc_options& options, const label_objects& objects,
                                                   const target_set& chosen, const target_set& pending,
                                                   std::string cluster_id, std::string own_lease, int64_t started,
                                                   std::stop_token stop) {
    drop_report report;
    target_set work = chosen;
    work.insert(pending.begin(), pending.end());
    const std::span<const std::byte> empty;
    for (const auto& [label, timestamp] : chosen) {
        if (pending.contains({label, timestamp})) {
            continue;
        }
        auto put = co_await store.put(intent_key(repo.root, label, timestamp), empty, stop);
        if (!put) {
            co_return from_remote(put.error(), "record the drop");
        }
    }
    auto dropped = co_await remove_snapshots(store, objects, work, stop);
    if (!dropped) {
        co_return dropped.error();
    }
    report.snapshots_dropped = *dropped;
    // Backups that wrote their lease before ours may have chosen to reuse objects of what was
    // just dropped: with any other lease live, no data is deleted this time.
    auto others = co_await blocking_leases(store, repo.root, cluster_id, own_lease, options.lease_timeout_ms, stop);
    if (!others) {
        co_return others.error();
    }
    if (!others->empty()) {
        report.status = fmt::format("DATA KEPT: {} other job(s) hold a lease on the repository ({}); run the "
                                    "statement again once they finish to free the data",
                                    others->size(), others->front().key);
        co_return report;
    }
    auto collected = co_await collect_garbage(store, repo.root, options, started, report, stop);
    if (!collected) {
        co_return collected.error();
    }
    std::vector<std::string> intents;
    for (const auto& [label, timestamp] : work) {
        intents.push_back(intent_key(repo.root, label, timestamp));
    }
    if (auto removed = co_await remove_keys(store, std::move(intents), stop); !removed) {
        co_return removed.error();
    }
    co_return report;
}

/// drop_and_collect, then stops `done` (which ends the lease's refreshing) however it ends.
io::task<void> drop_then_stop(remote::object_store& store, const repository_access& repo, const gc_options& options,
                              const label_objects& objects, const target_set& chosen, const target_set& pending,
                              std::string cluster_id, std::string own_lease, int64_t started, std::stop_token stop,
                              job_result<drop_report>& out, std::stop_source& done) {
    try {
        out = co_await drop_and_collect(store, repo, options, objects, chosen, pending, std::move(cluster_id),
                                        std::move(own_lease), started, stop);
    } catch (const std::exception& e) {
        out = make_job_error(status_code::common_error, fmt::format("DROP SNAPSHOT failed: {}", e.what()));
    }
    done.request_stop();
}

std::string drop_id() {
    std::random_device random;
    return fmt::format("{}-{:08x}", unix_now_ms(), random());
}

}  // namespace

io::task<job_result<bool>> has_unfinished_drop(remote::object_store& store, std::string root,
                                               std::stop_token stop) {
    auto pending = co_await pending_intents(store, std::move(root), stop);
    if (!pending) {
        co_return pending.error();
    }
    co_return !pending->empty();
}

io::task<job_result<void>> remove_keys(remote::object_store& store, std::vector<std::string> keys,
                                       std::stop_token stop) {
    constexpr size_t batch = 1000;
    for (size_t start = 0; start < keys.size(); start += batch) {
        std::vector<std::string> some(keys.begin() + static_cast<ptrdiff_t>(start),
                                      keys.begin() + static_cast<ptrdiff_t>(std::min(keys.size(), start + batch)));
        auto removed = co_await store.remove(std::move(some), stop);
        if (!removed) {
            co_return from_remote(removed.error(), "delete objects");
        }
    }
    co_return job_result<void>{};
}

io::task<job_result<drop_report>> drop_snapshots(const repository_access& repo, std::string cluster_id,
                                                 snapshot_choice choice, gc_options options, std::stop_token stop) {
    auto opened = repo.open();
    if (!opened) {
        co_return opened.error();
    }
    remote::object_store& store = **opened;
    const int64_t started = unix_now_ms();
    auto objects = co_await list_snapshot_objects(store, repo.root, stop);
    if (!objects) {
        co_return objects.error();
    }
    auto pending = co_await pending_intents(store, repo.root, stop);
    if (!pending) {
        co_return pending.error();
    }
    auto chosen = choose(*objects, *pending, choice, repo.name);
    // Our lease first: the store's time of its write measures the others' ages.
    std::string own_lease = lease_key(repo.root, lease_kind::drop, cluster_id, drop_id());
    if (auto written = co_await write_lease(store, own_lease, lease_kind::drop, "", started, stop); !written) {
        co_return from_remote(written.error(), "write the drop lease");
    }
    own_drop_leases().insert(own_lease);
    // A label a running backup writes may have nothing in the repository yet: check it first.
    // Caught here (drop_then_stop catches what comes later): a throw must not leave our lease to
    // hold up backups and this server's next drops until it lapses.
    job_result<void> not_written = make_job_error(status_code::common_error, "DROP SNAPSHOT did not run");
    try {
        not_written = co_await refuse_labels_being_written(store, repo.root, own_lease, choice, chosen,
                                                           options.lease_timeout_ms, stop);
    } catch (const std::exception& e) {
        not_written = make_job_error(status_code::common_error, fmt::format("internal error: {}", e.what()));
    }
    if (!not_written || !chosen) {
        co_await release_drop_lease(store, own_lease);
        if (!not_written) {
            co_return not_written.error();
        }
        co_return chosen.error();
    }
    // The lease is rewritten while the drop runs: a drop that outlived repository_lease_timeout
    // (a large collection, a slow store) would otherwise look abandoned, and a backup starting
    // then could choose to reuse a pack this drop is about to delete after repacking it.
    job_result<drop_report> result = make_job_error(status_code::common_error, "DROP SNAPSHOT did not run");
    std::stop_source done;
    lease_clock clock;
    co_await io::when_all(drop_then_stop(store, repo, options, *objects, *chosen, *pending, cluster_id, own_lease,
                                         started, stop, result, done),
                          refresh_lease(store, own_lease, lease_kind::drop, "", started, options.lease_timeout_ms,
                                        clock, done.get_token()));
    co_await release_drop_lease(store, own_lease);
    co_return result;
}

}  // namespace tv::jobs
