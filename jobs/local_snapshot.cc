// SPDX-License-Identifier: Apache-2.0
// Hard links through io_uring (linkat), a bounded number in flight; directory removal with
// std::filesystem (no io_uring operation lists a directory).
#include "jobs/local_snapshot.hh"

#include "io/durable_file.hh"
#include "io/file.hh"
#include "io/log.hh"
#include "io/ops.hh"
#include "io/when_all.hh"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <map>

namespace tv::jobs {

namespace fs = std::filesystem;

namespace {

/// Links in flight at once: enough to hide the per-operation latency, few enough not to crowd
/// the ring the SQL front end shares.
constexpr size_t links_in_flight = 64;

io::task<std::optional<job_error>> link_one(std::string from, std::string to) {
    auto linked = co_await io::linkat(AT_FDCWD, from, AT_FDCWD, to);
    if (!linked && linked.error() != std::errc::file_exists) {
        co_return make_job_error(status_code::common_error,
                                 io::describe(linked.error(), fmt::format("link {} to {}", from, to)));
    }
    co_return std::nullopt;
}

/// A job's own records are far below this; anything larger is not ours.
constexpr uint64_t max_record_bytes = 2ull << 30;

}  // namespace

io::task<job_result<void>> write_job_record(std::string path, std::string text, std::stop_token stop) {
    auto written = co_await io::write_file_durably(path, std::as_bytes(std::span(text)), io::replace_mode::replace,
                                                   0600, stop);
    if (!written) {
        co_return make_job_error(status_code::common_error, io::describe(written.error(), "write " + path));
    }
    co_return job_result<void>{};
}

io::task<job_result<std::string>> read_job_record(std::string path, std::stop_token stop) {
    auto text = co_await io::read_small_file(path, max_record_bytes, stop);
    if (!text) {
        co_return make_job_error(status_code::common_error, io::describe(text.error(), "read " + path));
    }
    co_return std::move(*text);
}

std::string snapshots_root(const std::string& data_dir) {
    return data_dir + "/snapshot";
}

std::string job_snapshot_dir(const std::string& data_dir, uint64_t job_id) {
    return fmt::format("{}/{}", snapshots_root(data_dir), job_id);
}

std::string snapshot_file_path(const std::string& data_dir, uint64_t job_id, uint64_t tablet_id,
                               const std::string& name) {
    return fmt::format("{}/{}/{}/{}", snapshots_root(data_dir), job_id, tablet_id, name);
}

io::task<job_result<void>> link_snapshot(std::string data_dir, uint64_t job_id, std::vector<snapshot_link> files,
                                         std::stop_token stop) {
    co_return co_await link_into(job_snapshot_dir(data_dir, job_id), std::move(files), stop);
}

io::task<job_result<void>> link_into(std::string job_dir, std::vector<snapshot_link> files, std::stop_token stop) {
    if (auto made = co_await io::make_directories(job_dir, 0755, stop); !made) {
        co_return make_job_error(status_code::common_error, io::describe(made.error(), "create " + job_dir));
    }
    std::map<uint64_t, std::vector<const snapshot_link*>> by_tablet;
    for (const auto& f : files) {
        by_tablet[f.tablet_id].push_back(&f);
    }
    for (const auto& [tablet, links] : by_tablet) {
        std::string dir = fmt::format("{}/{}", job_dir, tablet);
        auto made = co_await io::mkdirat(AT_FDCWD, dir, 0755);
        if (!made && made.error() != std::errc::file_exists) {
            co_return make_job_error(status_code::common_error, io::describe(made.error(), "create " + dir));
        }
        for (size_t start = 0; start < links.size(); start += links_in_flight) {
            if (stop.stop_requested()) {
                co_return make_job_error(status_code::common_error, "cancelled");
            }
            std::vector<io::task<std::optional<job_error>>> batch;
            for (size_t i = start; i < std::min(links.size(), start + links_in_flight); ++i) {
                batch.push_back(link_one(links[i]->source_path, dir + "/" + links[i]->name));
            }
            auto results = co_await io::when_all(std::move(batch));
            for (auto& failure : results) {
                if (failure) {
                    co_return *failure;
                }
            }
        }
        if (auto synced = co_await io::sync_directory(dir, stop); !synced) {
            co_return make_job_error(status_code::common_error, io::describe(synced.error(), "fsync " + dir));
        }
    }
    if (auto synced = co_await io::sync_directory(job_dir, stop); !synced) {
        co_return make_job_error(status_code::common_error, io::describe(synced.error(), "fsync " + job_dir));
    }
    co_return job_result<void>{};
}

job_result<void> release_snapshot(const std::string& data_dir, uint64_t job_id) {
    std::string job_dir = job_snapshot_dir(data_dir, job_id);
    std::error_code ec;
    fs::remove_all(job_dir, ec);
    if (ec) {
        return make_job_error(status_code::common_error,
                              fmt::format("release snapshot {}: {}", job_dir, ec.message()));
    }
    return {};
}

size_t sweep_snapshots(const std::string& data_dir, const std::set<uint64_t>& live) {
    size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(snapshots_root(data_dir), ec)) {
        std::string name = entry.path().filename().string();
        uint64_t id = 0;
        auto [end, parse_ec] = std::from_chars(name.data(), name.data() + name.size(), id);
        bool is_job_dir = parse_ec == std::errc{} && end == name.data() + name.size();
        if (is_job_dir && live.contains(id)) {
            continue;
        }
        std::error_code rm_ec;
        fs::remove_all(entry.path(), rm_ec);
        if (rm_ec) {
            TV_LOG_WARN("jobs: could not remove the stale snapshot {}: {}", entry.path().string(), rm_ec.message());
        } else {
            ++removed;
        }
    }
    return removed;
}

}  // namespace tv::jobs
