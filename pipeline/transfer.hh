// SPDX-License-Identifier: Apache-2.0
// transfer: moves a list of files between local disk and a repository's object store (either
// direction) with bounded memory: each file is read in pool-buffer-sized parts (O_DIRECT where
// the filesystem allows), hashed with XXH3-128 as it streams, throttled, and written to its
// sink; several files in flight spread over every loop, several parts in flight per file. An
// upload may also put many small files as one object (a pack), hashing each one on the way.
#pragma once

#include "io/buffer_pool.hh"
#include "io/loop_group.hh"
#include "io/task.hh"
#include "pipeline/hash.hh"
#include "pipeline/progress.hh"
#include "pipeline/throttle.hh"
#include "pipeline/transfer_limits.hh"
#include "remote/object_store.hh"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

namespace tv::pipeline {

enum class direction { upload, download };

/// A check of a downloaded file's bytes beyond its hash (a file format's own checksums): fed every
/// byte once, in order, as the transfer streams them, so the caller need not read the file back.
/// Runs on the loop that moves the file, one file's check at a time.
class stream_check {
public:
    virtual ~stream_check() = default;
    virtual void update(std::span<const std::byte> bytes) = 0;
    /// After the last byte: what is wrong, worded for users (the entry fails with it), or nothing.
    virtual std::optional<std::string> finish() = 0;
};

/// One file of a pack: an upload reads `size` bytes from it, from its start; a download writes
/// them into it (its directory must exist), or skips them when `local_path` is empty (bytes of
/// the object it does not want).
struct entry_piece {
    std::string local_path;
    uint64_t size = 0;
    std::optional<hash128> expected;  ///< a download: a different hash fails the entry
    /// A download: makes the check this piece's bytes are fed to (see transfer_entry::check).
    std::function<std::unique_ptr<stream_check>()> check;
};

struct transfer_entry {
    std::string local_path;  ///< the file on disk: read for an upload, written for a download
    std::string key;         ///< the object in the store
    uint64_t size = 0;       ///< an upload reads exactly this many bytes (the file may not change)
    std::optional<hash128> expected;  ///< when known, a different hash fails the entry
    /// A download reads the file's bytes from here on in the object (a file packed with
    /// others); `size` must then be given.
    uint64_t object_offset = 0;
    /// A download that may continue after a restart: written at `<local_path>.partial`, each
    /// part made durable and then reported to the observer's part_done (number = index + 1,
    /// etag = the part's XXH3-128 in hex); a stopped run keeps the file.
    bool resumable = false;
    /// Parts (by index) an earlier run of a resumable download reported, with their hashes:
    /// read back from the partial file and checked instead of fetched (fetched when they differ).
    std::map<uint64_t, hash128> resume_parts;
    /// An upload begun earlier (after a restart): continue it from the parts the store holds,
    /// when they were cut at `resume_part_size`, the part size of this run; else it is aborted
    /// and begun again (a part of the same number and size could hold other bytes).
    std::string resume_upload_id;
    uint64_t resume_part_size = 0;
    /// A pack: when not empty, the object (from `object_offset` on) is these files' bytes end to
    /// end, and `local_path` is unused. `size` must be the sum of their sizes (else the entry
    /// fails), and each piece's hash comes back in entry_result::piece_hashes. A download
    /// publishes every piece or none; it is never resumable.
    std::vector<entry_piece> pieces;
    /// A download of a file (not a pack): makes the check its bytes are fed to, including parts
    /// read back from a resumed partial file. A failed check fails the entry before publish.
    std::function<std::unique_ptr<stream_check>()> check;
};

struct entry_result {
    bool ok = false;
    /// Of the whole file (a pack: of the whole object, or for a download the range it took; a
    /// pack's download computes it, and checks it, only when transfer_entry::expected is given).
    hash128 hash;
    std::vector<hash128> part_hashes;  ///< of each part, in order (one part below the threshold; not for a pack's download)
    /// A pack's: of each piece's bytes, in order, one per piece (complete when `ok`; empty for a file).
    std::vector<hash128> piece_hashes;
    std::vector<remote::uploaded_part> parts;  ///< a multipart upload's parts (empty otherwise)
    uint64_t bytes = 0;
    int attempts = 0;        ///< the most times any part was sent (the store's retries; 0 when none was)
    bool resumed = false;    ///< continued an earlier upload, or a download from its stored parts
    /// A download's stream checks (transfer_entry::check, or each piece's) saw every byte and passed.
    bool checked = false;
    std::string error;       ///< what failed, for users (names the file, the key and the store's code)
};

/// Hooks for a caller that journals progress so a restart can resume. Called on the loop that
/// did the work, possibly several loops at once: implementations must be thread-safe.
struct transfer_observer {
    virtual ~transfer_observer() = default;
    /// An upload of entry `index` began (the id to resume it with; "" when not resumable), its
    /// parts cut at `part_size` bytes.
    virtual void upload_begun(size_t index, const std::string& upload_id, uint64_t part_size) {
        (void)index, (void)upload_id, (void)part_size;
    }
    /// A part is durably stored in the upload (or in a resumable download's partial file).
    virtual void part_done(size_t index, const remote::uploaded_part& part) { (void)index, (void)part; }
    /// The entry is finished, successfully or not.
    virtual void entry_done(size_t index, const entry_result& result) { (void)index, (void)result; }
};

struct transfer_options {
    direction way = direction::upload;
    /// Workers (0 = one per core); each begins its next file while the last one completes.
    unsigned workers = 0;
    /// Parts in flight per worker, across the (at most two) files it has open: the lanes. To a
    /// store, an upload's part whose body is on the connection and a download's part whose rest
    /// is due within a moment give their lanes back for the next request, so up to one such
    /// tail per lane may be in flight beside them (their buffers are still the pool's).
    unsigned parts_per_file = 4;
    /// Objects at least this large are uploaded in parts; smaller ones in one PUT. Capped at the
    /// part size. An object that does not fit in one buffer always goes in parts.
    uint64_t multipart_threshold = 64ull << 20;
    /// Bytes of a part (upload) or ranged GET (download); 0 or more than the pool's buffer size:
    /// the buffer size. A buffer larger than the part is slack for a file's last part: a
    /// remainder that fits beside a whole part in one buffer joins the last part instead of
    /// going as a small part of its own (a 64 MiB segment and its 1 KiB footer: 4 parts, not 5).
    uint64_t part_size = 0;
    /// This transfer's own limit (a job's), on top of the engine's for the direction: every byte
    /// goes through both, so the lower rate wins. A rate change on either is felt at the next
    /// slice (an upload's body slice, a download's ranged GET). Must outlive the run.
    throttle* job_limit = nullptr;
    /// How a download publishes the pieces of a pack.
    enum class piece_publishing {
        /// Written as `<path>.partial`; once every piece's hash matches, each is fdatasync'd and
        /// renamed into place, then their directories fsync'd: all or none, durable when the
        /// entry is done.
        durable_rename,
        /// Written under their final names (no O_TRUNC: a file already there must be no longer
        /// than its piece, as one a crashed run of the same plan wrote is) and not synced; a
        /// failed pack's pieces are removed.
        /// For a caller that writes into a directory only it reads, makes a batch of entries
        /// durable at once and records which are complete (RESTORE's staging: one syncfs per
        /// journal flush): a piece's rename and its directory's share of the work cost more
        /// than its write.
        in_place,
    };
    piece_publishing pack_pieces = piece_publishing::durable_rename;
    // No retry settings: the store retries each request (remote::retry_policy), the engine never.
};

struct transfer_report {
    std::vector<entry_result> entries;  ///< one per entry, in the given order
    uint64_t bytes = 0;
    size_t failed = 0;
    uint64_t retries = 0;  ///< requests the store sent again, over every entry
    bool cancelled = false;
    std::chrono::duration<double> elapsed{};
};

/// Opens the store on the calling loop (one per loop: an S3 client's connection pool belongs to
/// the loop it runs on).
using store_opener = std::function<remote::remote_result<std::unique_ptr<remote::object_store>>()>;

/// The process's transfer machinery: the loops, the buffer pool (the memory budget: every byte
/// in flight is in it) and one throttle per direction. Transfers may run concurrently and share
/// all three.
class transfer_engine {
public:
    transfer_engine(io::loop_group& loops, io::buffer_pool& pool, throttle& upload_limit, throttle& download_limit);

