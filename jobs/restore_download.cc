// SPDX-License-Identifier: Apache-2.0
// RESTORE's downloads (see restore_download.hh): entries per file or per run of packed files,
// their progress journaled, each staged segment verified as it streams in (or read back when
// it was not: staged before a restart, or continued from a partial file).
#include "jobs/restore_download.hh"

#include "io/blocking.hh"
#include "io/failpoint.hh"
#include "io/file.hh"
#include "io/log.hh"
#include "io/when_all.hh"
#include "jobs/job_store.hh"
#include "jobs/journaled_transfer.hh"
#include "jobs/repository_access.hh"
#include "remote/repository.hh"
#include "storage/catalog.hh"
#include "storage/segment_reader.hh"

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <set>

namespace tv::jobs {

namespace {

/// Packed neighbours further apart than this go in separate GETs (the bytes between them, of
/// files this restore does not take, would be fetched for nothing).
constexpr uint64_t max_pack_gap = 4ull << 20;

/// The transfer's entries, and which planned files each one stages (a pack's: one per piece,
/// null for a gap).
struct download_plan {
    std::vector<pipeline::transfer_entry> entries;
    std::vector<std::vector<const restore_download*>> files;
};

/// A staged file as the job's record keeps it: "<tablet>/<name>", which the plan makes unique
/// in the job. Not its path, which changes with the spelling of the data dir across restarts.
std::string staged_id(const restore_download& f) {
    return fmt::format("{}/{}", f.tablet_id, f.name);
}

/// The parts a resumable download journaled before a restart.
std::map<uint64_t, pipeline::hash128> journaled_parts(const job_record* journaled, const std::string& id) {
    std::map<uint64_t, pipeline::hash128> parts;
    if (journaled == nullptr) {
        return parts;
    }
    if (auto begun = journaled->uploads.find(id); begun != journaled->uploads.end()) {
        for (const auto& [number, part] : begun->second.parts) {
            if (auto hash = parse_hash128(part.first); hash && number > 0) {
                parts[static_cast<uint64_t>(number - 1)] = *hash;
            }
        }
    }
    return parts;
}

/// "<name> (from <key>) failed verification: <why>", read back or checked in stream alike.
std::string verification_failure(const restore_download& f, const std::string& why) {
    return fmt::format("{} (from {}) failed verification: {}", f.name, f.key, why);
}

/// The staged files whose segment checks passed as they streamed in (each check runs on the
/// loop that moved its file, so several at once).
class stream_verified {
public:
    void add(const restore_download* f) {
        std::lock_guard lock(_mutex);
        _files.insert(f);
    }
    bool contains(const restore_download* f) {
        std::lock_guard lock(_mutex);
        return _files.contains(f);
    }

private:
    std::mutex _mutex;
    std::set<const restore_download*> _files;
};

/// The tail of a file a stream check keeps for its footer: real footers are far smaller, and a
/// longer one is verified from the disk afterwards instead of holding up to 16 MiB per file in
/// flight.
constexpr uint64_t stream_check_tail_bytes = 1ull << 20;

/// A staged segment's own checksums, checked as the transfer streams its bytes in (parts
/// continued from a partial file included), so a file checked whole is never read back from the
/// disk to verify it.
class staged_segment_check final : public pipeline::stream_check {
public:
    staged_segment_check(const restore_download& f, std::string path, stream_verified* verified)
        : _file(f), _segment(std::move(path), f.size, f.segment_checksum, stream_check_tail_bytes), _verified(verified) {}

    void update(std::span<const std::byte> bytes) override { _segment.feed(bytes); }

