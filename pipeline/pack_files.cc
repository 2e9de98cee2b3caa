// SPDX-License-Identifier: Apache-2.0
// Pack files: which pieces lie in which part, a few readers or writers per part sharing one
// cursor over its pieces, and the per-piece digests fed in part order.
#include "pipeline/pack_files.hh"

#include "io/durable_file.hh"
#include "io/file.hh"
#include "io/ops.hh"
#include "io/when_all.hh"
#include "pipeline/transfer.hh"

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <set>
#include <utility>

namespace tv::pipeline {

std::optional<std::string> pack_size_error(std::span<const entry_piece> pieces, uint64_t size, const std::string& key) {
    uint64_t sum = 0;
    bool overflow = false;
    for (const auto& p : pieces) {
        overflow = overflow || __builtin_add_overflow(sum, p.size, &sum);
    }
    if (!overflow && sum == size) {
        return std::nullopt;
    }
    return fmt::format("pack {}: its {} pieces add up to {} bytes, not its recorded size {}", key, pieces.size(),
                       overflow ? std::string("more than 2^64") : std::to_string(sum), size);
}

pack_files::pack_files(std::span<const entry_piece> pieces, uint64_t part_size, uint64_t part_count, bool in_place,
                       unsigned in_flight)
    : _pieces(pieces), _part_size(part_size), _part_count(std::max<uint64_t>(1, part_count)), _in_place(in_place),
      _in_flight(std::max(1u, in_flight)), _hashes(pieces.size()) {
    _starts.reserve(pieces.size() + 1);
    uint64_t at = 0;
    for (const auto& p : pieces) {
        _starts.push_back(at);
        at += p.size;
    }
    _starts.push_back(at);
    // last_part() never decreases along the pieces, so one walk finds every part's first piece.
    _part_begin.resize(_part_count);
    size_t i = 0;
    for (uint64_t part = 0; part < _part_count; ++part) {
        while (i < pieces.size() && last_part(i) < part) {
            ++i;
        }
        _part_begin[part] = i;
    }
}

uint64_t pack_files::first_part(size_t piece) const {
    // A zero-length piece at the very end of the pack belongs to the last part.
    return std::min(_starts[piece] / _part_size, _part_count - 1);
}

uint64_t pack_files::last_part(size_t piece) const {
    uint64_t size = _pieces[piece].size;
    return size == 0 ? first_part(piece) : (_starts[piece] + size - 1) / _part_size;
}

std::vector<pack_files::extent> pack_files::extents(uint64_t part) const {
    std::vector<extent> out;
    uint64_t begin = part * _part_size;
    uint64_t end = begin + _part_size;
    for (size_t i = _part_begin[part]; i < _pieces.size() && first_part(i) <= part; ++i) {
        uint64_t lo = std::max(_starts[i], begin);
        uint64_t hi = std::min(_starts[i + 1], end);
        out.push_back(extent{i, lo - _starts[i], hi > lo ? hi - lo : 0, lo - begin});
    }
    return out;
}

/// One part's read: the readers take its extents in order through `next`; the first failure
/// (by piece order, so the message does not depend on timing) is the part's.
struct pack_files::part_read {
    const pack_files* reader = nullptr;
    std::vector<extent> extents;
    std::span<std::byte> into;
    std::stop_token stop;
    size_t next = 0;
    size_t failed_at = SIZE_MAX;
    std::string error;

