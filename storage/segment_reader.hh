// SPDX-License-Identifier: Apache-2.0
// Reads segment files back: the whole batch after verifying every byte, or the footer alone.
#pragma once

#include "io/task.hh"
#include "storage/column_batch.hh"
#include "storage/segment_format.hh"

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace tv::storage {

/// Reads and verifies the whole file (tail magic, footer length, file checksum, footer
/// checksum, header magic and version, block bounds and contents) and decodes it. Any damage is
/// storage_errc::corrupt_data with a message naming the file and what is wrong; rows are returned
/// only from a file that passed every check.
io::task<storage_result<column_batch>> read_segment(std::string path);

/// The footer only, for row counts and min/max without reading the blocks: reads the header and
/// the file's tail and verifies the footer checksum, not the blocks' bytes.
io::task<storage_result<segment_footer>> read_segment_footer(std::string path);

/// Checks a whole file without decoding it, in bounded memory: the footer as
/// read_segment_footer() does, then the file checksum over every byte, which must also equal
/// `expected_checksum` (what a backup manifest recorded). Damage is corrupt_data naming the file.
io::task<storage_result<void>> verify_segment_file(std::string path, uint64_t expected_checksum);

/// The longest footer plus trailer segment_stream_check can verify.
inline constexpr uint64_t segment_check_tail_bytes = 16ull << 20;

/// verify_segment_file()'s checks on a segment whose bytes arrive in order, in pieces (from a
/// download, in memory): feed() every byte once, then finish(). Memory is bounded: only the
/// header and the file's last `tail_limit` bytes are kept, which must hold the footer.
class segment_stream_check {
public:
    /// `name` names the segment in errors; `size` is what the file must add up to. A
    /// `tail_limit` below segment_check_tail_bytes keeps less memory per file: a footer longer
    /// than that is then not checked here (footer_beyond_tail()) but is not an error either.
    segment_stream_check(std::string name, uint64_t size, uint64_t expected_checksum,
                         uint64_t tail_limit = segment_check_tail_bytes);
    ~segment_stream_check();
    segment_stream_check(segment_stream_check&&) noexcept;
    segment_stream_check& operator=(segment_stream_check&&) noexcept;

    void feed(std::span<const std::byte> bytes);
    /// corrupt_data naming the segment when a check fails, or fewer or more bytes came than `size`.
    storage_result<void> finish() const;
    /// After every byte: true when the trailer places the footer before the kept tail although
    /// a segment's footer may be that long (only with a reduced tail_limit). finish() cannot
    /// check such a file; verify_segment_file() on the stored file can.
    bool footer_beyond_tail() const;

private:
    struct state;
    std::unique_ptr<state> _state;
};

/// read_segment() on bytes already in memory; `path` only names the file in errors.
storage_result<column_batch> decode_segment(std::string_view path, std::span<const std::byte> file);

}  // namespace tv::storage
