// SPDX-License-Identifier: Apache-2.0
// The durable metadata files under <data_dir>/meta: an append-only journal of checksummed
// records, fsynced before append() returns, and checkpoint images written to a temp name and
// renamed. Knows bytes and sequence numbers only; the catalog gives the bytes their meaning.
#pragma once

#include "io/file.hh"
#include "io/task.hh"
#include "storage/error.hh"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tv::storage {

/// Record layout, little-endian: [u32 payload length][u64 sequence][u64 XXH3-64 of the length,
/// sequence and payload bytes][payload]. Sequences start at 1 and have no gaps.
inline constexpr size_t journal_header_size = 4 + 8 + 8;
/// Larger lengths are garbage: no catalog change comes near it.
inline constexpr uint32_t journal_max_payload = 64u << 20;

/// One framed record, as append() writes it.
std::string frame_record(uint64_t seq, std::string_view payload);

/// Image layout: ["TVIMAGE1"][u64 sequence][u64 payload length][payload][u64 XXH3-64 of all
/// that precedes]. The sequence is the last journal record the image contains.
std::string frame_image(uint64_t seq, std::string_view payload);

struct journal_record {
    uint64_t seq = 0;
    std::string payload;
};

/// What start-up found: the newest valid image and the records after it, in order.
struct recovered_meta {
    uint64_t image_seq = 0;
    std::optional<std::string> image;  // payload; nullopt when there is no image yet
    std::vector<journal_record> records;
};

class journal;

struct opened_journal {
    std::unique_ptr<journal> log;
    recovered_meta recovered;
};

/// Files: `journal.<first_seq>` (records from first_seq on), `image.<seq>`, and an
/// io::durable_file temporary name while an image is written. Directory 0700, files 0600.
class journal {
public:
    /// Creates `meta_dir` if needed and recovers it:
    /// - images are tried newest first; a damaged one is skipped with a warning (the journal
    ///   still holds everything since the previous image, which is kept for this reason);
    /// - records after the image are read in order across files; a sequence gap is corruption;
    /// - a record that fails its checksum or is cut short at the very end of the last file,
    ///   with nothing valid after it, is a torn write from a crash: it is dropped with a
    ///   warning naming file and offset, and the file is truncated to the last good record;
    /// - a bad record with valid records after it (or anywhere but the tail) is corruption:
    ///   open fails with corrupt_metadata rather than lose acknowledged changes.
    static io::task<storage_result<opened_journal>> open(std::string meta_dir);

    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;
    ~journal();

    /// Appends one record with the next sequence: one write and one fdatasync; returns the
    /// sequence once the record is durable. A write refused for want of space (ENOSPC,
    /// EDQUOT) is cut off the file and fails only this append. After any other failed write, or
    /// a failed sync, the journal refuses every further append (the file's tail is unknown
    /// until a restart recovers it).
    io::task<storage_result<uint64_t>> append(std::string_view payload);

    /// Writes `payload` as the image at last_seq() (temp file, fsync, rename, directory
    /// fsync), starts a new journal file after it, and deletes files no longer needed: all but
    /// the newest two images, and journals wholly before the older of the two.
    io::task<storage_result<void>> write_image(std::string_view payload);

    io::task<void> close();

    uint64_t last_seq() const noexcept { return _last_seq; }
    uint64_t image_seq() const noexcept { return _image_seq; }
    bool failed() const noexcept { return _failed; }
    const std::string& dir() const noexcept { return _dir; }
    /// Path of the file appends go to.
    std::string current_path() const;

private:
    journal() = default;

    io::task<storage_result<void>> start_file(uint64_t first_seq);
    io::task<void> prune();

    std::string _dir;
    io::file _file;
    uint64_t _file_first_seq = 1;
    uint64_t _offset = 0;
    uint64_t _last_seq = 0;
    uint64_t _image_seq = 0;
    bool _failed = false;
};

}  // namespace tv::storage
