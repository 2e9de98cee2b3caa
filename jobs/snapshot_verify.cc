// SPDX-License-Identifier: Apache-2.0
// VERIFY SNAPSHOT (see snapshot_verify.hh): the snapshot's metadata through RESTORE's checked
// readers, the data objects' sizes from one listing, and in full mode every file's bytes
// streamed through its hash and its segment check, never to disk.
#include "jobs/snapshot_verify.hh"

#include "io/ascii.hh"
#include "io/when_all.hh"
#include "jobs/job_properties.hh"
#include "jobs/live_job.hh"
#include "jobs/restore_source.hh"
#include "pipeline/hash.hh"
#include "remote/snapshot_layout.hh"
#include "storage/segment_reader.hh"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace tv::jobs {

namespace {

job_error refused(std::string message) {
    return make_job_error(status_code::common_error, std::move(message));
}

/// Objects read at once in full mode.
constexpr size_t objects_in_flight = 4;
/// The most one read asks for (a worker's buffer).
constexpr uint64_t read_chunk = 4ull << 20;
/// Pieces of a pack further apart than this are read separately (the bytes between are of
/// files no manifest of this snapshot holds).
constexpr uint64_t max_pack_gap = 1ull << 20;

std::string file_path(const manifest_file& f) {
    return fmt::format("{}/{}/{}/{}/{}/{}", f.db, f.table, f.partition, f.index, f.tablet_id, f.name);
}

/// A data object and the snapshot's files in it, by offset.
struct object_check {
    std::string key;
    bool packed = false;
    uint64_t needed = 0;  ///< its exact size (a file alone), or the least a pack must have
    std::vector<const manifest_file*> files;
    bool present = false;  ///< there with a usable size: full mode reads it
};

std::vector<object_check> objects_of(const snapshot_manifest& manifest) {
    std::map<std::string, object_check> by_key;
    for (const auto& f : manifest.files) {
        object_check& o = by_key[f.key];
        o.key = f.key;
        o.packed = o.packed || f.packed;
        o.needed = std::max(o.needed, f.packed ? f.offset + f.size : f.size);
        o.files.push_back(&f);
    }
    std::vector<object_check> out;
    for (auto& [key, o] : by_key) {
        std::sort(o.files.begin(), o.files.end(),
                  [](const manifest_file* a, const manifest_file* b) { return a->offset < b->offset; });
        out.push_back(std::move(o));
    }
    return out;
}

/// quick: every object there with the size it needs. Keys under the data prefix come from one
/// listing; any other key (a manifest is untrusted) gets a HEAD.
io::task<job_result<void>> check_sizes(remote::object_store& store, const std::string& root,
                                       std::vector<object_check>& objects, verify_job& job) {
    std::stop_token stop = job.stop.get_token();
    std::string prefix = fmt::format("{}/{}/", root, remote::data_dir_name);
    auto listed = co_await store.list(prefix, stop);
    if (!listed) {
        co_return from_remote(listed.error(), "list the repository's data objects");
    }
    std::map<std::string, uint64_t> sizes;
    for (const auto& o : *listed) {
        sizes.emplace(o.key, o.size);
    }
    for (auto& o : objects) {
        std::optional<uint64_t> size;
        if (o.key.starts_with(prefix)) {
            if (auto it = sizes.find(o.key); it != sizes.end()) {
                size = it->second;
            }
        } else {
            auto head = co_await store.head(o.key, stop);
            if (head) {
                size = head->size;
            } else if (head.error().code != remote::remote_errc::not_found) {
                co_return from_remote(head.error(), "read the size of " + o.key);
            }
        }
        if (!size) {
            job.add_problem({o.key, "", "missing"});
        } else if (o.packed ? *size < o.needed : *size != o.needed) {
            job.add_problem({o.key, "", fmt::format("size {}, expected {}{}", *size, o.packed ? "at least " : "",
                                                    o.needed)});
        } else {
            o.present = true;
        }
        if (!o.present) {
            job.progress.files_failed += o.files.size();
        }
    }
    co_return job_result<void>{};
}

/// One file of an object being read: its hash and its segment check, fed in order.
struct file_stream {
    const manifest_file* file;
    pipeline::streaming_hash hash;
    storage::segment_stream_check segment;
    uint64_t fed = 0;

