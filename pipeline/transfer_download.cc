// SPDX-License-Identifier: Apache-2.0
// The transfer engine's downloads: ranged GETs paced under the limits and counted as they
// arrive, parts written to the local sink (or a pack's pieces), a resumable download's stored
// parts read back instead of fetched, and the file (or every piece) checked against its
// recorded hash (and a file by its caller's stream check) before it is published.
#include "io/ops.hh"
#include "pipeline/transfer_file.hh"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace tv::pipeline::detail {

namespace {

/// How long before a part's last byte its lane is given back, so that the next part's request
/// (of this file or the next) is under way when this one ends: a round trip and the store's
/// time to first byte (50-250 ms seen from Ceph RGW across a 50 ms link). Each worker's lanes
/// all end their parts together at a file's end, so without it the link idled that long at
/// every file.
constexpr double lane_lead_seconds = 0.3;

/// Gives a part's lane back once what is left of the part would take less than
/// lane_lead_seconds at the rate its answer has come so far. The part keeps its buffer: a
/// worker has at most one such tail per lane beside its lanes' parts, all within the pool.
struct early_lane_release {
    worker_lanes::hold* lane = nullptr;
    uint64_t range_bytes = 0;   // this request's body
    uint64_t after_range = 0;   // the part's bytes after this range
    std::chrono::steady_clock::time_point sent;  // this request's
    bool released = false;

    void operator()(uint64_t answered) {
        if (released) {
            return;  // the rest of the answer's reads need no clock
        }
        uint64_t received = std::min(answered, range_bytes);
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        double left = static_cast<double>(range_bytes - received + after_range);
        if (elapsed > 0 && left <= static_cast<double>(received) / elapsed * lane_lead_seconds) {
            lane->release();
            released = true;
        }
    }
};

/// Fetches one range. Under a limit the answer is paced as it arrives (the bucket is paid for
/// each slice once it has come), and each slice counts in the progress then, so a capped
/// download shows it moving rather than a whole range at once. A retry reads the range again:
/// its bytes count once. With `release`, the part's lane is given back near its end.
io::task<remote::remote_result<size_t>> fetch_range(file_job* job, uint64_t offset, std::span<std::byte> into,
                                                    early_lane_release* release) {
    run_state* run = job->run;
    uint64_t counted = 0;
    uint64_t length = into.size();
    auto pacer = run->limits.body_pacer(length, run->stop, [run, &counted, length](size_t n) {
        uint64_t fresh = std::min<uint64_t>(n, length - counted);
        counted += fresh;
        run->count_bytes(fresh);
    });
    int retried = 0;
    auto call = job->call(&retried);
    if (release != nullptr) {
        release->range_bytes = length;
        release->sent = std::chrono::steady_clock::now();
        call.on_answer_bytes = [release](uint64_t answered) { (*release)(answered); };
    }
    auto got = co_await job->store->read(job->entry->key, job->entry->object_offset + offset, into, std::move(call),
                                         std::move(pacer));
    job->note_attempts(got, retried);
    if (got && *got > counted) {
        run->count_bytes(*got - counted);
    }
    co_return got;
}

/// Fetches a part. Under a rate limit it goes as ranges of about a quarter second of the lower
/// rate: the pacing is on arrival, so the range size does not shape the link, but a lowered
/// limit or a stop is felt within one range, and a range's request timeout stays in reach.
io::task<remote::remote_result<size_t>> fetch_part(file_job* job, uint64_t offset, std::span<std::byte> into,
                                                   worker_lanes::hold* lane) {
    run_state& run = *job->run;
    early_lane_release release{lane};
    size_t done = 0;
    while (done < into.size()) {
        uint64_t rate = run.limits.lowest_rate();
        size_t piece = into.size() - done;
        if (run.limits.active() && rate != 0) {
            piece = std::min<size_t>(piece, std::max<uint64_t>(256 * 1024, rate / 4));
        }
        if (run.stop.stop_requested()) {
            co_return remote::make_remote_error(remote::remote_errc::io_error, "cancelled");
        }
        release.after_range = into.size() - done - piece;
        early_lane_release* near_end = lane != nullptr ? &release : nullptr;
        auto got = co_await fetch_range(job, offset + done, into.subspan(done, piece), near_end);
        if (!got) {
            co_return got.error();
        }
        done += *got;
        if (*got < piece) {
            break;  // the end of the object
        }
    }
    co_return done;
}

/// A part an earlier run of a resumable download stored: read back and checked against the
/// hash it reported. False when it is not there as reported (the part is fetched again).
io::task<bool> reuse_stored_part(file_job* job, const part_slot& slot) {
    auto stored = job->entry->resume_parts.find(slot.index);
    if (stored == job->entry->resume_parts.end()) {
        co_return false;
    }
    auto got = co_await job->target.read_back(slot.buffer.span(), slot.length, slot.offset, job->run->stop);
    co_return got && *got == slot.length && xxh3_128(slot.buffer.span().first(slot.length)) == stored->second;
}

/// Where piece `i` begins in its pack.
uint64_t piece_offset(const std::vector<entry_piece>& pieces, size_t i) {
    uint64_t at = 0;
    for (size_t k = 0; k < i; ++k) {
        at += pieces[k].size;
    }
    return at;
}

/// Makes a resumable download's part durable, then tells the observer (which journals it): a
/// restart continues from the parts journaled, so none is journaled before it is on disk.
io::task<void> sync_then_journal(file_job* job, uint64_t part, uint64_t length) {
    run_state& run = *job->run;
    if (auto failed = co_await job->target.sync(run.stop)) {
        job->fail(std::move(*failed));
        co_return;
    }
    if (run.observer != nullptr) {
        run.observer->part_done(job->index, remote::uploaded_part{static_cast<int>(part + 1),
                                                                  job->result->part_hashes[part].hex(), length});
    }
}

}  // namespace

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
        auto got = co_await fetch_part(job, offset, span.first(length), &slot->lane);
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
        if (failed) {
            job->fail(std::move(*failed));
            co_return;
        }
        if (job->entry->resumable) {
            // The lane goes on at once: waiting for the flush of its part (tens of ms, every
            // lane of a worker at the same moment at a file's end) left the link idle.
            io::spawn(job->part_syncs, sync_then_journal(job, part, length), "make a downloaded part durable");
        }
    }
}

