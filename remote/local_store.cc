// SPDX-License-Identifier: Apache-2.0
// local_store: objects as files under a root directory. Writes are crash-atomic (temporary
// name, fdatasync, rename, directory fsync); listing walks the tree with std::filesystem, since
// io_uring has no getdents operation.
#include "remote/local_store.hh"

#include "io/failpoint.hh"
#include "io/file.hh"
#include "io/ops.hh"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace tv::remote {

namespace {

namespace fs = std::filesystem;

remote_error bad_key(std::string message) {
    return make_remote_error(remote_errc::bad_config, std::move(message));
}

int64_t modified_ms(const struct statx& st) {
    return st.stx_mtime.tv_sec * 1000 + st.stx_mtime.tv_nsec / 1000000;
}

const std::error_code cancelled = std::make_error_code(std::errc::operation_canceled);

}  // namespace

local_store::local_store(std::string root) : _root(std::move(root)) {
    while (_root.size() > 1 && _root.back() == '/') {
        _root.pop_back();
    }
}

io::task<remote_result<io::durable_file>> local_store::create_temp(std::string key, std::stop_token stop) {
    if (auto why = check_key(key)) {
        co_return bad_key(*why);
    }
    std::string path = _root + "/" + key;
    std::string dir = io::parent_directory(path);
    if (auto made = co_await io::make_directories(dir, 0755, stop); !made) {
        co_return from_error_code(made.error(), fmt::format("create directory {}", dir));
    }
    auto f = co_await io::durable_file::create(path, io::direct_mode::off, 0644, stop);
    if (!f) {
        co_return from_error_code(f.error(), fmt::format("create a temporary file for {}", path));
    }
    co_return std::move(*f);
}

io::task<remote_result<void>> local_store::put(std::string key, std::span<const std::byte> data, call_options call,
                                               body_pacer pacer) {
    auto created = co_await create_temp(key, call.stop);
    if (!created) {
        co_return created.error();
    }
    io::durable_file& f = *created;
    // Unpaced, one write; paced, slice by slice, each taken from the pacer before it goes.
    size_t slice = pacer ? std::max<size_t>(1, pacer.slice) : std::max<size_t>(1, data.size());
    io::result<void> written;
    for (size_t done = 0; written && done < data.size();) {
        size_t n = std::min(slice, data.size() - done);
        if (pacer) {
            bool allowed = co_await pacer.take(n);
            if (!allowed || call.stop.stop_requested()) {
                written = cancelled;
                break;
            }
        }
        written = co_await f.write(data.subspan(done, n), done, call.stop);
        done += n;
    }
    if (written && call.stop.stop_requested()) {
        written = cancelled;
    }
    if (!written) {
        // Nothing of a failed put stays visible: the temporary name goes, the key is untouched.
        co_await f.abandon();
        co_return from_error_code(written.error(), fmt::format("write {} under {}", key, _root));
    }
    io::crash_point("repository.put.before_rename");
    // Replacing, as an S3 PUT over an existing key does. Not stoppable once the bytes are
    // written: a stop in the directory fsync after the rename would report a failed put whose
    // object is there.
    auto committed = co_await f.commit(io::replace_mode::replace);
    if (!committed) {
        co_return from_error_code(committed.error(), fmt::format("write {} under {}", key, _root));
    }
    co_return remote_result<void>{};
}

