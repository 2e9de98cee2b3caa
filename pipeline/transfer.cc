// SPDX-License-Identifier: Apache-2.0
// The transfer engine: workers on every loop take files in turn; each file runs a few lanes
// that take its parts in order, each part in one pool buffer from read to sink. Parts are
// hashed as a whole (per-part digest) and fed to the file's digest in order through a
// turnstile, so reading and sending overlap while the file hash stays a plain stream hash.
// A pack's parts are read piece by piece (pipeline/pack_files) and its pieces hashed in the
// same turn; every byte is paced by the direction's throttle and the run's own, when set.
#include "pipeline/transfer.hh"

#include "io/file.hh"
#include "io/ops.hh"
#include "io/turnstile.hh"
#include "io/when_all.hh"
#include "pipeline/local_sink.hh"
#include "pipeline/pack_files.hh"
#include "pipeline/transfer_limits.hh"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace tv::pipeline {

namespace {

uint64_t align_up(uint64_t n) {
    return (n + io::direct_io_alignment - 1) / io::direct_io_alignment * io::direct_io_alignment;
}

/// What every worker of one run shares.
struct run_state {
    std::vector<transfer_entry>* entries = nullptr;
    std::vector<entry_result>* results = nullptr;
    transfer_options options;
    store_opener open;
    std::stop_token stop;
    transfer_progress* progress = nullptr;
    transfer_progress* direction_progress = nullptr;  // the engine's, for this run's direction
    transfer_observer* observer = nullptr;
    io::buffer_pool* pool = nullptr;
    transfer_limits limits;  // the engine's for this run's direction, and the run's own
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> retries{0};  // this run's alone (a caller's progress may span runs)

    void count_bytes(uint64_t n) {
        progress->add_bytes(n);
        direction_progress->add_bytes(n);
    }

    void count_retry() {
        ++retries;
        ++progress->retries;
        ++direction_progress->retries;
    }
};

/// One file being moved, owned by the worker that took it.
struct file_job {
    run_state* run = nullptr;
    size_t index = 0;
    const transfer_entry* entry = nullptr;
    entry_result* result = nullptr;
    remote::object_store* store = nullptr;

    uint64_t size = 0;
    uint64_t part_size = 0;
    uint64_t part_count = 0;
    uint64_t next_part = 0;
    io::file local;               // read (upload of a file)
    std::optional<pack_files> pack;  // read (upload of a pack) or written (download of one)
    local_sink target;            // written (download), published when whole and verified
    std::unique_ptr<remote::object_upload> upload;
    std::vector<bool> already_stored;  // parts a resumed upload had
    streaming_hash digest;
    io::turnstile turns;
    bool failed = false;

    /// What an upload reads, for messages: the file, or the pack's piece count.
    std::string source() const {
        return entry->pieces.empty() ? entry->local_path : fmt::format("a pack of {} files", entry->pieces.size());
    }

    /// The file's XXH3-128 once its parts are hashed (see hash_part).
    hash128 file_hash() const {
        if (part_count > 1) {
            return digest.digest();
        }
        return size == 0 ? xxh3_128({}) : result->part_hashes[0];
    }

    /// Options for one request of this file: the run's stop token, and each retry the store
    /// makes counted in the run's progress and, when given, in `*retried` (this request's).
    remote::call_options call(int* retried = nullptr) const {
        run_state* counted = run;
        return remote::call_options(run->stop, [counted, retried](const remote::remote_error&) {
            counted->count_retry();
            if (retried != nullptr) {
                ++*retried;
            }
        });
    }

    /// Remembers how often a part's request was sent (entry_result::attempts).
    template <class T>
    void note_attempts(const remote::remote_result<T>& sent, int retried) {
        int attempts = sent ? retried + 1 : sent.error().attempts;
        result->attempts = std::max(result->attempts, attempts);
    }

