// SPDX-License-Identifier: Apache-2.0
// RESTORE's properties and the checked reading of a snapshot (see restore_source.hh).
#include "jobs/restore_source.hh"

#include "io/ascii.hh"
#include "io/when_all.hh"
#include "jobs/job_properties.hh"
#include "pipeline/hash.hh"
#include "remote/snapshot_layout.hh"

#include <fmt/format.h>

namespace tv::jobs {

namespace {

job_error refused(std::string message) {
    return make_job_error(status_code::common_error, std::move(message));
}

/// Objects a snapshot reads whole are metadata; anything larger is not ours. Below the HTTP
/// client's largest answer (256 MiB), so one more byte still comes back and says so.
constexpr uint64_t max_metadata_bytes = 255ull << 20;

}  // namespace

job_result<restore_properties> parse_restore_properties(const std::vector<std::pair<std::string, std::string>>& props,
                                                        int64_t default_timeout_s) {
    restore_properties out;
    out.timeout_s = default_timeout_s;
    std::vector<std::string> unknown;
    for (const auto& [key, value] : props) {
        std::string k = ascii_lower(key);
        if (k == "backup_timestamp") {
            auto timestamp = parse_backup_timestamp(value);
            if (!timestamp) {
                return timestamp.error();
            }
            out.backup_timestamp = std::move(*timestamp);
        } else if (k == "replication_num") {
            auto n = parse_int(value);
            if (!n) {
                return refused(fmt::format("Invalid replication num format: {}", value));
            }
            if (*n < 1) {
                return refused(fmt::format("Invalid replication num: {}; it must be at least 1", value));
            }
            out.replication_num = *n;
        } else if (k == "allow_load") {
            auto allowed = parse_bool(value);
            if (!allowed) {
                return refused(fmt::format("Invalid allow_load: {}; it is true or false", value));
            }
            out.allow_load = *allowed;
        } else if (k == "meta_version" || k == "starrocks_meta_version") {
            auto n = parse_int(value);
            if (!n) {
                return refused(fmt::format("Invalid meta version format: {}", value));
            }
            (k == "meta_version" ? out.meta_version : out.starrocks_meta_version) = *n;
        } else if (k == "timeout") {
            auto seconds = parse_timeout(value);
            if (!seconds) {
                return seconds.error();
            }
            out.timeout_s = *seconds;
        } else if (k == "max_download_speed_kbps") {
            auto kbps = parse_speed_kbps(k, value);
            if (!kbps) {
                return kbps.error();
            }
            out.max_download_speed_kbps = *kbps;
        } else {
            unknown.push_back(key);
        }
    }
    if (!unknown.empty()) {
        return refused(fmt::format("Unknown restore job properties: [{}]", fmt::join(unknown, ", ")));
    }
    return out;
}

io::task<job_result<snapshot_keys>> choose_snapshot(remote::object_store& store, std::string root, std::string label,
                                                    std::optional<std::string> timestamp, std::stop_token stop) {
    auto not_found = [&](const std::string& why) {
        return make_job_error(status_code::not_found,
                              fmt::format("Failed to get info of snapshot '{}' because: {}. Maybe specified wrong "
                                          "backup timestamp",
                                          label, why));
    };
    auto listed = co_await remote::list_snapshot_label(store, root, label, stop);
    if (!listed) {
        co_return make_job_error(status_code::bad_connection,
                                 fmt::format("Failed to get info of snapshot '{}' because: {}", label,
                                             listed.error().message));
    }
    if (!*listed || (*listed)->info_keys.empty()) {
        co_return not_found("the repository has no snapshot with this label");
    }
    const remote::snapshot_listing& found = **listed;
    auto chosen = found.info_keys.begin();
    if (timestamp) {
        chosen = found.info_keys.find(*timestamp);
        if (chosen == found.info_keys.end()) {
            co_return not_found(fmt::format("it has no snapshot taken at {}", *timestamp));
        }
    } else if (found.info_keys.size() > 1) {
        std::vector<std::string> stamps;
        for (const auto& [ts, key] : found.info_keys) {
            stamps.push_back(ts);
        }
        co_return refused(fmt::format("Snapshot '{}' was taken {} times ({}); choose one with PROPERTIES "
                                      "(\"backup_timestamp\" = \"...\")",
                                      label, stamps.size(), fmt::join(stamps, ", ")));
    }
    auto likely = [&](const std::map<std::string, std::string>& keys) {
        auto it = keys.find(chosen->first);
        return it == keys.end() ? std::string() : it->second;
    };
    co_return snapshot_keys{chosen->second, likely(found.meta_keys), likely(found.manifest_keys)};
}

io::task<job_result<std::string>> read_checked(remote::object_store& store, std::string key, std::stop_token stop) {
    auto named = remote::split_checksum(key);
    if (!named) {
        co_return make_job_error(status_code::bad_file,
                                 fmt::format("{} does not end in the XXH3-128 of its bytes", key));
    }
    // One request, no HEAD first (a round trip each, three per RESTORE statement): the range
    // asks for one byte past the limit, which comes back only from an object that is too large.
    auto body = co_await store.get(key, remote::byte_range{0, max_metadata_bytes + 1}, stop);
    if (!body && body.error().code == remote::remote_errc::range_not_satisfiable) {
        body = std::string();  // an empty object has no byte 0: its hash says what is wrong
    }
    if (!body) {
        auto code = body.error().code == remote::remote_errc::not_found ? status_code::not_found
                                                                        : status_code::bad_connection;
        co_return make_job_error(code, fmt::format("read {}: {}", key, body.error().message));
    }
    if (body->size() > max_metadata_bytes) {
        co_return make_job_error(status_code::bad_file, fmt::format("{} is larger than {} bytes, too large for a "
                                                                    "snapshot's metadata",
                                                                    key, max_metadata_bytes));
    }
    std::string got = pipeline::xxh3_128(std::as_bytes(std::span(*body))).hex();
    if (got != named->second) {
        co_return make_job_error(status_code::bad_file,
                                 fmt::format("{} is damaged: its name says xxh3-128 {}, its {} bytes hash to {}", key,
                                             named->second, body->size(), got));
    }
    co_return std::move(*body);
}

io::task<job_result<snapshot_contents>> read_snapshot(remote::object_store& store, snapshot_keys keys,
                                                      std::stop_token stop, std::string* failed_key) {
    snapshot_contents out;
    out.info_key = keys.info;
    std::string unused;
    std::string& at_fault = failed_key != nullptr ? *failed_key : unused;
    at_fault = keys.info;
    std::vector<io::task<job_result<std::string>>> first;
    first.push_back(read_checked(store, keys.info, stop));
    for (const std::string* guess : {&keys.likely_meta, &keys.likely_manifest}) {
        if (!guess->empty()) {
            first.push_back(read_checked(store, *guess, stop));
        }
    }
    auto bodies = co_await io::when_all(std::move(first));
    if (!bodies[0]) {
        co_return bodies[0].error();
    }
    auto info = decode_job_info(*bodies[0], keys.info);
    if (!info) {
        co_return info.error();
    }
    out.info = std::move(*info);
    if (out.info.meta_key.empty() || out.info.manifest_key.empty()) {
        co_return make_job_error(status_code::unsupported,
                                 fmt::format("{} names no meta or manifest: it was not written by tabletvault, and "
                                             "restoring other systems' snapshots is not supported",
                                             keys.info));
    }
    // What was read ahead counts only when the info object names it; the rest is read now.
    std::optional<job_result<std::string>> meta_text;
    std::optional<job_result<std::string>> manifest_text;
    size_t guessed = 1;
    if (!keys.likely_meta.empty() && out.info.meta_key == keys.likely_meta) {
        meta_text = std::move(bodies[guessed]);
    }
    guessed += keys.likely_meta.empty() ? 0 : 1;
    if (!keys.likely_manifest.empty() && out.info.manifest_key == keys.likely_manifest) {
        manifest_text = std::move(bodies[guessed]);
    }
    if (!meta_text || !manifest_text) {
        std::vector<io::task<job_result<std::string>>> rest;
        if (!meta_text) {
            rest.push_back(read_checked(store, out.info.meta_key, stop));
        }
        if (!manifest_text) {
            rest.push_back(read_checked(store, out.info.manifest_key, stop));
        }
        auto read = co_await io::when_all(std::move(rest));
        size_t next = 0;
        if (!meta_text) {
            meta_text = std::move(read[next++]);
        }
        if (!manifest_text) {
            manifest_text = std::move(read[next++]);
        }
    }
    at_fault = out.info.meta_key;
    if (!*meta_text) {
        co_return meta_text->error();
    }
    auto meta = storage::decode_backup_meta(**meta_text, out.info.meta_key);
    if (!meta) {
        co_return make_job_error(status_code::bad_file, meta.error().message);
    }
    out.meta = std::move(*meta);
    at_fault = out.info.manifest_key;
    if (!*manifest_text) {
        co_return manifest_text->error();
    }
    auto manifest = decode_manifest(**manifest_text, out.info.manifest_key);
    if (!manifest) {
        co_return manifest.error();
    }
    out.manifest = std::move(*manifest);
    if (out.manifest.label != out.info.name || !out.manifest.complete ||
        out.manifest.cluster_id != out.info.cluster_id) {
        co_return make_job_error(status_code::bad_file,
                                 fmt::format("{} is not the complete manifest of snapshot '{}' named by {}",
                                             out.info.manifest_key, out.info.name, keys.info));
    }
    co_return out;
}

}  // namespace tv::jobs
