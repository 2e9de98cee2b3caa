// SPDX-License-Identifier: Apache-2.0
// Hard links through io_uring (linkat), directory moves (renameat) and their removal
// (unlinkat), a bounded number in flight across all tablets; only the directory listing that removal needs is a plain readdir (no
// io_uring operation lists a directory), done a directory at a time between other work.
#include "jobs/local_snapshot.hh"

#include "io/blocking.hh"
#include "io/durable_file.hh"
#include "io/file.hh"
#include "io/log.hh"
#include "io/loop.hh"
#include "io/ops.hh"
#include "io/when_all.hh"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <set>

#include <sys/stat.h>

namespace tv::jobs {

namespace fs = std::filesystem;

namespace {

/// Path operations in flight at once: enough to hide the per-operation latency (each one waits
/// in an io-wq worker for the inode and journal locks), few enough not to crowd the ring the SQL
/// front end shares.
constexpr size_t ops_in_flight = 64;

/// With link_sync::file_system_when_many, directories of new links made durable by an fsync
/// each; above, by one syncfs of their file system.
constexpr size_t dirs_synced_one_by_one = 16;

using path_step = std::function<io::task<std::optional<job_error>>(size_t)>;

/// Which items of a bounded run are taken, and its first failure (the loop is single-threaded).
struct bounded_run {
    size_t next = 0;
    size_t count = 0;
    std::optional<job_error> failure;
};

io::task<void> run_lane(bounded_run& run, const path_step& step, const std::stop_token& stop) {
    while (!run.failure && run.next < run.count) {
        if (stop.stop_requested()) {
            run.failure = make_job_error(status_code::common_error, "cancelled");
            break;
        }
        size_t item = run.next++;
        std::optional<job_error> failed = co_await step(item);
        if (failed && !run.failure) {
            run.failure = std::move(failed);
        }
    }
}

/// step(0) .. step(count - 1), at most ops_in_flight at once, a new one as soon as one ends (no
/// batch waits for its slowest member); after a failure no new one starts, and the first is the
/// result.
io::task<std::optional<job_error>> for_each_bounded(size_t count, path_step step, std::stop_token stop = {}) {
    bounded_run run{0, count, {}};
    std::vector<io::task<void>> lanes;
    for (size_t i = 0; i < std::min(count, ops_in_flight); ++i) {
        lanes.push_back(run_lane(run, step, stop));
    }
    co_await io::when_all(std::move(lanes));
    co_return std::move(run.failure);
}

io::task<std::optional<job_error>> link_one(std::string from, std::string to) {
    auto linked = co_await io::linkat(AT_FDCWD, from, AT_FDCWD, to);
    if (!linked && linked.error() != std::errc::file_exists) {
        co_return make_job_error(status_code::common_error,
                                 io::describe(linked.error(), fmt::format("link {} to {}", from, to)));
    }
    co_return std::nullopt;
}

io::task<std::optional<job_error>> make_one(std::string dir) {
    auto made = co_await io::mkdirat(AT_FDCWD, dir, 0755);
    if (!made && made.error() != std::errc::file_exists) {
        co_return make_job_error(status_code::common_error, io::describe(made.error(), "create " + dir));
    }
    co_return std::nullopt;
}

io::task<std::optional<job_error>> sync_one(std::string dir, std::stop_token stop) {
    if (auto synced = co_await io::sync_directory(dir, std::move(stop)); !synced) {
        co_return make_job_error(status_code::common_error, io::describe(synced.error(), "fsync " + dir));
    }
    co_return std::nullopt;
}

enum class move_outcome : uint8_t { moved, occupied, moved_earlier };

/// rename(2) of one directory. Its destination holding files already (an earlier run linked
/// into it) is `occupied`, not a failure; a source gone with its destination in place was moved
/// by an earlier run.
io::task<std::optional<job_error>> move_one(std::string from, std::string to, move_outcome* outcome) {
    auto renamed = co_await io::renameat(AT_FDCWD, from, AT_FDCWD, to);
    if (renamed) {
        *outcome = move_outcome::moved;
        co_return std::nullopt;
    }
    std::error_code failure = renamed.error();
    if (failure == std::errc::directory_not_empty || failure == std::errc::file_exists) {
        *outcome = move_outcome::occupied;
        co_return std::nullopt;
    }
    if (failure == std::errc::no_such_file_or_directory) {
        auto there = co_await io::statx(AT_FDCWD, to);
        if (there && S_ISDIR(there->stx_mode)) {
            *outcome = move_outcome::moved_earlier;
            co_return std::nullopt;
        }
    }
    co_return make_job_error(status_code::common_error, io::describe(failure, fmt::format("move {} to {}", from, to)));
}

/// unlink(2) or rmdir(2) (`flags` AT_REMOVEDIR); what is gone already is fine.
io::task<std::optional<job_error>> remove_one(std::string path, int flags) {
    auto removed = co_await io::unlinkat(AT_FDCWD, path, flags);
    if (!removed && removed.error() != std::errc::no_such_file_or_directory) {
        co_return make_job_error(status_code::common_error, io::describe(removed.error(), "remove " + path));
    }
    co_return std::nullopt;
}

/// Directories listed between two yields to the loop while a tree is listed for removal: each
/// listing is a few syscalls, so a slice stays well under a millisecond.
constexpr size_t dirs_per_slice = 16;

/// Removes `root` and everything under it; a missing one is fine. The listing is plain readdir
/// (directory entries carry their type, so nothing is stat'ed), the removals go through io_uring.
io::task<job_result<void>> remove_tree(std::string root) {
    std::vector<std::string> files;
    std::vector<std::vector<std::string>> dirs_by_depth;  // rmdir deepest first
    std::vector<std::pair<std::string, size_t>> to_list{{root, 0}};
    size_t listed = 0;
    while (!to_list.empty()) {
        auto [dir, depth] = std::move(to_list.back());
        to_list.pop_back();
        std::error_code ec;
        fs::directory_iterator it(dir, ec);
        if (ec == std::errc::no_such_file_or_directory) {
            continue;
        }
        if (ec == std::errc::not_a_directory) {
            files.push_back(std::move(dir));
            continue;
        }
        for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
            std::error_code type_ec;
            if (it->symlink_status(type_ec).type() == fs::file_type::directory) {
                to_list.emplace_back(it->path().string(), depth + 1);
            } else {
                files.push_back(it->path().string());
            }
        }
        if (ec) {
            co_return make_job_error(status_code::common_error, fmt::format("list {}: {}", dir, ec.message()));
        }
        if (dirs_by_depth.size() <= depth) {
            dirs_by_depth.resize(depth + 1);
        }
        dirs_by_depth[depth].push_back(std::move(dir));
        if (++listed % dirs_per_slice == 0) {
            co_await io::loop::current().yield();
        }
    }
    auto unlinked = co_await for_each_bounded(files.size(), [&files](size_t i) { return remove_one(files[i], 0); });
    if (unlinked) {
        co_return *unlinked;
    }
    for (size_t depth = dirs_by_depth.size(); depth-- > 0;) {
        const auto& level = dirs_by_depth[depth];
        auto removed =
            co_await for_each_bounded(level.size(), [&level](size_t i) { return remove_one(level[i], AT_REMOVEDIR); });
        if (removed) {
            co_return *removed;
        }
    }
    co_return job_result<void>{};
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
    co_return co_await link_into(job_snapshot_dir(data_dir, job_id), std::move(files), link_sync::each_directory, stop);
}

io::task<job_result<void>> link_into(std::string job_dir, std::vector<snapshot_link> files, link_sync sync,
                                     std::stop_token stop) {
    // All tablets at once: their directories (made durable together by make_directories_in), then
    // every link, then the directories' fsyncs in flight together (one journal commit serves many
    // of them) instead of a commit per tablet in a row. Every link's entry is durable before this
    // returns, as the caller's next record (the cut, a restore's COMMITTED) says the links are in
    // place.
    std::set<uint64_t> tablets;
    for (const auto& f : files) {
        tablets.insert(f.tablet_id);
    }
    std::vector<std::string> dirs;
    dirs.reserve(tablets.size());
    for (uint64_t tablet : tablets) {
        dirs.push_back(std::to_string(tablet));
    }
    if (auto made = co_await make_directories_in(job_dir, dirs, stop); !made) {
        co_return made.error();
    }
    for (auto& dir : dirs) {
        dir = fmt::format("{}/{}", job_dir, dir);
    }
    // Many directories: one syncfs of their file system instead of an fsync each. Opened before
    // the links so that it reports writeback errors from then on.
    std::optional<io::file> file_system;
    if (sync == link_sync::file_system_when_many && dirs.size() > dirs_synced_one_by_one) {
        auto opened = co_await io::open_file(job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, io::direct_mode::off, stop);
        if (!opened) {
            co_return make_job_error(status_code::common_error, io::describe(opened.error(), "open " + job_dir));
        }
        file_system = std::move(*opened);
    }
    auto link_step = [&files, &job_dir](size_t i) {
        const snapshot_link& f = files[i];
        return link_one(f.source_path, fmt::format("{}/{}/{}", job_dir, f.tablet_id, f.name));
    };
    if (auto failed = co_await for_each_bounded(files.size(), link_step, stop)) {
        co_return *failed;
    }
    if (file_system) {
        auto synced = co_await io::sync_filesystem(file_system->fd());
        co_await file_system->close();
        if (!synced) {
            co_return make_job_error(status_code::common_error, io::describe(synced.error(), "syncfs " + job_dir));
        }
        co_return job_result<void>{};
    }
    auto sync_step = [&dirs, &stop](size_t i) { return sync_one(dirs[i], stop); };
    if (auto failed = co_await for_each_bounded(dirs.size(), sync_step, stop)) {
        co_return *failed;
    }
    co_return job_result<void>{};
}

io::task<job_result<directory_moves>> move_directories(std::string from, std::string to, std::vector<std::string> names,
                                                       std::stop_token stop) {
    if (auto made = co_await io::make_directories(to, 0755, stop); !made) {
        co_return make_job_error(status_code::common_error, io::describe(made.error(), "create " + to));
    }
    // Opened before the moves, so that its syncfs reports writeback errors from then on.
    std::optional<io::file> file_system;
    if (names.size() > dirs_synced_one_by_one) {
        auto opened = co_await io::open_file(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, io::direct_mode::off, stop);
        if (!opened) {
            co_return make_job_error(status_code::common_error, io::describe(opened.error(), "open " + to));
        }
        file_system = std::move(*opened);
    }
    std::vector<move_outcome> outcomes(names.size(), move_outcome::moved);
    auto move_step = [&](size_t i) {
        return move_one(fmt::format("{}/{}", from, names[i]), fmt::format("{}/{}", to, names[i]), &outcomes[i]);
    };
    if (auto failed = co_await for_each_bounded(names.size(), move_step, stop)) {
        co_return *failed;
    }
    // Durable: the new entries in `to`, the removals from `from` (a directory with two names after
    // a crash is a broken file system, not a repeated move) and each moved directory's "..",
    // those an interrupted run moved too (it may have stopped before its sync).
    if (file_system) {
        auto synced = co_await io::sync_filesystem(file_system->fd());
        co_await file_system->close();
        if (!synced) {
            co_return make_job_error(status_code::common_error, io::describe(synced.error(), "syncfs " + to));
        }
    } else {
        std::vector<std::string> dirs{to, from};
        for (size_t i = 0; i < names.size(); ++i) {
            if (outcomes[i] != move_outcome::occupied) {
                dirs.push_back(fmt::format("{}/{}", to, names[i]));
            }
        }
        auto sync_step = [&dirs, &stop](size_t i) { return sync_one(dirs[i], stop); };
        if (auto failed = co_await for_each_bounded(dirs.size(), sync_step, stop)) {
            co_return *failed;
        }
    }
    directory_moves found;
    for (size_t i = 0; i < names.size(); ++i) {
        if (outcomes[i] == move_outcome::occupied) {
            found.occupied.push_back(std::move(names[i]));
        } else if (outcomes[i] == move_outcome::moved_earlier) {
            found.moved_earlier.push_back(std::move(names[i]));
        }
    }
    co_return found;
}

io::task<job_result<void>> check_placed(std::string root, std::vector<placed_file> files, std::stop_token stop) {
    for (const auto& f : files) {
        std::string path = fmt::format("{}/{}/{}", root, f.tablet_id, f.name);
        auto there = co_await io::statx(AT_FDCWD, path, 0, STATX_SIZE, stop);
        if (!there) {
            co_return make_job_error(status_code::common_error, io::describe(there.error(), "find restored file " + path));
        }
        if (there->stx_size != f.size) {
            co_return make_job_error(status_code::common_error,
                                     fmt::format("restored file {} has {} bytes, expected {}", path, there->stx_size,
                                                 f.size));
        }
    }
    co_return job_result<void>{};
}

io::task<job_result<void>> make_directories_in(std::string root, std::vector<std::string> names,
                                               std::stop_token stop) {
    if (auto made = co_await io::make_directories(root, 0755, stop); !made) {
        co_return make_job_error(status_code::common_error, io::describe(made.error(), "create " + root));
    }
    for (auto& name : names) {
        name = fmt::format("{}/{}", root, name);
    }
    if (auto failed = co_await for_each_bounded(names.size(), [&names](size_t i) { return make_one(names[i]); }, stop)) {
        co_return *failed;
    }
    if (auto synced = co_await io::sync_directory(root, stop); !synced) {
        co_return make_job_error(status_code::common_error, io::describe(synced.error(), "fsync " + root));
    }
    co_return job_result<void>{};
}

io::task<job_result<void>> release_snapshot(std::string data_dir, uint64_t job_id) {
    std::string job_dir = job_snapshot_dir(data_dir, job_id);
    auto removed = co_await remove_tree(job_dir);
    if (!removed) {
        co_return make_job_error(status_code::common_error,
                                 fmt::format("release snapshot {}: {}", job_dir, removed.error().message));
    }
    co_return job_result<void>{};
}

io::task<size_t> sweep_snapshots(std::string data_dir, std::set<uint64_t> live) {
    std::vector<std::string> stale;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(snapshots_root(data_dir), ec)) {
        std::string name = entry.path().filename().string();
        uint64_t id = 0;
        auto [end, parse_ec] = std::from_chars(name.data(), name.data() + name.size(), id);
        bool is_job_dir = parse_ec == std::errc{} && end == name.data() + name.size();
        if (!is_job_dir || !live.contains(id)) {
            stale.push_back(entry.path().string());
        }
    }
    size_t removed = 0;
    for (auto& path : stale) {
        auto gone = co_await remove_tree(path);
        if (!gone) {
            TV_LOG_WARN("jobs: could not remove the stale snapshot {}: {}", path, gone.error().message);
        } else {
            ++removed;
        }
    }
    co_return removed;
}

}  // namespace tv::jobs