    /// The first failure is the entry's; after a stop every failure is just "cancelled".
    void fail(std::string message) {
        if (!failed) {
            failed = true;
            result->error = run->stop.stop_requested() ? std::string("cancelled") : std::move(message);
        }
    }
};

/// Sends one part (or a whole small object) from the bytes already in its buffer, and counts
/// them in the progress: as they are paced under a limit, else once sent. The store retries
/// what may succeed on another try (remote/retry.hh); the engine never sends again.
io::task<remote::remote_result<remote::uploaded_part>> send_part(file_job* job, int number, uint64_t offset,
                                                                 std::span<const std::byte> data) {
    int retried = 0;
    uint64_t counted = 0;  // a retry paces the body again: count each byte once
    run_state* run = job->run;
    uint64_t length = data.size();
    auto pacer = run->limits.body_pacer(length, run->stop, [run, &counted, length](size_t n) {
        uint64_t fresh = std::min<uint64_t>(n, length - counted);
        counted += fresh;
        run->count_bytes(fresh);
    });
    remote::remote_result<remote::uploaded_part> sent = remote::uploaded_part{number, {}, data.size()};
    if (job->upload) {
        sent = co_await job->upload->write_part(number, offset, data, job->call(&retried), std::move(pacer));
    } else {
        std::string key = job->entry->key;
        auto put = co_await job->store->put(std::move(key), data, job->call(&retried), std::move(pacer));
        if (!put) {
            sent = put.error();
        }
    }
    job->note_attempts(sent, retried);
    if (sent) {
        run->count_bytes(length - counted);
    }
    co_return sent;
}

io::task<remote::remote_result<size_t>> fetch_range(file_job* job, uint64_t offset, std::span<std::byte> into) {
    int retried = 0;
    auto got = co_await job->store->read(job->entry->key, job->entry->object_offset + offset, into,
                                         job->call(&retried));
    job->note_attempts(got, retried);
    co_return got;
}

/// Fetches a part. Under a rate limit it goes as ranges of about 50 ms of the lower rate, each
/// paced before it is asked for, so a capped link never carries a whole part at line rate.
/// Each range counts in the progress once it has come, so a capped download shows it moving
/// (as a capped upload does) rather than a whole part at once.
io::task<remote::remote_result<size_t>> fetch_part(file_job* job, uint64_t offset, std::span<std::byte> into) {
    run_state& run = *job->run;
    size_t done = 0;
    while (done < into.size()) {
        uint64_t rate = run.limits.lowest_rate();
        size_t piece = into.size() - done;
        if (run.limits.active()) {
            if (rate != 0) {
                piece = std::min<size_t>(piece, std::max<uint64_t>(256 * 1024, rate / 20));
            }
            auto paced = co_await run.limits.take(piece, run.stop);
            if (!paced) {
                co_return remote::make_remote_error(remote::remote_errc::io_error, "cancelled");
            }
        }
        auto got = co_await fetch_range(job, offset + done, into.subspan(done, piece));
        if (!got) {
            co_return got.error();
        }
        // Counted as they arrive, so a throttled download's progress and rate move smoothly.
        run.count_bytes(*got);
        done += *got;
        if (*got < piece) {
            break;  // the end of the object
        }
    }
    co_return done;
}

/// A part's own XXH3-128 (`whole`: it was read or fetched entirely), then its turn in the file's
/// digest. A file of one part is hashed once: its part hash is its file hash (file_hash()). A
/// pack's pieces are fed in the same turn: a piece may run on into the next part.
io::task<void> hash_part(file_job* job, uint64_t part, std::span<const std::byte> data, bool whole) {
    if (whole) {
        job->result->part_hashes[part] = xxh3_128(data);
    }
    co_await job->turns.wait(part);
    if (!job->failed && job->part_count > 1) {
        job->digest.update(data);
    }
    if (!job->failed && job->pack) {
        job->pack->hash(part, data);
    }
    job->turns.pass();
}

/// A part a lane has taken, with the pool buffer it travels in.
struct part_slot {
    io::pooled_buffer buffer;
    uint64_t index = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
};

/// The file's next part and a buffer for it; nothing when the file is done, failed or stopped.
/// The buffer comes first: a lane never holds a part number it cannot move, so the turnstile
/// never waits on a part that is not under way.
io::task<std::optional<part_slot>> take_part(file_job* job) {
    run_state& run = *job->run;
    if (job->failed || run.stop.stop_requested()) {
        co_return std::nullopt;
    }
    auto buffer = co_await run.pool->acquire(run.stop);
    if (!buffer || job->next_part >= job->part_count) {
        co_return std::nullopt;  // stopped while waiting for memory, or no parts left
    }
    part_slot slot;
    slot.buffer = std::move(*buffer);
    slot.index = job->next_part++;
    slot.offset = slot.index * job->part_size;
    slot.length = std::min(job->part_size, job->size - slot.offset);
    co_return slot;
}

/// Reads a part of the file or pack into its buffer; what failed, naming the file, if it did.
io::task<std::optional<std::string>> read_part(file_job* job, const part_slot& slot) {
    auto span = slot.buffer.span();
    if (job->pack) {
        co_return co_await job->pack->read(slot.index, span.first(slot.length), job->run->stop);
    }
    auto read_span = span.first(job->local.direct() ? align_up(slot.length) : slot.length);
    auto n = co_await io::read_fully(job->local, read_span, slot.offset, job->run->stop);
    if (!n) {
        co_return fmt::format("read {}: {}", job->entry->local_path, n.error().message());
    }
    if (*n < slot.length) {
        co_return fmt::format("{} is shorter than its recorded size {} (read {} bytes at {})", job->entry->local_path,
                              job->size, *n, slot.offset);
    }
    co_return std::nullopt;
}

io::task<void> upload_lane(file_job* job) {
    run_state& run = *job->run;
    for (;;) {
        auto slot = co_await take_part(job);
        if (!slot) {
            co_return;
        }
        uint64_t part = slot->index;
        uint64_t offset = slot->offset;
        uint64_t length = slot->length;
        auto not_read = co_await read_part(job, *slot);
        std::span<const std::byte> data = slot->buffer.span().first(length);
        if (not_read) {
            job->fail(std::move(*not_read));
        }
        co_await hash_part(job, part, data, !not_read);
        if (job->failed) {
            co_return;
        }
        if (job->already_stored[part]) {
            run.count_bytes(length);
            continue;  // a resumed upload's part: hashed, not sent again
        }
        int number = static_cast<int>(part + 1);
        auto sent = co_await send_part(job, number, offset, data);
        if (!sent) {
            job->fail(fmt::format("upload {} to {}: {}", job->source(), job->entry->key, sent.error().message));
            co_return;
        }
        if (job->upload) {
            job->result->parts[part] = *sent;
            if (run.observer != nullptr) {
                run.observer->part_done(job->index, *sent);
            }
        }
    }
}

/// A part an earlier run of a resumable download stored: read back and checked against the
/// hash it reported. False when it is not there as reported (the part is fetched again).
io::task<bool> reuse_stored_part(file_job* job, const part_slot& slot) {
    auto stored = job->entry->resume_parts.find(slot.index);
    if (stored == job->entry->resume_parts.end()) {
        co_return false;
    }
    auto span = slot.buffer.span().first(slot.length);
    auto got = co_await job->target.read_back(span, slot.offset, job->run->stop);
    co_return got && *got == slot.length && xxh3_128(span) == stored->second;
}

io::task<void> download_lane(file_job* job) {
    run_state& run = *job->run;
    for (;;) {
        auto slot = co_await take_part(job);
        if (!slot) {
            co_return;
        }
        uint64_t part = slot->index;
        uint64_t offset = slot->offset;
        uint64_t length = slot->length;
        auto span = slot->buffer.span();
        if (co_await reuse_stored_part(job, *slot)) {
            job->result->resumed = true;
            co_await hash_part(job, part, span.first(length), true);
            run.count_bytes(length);
            continue;
        }
        auto got = co_await fetch_part(job, offset, span.first(length));
        std::span<const std::byte> data = span.first(length);
        bool whole = got && *got == length;
        if (!got) {
            job->fail(fmt::format("download {} to {}: {}", job->entry->key, job->entry->local_path,
                                  got.error().message));
        } else if (!whole) {
            job->fail(fmt::format("download {}: the object is shorter than its recorded size {} ({} bytes at {})",
                                  job->entry->key, job->size, *got, offset));
        }
        co_await hash_part(job, part, data, whole);
        if (job->failed) {
            co_return;
        }
        std::optional<std::string> failed;
        if (job->pack) {
            failed = co_await job->pack->write(part, data, run.stop);
        } else {
            failed = co_await job->target.write(span, length, offset, run.stop);
        }
        if (!failed && job->entry->resumable) {
            failed = co_await job->target.sync(run.stop);
        }
        if (failed) {
            job->fail(std::move(*failed));
            co_return;
        }
        if (job->entry->resumable && run.observer != nullptr) {
            run.observer->part_done(job->index, remote::uploaded_part{static_cast<int>(part + 1),
                                                                      job->result->part_hashes[part].hex(), length});
        }
    }
}

io::task<void> run_lanes(file_job* job, bool upload) {
    auto lanes = static_cast<unsigned>(std::min<uint64_t>(std::max(1u, job->run->options.parts_per_file),
                                                          std::max<uint64_t>(1, job->part_count)));
    std::vector<io::task<void>> tasks;
    for (unsigned i = 0; i < lanes; ++i) {
        tasks.push_back(upload ? upload_lane(job) : download_lane(job));
    }
    co_await io::when_all(std::move(tasks));
}

/// Where piece `i` begins in its pack.
uint64_t piece_offset(const std::vector<entry_piece>& pieces, size_t i) {
    uint64_t at = 0;
    for (size_t k = 0; k < i; ++k) {
        at += pieces[k].size;
    }
    return at;
}

std::string mismatch_message(const file_job& job, const hash128& got) {
    std::string what = job.run->options.way == direction::upload ? job.source()
                       : job.entry->object_offset != 0
                           ? fmt::format("{} (the {} bytes at offset {})", job.entry->key, job.size, job.entry->object_offset)
                           : job.entry->key;
    return fmt::format("{} does not match its recorded hash: expected xxh3-128 {}, got {}", what,
                       job.entry->expected->hex(), got.hex());
}

io::task<void> upload_file(file_job* job) {
    run_state& run = *job->run;
    const transfer_entry& entry = *job->entry;
    uint64_t threshold = std::min<uint64_t>(run.options.multipart_threshold, job->part_size);
    bool multipart = job->size >= threshold && job->size > 0;
    job->part_count = multipart ? (job->size + job->part_size - 1) / job->part_size : 1;
    if (!entry.pieces.empty()) {
        if (auto wrong = pack_size_error(entry.pieces, job->size, entry.key)) {
            job->fail(std::move(*wrong));
            co_return;
        }
        job->pack.emplace(entry.pieces, job->part_size, job->part_count);
    } else {
        auto opened = co_await io::open_file(entry.local_path, O_RDONLY, 0, io::direct_mode::preferred, run.stop);
        if (!opened) {
            job->fail(fmt::format("open {}: {}", entry.local_path, opened.error().message()));
            co_return;
        }
        job->local = std::move(*opened);
    }
    job->result->part_hashes.resize(job->part_count);
    job->already_stored.assign(job->part_count, false);
    if (multipart) {
        job->result->parts.resize(job->part_count);
        if (!entry.resume_upload_id.empty()) {
            auto resumed = co_await job->store->resume_upload(entry.key, entry.resume_upload_id, job->call());
            if (resumed) {
                job->upload = std::move(resumed->upload);
                job->result->resumed = true;
                for (auto& p : resumed->parts) {
                    auto i = static_cast<uint64_t>(p.number - 1);
                    uint64_t expected_size = std::min(job->part_size, job->size - std::min(job->size, i * job->part_size));
                    if (p.number >= 1 && i < job->part_count && p.size == expected_size) {
                        job->already_stored[i] = true;
                        job->result->parts[i] = std::move(p);
                    }
                }
            }
        }
        if (!job->upload) {
            auto begun = co_await job->store->begin_upload(entry.key, job->call());
            if (!begun) {
                job->fail(fmt::format("upload {} to {}: {}", job->source(), entry.key, begun.error().message));
                co_await job->local.close();
                co_return;
            }
            job->upload = std::move(*begun);
        }
        if (run.observer != nullptr) {
            run.observer->upload_begun(job->index, job->upload->upload_id());
        }
    }
    co_await run_lanes(job, true);
    co_await job->local.close();
    if (!job->failed && run.stop.stop_requested()) {
        job->fail("cancelled");
    }
    hash128 got = job->file_hash();
    if (!job->failed && entry.expected && *entry.expected != got) {
        job->fail(mismatch_message(*job, got));
    }
    if (job->upload) {
        if (!job->failed) {
            auto parts = job->result->parts;
            auto completed = co_await job->upload->complete(std::move(parts), job->call());
            if (!completed) {
                job->fail(fmt::format("upload {} to {}: {}", job->source(), entry.key, completed.error().message));
            }
        }
        if (job->failed) {
            // Nothing of a failed upload stays in the store. Not under the run's stop token: a
            // stopped run is the usual reason to be here, and a stopped abort would leave the parts.
            auto cleanup = job->call();
            cleanup.stop = std::stop_token{};
            co_await job->upload->abort(std::move(cleanup));
        }
    }
    job->result->hash = got;
    if (job->pack) {
        job->result->piece_hashes = job->pack->piece_hashes();
    }
}

/// A download of pack pieces: every piece checked against its expected hash, then all of them
/// published, or none.
io::task<void> download_pack(file_job* job) {
    run_state& run = *job->run;
    const transfer_entry& entry = *job->entry;
    if (auto bad = pack_size_error(entry.pieces, job->size, entry.key)) {
        job->fail(std::move(*bad));
        co_return;
    }
    job->part_count = std::max<uint64_t>(1, (job->size + job->part_size - 1) / job->part_size);
    job->result->part_hashes.resize(job->part_count);
    job->already_stored.assign(job->part_count, false);
    job->pack.emplace(entry.pieces, job->part_size, job->part_count);
    if (job->size > 0) {
        co_await run_lanes(job, false);
    }
    if (!job->failed && run.stop.stop_requested()) {
        job->fail("cancelled");
    }
    job->result->hash = job->file_hash();
    if (!job->failed) {
        job->result->piece_hashes = job->pack->piece_hashes();
        for (size_t i = 0; i < entry.pieces.size() && !job->failed; ++i) {
            const entry_piece& piece = entry.pieces[i];
            const hash128& got = job->result->piece_hashes[i];
            if (piece.expected && *piece.expected != got) {
                job->fail(fmt::format("{} (the {} bytes at offset {}, for {}) does not match its recorded hash: "
                                      "expected xxh3-128 {}, got {}",
                                      entry.key, piece.size,
                                      entry.object_offset + piece_offset(entry.pieces, i),
                                      piece.local_path, piece.expected->hex(), got.hex()));
            }
        }
    }
    if (!job->failed) {
        if (auto failed = co_await job->pack->publish(run.stop)) {
            job->fail(std::move(*failed));
        }
    }
    if (job->failed) {
        co_await job->pack->abandon();
    }
}

io::task<void> download_file(file_job* job) {
    run_state& run = *job->run;
    const transfer_entry& entry = *job->entry;
    if (!entry.pieces.empty()) {
        co_await download_pack(job);
        co_return;
    }
    if (job->size == 0 && entry.object_offset == 0) {
        auto head = co_await job->store->head(entry.key, job->call());
        if (!head) {
            job->fail(fmt::format("download {}: {}", entry.key, head.error().message));
            co_return;
        }
        job->size = head->size;
    }
    std::optional<std::string> not_opened;
    if (entry.resumable) {
        not_opened = co_await job->target.open_resumable(entry.local_path, !entry.resume_parts.empty(), run.stop);
    } else {
        not_opened = co_await job->target.open(entry.local_path, run.stop);
    }
    if (not_opened) {
        job->fail(std::move(*not_opened));
        co_return;
    }
    job->part_count = std::max<uint64_t>(1, (job->size + job->part_size - 1) / job->part_size);
    job->result->part_hashes.resize(job->part_count);
    job->already_stored.assign(job->part_count, false);
    if (job->size > 0) {
        co_await run_lanes(job, false);
    }
    if (!job->failed && run.stop.stop_requested()) {
        job->fail("cancelled");
    }
    hash128 got = job->file_hash();
    if (!job->failed && entry.expected && *entry.expected != got) {
        job->fail(mismatch_message(*job, got));
    }
    if (!job->failed) {
        auto failed = co_await job->target.publish(job->size);
        if (failed) {
            job->fail(std::move(*failed));
        }
    }
    if (job->failed && entry.resumable && run.stop.stop_requested()) {
        co_await job->target.keep();  // the parts it stored wait for the run that continues it
    } else if (job->failed) {
        co_await job->target.abandon();  // a failed download leaves nothing behind
    }
    job->result->hash = got;
}

io::task<void> worker(run_state* run) {
    auto opened = run->open();
    for (;;) {
        size_t index = run->next.fetch_add(1);
        if (index >= run->entries->size()) {
            co_return;
        }
        entry_result& result = (*run->results)[index];
        if (run->stop.stop_requested()) {
            result.error = "cancelled";
        } else if (!opened) {
            result.error = opened.error().message;
        } else {
            file_job job;
            job.run = run;
            job.index = index;
            job.entry = &(*run->entries)[index];
            job.result = &result;
            job.store = opened->get();
            job.size = job.entry->size;
            job.part_size = run->pool->buffer_size();
            if (run->options.way == direction::upload) {
                co_await upload_file(&job);
            } else {
                co_await download_file(&job);
            }
            result.ok = !job.failed;
            result.bytes = job.size;
        }
        auto& done = result.ok ? run->progress->files_done : run->progress->files_failed;
        auto& direction_done = result.ok ? run->direction_progress->files_done : run->direction_progress->files_failed;
        ++done;
        ++direction_done;
        if (run->observer != nullptr) {
            run->observer->entry_done(index, result);
        }
    }
}

}  // namespace

