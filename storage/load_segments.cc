// SPDX-License-Identifier: Apache-2.0
// Schema checks, segment sizing and the background segment writes of a load.
#include "storage/load_segments.hh"

#include "io/durable_file.hh"
#include "io/file.hh"
#include "io/loop_group.hh"
#include "io/ops.hh"
#include "storage/segment_writer.hh"
#include "storage/tablet_files.hh"

#include <fmt/format.h>

#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

namespace tv::storage {

namespace {

/// A fire-and-forget coroutine: the frame frees itself at the end. Bodies catch everything.
struct detached {
    struct promise_type {
        detached get_return_object() const noexcept { return {}; }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };
};

}  // namespace

uint64_t segment_overhead(const std::vector<column_desc>& schema) {
    uint64_t bytes = segment_header_size + segment_trailer_size + 16;
    for (const auto& c : schema) {
        bytes += c.name.size() + 64 + 2 * segment_stat_max_bytes + 8;
    }
    return bytes;
}

storage_result<std::vector<std::pair<size_t, size_t>>> split_rows(const column_batch& b, uint64_t budget) {
    size_t n = b.num_rows();
    if (b.block_bytes() <= budget) {
        return std::vector<std::pair<size_t, size_t>>{{0, n}};
    }
    uint64_t fixed = 0;
    std::vector<const column_vector*> strings;
    for (size_t c = 0; c < b.num_columns(); ++c) {
        const column_vector& col = b.column(c);
        fixed += col.nullable() ? 1 : 0;  // a bitmap bit, counted as a byte: a safe overestimate
        if (col.type() == physical_type::bytes) {
            fixed += sizeof(uint64_t);
            strings.push_back(&col);
        } else {
            fixed += value_width(col.type());
        }
    }
    uint64_t piece_base = strings.size() * sizeof(uint64_t);  // each string block's extra offset
    std::vector<std::pair<size_t, size_t>> pieces;
    size_t start = 0;
    uint64_t used = piece_base;
    for (size_t row = 0; row < n; ++row) {
        uint64_t cost = fixed;
        for (const column_vector* s : strings) {
            auto offsets = s->offsets();
            cost += offsets[row + 1] - offsets[row];
        }
        if (piece_base + cost > budget) {
            return make_error(storage_errc::bad_definition,
                              fmt::format("A row of {} bytes does not fit in a segment file of at most {} bytes "
                                          "(segment_max_bytes)",
                                          cost, budget));
        }
        if (used + cost > budget) {
            pieces.emplace_back(start, row);
            start = row;
            used = piece_base;
        }
        used += cost;
    }
    pieces.emplace_back(start, n);
    return pieces;
}

storage_result<column_batch> conform_to(const std::vector<column_desc>& schema, column_batch rows,
                                        std::string_view what) {
    if (rows.num_columns() != schema.size()) {
        return make_error(storage_errc::bad_definition,
                          fmt::format("Rows for {} have {} columns, expected {}", what, rows.num_columns(),
                                      schema.size()));
    }
    bool same = rows.schema() == schema;
    if (same) {
        return rows;
    }
    for (size_t i = 0; i < schema.size(); ++i) {
        const column_type& want = schema[i].type;
        const column_type& got = rows.schema()[i].type;
        bool fits = want.kind == got.kind && (want.kind != type_kind::decimal || want.scale == got.scale);
        if (!fits) {
            return make_error(storage_errc::bad_definition,
                              fmt::format("Rows for {} have column {} of type {}, expected {}", what, schema[i].name,
                                          got.to_sql(), want.to_sql()));
        }
        if (!schema[i].nullable && rows.column(i).null_count() != 0) {
            return make_error(storage_errc::bad_definition, fmt::format("Column '{}' cannot be null", schema[i].name));
        }
    }
    size_t n = rows.num_rows();
    std::vector<column_vector> columns = rows.release_columns();
    for (size_t i = 0; i < schema.size(); ++i) {
        if (columns[i].nullable() != schema[i].nullable) {
            column_vector converted(columns[i].type(), schema[i].nullable);
            converted.append_range(columns[i], 0, n);
            columns[i] = std::move(converted);
        }
    }
    return column_batch(schema, std::move(columns));
}

namespace {

/// Creates the tablet directory when asked (fsyncing its parent when it is new), then writes.
io::task<storage_result<segment_info>> write_file(std::string dir, bool make_dir, std::string root, std::string path,
                                                  const column_batch& batch) {
    if (make_dir) {
        auto made = co_await io::mkdirat(AT_FDCWD, dir, 0755);
        if (!made && made.error() != std::errc::file_exists) {
            co_return storage_error{storage_errc::io_error,
                                    fmt::format("segment {} could not be written: {}", path,
                                                io::describe(made.error(), "mkdir " + dir))};
        }
        if (made) {
            auto synced = co_await io::sync_directory(root);
            if (!synced) {
                co_return storage_error{storage_errc::io_error,
                                        fmt::format("segment {} could not be written: {}", path,
                                                    io::describe(synced.error(), "fsync " + root))};
            }
        }
    }
    co_return co_await write_segment(std::move(path), batch, 0);
}

detached run_write(std::shared_ptr<segment_writes> st, io::loop* target, size_t slot, size_t index,
                   object_id tablet, uint64_t n, std::string dir, bool make_dir, std::string root, std::string path,
                   column_batch batch) {
    std::optional<storage_result<segment_info>> outcome;
    try {
        if (target != nullptr) {
            auto job = write_file(dir, make_dir, root, path, batch);
            auto r = co_await io::submit_to(*target, std::move(job));
            outcome.emplace(std::move(r));
        } else {
            auto r = co_await write_file(dir, make_dir, root, path, batch);
            outcome.emplace(std::move(r));
        }
    } catch (const std::exception& e) {
        outcome.emplace(storage_error{storage_errc::io_error,
                                      fmt::format("segment {} could not be written: {}", path, e.what())});
    }
    --st->inflight;
    if (outcome->has_value()) {
        const segment_info& info = **outcome;
        if (st->abandoned) {
            (void)::unlink(path.c_str());
        } else {
            st->dir_made[slot] = 1;
            segment_file f{std::filesystem::path(path).filename().string(), info.size, info.row_count, info.checksum};
            st->files.push_back(segment_writes::written{slot, tablet, n, std::move(f)});
        }
    } else if (!st->error) {
        st->error = outcome->error();
    }
    if (!st->abandoned && st->spare[index].size() < st->spare_limit) {
        batch.clear();
        st->spare[index].push_back(std::move(batch));
    }
    if (st->waiter) {
        io::loop::current().post(std::exchange(st->waiter, {}));
    }
}

struct write_waiter {
    segment_writes* st;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { st->waiter = h; }
    void await_resume() const noexcept {}
};

}  // namespace

io::loop* pick_loop(io::loop_group* loops, size_t& cursor) {
    if (loops == nullptr) {
        return nullptr;
    }
    io::loop* here = io::loop::current_or_null();
    for (unsigned tries = 0; tries < loops->size(); ++tries) {
        io::loop* candidate = &loops->at(static_cast<unsigned>(cursor++ % loops->size()));
        if (candidate != here || loops->size() == 1) {
            return candidate;
        }
    }
    return here;
}

storage_result<void> make_tablets_root(const std::string& data_dir) {
    std::string storage = data_dir + "/storage";
    std::string root = tablets_root(data_dir);
    std::error_code ec;
    if (std::filesystem::is_directory(root, ec)) {
        return {};
    }
    bool storage_new = !std::filesystem::exists(storage, ec);
    std::filesystem::create_directories(root, ec);
    if (ec) {
        return make_error(storage_errc::io_error, fmt::format("Could not create {}: {}", root, ec.message()));
    }
    std::vector<std::string> parents{storage};
    if (storage_new) {
        parents.push_back(data_dir);
    }
    for (const std::string& dir : parents) {
        int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            (void)::fsync(fd);
            ::close(fd);
        }
    }
    return {};
}

void segment_writes::start(std::shared_ptr<segment_writes> self, io::loop* target, size_t slot, size_t index,
                           object_id tablet, uint64_t n, column_batch batch) {
    bool make_dir = self->dir_made[slot] == 0;
    std::string dir = tablet_dir(self->data_dir, tablet);
    std::string root = tablets_root(self->data_dir);
    std::string path = segment_path(self->data_dir, tablet, segment_file_name(self->rowset_id, n));
    ++self->inflight;
    run_write(std::move(self), target, slot, index, tablet, n, std::move(dir), make_dir, std::move(root),
              std::move(path), std::move(batch));
}

io::task<void> segment_writes::wait(size_t at_most) {
    while (inflight > at_most) {
        write_waiter w{this};  // named: no braced temporaries in co_await expressions (GCC 12)
        co_await w;
    }
}

}  // namespace tv::storage
