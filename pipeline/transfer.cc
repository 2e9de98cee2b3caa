// SPDX-License-Identifier: Apache-2.0
// The transfer engine: workers on every loop take files in turn; a worker's few lanes take a
// file's parts in order, each part in one pool buffer from read to sink, and the worker begins
// its next file while the last one completes. Parts are
// hashed as a whole (per-part digest) and fed to the file's digest in order through a
// turnstile, so reading and sending overlap while the file hash stays a plain stream hash.
// A pack's parts are read piece by piece (pipeline/pack_files) and its pieces hashed in the
// same turn; every byte is paced by the direction's throttle and the run's own, when set.
// This file has the engine, the part machinery and uploads; downloads are in
// transfer_download.cc, and what both share in transfer_file.hh.
#include "pipeline/transfer.hh"
#include "pipeline/transfer_file.hh"

#include "io/file.hh"
#include "io/gate.hh"
#include "io/ops.hh"
#include "io/when_all.hh"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <thread>

namespace tv::pipeline {

using namespace detail;

namespace {

uint64_t align_up(uint64_t n) {
    return (n + io::direct_io_alignment - 1) / io::direct_io_alignment * io::direct_io_alignment;
}

/// Sends one part (or a whole small object) from the bytes already in its buffer, and counts
/// them in the progress: as they are paced under a limit, else once sent. The store retries
/// what may succeed on another try (remote/retry.hh); the engine never sends again. The lane is
/// given back once the body is on the connection: the next part is read and sent while this
/// one's answer comes (a round trip, and the store's time to store the part's end), rather
/// than every lane of a worker waiting at once at a file's end. The part keeps its buffer.
io::task<remote::remote_result<remote::uploaded_part>> send_part(file_job* job, int number, uint64_t offset,
                                                                 std::span<const std::byte> data,
                                                                 worker_lanes::hold* lane) {
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
    auto call = job->call(&retried);
    call.on_body_sent = [lane] { lane->release(); };
    if (job->upload) {
        sent = co_await job->upload->write_part(number, offset, data, std::move(call), std::move(pacer));
    } else {
        std::string key = job->entry->key;
        auto put = co_await job->store->put(std::move(key), data, std::move(call), std::move(pacer));
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

}  // namespace

namespace detail {

/// A part's own XXH3-128 (`whole`: it was read or fetched entirely), then its turn in the file's
/// digest. A file of one part is hashed once: its part hash is its file hash (file_hash()). A
/// download's stream check and a pack's pieces are fed in the same turn: a piece may run on
/// into the next part.
io::task<void> hash_part(file_job* job, uint64_t part, std::span<const std::byte> data, bool whole) {
    if (whole && job->hash_whole) {
        job->result->part_hashes[part] = xxh3_128(data);
    }
    co_await job->turns.wait(part);
    if (!job->failed && job->part_count > 1 && job->hash_whole) {
        job->digest.update(data);
    }
    if (!job->failed && job->check) {
        job->check->update(data);
    }
    if (!job->failed && job->pack) {
        job->pack->hash(part, data);
    }
    job->turns.pass();
}

/// The file's next part, with a worker lane and a buffer for it; nothing when the file is done,
/// failed or stopped. The lane and the buffer come first: a lane never holds a part number it
/// cannot move, so the turnstile never waits on a part that is not under way.
io::task<std::optional<part_slot>> take_part(file_job* job) {
    run_state& run = *job->run;
    auto nothing_to_take = [job, &run] {
        return job->failed || run.stop.stop_requested() || job->next_part >= job->part_count;
    };
    if (nothing_to_take()) {
        co_return std::nullopt;
    }
    part_slot slot;
    slot.lane = co_await job->lanes->acquire();
    if (nothing_to_take()) {
        co_return std::nullopt;
    }
    auto buffer = co_await run.pool->acquire(run.stop);
    if (!buffer || nothing_to_take()) {
        co_return std::nullopt;  // stopped while waiting for memory, or no parts left
    }
    slot.buffer = std::move(*buffer);
    slot.index = job->next_part++;
    if (job->next_part == job->part_count) {
        job->parts_handed_out = true;
        job->lanes->changed();
    }
    slot.offset = slot.index * job->part_size;
    slot.length = job->part_length(slot.index);
    co_return slot;
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

std::string mismatch_message(const file_job& job, const hash128& got) {
    std::string what = job.run->options.way == direction::upload ? job.source()
                       : job.entry->object_offset != 0
                           ? fmt::format("{} (the {} bytes at offset {})", job.entry->key, job.size, job.entry->object_offset)
                           : job.entry->key;
    return fmt::format("{} does not match its recorded hash: expected xxh3-128 {}, got {}", what,
                       job.entry->expected->hex(), got.hex());
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
        co_await job->upload_ready.wait();
        if (job->failed) {
            co_return;
        }
        if (job->already_stored[part]) {
            run.count_bytes(length);
            continue;  // a resumed upload's part: hashed, not sent again
        }
        int number = static_cast<int>(part + 1);
        auto sent = co_await send_part(job, number, offset, data, &slot->lane);
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

}  // namespace detail

namespace {

/// Begins the file's multipart upload, then lets its lanes send.
io::task<void> begin_upload_beside_lanes(file_job* job) {
    auto begun = co_await job->store->begin_upload(job->entry->key, job->call());
    if (!begun) {
        job->fail(fmt::format("upload {} to {}: {}", job->source(), job->entry->key, begun.error().message));
    } else {
        job->upload = std::move(*begun);
        if (job->run->observer != nullptr) {
            job->run->observer->upload_begun(job->index, job->upload->upload_id(), job->part_size);
        }
    }
    job->upload_ready.set();
}

io::task<void> upload_file(file_job* job) {
    run_state& run = *job->run;
    const transfer_entry& entry = *job->entry;
    uint64_t threshold = std::min<uint64_t>(run.options.multipart_threshold, job->part_size);
    uint64_t buffer_size = entry.pieces.empty() ? run.pool->buffer_size() : job->part_size;
    uint64_t parts = count_parts(job->size, job->part_size, buffer_size);
    bool multipart = job->size >= threshold && job->size > 0;
    job->part_count = multipart ? parts : 1;
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
            if (resumed && entry.resume_part_size != job->part_size) {
                // Cut at another size (the part size or the memory limit changed across the
                // restart): its part 3 may be as long as ours and hold other bytes. Begun again.
                auto cleanup = job->call();
                cleanup.stop = std::stop_token{};
                (void)co_await resumed->upload->abort(std::move(cleanup));
            } else if (resumed) {
                job->upload = std::move(resumed->upload);
                job->result->resumed = true;
                for (auto& p : resumed->parts) {
                    auto i = static_cast<uint64_t>(p.number - 1);
                    if (p.number >= 1 && i < job->part_count && p.size == job->part_length(i)) {
                        job->already_stored[i] = true;
                        job->result->parts[i] = std::move(p);
                    }
                }
            }
        }
        if (job->upload && run.observer != nullptr) {
            run.observer->upload_begun(job->index, job->upload->upload_id(), job->part_size);
        }
    }
    if (multipart && !job->upload) {
        // Begun while the lanes read their first parts: the request's round trip and the
        // store's time to answer it (250 ms for RGW's first one in a bucket) pass beside the
        // reads, not before them.
        co_await io::when_all(begin_upload_beside_lanes(job), run_lanes(job, true));
    } else {
        job->upload_ready.set();
        co_await run_lanes(job, true);
    }
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

}  // namespace

void detail::run_state::sort_entries() {
    large.clear();
    small.clear();
    for (size_t i = 0; i < entries->size(); ++i) {
        const transfer_entry& e = (*entries)[i];
        // A download of unknown size (0, learnt from a HEAD) counts as large.
        bool whole_file = e.pieces.empty();
        bool one_part = e.size != 0 && e.size <= part_size;
        (whole_file && !one_part ? large : small).push_back(i);
    }
}

std::optional<size_t> detail::run_state::take(bool small_only) {
    if (!small_only) {
        size_t at = next_large.fetch_add(1);
        if (at < large.size()) {
            return large[at];
        }
    }
    size_t at = next_small.fetch_add(1);
    if (at < small.size()) {
        return small[at];
    }
    return std::nullopt;
}

namespace {

/// Counts a finished entry and tells the observer.
void entry_finished(run_state* run, size_t index) {
    entry_result& result = (*run->results)[index];
    auto& done = result.ok ? run->progress->files_done : run->progress->files_failed;
    auto& direction_done = result.ok ? run->direction_progress->files_done : run->direction_progress->files_failed;
    ++done;
    ++direction_done;
    if (run->observer != nullptr) {
        run->observer->entry_done(index, result);
    }
}

/// Tells the worker that a file ended, however its coroutine ends.
struct file_ended_notice {
    worker_lanes& lanes;
    const file_job* job;
    file_ended_notice(worker_lanes& lanes, const file_job* job) : lanes(lanes), job(job) {}
    file_ended_notice(const file_ended_notice&) = delete;
    file_ended_notice& operator=(const file_ended_notice&) = delete;
    ~file_ended_notice() {
        if (lanes.newest == job) {
            lanes.newest = nullptr;
        }
        --lanes.files;
        lanes.changed();
    }
};

/// Moves one file, which it owns, and tells its worker when it ends. An exception fails the
/// entry and leaves nothing behind, as any other failure does.
io::task<void> move_file(std::unique_ptr<file_job> job) {
    file_ended_notice notice{*job->lanes, job.get()};
    run_state* run = job->run;
    bool threw = false;
    try {
        if (run->options.way == direction::upload) {
            co_await upload_file(job.get());
        } else {
            co_await download_file(job.get());
        }
    } catch (const std::exception& e) {
        job->fail(fmt::format("transfer of {} stopped: {}", job->entry->key, e.what()));
        threw = true;
    } catch (...) {
        job->fail(fmt::format("transfer of {} stopped by an unknown exception", job->entry->key));
        threw = true;
    }
    co_await job->part_syncs.close();  // none may touch the target after it is kept or abandoned
    if (threw && job->upload) {
        auto cleanup = job->call();
        cleanup.stop = std::stop_token{};
        co_await job->upload->abort(std::move(cleanup));
    } else if (threw && job->pack && run->options.way == direction::download) {
        co_await job->pack->abandon();
    } else if (threw && run->options.way == direction::download) {
        co_await job->target.abandon();
    }
    job->result->ok = !job->failed;
    job->result->bytes = job->size;
    entry_finished(run, job->index);
}

io::task<void> worker(run_state* run, bool small_only) {
    auto opened = run->open();
    // Overlapping files hides round trips (remote stores) and a restored file's fsync and rename.
    // An upload into a local directory has neither worth hiding, and keeping its worker to one
    // file leaves the CPU gaps that keep SQL answering in time (SHOW BACKUP's p99 went from 8.9
    // to 11.8 ms with the overlap, bench/README.md).
    bool overlap = run->options.way == direction::download || (opened && !(*opened)->endpoint().empty());
    // An upload to a store begins its next file without waiting for a free lane: beginning a
    // multipart upload is a round trip, made while the current file's parts are still in
    // flight rather than by a lane that could already be sending. A download has no such round
    // trip before its first part.
    bool begin_early = overlap && run->options.way == direction::upload;
    worker_lanes lanes(run->options.parts_per_file, overlap);
    io::gate files;  // this worker's files in flight
    // Whatever happens here, the files already begun end before this frame (their lanes, gate
    // and store) goes away.
    std::exception_ptr failure;
    try {
        for (;;) {
            // The next file begins once the newest has handed out all its parts (or ended), a
            // lane is free (unless beginning early) and at most one other file is still finishing.
            while ((lanes.newest != nullptr &&
                    !(lanes.newest->parts_handed_out && (begin_early || lanes.free() > 0))) ||
                   lanes.files >= lanes.max_files) {
                co_await lanes.next_change();
            }
            auto taken = run->take(small_only);
            if (!taken) {
                break;
            }
            size_t index = *taken;
            entry_result& result = (*run->results)[index];
            if (run->stop.stop_requested() || !opened) {
                result.error = run->stop.stop_requested() ? std::string("cancelled") : opened.error().message;
                entry_finished(run, index);
                continue;
            }
            auto job = std::make_unique<file_job>();
            job->run = run;
            job->index = index;
            job->entry = &(*run->entries)[index];
            job->result = &result;
            job->store = opened->get();
            job->size = job->entry->size;
            job->lanes = &lanes;
            job->part_size = run->part_size;
            const file_job* begun = job.get();
            auto moving = move_file(std::move(job));
            lanes.newest = begun;
            ++lanes.files;
            io::spawn(files, std::move(moving), "transfer a file");
        }
    } catch (...) {
        failure = std::current_exception();
    }
    co_await files.close();
    if (failure) {
        std::rethrow_exception(failure);
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

    uint64_t buffer_size = _pool.buffer_size();
    state.part_size = options.part_size != 0 ? std::min(options.part_size, buffer_size) : buffer_size;
    state.sort_entries();
    unsigned workers = options.workers != 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());
    workers = static_cast<unsigned>(std::min<size_t>(workers, entries.size()));
    std::vector<io::task<void>> tasks;
    // With more than one loop, `workers` on the loops past loop 0 and one more on loop 0 for the
    // small entries; with one, every worker on it.
    const unsigned loops = _loops.size();
    const unsigned first = loops > 1 ? 1 : 0;
    for (unsigned w = 0; w < workers; ++w) {
        tasks.push_back(io::submit_to(_loops.at(first + w % (loops - first)), worker(&state, false)));
    }
    if (first == 1 && !state.small.empty()) {
        tasks.push_back(io::submit_to(_loops.at(0), worker(&state, true)));
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