    explicit file_stream(const manifest_file* f)
        : file(f), segment(file_path(*f), f->size, f->segment_checksum) {}
};

/// Hands bytes [at, at + data.size()) of the object to the files they belong to.
void dispatch(std::vector<file_stream>& streams, uint64_t at, std::span<const std::byte> data) {
    uint64_t end = at + data.size();
    for (auto& s : streams) {
        uint64_t from = std::max(at, s.file->offset);
        uint64_t to = std::min(end, s.file->offset + s.file->size);
        if (from >= to) {
            continue;
        }
        auto part = data.subspan(from - at, to - from);
        s.hash.update(part);
        s.segment.feed(part);
        s.fed += part.size();
    }
}

/// Reads [from, to) of the object in chunks paced under the limits; false with a problem
/// recorded when the object ends early or the store fails.
io::task<job_result<bool>> read_run(remote::object_store& store, const object_check& o, uint64_t from, uint64_t to,
                                    std::vector<std::byte>& buffer, std::vector<file_stream>& streams,
                                    verify_job& job, const pipeline::transfer_limits& limits) {
    std::stop_token stop = job.stop.get_token();
    for (uint64_t at = from; at < to;) {
        uint64_t piece = std::min<uint64_t>(to - at, buffer.size());
        if (limits.active()) {
            if (uint64_t rate = limits.lowest_rate(); rate != 0) {
                piece = std::min<uint64_t>(piece, std::max<uint64_t>(256 * 1024, rate / 20));
            }
            if (!co_await limits.take(piece, stop)) {
                co_return refused("cancelled");
            }
        }
        auto got = co_await store.read(o.key, at, std::span(buffer).first(piece), stop);
        if (!got) {
            if (stop.stop_requested()) {
                co_return refused("cancelled");
            }
            if (got.error().code == remote::remote_errc::not_found) {
                job.add_problem({o.key, "", "missing (removed while being verified)"});
                co_return false;
            }
            co_return from_remote(got.error(), "read " + o.key);
        }
        dispatch(streams, at, std::span<const std::byte>(buffer).first(*got));
        job.progress.add_bytes(*got);
        at += *got;
        if (*got < piece) {
            job.add_problem({o.key, "", fmt::format("size {}, expected {}{} (it changed while being verified)", at,
                                                    o.packed ? "at least " : "", o.needed)});
            co_return false;
        }
    }
    co_return true;
}

/// full: reads the object's files (a pack: runs of neighbouring pieces) and checks each one.
io::task<job_result<void>> read_object(remote::object_store& store, const object_check& o,
                                       std::vector<std::byte>& buffer, verify_job& job,
                                       const pipeline::transfer_limits& limits) {
    std::vector<file_stream> streams;
    streams.reserve(o.files.size());
    for (const manifest_file* f : o.files) {
        streams.emplace_back(f);
    }
    // Runs of pieces at most max_pack_gap apart; a file stored alone is one run from 0.
    for (size_t first = 0; first < o.files.size();) {
        uint64_t from = o.files[first]->offset;
        uint64_t to = from + o.files[first]->size;
        size_t next = first + 1;
        while (next < o.files.size() && o.files[next]->offset <= to + max_pack_gap) {
            to = std::max(to, o.files[next]->offset + o.files[next]->size);
            ++next;
        }
        auto whole = co_await read_run(store, o, from, to, buffer, streams, job, limits);
        if (!whole) {
            co_return whole.error();
        }
        if (!*whole) {
            job.progress.files_failed += o.files.size();
            co_return job_result<void>{};
        }
        first = next;
    }
    for (auto& s : streams) {
        const manifest_file& f = *s.file;
        pipeline::hash128 got = s.hash.digest();
        auto segment = s.segment.finish();
        if (got != f.hash) {
            job.add_problem({o.key, file_path(f),
                             fmt::format("hash mismatch: its {} bytes{} hash to xxh3-128 {}, the manifest records "
                                         "{}; segment check: {}",
                                         f.size, o.packed ? fmt::format(" at offset {}", f.offset) : std::string(),
                                         got.hex(), f.hash.hex(), segment ? "passes" : segment.error().message)});
        } else if (!segment) {
            job.add_problem({o.key, file_path(f), "segment checksum failure: " + segment.error().message});
        }
        ++(got == f.hash && segment ? job.progress.files_done : job.progress.files_failed);
    }
    co_return job_result<void>{};
}

/// The objects full mode reads, shared by its workers (all on the caller's loop).
struct read_queue {
    remote::object_store& store;
    std::vector<object_check>& objects;
    verify_job& job;
    pipeline::transfer_limits limits;
    size_t next = 0;
    std::optional<job_error> failed;
};

io::task<void> read_some(read_queue* q) {
    std::vector<std::byte> buffer(read_chunk);
    while (q->next < q->objects.size() && !q->failed) {
        const object_check& o = q->objects[q->next++];
        if (!o.present) {
            continue;
        }
        auto read = co_await read_object(q->store, o, buffer, q->job, q->limits);
        if (!read && !q->failed) {
            q->failed = read.error();
        }
    }
}

std::string timestamp_of(const std::string& info_key, const std::string& root, const std::string& label) {
    auto named = remote::split_checksum(info_key);
    std::string head = fmt::format("{}{}", remote::snapshot_prefix(root, label), remote::info_prefix);
    if (!named || !named->first.starts_with(head)) {
        return {};
    }
    return named->first.substr(head.size());
}

io::task<job_result<void>> verify_snapshot(const repository_access& repo, verify_job& job,
                                           const verify_properties& p, pipeline::transfer_limits limits) {
    std::stop_token stop = job.stop.get_token();
    auto store = repo.open();
    if (!store) {
        co_return store.error();
    }
    auto keys = co_await choose_snapshot(**store, repo.root, job.label, p.backup_timestamp, stop);
    if (!keys) {
        co_return keys.error();
    }
    job.set_timestamp(timestamp_of(keys->info, repo.root, job.label));
    std::string at_fault;
    auto contents = co_await read_snapshot(**store, std::move(*keys), stop, &at_fault);
    if (!contents) {
        if (stop.stop_requested()) {
            co_return refused("cancelled");
        }
        if (contents.error().code == status_code::bad_connection) {
            co_return contents.error();
        }
        // Damaged metadata is the snapshot's problem, not the statement's: its data is not
        // checked (the manifest that says what it is may be the damaged object).
        std::string problem = contents.error().code == status_code::not_found ? "missing: " : "unreadable: ";
        job.add_problem({at_fault, "", problem + contents.error().message});
        co_return job_result<void>{};
    }
    std::vector<object_check> objects = objects_of(contents->manifest);
    job.progress.files_total = contents->manifest.files.size();
    auto sized = co_await check_sizes(**store, repo.root, objects, job);
    if (!sized) {
        co_return stop.stop_requested() ? refused("cancelled") : sized.error();
    }
    if (p.mode == verify_mode::quick) {
        for (const auto& o : objects) {
            job.progress.files_done += o.present ? o.files.size() : 0;
        }
        co_return job_result<void>{};
    }
    for (const auto& o : objects) {
        if (!o.present) {
            continue;
        }
        for (const manifest_file* f : o.files) {
            job.progress.bytes_total += f->size;
        }
    }
    read_queue queue{**store, objects, job, limits};
    std::vector<io::task<void>> workers;
    for (size_t i = 0; i < std::min(objects_in_flight, objects.size()); ++i) {
        workers.push_back(read_some(&queue));
    }
    co_await io::when_all(std::move(workers));
    if (stop.stop_requested()) {
        co_return refused("cancelled");
    }
    if (queue.failed) {
        co_return *queue.failed;
    }
    co_return job_result<void>{};
}

}  // namespace

