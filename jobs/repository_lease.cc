// SPDX-License-Identifier: Apache-2.0
// Lease objects: named `<kind>-<cluster_id>-<id>`, with a JSON body {"kind", "label",
// "start_ms"} (the name decides the kind); liveness from the store's own last-modified time, so
// that a holder's clock only matters for start_ms.
#include "jobs/repository_lease.hh"

#include "io/log.hh"
#include "io/failpoint.hh"
#include "io/ops.hh"
#include "jobs/json_fields.hh"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace tv::jobs {

namespace {

std::string_view kind_name(lease_kind kind) {
    return kind == lease_kind::drop ? "drop" : "backup";
}

std::string lease_dir(std::string_view root) {
    return fmt::format("{}/{}/", root, lease_dir_name);
}

/// Every lease of `kind` under `root` is named with this prefix: the name, not the body, says
/// what a lease is (a listing alone tells a drop lease; a body that does not decode still has one).
std::string kind_prefix(std::string_view root, lease_kind kind) {
    return fmt::format("{}{}-", lease_dir(root), kind_name(kind));
}

lease_kind kind_of(std::string_view key, std::string_view drop_prefix) {
    return key.starts_with(drop_prefix) ? lease_kind::drop : lease_kind::backup;
}

}  // namespace

std::string lease_key(std::string_view root, lease_kind kind, std::string_view cluster_id, std::string_view id) {
    return fmt::format("{}{}-{}", kind_prefix(root, kind), cluster_id, id);
}

io::task<remote::remote_result<void>> write_lease(remote::object_store& store, std::string key, lease_kind kind,
                                                  std::string label, int64_t start_ms, std::stop_token stop) {
    boost::json::object o;
    o["kind"] = kind_name(kind);
    o["label"] = label;
    o["start_ms"] = start_ms;
    std::string body = boost::json::serialize(o);
    co_return co_await store.put(key, std::as_bytes(std::span<const char>(body.data(), body.size())), stop);
}

io::task<remote::remote_result<std::vector<lease>>> live_leases(remote::object_store& store, std::string root,
                                                                int64_t now_ms, int64_t timeout_ms,
                                                                std::stop_token stop) {
    auto listed = co_await store.list(lease_dir(root), stop);
    if (!listed) {
        co_return listed.error();
    }
    const std::string drop_prefix = kind_prefix(root, lease_kind::drop);
    std::vector<lease> out;
    for (const auto& object : *listed) {
        if (now_ms - object.modified_ms >= timeout_ms) {
            continue;
        }
        lease l;
        l.key = object.key;
        l.kind = kind_of(object.key, drop_prefix);
        l.refreshed_ms = object.modified_ms;
        l.start_ms = object.modified_ms;
        auto body = co_await store.get(object.key, std::nullopt, stop);
        if (!body) {
            if (body.error().code == remote::remote_errc::not_found) {
                continue;  // released since the listing
            }
            co_return body.error();
        }
        if (auto parsed = parse_untrusted_object(*body, 2, "lease " + object.key)) {
            auto label = string_of(parsed->if_contains("label"));
            auto start = unsigned_of(parsed->if_contains("start_ms"));
            l.label = label.value_or("");
            if (start) {
                l.start_ms = static_cast<int64_t>(*start);
            }
        }
        out.push_back(std::move(l));
    }
    co_return out;
}

io::task<remote::remote_result<std::optional<std::string>>> live_drop_lease(remote::object_store& store,
                                                                            std::string root, std::string own_key,
                                                                            int64_t now_ms, int64_t timeout_ms,
                                                                            std::stop_token stop) {
    auto listed = co_await store.list(lease_dir(root), stop);
    if (!listed) {
        co_return listed.error();
    }
    now_ms = store_now_ms(*listed, own_key, now_ms);
    const std::string drop_prefix = kind_prefix(root, lease_kind::drop);
    for (const auto& object : *listed) {
        if (now_ms - object.modified_ms < timeout_ms && kind_of(object.key, drop_prefix) == lease_kind::drop) {
            co_return std::optional<std::string>(object.key);
        }
    }
    co_return std::optional<std::string>();
}

int64_t lease_clock::now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

namespace {

template <class Entry, class Stamp>
int64_t own_stamp(std::span<const Entry> entries, std::string_view own_key, int64_t fallback_ms, Stamp stamp) {
    for (const auto& entry : entries) {
        if (entry.key == own_key) {
            return stamp(entry);
        }
    }
    TV_LOG_WARN("the lease {} is not in the store's listing: lease ages are measured by this server's clock",
                own_key);
    return fallback_ms;
}

}  // namespace

int64_t store_now_ms(std::span<const remote::object_info> listed, std::string_view own_key, int64_t fallback_ms) {
    return own_stamp(listed, own_key, fallback_ms, [](const remote::object_info& o) { return o.modified_ms; });
}

int64_t store_now_ms(std::span<const lease> leases, std::string_view own_key, int64_t fallback_ms) {
    return own_stamp(leases, own_key, fallback_ms, [](const lease& l) { return l.refreshed_ms; });
}

std::chrono::milliseconds lease_refresh_period(int64_t timeout_ms) {
    return std::chrono::milliseconds(std::max<int64_t>(timeout_ms / 3, 100));
}

io::task<void> refresh_lease(remote::object_store& store, std::string key, lease_kind kind, std::string label,
                             int64_t start_ms, int64_t timeout_ms, lease_clock& clock, std::stop_token until) {
    auto every = lease_refresh_period(timeout_ms);
    while (!until.stop_requested()) {
        co_await io::sleep(every, until);
        if (auto held_back = io::failpoint_delay("lease.refresh.before"); held_back.count() > 0) {
            co_await io::sleep(held_back, until);
        }
        if (until.stop_requested()) {
            break;
        }
        const int64_t attempt_ms = lease_clock::now_ms();
        auto written = co_await write_lease(store, key, kind, label, start_ms, until);
        if (!written) {
            if (!until.stop_requested()) {
                TV_LOG_WARN("could not refresh the lease {}: {}", key, written.error().message);
            }
            continue;
        }
        // Tested once the write is done: the store's retries can make one write land long after
        // it began, and the gap the store saw ends only then.
        if (clock.unwritten_for(timeout_ms)) {
            ++clock.lapses;
            TV_LOG_WARN("the lease {} went {} ms unwritten and lapsed", key, lease_clock::now_ms() - clock.written_ms);
        }
        clock.written_ms = attempt_ms;
    }
}

}  // namespace tv::jobs