    std::optional<std::string> finish() override {
        if (_segment.footer_beyond_tail()) {
            return std::nullopt;  // left to verify_staged_files
        }
        auto checked = _segment.finish();
        if (!checked) {
            return verification_failure(_file, checked.error().message);
        }
        _verified->add(&_file);
        return std::nullopt;
    }

private:
    const restore_download& _file;
    storage::segment_stream_check _segment;
    stream_verified* _verified;
};

/// Makes a staged file's stream check (the plan and `verified` outlive the transfer).
std::function<std::unique_ptr<pipeline::stream_check>()> segment_check(const restore_download& f, std::string path,
                                                                       stream_verified* verified) {
    return [&f, path = std::move(path), verified]() { return std::make_unique<staged_segment_check>(f, path, verified); };
}

download_plan plan_downloads(const std::string& data_dir, uint64_t job_id, const std::vector<const restore_download*>& missing,
                             const job_record* journaled, stream_verified* verified) {
    download_plan out;
    std::map<std::string, std::vector<const restore_download*>> packs;
    for (const restore_download* f : missing) {
        if (f->packed) {
            packs[f->key].push_back(f);
            continue;
        }
        pipeline::transfer_entry entry;
        entry.local_path = staged_file_path(data_dir, job_id, *f);
        entry.key = f->key;
        entry.size = f->size;
        entry.expected = f->hash;
        entry.resumable = true;
        entry.resume_parts = journaled_parts(journaled, staged_id(*f));
        entry.check = segment_check(*f, entry.local_path, verified);
        out.entries.push_back(std::move(entry));
        out.files.push_back({f});
    }
    for (auto& [key, members] : packs) {
        std::sort(members.begin(), members.end(),
                  [](const restore_download* a, const restore_download* b) { return a->offset < b->offset; });
        pipeline::transfer_entry entry;
        std::vector<const restore_download*> staged;
        uint64_t cursor = 0;
        auto flush = [&] {
            if (!entry.pieces.empty()) {
                out.entries.push_back(std::move(entry));
                out.files.push_back(std::move(staged));
            }
            entry = pipeline::transfer_entry{};
            staged.clear();
        };
        for (const restore_download* f : members) {
            bool joins = !entry.pieces.empty() && f->offset >= cursor && f->offset - cursor <= max_pack_gap;
            if (!joins) {
                flush();
                entry.key = key;
                entry.object_offset = f->offset;
                cursor = f->offset;
            }
            if (f->offset > cursor) {
                entry.pieces.push_back(pipeline::entry_piece{std::string(), f->offset - cursor, std::nullopt, {}});
                staged.push_back(nullptr);
            }
            std::string path = staged_file_path(data_dir, job_id, *f);
            auto check = segment_check(*f, path, verified);
            entry.pieces.push_back(pipeline::entry_piece{std::move(path), f->size, f->hash, std::move(check)});
            staged.push_back(f);
            cursor = f->offset + f->size;
            entry.size = cursor - entry.object_offset;
        }
        flush();
    }
    return out;
}

/// Journals each file once it is staged and its hash checked (the transfer checked it against
/// the manifest's as it streamed), and the parts of files under way, durable in their partial
/// files, so a restart continues a large file from its verified parts.
///
/// Packed files are written in place without a sync each (the transfer's pack_pieces is
/// in_place; the staging directory is the job's alone, and a file counts only once recorded):
/// each flush makes the whole batch durable with one syncfs of the data dir's file system
/// (`sync_fd`, opened before the first write so writeback errors since then are reported), then
/// records it. A crash before that record leaves files the restart fetches again.
class staged_journal final : public journaled_observer {
public:
    staged_journal(const download_plan& plan, live_job& job, std::map<std::string, open_upload> parts, int sync_fd)
        : _plan(plan), _job(job), _parts(std::move(parts)), _sync_fd(sync_fd) {}

    void part_done(size_t index, const remote::uploaded_part& part) override {
        std::string id = staged_id(*_plan.files[index][0]);  // only files stored alone are resumable
        std::lock_guard lock(_mutex);
        _parts[id].parts[part.number] = {part.etag, part.size};
        _dirty.insert(id);
    }

    void entry_done(size_t index, const pipeline::entry_result& result) override {
        if (!result.ok) {
            return;
        }
        io::crash_point("restore.download.after_file");
        const pipeline::transfer_entry& entry = _plan.entries[index];
        const auto& files = _plan.files[index];
        std::lock_guard lock(_mutex);
        if (entry.pieces.empty()) {
            const restore_download& f = *files[0];
            _staged.push_back(stored_file{staged_id(f), f.key, result.hash.hex(), f.offset, f.packed});
            _job.files_stored += 1;
            return;
        }
        for (size_t k = 0; k < files.size(); ++k) {
            if (files[k] != nullptr) {
                _staged.push_back(stored_file{staged_id(*files[k]), files[k]->key, result.piece_hashes.at(k).hex(),
                                              files[k]->offset, true});
                _job.files_stored += 1;
            }
        }
    }

