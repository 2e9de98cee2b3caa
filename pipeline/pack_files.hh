// SPDX-License-Identifier: Apache-2.0
// pack_files: a pack's bytes (many small piece files end to end, one object) moved part by
// part between pool buffers and the piece files, several pieces at once, with each piece's
// XXH3-128 streamed as its parts go by in order, so no piece is ever read or written twice.
// An upload reads the pieces; a download writes them (under `<path>.partial` until publish(), or
// in place).
#pragma once

#include "io/task.hh"
#include "pipeline/hash.hh"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

namespace tv::pipeline {

struct entry_piece;
class stream_check;

/// Why a pack's pieces do not make its recorded size (a message for users), or nothing when they
/// do. The engine checks this before it reads anything.
std::optional<std::string> pack_size_error(std::span<const entry_piece> pieces, uint64_t size, const std::string& key);

/// One pack of an upload or a download. Its parts may be read or written concurrently (the
/// engine's lanes), but hash() must see them in part order: the engine calls it in the part's
/// turnstile turn, where the pack's own digest is fed. Pieces are small and lie unaligned in
/// the buffer, so they go through the page cache: open, read or write, close, each through
/// io_uring. A piece without a local path is a gap of a download (bytes it does not keep).
class pack_files {
public:
    /// Pieces read at once within one part. 20,000 cold files of 64 KiB on a virtio disk
    /// (bench/pack_bench.cc, 2 cores): one by one ~10k files/s, 16 at once ~20k, and with four
    /// parts at once as the engine's lanes run them ~28k (32: ~30k). 16 keeps the descriptors
    /// open at once to 16 per pool buffer (256 with the default 256 MiB of buffers).
    static constexpr unsigned default_in_flight = 16;

    /// `pieces` (sizes already checked against the pack's size) must outlive the reader; the
    /// pack is cut into `part_count` parts of `part_size` bytes (the last one shorter). A
    /// download `in_place` writes each piece under its final name (no partial file, nothing to
    /// rename or sync in publish()).
    pack_files(std::span<const entry_piece> pieces, uint64_t part_size, uint64_t part_count, bool in_place = false,
               unsigned in_flight = default_in_flight);

    /// Reads part `part` into `into` (its whole length). An error names the piece file: one
    /// that cannot be opened or read, or is shorter than its recorded size.
    io::task<std::optional<std::string>> read(uint64_t part, std::span<std::byte> into, std::stop_token stop = {});

    /// Writes part `part`'s bytes (its whole length) into the pieces' files (partial ones unless
    /// in place). An error names the piece file.
    io::task<std::optional<std::string>> write(uint64_t part, std::span<const std::byte> data, std::stop_token stop = {});

    /// After every part is written: each piece's partial file made durable and renamed into
    /// place, then their directories synced. In place: only the empty pieces (never written)
    /// are created; the caller makes the files durable. An error names the piece file.
    io::task<std::optional<std::string>> publish(std::stop_token stop = {});

    /// Removes what a failed download wrote: its partial files (pieces already published stay),
    /// or in place every piece.
    io::task<void> abandon();

    static std::string partial_path(const std::string& path) { return path + ".partial"; }
    /// Where a piece's bytes are written until publish().
    std::string written_path(const entry_piece& piece) const;

    /// Feeds part `part`'s bytes to the digests of the pieces in it, and to their stream checks
    /// (entry_piece::check). Parts in order, each once.
    void hash(uint64_t part, std::span<const std::byte> data);

    /// Each piece's XXH3-128, in order; complete once every part has been hashed.
    const std::vector<hash128>& piece_hashes() const noexcept { return _hashes; }
    /// What the first piece whose stream check failed said; nothing while all passed.
    const std::optional<std::string>& check_failure() const noexcept { return _check_failure; }

private:
    /// A piece's bytes inside one part.
    struct extent {
        size_t piece = 0;
        uint64_t from = 0;    // offset in the piece file
        uint64_t length = 0;  // bytes of it in this part
        uint64_t at = 0;      // offset in the part
    };
    struct part_read;
    struct piece_work;

    /// The pieces with bytes in part `part` (a zero-length one in the part where it lies).
    std::vector<extent> extents(uint64_t part) const;
    uint64_t first_part(size_t piece) const;
    uint64_t last_part(size_t piece) const;
    static io::task<void> read_extents(part_read* state);
    static io::task<void> write_extents(part_read* state, std::span<const std::byte> data);
    static io::task<void> publish_pieces(piece_work* state);

    std::span<const entry_piece> _pieces;
    uint64_t _part_size;
    uint64_t _part_count;
    bool _in_place;
    unsigned _in_flight;
    std::vector<uint64_t> _starts;      // where each piece begins in the pack; one more: the end
    std::vector<size_t> _part_begin;    // the first piece with bytes in each part
    std::vector<hash128> _hashes;
    streaming_hash _spanning;           // the piece that runs on into the next part
    std::unique_ptr<stream_check> _checking;  // the stream check of the piece being hashed
    std::optional<std::string> _check_failure;
};

}  // namespace tv::pipeline
