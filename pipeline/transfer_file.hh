// SPDX-License-Identifier: Apache-2.0
// Inside the transfer engine (not for other layers): what its upload and download paths share.
// A run's state, one file being moved, and the part machinery: taking a part with its pool
// buffer, hashing it in turn, and the lanes that move a file's parts.
#pragma once

#include "io/buffer_pool.hh"
#include "io/file.hh"
#include "io/gate.hh"
#include "io/turnstile.hh"
#include "pipeline/local_sink.hh"
#include "pipeline/pack_files.hh"
#include "pipeline/transfer.hh"
#include "pipeline/transfer_limits.hh"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tv::pipeline::detail {

/// How many parts `size` bytes take: `part_size` each, the last one the rest; a remainder that
/// fits beside a whole part in a buffer of `buffer_size` joins the last part. Uploads of files
/// and every download use it; a pack keeps parts of `part_size` (pack_files maps pieces so).
inline uint64_t count_parts(uint64_t size, uint64_t part_size, uint64_t buffer_size) {
    uint64_t whole = size / part_size;
    uint64_t rest = size % part_size;
    if (whole == 0) {
        return 1;
    }
    return rest == 0 || part_size + rest <= buffer_size ? whole : whole + 1;
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
    uint64_t part_size = 0;  // the options' part size within the pool's buffers
    // Entries are taken in turn, whole files of more than one part (`large`) before the rest
    // (packs of small files, files of one part). A large file's parts are copied and hashed in
    // 16 MiB steps that hold a loop for milliseconds each; the loop of the SQL front end (loop
    // 0) only takes the rest, so SHOW BACKUP answers in time while a backup runs at full speed.
    std::vector<size_t> large;
    std::vector<size_t> small;
    std::atomic<size_t> next_large{0};
    std::atomic<size_t> next_small{0};
    std::atomic<uint64_t> retries{0};  // this run's alone (a caller's progress may span runs)

    /// Sorts the entries into `large` and `small` for parts of `part_size` bytes (set it first).
    void sort_entries();
    /// The next entry to transfer, or none; `small_only` for a worker on the front end's loop.
    std::optional<size_t> take(bool small_only);

    void count_bytes(uint64_t n) {
        progress->add_bytes(n);
        direction_progress->add_bytes(n);
    }

    void count_retry(std::string_view reason) {
        ++retries;
        progress->add_retry(reason);
        direction_progress->add_retry(reason);
    }
};

struct file_job;

/// One worker's lanes: at most `parts_per_file` parts of its files move at once, and with
/// `overlap` a second file may begin while the first finishes. The worker then begins its next
/// file as soon as the current one has handed out every part and a lane is free, so the current
/// file's last answers, its completion request and the next file's first request are under way
/// while the other lanes move data: over a long round trip a worker's connections do not sit
/// idle at each file's end. Lives on the worker's loop; everything that uses it runs there.
class worker_lanes {
public:
    worker_lanes(unsigned lanes, bool overlap) : max_files(overlap ? 2 : 1), _free(std::max(1u, lanes)) {}
    worker_lanes(const worker_lanes&) = delete;
    worker_lanes& operator=(const worker_lanes&) = delete;

    /// A lane, returned by destroying it.
    class hold {
    public:
        hold() noexcept = default;
        explicit hold(worker_lanes* owner) noexcept : _owner(owner) {}
        hold(hold&& other) noexcept : _owner(std::exchange(other._owner, nullptr)) {}
        hold& operator=(hold&& other) noexcept {
            if (this != &other) {
                reset();
                _owner = std::exchange(other._owner, nullptr);
            }
            return *this;
        }
        ~hold() { reset(); }

        /// Gives the lane back before the hold ends (a download whose answer is nearly in).
        void release() noexcept { reset(); }

    private:
        void reset() noexcept {
            if (_owner != nullptr) {
                std::exchange(_owner, nullptr)->release();
            }
        }
        worker_lanes* _owner = nullptr;
    };

    /// Waits for a free lane, first come first served. Holders always give lanes back soon (a
    /// stop ends their requests), so the wait needs no stop token of its own.
    auto acquire() noexcept {
        struct awaiter {
            worker_lanes* self;
            bool await_ready() const noexcept {
                if (self->_free > 0) {
                    --self->_free;
                    return true;
                }
                return false;
            }
            void await_suspend(std::coroutine_handle<> h) { self->_waiting.push_back(h); }
            hold await_resume() const noexcept { return hold{self}; }
        };
        return awaiter{this};
    }

    /// Tells the worker to look again (a part handed out, a file ended).
    void changed() {
        if (_worker) {
            io::loop::current().post(std::exchange(_worker, {}));
        }
    }