    io::task<job_result<void>> flush(job_store& store) override {
        std::vector<stored_file> staged;
        std::vector<std::pair<std::string, open_upload>> parts;
        {
            std::lock_guard lock(_mutex);
            staged.swap(_staged);
            for (const auto& path : _dirty) {
                parts.emplace_back(path, _parts.at(path));
            }
            _dirty.clear();
        }
        for (auto& [path, upload] : parts) {
            auto put = co_await store.put_upload(_job.record.id, path, upload);
            if (!put) {
                co_return put.error();
            }
        }
        if (staged.empty()) {
            co_return job_result<void>{};
        }
        if (auto synced = co_await io::sync_filesystem(_sync_fd); !synced) {
            co_return make_job_error(status_code::common_error,
                                     io::describe(synced.error(), "sync the staged files (syncfs)"));
        }
        co_return co_await store.add_stored(_job.record.id, std::move(staged));
    }

private:
    const download_plan& _plan;
    live_job& _job;
    std::mutex _mutex;
    std::vector<stored_file> _staged;
    std::map<std::string, open_upload> _parts;  ///< by staged id; upload_id unused
    std::set<std::string> _dirty;
    int _sync_fd;
};

/// A failed entry as the job's error: BAD_FILE when the bytes were wrong.
job_error entry_error(const std::string& message) {
    bool damaged = message.find("does not match its recorded hash") != std::string::npos ||
                   message.find("shorter than its recorded size") != std::string::npos ||
                   message.find(") failed verification: ") != std::string::npos;
    return make_job_error(damaged ? status_code::bad_file : status_code::common_error, message);
}

/// The staged files being verified from disk: checkers take them in order through `next`; the
/// first failure by file order is the job's (so the message does not depend on timing).
struct verification {
    const std::string& data_dir;
    uint64_t job_id;
    const std::vector<const restore_download*>& files;
    std::stop_token stop;
    size_t next = 0;
    size_t failed_at = SIZE_MAX;
    job_error error;
};

/// Files checked at once: their reads overlap on the disk.
constexpr size_t verifications_in_flight = 16;

io::task<void> verify_some(verification* v) {
    while (v->next < v->files.size() && v->failed_at == SIZE_MAX) {
        size_t index = v->next++;
        const restore_download& f = *v->files[index];
        if (v->stop.stop_requested()) {
            v->failed_at = std::min(v->failed_at, index);
            v->error = make_job_error(status_code::common_error, "cancelled");
            co_return;
        }
        auto verified = co_await storage::verify_segment_file(staged_file_path(v->data_dir, v->job_id, f),
                                                              f.segment_checksum);
        if (!verified && index < v->failed_at) {
            v->failed_at = index;
            v->error = make_job_error(status_code::bad_file, verification_failure(f, verified.error().message));
        }
    }
}

/// Reads back and verifies the staged files the transfer did not check in stream: those staged
/// before a restart, and those continued from a partial file.
io::task<job_result<void>> verify_staged_files(const std::string& data_dir, uint64_t job_id,
                                               const std::vector<const restore_download*>& files,
                                               std::stop_token stop) {
    verification v{data_dir, job_id, files, std::move(stop)};
    std::vector<io::task<void>> checkers;
    for (size_t i = 0; i < std::min(verifications_in_flight, files.size()); ++i) {
        checkers.push_back(verify_some(&v));
    }
    co_await io::when_all(std::move(checkers));
    if (v.failed_at != SIZE_MAX) {
        co_return v.error;
    }
    co_return job_result<void>{};
}

}  // namespace

std::string staged_file_path(const std::string& data_dir, uint64_t job_id, const restore_download& f) {
    return staging_tablet_dir(data_dir, job_id, f.tablet_id) + "/" + f.name;
}

io::task<job_result<void>> download_staged_files(job_services& s, live_job& job, const restore_staging& plan) {
    std::stop_token stop = job.stop.get_token();
    const job_record& r = job.record;
    // The store's record has what was staged before a restart.
    auto found = s.store.jobs().find(r.id);
    const job_record* journaled = found == s.store.jobs().end() ? nullptr : &found->second;
    std::vector<const restore_download*> missing;
    stream_verified checked;  // verified as they streamed in
    for (const auto& f : plan.files) {
        if (journaled != nullptr && journaled->stored.contains(staged_id(f))) {
            job.files_stored += 1;
            job.bytes_stored += f.size;
        } else {
            missing.push_back(&f);
        }
    }
    if (!missing.empty()) {
        auto repo = find_repository(s.catalog, r.repository);
        if (!repo) {
            co_return repo.error();
        }
        remote::repository_config config = repo->config;
        pipeline::store_opener open = [config]() { return remote::open_store(config); };
        download_plan downloads = plan_downloads(s.data_dir, r.id, missing, journaled, &checked);
        auto data_fs = co_await io::open_file(s.data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, io::direct_mode::off,
                                              stop);
        if (!data_fs) {
            co_return make_job_error(status_code::common_error, io::describe(data_fs.error(), "open " + s.data_dir));
        }
        staged_journal journal(downloads, job, journaled != nullptr ? journaled->uploads : std::map<std::string, open_upload>{},
                               data_fs->fd());
        pipeline::transfer_options options = s.download_options();
        options.way = pipeline::direction::download;
        options.pack_pieces = pipeline::transfer_options::piece_publishing::in_place;  // staged_journal syncs
        auto ran = co_await run_journaled(s, job, downloads.entries, options, std::move(open), journal);
        co_await data_fs->close();
        if (!ran) {
            co_return ran.error();
        }
        if (ran->cancelled || stop.stop_requested()) {
            co_return make_job_error(status_code::common_error, "cancelled");
        }
        size_t resumed = 0;
        for (size_t i = 0; i < ran->entries.size(); ++i) {
            const pipeline::entry_result& e = ran->entries[i];
            if (!e.ok) {
                co_return entry_error(e.error);
            }
            resumed += e.resumed ? 1 : 0;
        }
        if (resumed != 0) {
            TV_LOG_INFO("restore {}: continued {} files from the parts staged before the restart", r.label, resumed);
        }
    }
    std::vector<const restore_download*> unchecked;
    for (const auto& f : plan.files) {
        if (!checked.contains(&f)) {
            unchecked.push_back(&f);
        }
    }
    co_return co_await verify_staged_files(s.data_dir, r.id, unchecked, stop);
}

}  // namespace tv::jobs