    void fail(size_t index, std::string message) {
        if (index < failed_at) {
            failed_at = index;
            error = std::move(message);
        }
    }
};

io::task<void> pack_files::read_extents(part_read* state) {
    while (state->next < state->extents.size() && state->failed_at == SIZE_MAX) {
        size_t index = state->next++;
        const extent& e = state->extents[index];
        const entry_piece& piece = state->reader->_pieces[e.piece];
        auto opened = co_await io::open_file(piece.local_path, O_RDONLY, 0, io::direct_mode::off, state->stop);
        if (!opened) {
            state->fail(index, fmt::format("open {}: {}", piece.local_path, opened.error().message()));
            co_return;
        }
        auto n = co_await io::read_fully(*opened, state->into.subspan(e.at, e.length), e.from, state->stop);
        co_await opened->close();
        if (!n) {
            state->fail(index, fmt::format("read {}: {}", piece.local_path, n.error().message()));
        } else if (*n < e.length) {
            state->fail(index, fmt::format("{} is shorter than its recorded size {} (read {} bytes at {})",
                                           piece.local_path, piece.size, *n, e.from));
        }
    }
}

io::task<std::optional<std::string>> pack_files::read(uint64_t part, std::span<std::byte> into,
                                                       std::stop_token stop) {
    part_read state;
    state.reader = this;
    state.extents = extents(part);
    state.into = into;
    state.stop = std::move(stop);
    auto readers = std::min<size_t>(_in_flight, state.extents.size());
    std::vector<io::task<void>> tasks;
    for (size_t r = 0; r < readers; ++r) {
        tasks.push_back(read_extents(&state));
    }
    co_await io::when_all(std::move(tasks));
    if (state.failed_at != SIZE_MAX) {
        co_return std::move(state.error);
    }
    co_return std::nullopt;
}

io::task<void> pack_files::write_extents(part_read* state, std::span<const std::byte> data) {
    while (state->next < state->extents.size() && state->failed_at == SIZE_MAX) {
        size_t index = state->next++;
        const extent& e = state->extents[index];
        const entry_piece& piece = state->reader->_pieces[e.piece];
        if (piece.local_path.empty() || e.length == 0) {
            continue;  // a gap, or a piece created when it is published
        }
        // No O_TRUNC: a piece that spans parts is written by two of them, maybe at once. Every
        // byte of it is written, so what a crashed earlier attempt left is overwritten whole.
        std::string path = state->reader->written_path(piece);
        auto opened = co_await io::open_file(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644, io::direct_mode::off,
                                             state->stop);
        if (!opened) {
            state->fail(index, fmt::format("create {}: {}", path, opened.error().message()));
            co_return;
        }
        auto written = co_await io::write_fully(opened->fd(), data.subspan(e.at, e.length), e.from, state->stop);
        if (written) {
            // Pieces are many and small, made durable later all at once (a syncfs, or an
            // fdatasync each at publish): their writing starts now, beside the reads still under
            // way, rather than all of it in that sync. A hint only: a failed writeback is reported
            // by the sync that follows.
            (void)co_await io::start_writeback(opened->fd(), e.from,
                                               static_cast<uint32_t>(std::min<uint64_t>(e.length, UINT32_MAX)));
        }
        co_await opened->close();
        if (!written) {
            state->fail(index, fmt::format("write {}: {}", path, written.error().message()));
        }
    }
}

io::task<std::optional<std::string>> pack_files::write(uint64_t part, std::span<const std::byte> data,
                                                       std::stop_token stop) {
    part_read state;
    state.reader = this;
    state.extents = extents(part);
    state.stop = std::move(stop);
    auto writers = std::min<size_t>(_in_flight, state.extents.size());
    std::vector<io::task<void>> tasks;
    for (size_t w = 0; w < writers; ++w) {
        tasks.push_back(write_extents(&state, data));
    }
    co_await io::when_all(std::move(tasks));
    if (state.failed_at != SIZE_MAX) {
        co_return std::move(state.error);
    }
    co_return std::nullopt;
}

std::string pack_files::written_path(const entry_piece& piece) const {
    return _in_place ? piece.local_path : partial_path(piece.local_path);
}

/// The pieces being published: workers take them in order through `next`.
struct pack_files::piece_work {
    const pack_files* pack = nullptr;
    std::stop_token stop;
    size_t next = 0;
    std::optional<std::string> error;
};

io::task<void> pack_files::publish_pieces(piece_work* state) {
    while (state->next < state->pack->_pieces.size() && !state->error) {
        const entry_piece& piece = state->pack->_pieces[state->next++];
        bool in_place = state->pack->_in_place;
        if (piece.local_path.empty() || (in_place && piece.size > 0)) {
            continue;
        }
        std::string path = state->pack->written_path(piece);
        // A zero-length piece was never written: O_CREAT makes it.
        auto opened = co_await io::open_file(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644, io::direct_mode::off,
                                             state->stop);
        if (!opened) {
            state->error = fmt::format("open {}: {}", path, opened.error().message());
            co_return;
        }
        io::result<void> synced;
        if (!in_place) {
            synced = co_await io::fdatasync(opened->fd(), state->stop);
        }
        co_await opened->close();
        if (!synced) {
            state->error = fmt::format("fdatasync {}: {}", path, synced.error().message());
            co_return;
        }
        if (in_place) {
            continue;
        }
        auto renamed = co_await io::renameat(AT_FDCWD, path, AT_FDCWD, piece.local_path);
        if (!renamed) {
            state->error = fmt::format("rename {}: {}", path, renamed.error().message());
            co_return;
        }
    }
}

io::task<std::optional<std::string>> pack_files::publish(std::stop_token stop) {
    piece_work state{this, stop, 0, std::nullopt};
    std::vector<io::task<void>> tasks;
    for (unsigned w = 0; w < std::min<size_t>(_in_flight, _pieces.size()); ++w) {
        tasks.push_back(publish_pieces(&state));
    }
    co_await io::when_all(std::move(tasks));
    if (state.error) {
        co_return std::move(state.error);
    }
    if (_in_place) {
        co_return std::nullopt;
    }
    std::set<std::string> dirs;
    for (const auto& piece : _pieces) {
        if (!piece.local_path.empty()) {
            dirs.insert(io::parent_directory(piece.local_path));
        }
    }
    for (const auto& dir : dirs) {
        if (auto synced = co_await io::sync_directory(dir, stop); !synced) {
            co_return fmt::format("fsync {}: {}", dir, synced.error().message());
        }
    }
    co_return std::nullopt;
}

io::task<void> pack_files::abandon() {
    for (const auto& piece : _pieces) {
        if (!piece.local_path.empty()) {
            (void)co_await io::unlinkat(AT_FDCWD, written_path(piece));
        }
    }
}

void pack_files::hash(uint64_t part, std::span<const std::byte> data) {
    for (const extent& e : extents(part)) {
        auto bytes = data.subspan(e.at, e.length);
        uint64_t size = _pieces[e.piece].size;
        if (const auto& check = _pieces[e.piece].check) {
            if (e.from == 0) {
                _checking = check();
            }
            _checking->update(bytes);
            if (e.from + e.length == size) {
                auto bad = std::exchange(_checking, nullptr)->finish();
                if (bad && !_check_failure) {
                    _check_failure = std::move(bad);
                }
            }
        }
        if (e.from == 0 && e.length == size) {
            _hashes[e.piece] = xxh3_128(bytes);  // the whole piece is in this part
            continue;
        }
        if (e.from == 0) {
            _spanning.reset();
        }
        _spanning.update(bytes);
        if (e.from + e.length == size) {
            _hashes[e.piece] = _spanning.digest();
        }
    }
}

}  // namespace tv::pipeline