std::string_view verify_mode_name(verify_mode mode) noexcept {
    return mode == verify_mode::full ? "full" : "quick";
}

std::string_view verify_state_name(verify_state state) noexcept {
    switch (state) {
    case verify_state::running: return "RUNNING";
    case verify_state::finished: return "FINISHED";
    case verify_state::cancelled: return "CANCELLED";
    }
    return "RUNNING";
}

job_result<verify_properties> parse_verify_properties(const std::vector<std::pair<std::string, std::string>>& props) {
    verify_properties out;
    std::vector<std::string> unknown;
    for (const auto& [key, value] : props) {
        std::string k = ascii_lower(key);
        if (k == "backup_timestamp") {
            auto timestamp = parse_backup_timestamp(value);
            if (!timestamp) {
                return timestamp.error();
            }
            out.backup_timestamp = std::move(*timestamp);
        } else if (k == "mode") {
            std::string mode = ascii_lower(value);
            if (mode != "quick" && mode != "full") {
                return refused(fmt::format("Invalid mode: {}; it is quick or full", value));
            }
            out.mode = mode == "full" ? verify_mode::full : verify_mode::quick;
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
        return refused(fmt::format("Unknown verify job properties: [{}]", fmt::join(unknown, ", ")));
    }
    return out;
}

std::vector<verify_problem> verify_job::problems() const {
    std::lock_guard lock(_mutex);
    return _problems;
}

size_t verify_job::problem_count() const {
    std::lock_guard lock(_mutex);
    return _problems.size();
}

std::string verify_job::status() const {
    std::lock_guard lock(_mutex);
    return _status;
}

std::string verify_job::timestamp() const {
    std::lock_guard lock(_mutex);
    return _timestamp;
}

void verify_job::add_problem(verify_problem p) {
    std::lock_guard lock(_mutex);
    _problems.push_back(std::move(p));
}

void verify_job::set_status(std::string s) {
    std::lock_guard lock(_mutex);
    _status = std::move(s);
}

void verify_job::set_timestamp(std::string ts) {
    std::lock_guard lock(_mutex);
    _timestamp = std::move(ts);
}

io::task<job_result<std::vector<verify_problem>>> verify_registry::run(
    repository_access repo, std::string label, std::vector<std::pair<std::string, std::string>> props,
    std::stop_token caller) {
    auto properties = parse_verify_properties(props);
    if (!properties) {
        co_return properties.error();
    }
    auto entered = _gate.try_enter();
    if (!entered) {
        co_return refused("the server is shutting down");
    }
    auto job = std::make_shared<verify_job>();
    job->label = std::move(label);
    job->repository = repo.name;
    job->mode = properties->mode;
    job->started_ms = unix_now_ms();
    if (properties->backup_timestamp) {
        job->set_timestamp(*properties->backup_timestamp);
    }
    job->limit.set_rate(pipeline::kbps_to_bytes_per_second(properties->max_download_speed_kbps));
    std::stop_callback forward(caller, [job] { job->stop.request_stop(); });
    add(job);
    pipeline::throttle* own = properties->max_download_speed_kbps > 0 ? &job->limit : nullptr;
    auto verified = co_await verify_snapshot(repo, *job, *properties,
                                             _transfers.limits(pipeline::direction::download, own));
    job->finished_ms = unix_now_ms();
    if (!verified) {
        job->set_status(verified.error().message);
        job->state = verify_state::cancelled;
        co_return verified.error();
    }
    job->state = verify_state::finished;
    // By object and file, whichever worker found them first.
    std::vector<verify_problem> problems = job->problems();
    std::sort(problems.begin(), problems.end(), [](const verify_problem& a, const verify_problem& b) {
        return std::tie(a.object, a.file) < std::tie(b.object, b.file);
    });
    co_return problems;
}

std::shared_ptr<verify_job> verify_registry::add(std::shared_ptr<verify_job> job) {
    std::lock_guard lock(_mutex);
    job->id = _next_id++;
    _jobs.push_back(job);
    size_t finished = 0;
    for (const auto& j : _jobs) {
        finished += j->state != verify_state::running ? 1 : 0;
    }
    for (auto it = _jobs.begin(); it != _jobs.end() && finished > kept_finished;) {
        if ((*it)->state != verify_state::running) {
            it = _jobs.erase(it);
            --finished;
        } else {
            ++it;
        }
    }
    return job;
}

uint64_t verify_registry::download_limit(const verify_job& job) const {
    uint64_t engine = _transfers.limit(pipeline::direction::download).rate();
    uint64_t own = job.limit.rate();
    if (engine == 0 || own == 0) {
        return std::max(engine, own);
    }
    return std::min(engine, own);
}

std::vector<std::shared_ptr<const verify_job>> verify_registry::list(const std::optional<std::string>& repository) const {
    std::lock_guard lock(_mutex);
    std::vector<std::shared_ptr<const verify_job>> out;
    for (const auto& j : _jobs) {
        if (!repository || j->repository == *repository) {
            out.push_back(j);
        }
    }
    return out;
}

size_t verify_registry::cancel(const std::optional<std::string>& repository) {
    std::lock_guard lock(_mutex);
    size_t n = 0;
    for (const auto& j : _jobs) {
        if (j->state == verify_state::running && (!repository || j->repository == *repository)) {
            n += j->stop.request_stop() ? 1 : 0;
        }
    }
    return n;
}

}  // namespace tv::jobs