io::task<remote_result<std::string>> local_store::get(std::string key, std::optional<byte_range> range,
                                                      call_options call) {
    if (auto why = check_key(key)) {
        co_return bad_key(*why);
    }
    std::string path = _root + "/" + key;
    auto f = co_await io::open_file(path, O_RDONLY, 0, io::direct_mode::off, call.stop);
    if (!f) {
        co_return from_error_code(f.error(), fmt::format("open {} under {}", key, _root));
    }
    auto st = co_await io::statx(f->fd(), "", AT_EMPTY_PATH, STATX_BASIC_STATS, call.stop);
    if (!st) {
        co_await f->close();
        co_return from_error_code(st.error(), fmt::format("stat {} under {}", key, _root));
    }
    if (!S_ISREG(st->stx_mode)) {
        co_await f->close();
        co_return make_remote_error(remote_errc::not_found, fmt::format("{} under {} is not an object", key, _root));
    }
    uint64_t size = st->stx_size;
    uint64_t offset = range ? range->offset : 0;
    if (offset > size || (range && offset == size && size > 0)) {
        co_await f->close();
        co_return make_remote_error(remote_errc::range_not_satisfiable,
                                    fmt::format("range starting at {} is past the end of {} ({} bytes)", offset, key,
                                                size));
    }
    uint64_t length = size - offset;
    if (range && range->length) {
        length = std::min(length, *range->length);
    }
    std::string data(length, '\0');
    auto n = co_await io::read_fully(f->fd(), std::as_writable_bytes(std::span<char>(data.data(), data.size())),
                                     offset, call.stop);
    co_await f->close();
    if (!n) {
        co_return from_error_code(n.error(), fmt::format("read {} under {}", key, _root));
    }
    data.resize(*n);
    co_return data;
}

io::task<remote_result<object_info>> local_store::head(std::string key, call_options call) {
    if (auto why = check_key(key)) {
        co_return bad_key(*why);
    }
    auto st = co_await io::statx(AT_FDCWD, _root + "/" + key, 0, STATX_BASIC_STATS, call.stop);
    if (!st) {
        co_return from_error_code(st.error(), fmt::format("stat {} under {}", key, _root));
    }
    if (!S_ISREG(st->stx_mode)) {
        co_return make_remote_error(remote_errc::not_found, fmt::format("{} under {} is not an object", key, _root));
    }
    co_return object_info{std::move(key), st->stx_size, modified_ms(*st)};
}

io::task<remote_result<std::vector<object_info>>> local_store::list(std::string prefix, call_options call) {
    std::vector<object_info> out;
    // Only the directory the prefix's last '/' names can hold matches.
    size_t slash = prefix.rfind('/');
    std::string start = slash == std::string::npos ? _root : _root + "/" + prefix.substr(0, slash);
    std::error_code ec;
    if (!fs::is_directory(start, ec)) {
        co_return out;
    }
    fs::recursive_directory_iterator it(start, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        if (call.stop.stop_requested()) {  // the walk is synchronous: a large tree checks as it goes
            ec = cancelled;
            break;
        }
        if (!it->is_regular_file(ec)) {
            continue;
        }
        std::string path = it->path().string();
        std::string key = path.substr(_root.size() + 1);
        if (io::is_temp_name(key) || !key.starts_with(prefix)) {
            continue;
        }
        uint64_t size = it->file_size(ec);
        if (ec) {  // gone between the listing and the stat: not an object any more
            ec.clear();
            continue;
        }
        out.push_back({std::move(key), size, 0});
    }
    if (ec) {
        co_return from_error_code(ec, fmt::format("list {} under {}", prefix, _root));
    }
    // S3 lists in UTF-8 byte order; std::string compares bytes as char, which is signed here.
    std::sort(out.begin(), out.end(), [](const object_info& a, const object_info& b) {
        return std::lexicographical_compare(a.key.begin(), a.key.end(), b.key.begin(), b.key.end(),
                                            [](char x, char y) { return static_cast<unsigned char>(x) <
                                                                        static_cast<unsigned char>(y); });
    });
    for (auto& info : out) {
        auto st = co_await io::statx(AT_FDCWD, _root + "/" + info.key, 0, STATX_BASIC_STATS, call.stop);
        if (st) {
            info.modified_ms = modified_ms(*st);
        } else if (io::is_cancelled(st.error())) {
            co_return from_error_code(st.error(), fmt::format("list {} under {}", prefix, _root));
        }
    }
    co_return out;
}