    /// For the worker: resumes at the next change.
    auto next_change() noexcept {
        struct awaiter {
            worker_lanes* self;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> h) noexcept { self->_worker = h; }
            void await_resume() const noexcept {}
        };
        return awaiter{this};
    }

    unsigned free() const noexcept { return _free; }

    const unsigned max_files;          // the file handing out parts, and with overlap one finishing
    const file_job* newest = nullptr;  // the file begun last, until it ends
    unsigned files = 0;                // files begun and not yet ended

private:
    void release() {
        if (!_waiting.empty()) {
            // Handed straight to the next waiter: a lane is never free while a lane waits.
            io::loop::current().post(_waiting.front());
            _waiting.pop_front();
        } else {
            ++_free;
        }
        changed();
    }

    unsigned _free;
    std::deque<std::coroutine_handle<>> _waiting;
    std::coroutine_handle<> _worker;
};

/// Something coroutines on one loop wait for until it is set, once; then every waiter goes on.
class ready_signal {
public:
    auto wait() noexcept {
        struct awaiter {
            ready_signal* self;
            bool await_ready() const noexcept { return self->_set; }
            void await_suspend(std::coroutine_handle<> h) { self->_waiting.push_back(h); }
            void await_resume() const noexcept {}
        };
        return awaiter{this};
    }
    void set() {
        _set = true;
        for (auto h : std::exchange(_waiting, {})) {
            io::loop::current().post(h);
        }
    }

private:
    bool _set = false;
    std::vector<std::coroutine_handle<>> _waiting;
};

/// One file being moved, owned by its move_file coroutine on the worker's loop.
struct file_job {
    run_state* run = nullptr;
    size_t index = 0;
    const transfer_entry* entry = nullptr;
    entry_result* result = nullptr;
    remote::object_store* store = nullptr;

    uint64_t size = 0;
    uint64_t part_size = 0;
    uint64_t part_count = 0;  // every part is part_size bytes but the last (see count_parts)
    uint64_t next_part = 0;
    io::file local;               // read (upload of a file)
    std::optional<pack_files> pack;  // read (upload of a pack) or written (download of one)
    local_sink target;            // written (download), published when whole and verified
    /// A resumable download's parts being made durable, then journaled, beside the lanes' next
    /// parts; closed before the target is published, kept or abandoned.
    io::gate part_syncs;
    std::unique_ptr<remote::object_upload> upload;
    /// Set once the multipart upload that the lanes' first parts were read beside is begun (or
    /// failed to begin): a lane sends nothing before.
    ready_signal upload_ready;
    std::vector<bool> already_stored;  // parts a resumed upload had
    streaming_hash digest;
    /// The part hashes and the whole file's digest are computed: always, but for a pack's
    /// download with no hash expected of the whole (its pieces have their own; it is never
    /// resumable), where they would be two more passes over every byte for nothing.
    bool hash_whole = true;
    std::unique_ptr<stream_check> check;  // a download's, fed with the digest
    io::turnstile turns;
    worker_lanes* lanes = nullptr;  // the worker's: a part moves only while it holds one
    bool parts_handed_out = false;  // every part is taken: the worker may begin its next file
    bool failed = false;

    /// What an upload reads, for messages: the file, or the pack's piece count.
    std::string source() const {
        return entry->pieces.empty() ? entry->local_path : fmt::format("a pack of {} files", entry->pieces.size());
    }

    /// Part `index`'s bytes (index < part_count): the last part has what the others leave.
    uint64_t part_length(uint64_t index) const {
        return index + 1 < part_count ? part_size : size - index * part_size;
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
        return remote::call_options(run->stop, [counted, retried](const remote::remote_error& e) {
            counted->count_retry(e.message);
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

/// A part a lane has taken, with the worker's lane and the pool buffer it travels in.
struct part_slot {
    worker_lanes::hold lane;
    io::pooled_buffer buffer;
    uint64_t index = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
};

/// The file's next part and a buffer for it; nothing when the file is done, failed or stopped.
io::task<std::optional<part_slot>> take_part(file_job* job);

/// A part's own XXH3-128 (`whole`: it was read or fetched entirely), then its turn in the file's
/// digest, and a pack's pieces' digests.
io::task<void> hash_part(file_job* job, uint64_t part, std::span<const std::byte> data, bool whole);

/// A file's lanes (parts_per_file of them, at most one per part), each moving parts until none
/// is left; a part moves only while its lane holds one of the worker's (worker_lanes).
io::task<void> run_lanes(file_job* job, bool upload);
io::task<void> upload_lane(file_job* job);
io::task<void> download_lane(file_job* job);

/// "<what> does not match its recorded hash: expected xxh3-128 <a>, got <b>".
std::string mismatch_message(const file_job& job, const hash128& got);

/// A download (a file, or a pack's pieces) from its object into place.
io::task<void> download_file(file_job* job);

}  // namespace tv::pipeline::detail