    /// Runs every entry and reports each one's outcome; entries fail independently. `stop`
    /// cancels: parts in flight finish or stop, open multipart uploads are aborted.
    io::task<transfer_report> run(std::vector<transfer_entry> entries, transfer_options options, store_opener open,
                                  std::stop_token stop = {}, transfer_progress* progress = nullptr,
                                  transfer_observer* observer = nullptr);

    io::buffer_pool& pool() noexcept { return _pool; }
    /// Everything moved in one direction since the engine started, across transfers.
    const transfer_progress& progress(direction way) const noexcept {
        return way == direction::upload ? _uploaded : _downloaded;
    }
    const throttle& limit(direction way) const noexcept {
        return way == direction::upload ? _upload_limit : _download_limit;
    }
    /// The engine's limit for `way` and `job`'s (may be null), for a caller that moves bytes
    /// itself through the store's read API (VERIFY SNAPSHOT reads into memory) under the same
    /// limits as a run would.
    transfer_limits limits(direction way, throttle* job = nullptr) const noexcept {
        return transfer_limits{way == direction::upload ? &_upload_limit : &_download_limit, job};
    }

private:
    io::loop_group& _loops;
    io::buffer_pool& _pool;
    throttle& _upload_limit;
    throttle& _download_limit;
    transfer_progress _uploaded;
    transfer_progress _downloaded;
};

}  // namespace tv::pipeline