io::task<remote_result<void>> local_store::remove(std::vector<std::string> keys, call_options call) {
    for (const auto& key : keys) {
        if (auto why = check_key(key)) {
            co_return bad_key(*why);
        }
    }
    std::set<std::string> dirs;
    for (const auto& key : keys) {
        std::string path = _root + "/" + key;
        if (call.stop.stop_requested()) {  // unlinkat takes no stop token: check between keys
            co_return from_error_code(cancelled, fmt::format("delete {} under {}", key, _root));
        }
        auto removed = co_await io::unlinkat(AT_FDCWD, path);
        if (!removed && removed.error() != std::errc::no_such_file_or_directory) {
            co_return from_error_code(removed.error(), fmt::format("delete {} under {}", key, _root));
        }
        if (removed) {
            dirs.insert(io::parent_directory(path));
        }
    }
    for (const auto& dir : dirs) {
        if (auto synced = co_await io::sync_directory(dir, call.stop); !synced) {
            co_return from_error_code(synced.error(), fmt::format("fsync directory {}", dir));
        }
    }
    co_return remote_result<void>{};
}

namespace {

/// Reads `into` from `offset` in the pacer's slices (whole direct-I/O blocks, so the slices of
/// an aligned request stay aligned), paying for each slice once it has been read.
io::task<io::result<size_t>> read_paced(io::file& source, std::span<std::byte> into, uint64_t offset,
                                        const body_pacer& pacer, std::stop_token stop) {
    size_t slice = std::max(io::direct_io_alignment, pacer.slice / io::direct_io_alignment * io::direct_io_alignment);
    size_t done = 0;
    while (done < into.size()) {
        size_t want = std::min(slice, into.size() - done);
        auto n = co_await io::read_fully(source, into.subspan(done, want), offset + done, stop);
        if (!n) {
            co_return n;
        }
        if (*n > 0) {
            bool allowed = co_await pacer.take(*n);
            if (!allowed) {
                co_return std::make_error_code(std::errc::operation_canceled);
            }
        }
        done += *n;
        if (*n < want) {
            break;  // the end of the file
        }
    }
    co_return done;
}

}  // namespace

io::task<remote_result<size_t>> local_store::read(std::string key, uint64_t offset, std::span<std::byte> into,
                                                 call_options call, body_pacer pacer) {
    std::stop_token stop = call.stop;
    if (auto why = check_key(key)) {
        co_return bad_key(*why);
    }
    std::string path = _root + "/" + key;
    auto f = co_await io::open_file(path, O_RDONLY, 0, io::direct_mode::preferred, stop);
    if (!f) {
        co_return from_error_code(f.error(), fmt::format("open {} under {}", key, _root));
    }
    io::file* source = &*f;
    io::file buffered;
    if (f->direct() && !io::direct_aligned(into, offset)) {
        // An unaligned request (a caller's own buffer) goes through the page cache instead.
        auto opened = co_await io::open_file(path, O_RDONLY, 0, io::direct_mode::off, stop);
        if (!opened) {
            co_await f->close();
            co_return from_error_code(opened.error(), fmt::format("open {} under {}", key, _root));
        }
        buffered = std::move(*opened);
        source = &buffered;
    }
    io::result<size_t> n = size_t{0};
    if (pacer) {
        n = co_await read_paced(*source, into, offset, pacer, stop);
    } else {
        n = co_await io::read_fully(*source, into, offset, stop);
    }
    if (buffered.is_open()) {
        co_await buffered.close();
    }
    co_await f->close();
    if (!n) {
        co_return from_error_code(n.error(), fmt::format("read {} under {}", key, _root));
    }
    co_return *n;
}

namespace {

/// A part-wise upload into a durable_file beside the key. Aligned parts go through a second,
/// O_DIRECT descriptor of the same temporary file where the file system allows it.
class local_upload final : public object_upload {
public:
    local_upload(local_store* store, std::string key, io::durable_file file, io::file direct)
        : _store(store), _key(std::move(key)), _file(std::move(file)), _direct(std::move(direct)) {}