transfer_engine::transfer_engine(io::loop_group& loops, io::buffer_pool& pool, throttle& upload_limit,
                                 throttle& download_limit)
    : _loops(loops), _pool(pool), _upload_limit(upload_limit), _download_limit(download_limit) {}

io::task<transfer_report> transfer_engine::run(std::vector<transfer_entry> entries, transfer_options options,
                                               store_opener open, std::stop_token stop, transfer_progress* progress,
                                               transfer_observer* observer) {
    auto started = std::chrono::steady_clock::now();
    transfer_progress own_progress;
    std::vector<entry_result> results(entries.size());
    run_state state;
    state.entries = &entries;
    state.results = &results;
    state.options = options;
    state.open = std::move(open);
    state.stop = stop;
    state.progress = progress != nullptr ? progress : &own_progress;
    state.observer = observer;
    state.pool = &_pool;
    state.limits.engine = options.way == direction::upload ? &_upload_limit : &_download_limit;
    state.limits.job = options.job_limit;
    state.direction_progress = options.way == direction::upload ? &_uploaded : &_downloaded;
    for (const auto& e : entries) {
        state.progress->bytes_total += e.size;
        state.direction_progress->bytes_total += e.size;
    }
    state.progress->files_total += entries.size();
    state.direction_progress->files_total += entries.size();

    unsigned workers = options.workers != 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());
    workers = static_cast<unsigned>(std::min<size_t>(workers, entries.size()));
    std::vector<io::task<void>> tasks;
    for (unsigned w = 0; w < workers; ++w) {
        io::loop& target = _loops.at(w % _loops.size());
        tasks.push_back(io::submit_to(target, worker(&state)));
    }
    co_await io::when_all(std::move(tasks));

    transfer_report report;
    report.cancelled = stop.stop_requested();
    report.retries = state.retries.load();
    for (auto& r : results) {
        report.bytes += r.ok ? r.bytes : 0;
        report.failed += r.ok ? 0 : 1;
    }
    report.entries = std::move(results);
    report.elapsed = std::chrono::steady_clock::now() - started;
    co_return report;
}

}  // namespace tv::pipeline