namespace {

/// A download of pack pieces: every piece checked against its expected hash (and its stream
/// check), then all of them published, or none.
io::task<void> download_pack(file_job* job) {
    run_state& run = *job->run;
    const transfer_entry& entry = *job->entry;
    if (auto bad = pack_size_error(entry.pieces, job->size, entry.key)) {
        job->fail(std::move(*bad));
        co_return;
    }
    job->part_count = std::max<uint64_t>(1, (job->size + job->part_size - 1) / job->part_size);
    job->hash_whole = entry.expected.has_value();
    if (job->hash_whole) {
        job->result->part_hashes.resize(job->part_count);
    }
    job->already_stored.assign(job->part_count, false);
    job->pack.emplace(entry.pieces, job->part_size, job->part_count,
                      run.options.pack_pieces == transfer_options::piece_publishing::in_place);
    if (job->size > 0) {
        co_await run_lanes(job, false);
    }
    if (!job->failed && run.stop.stop_requested()) {
        job->fail("cancelled");
    }
    if (job->hash_whole) {
        job->result->hash = job->file_hash();
        if (!job->failed && *entry.expected != job->result->hash) {
            job->fail(fmt::format("{} (the {} bytes at offset {}) does not match its recorded hash: expected xxh3-128 {}, "
                                  "got {}",
                                  entry.key, job->size, entry.object_offset, entry.expected->hex(),
                                  job->result->hash.hex()));
        }
    }
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
    if (!job->failed && job->pack->check_failure()) {
        job->fail(*job->pack->check_failure());
    }
    job->result->checked = !job->failed && job->size > 0 && std::any_of(entry.pieces.begin(), entry.pieces.end(),
                                                                       [](const entry_piece& p) { return bool(p.check); });
    if (!job->failed) {
        if (auto failed = co_await job->pack->publish(run.stop)) {
            job->fail(std::move(*failed));
        }
    }
    if (job->failed) {
        co_await job->pack->abandon();
    }
}

}  // namespace

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
    job->part_count = count_parts(job->size, job->part_size, run.pool->buffer_size());
    job->result->part_hashes.resize(job->part_count);
    job->already_stored.assign(job->part_count, false);
    if (entry.check) {
        job->check = entry.check();
    }
    if (job->size > 0) {
        co_await run_lanes(job, false);
    }
    co_await job->part_syncs.close();
    if (!job->failed && run.stop.stop_requested()) {
        job->fail("cancelled");
    }
    hash128 got = job->file_hash();
    if (!job->failed && entry.expected && *entry.expected != got) {
        job->fail(mismatch_message(*job, got));
    }
    if (!job->failed && job->check) {
        if (auto bad = job->check->finish()) {
            job->fail(std::move(*bad));
        } else {
            job->result->checked = true;
        }
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

}  // namespace tv::pipeline::detail