    io::task<remote_result<uploaded_part>> write_part(int number, uint64_t offset, std::span<const std::byte> data,
                                                      call_options call, body_pacer pacer) override {
        if (pacer) {
            auto allowed = co_await pacer.take(data.size());
            if (!allowed || call.stop.stop_requested()) {
                co_return from_error_code(cancelled, fmt::format("write {} under {}", _key, _store->root()));
            }
        }
        // O_DIRECT for aligned parts; the unaligned last part through the page cache (the
        // kernel keeps the two coherent, and the ranges never overlap).
        int fd = _direct.is_open() && io::direct_aligned(data, offset) ? _direct.fd() : _file.fd();
        auto written = co_await io::write_fully(fd, data, offset, std::move(call.stop));
        if (!written) {
            co_return from_error_code(written.error(), fmt::format("write {} under {}", _key, _store->root()));
        }
        co_return uploaded_part{number, {}, data.size()};
    }

    io::task<remote_result<void>> complete(std::vector<uploaded_part> parts, call_options call) override {
        (void)parts;
        if (call.stop.stop_requested()) {  // nothing published; abort() removes the file
            co_return from_error_code(cancelled, fmt::format("write {} under {}", _key, _store->root()));
        }
        auto direct_closed = co_await _direct.close();
        if (!direct_closed) {
            co_await _file.abandon();
            co_return from_error_code(direct_closed.error(), fmt::format("write {} under {}", _key, _store->root()));
        }
        auto committed = co_await _file.commit(io::replace_mode::replace);
        if (!committed) {
            co_return from_error_code(committed.error(), fmt::format("write {} under {}", _key, _store->root()));
        }
        co_return remote_result<void>{};
    }

    /// Always runs to the end: it is the cleanup after a stop.
    io::task<remote_result<void>> abort(call_options call) override {
        (void)call;
        co_await _direct.close();
        co_await _file.abandon();
        co_return remote_result<void>{};
    }

    const std::string& upload_id() const override { return _no_id; }

private:
    local_store* _store;
    std::string _key;
    io::durable_file _file;
    io::file _direct;
    std::string _no_id;
};

}  // namespace

io::task<remote_result<size_t>> local_store::sweep_abandoned_writes(sweep_scope scope, call_options call) {
    (void)scope, (void)call;  // a temporary file names its writer's host and process: no guessing needed
    // Listing has no io_uring operation; a backup runs this once, before its uploads.
    auto swept = io::sweep_abandoned_temp_files(_root, std::chrono::hours(1));
    if (!swept) {
        co_return from_error_code(swept.error(), fmt::format("remove abandoned temporary files under {}", _root));
    }
    co_return *swept;
}

io::task<remote_result<std::unique_ptr<object_upload>>> local_store::begin_upload(std::string key,
                                                                                 call_options call) {
    auto created = co_await create_temp(key, call.stop);
    if (!created) {
        co_return created.error();
    }
    auto direct = co_await io::open_file(created->temp_path(), O_WRONLY, 0644, io::direct_mode::preferred, call.stop);
    if (!direct) {
        co_await created->abandon();
        co_return from_error_code(direct.error(), fmt::format("open {}", created->temp_path()));
    }
    io::file direct_file;
    if (direct->direct()) {
        direct_file = std::move(*direct);
    } else {
        co_await direct->close();  // the filesystem has no O_DIRECT: one descriptor does
    }
    std::unique_ptr<object_upload> upload =
        std::make_unique<local_upload>(this, key, std::move(*created), std::move(direct_file));
    co_return upload;
}

io::task<remote_result<resumed_upload>> local_store::resume_upload(std::string key, std::string upload_id,
                                                                  call_options call) {
    (void)upload_id, (void)call;
    co_return make_remote_error(remote_errc::not_found,
                                fmt::format("a local upload of {} under {} starts over", key, _root));
}

}  // namespace tv::remote
