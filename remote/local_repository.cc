// SPDX-License-Identifier: Apache-2.0
// local_store: objects as files under a root directory. Writes are crash-atomic (temporary
// name, fdatasync, rename, directory fsync); listing walks the tree with std::filesystem, since
// io_uring has no getdents operation.
#include "remote/local_repository.hh"

#include "io/file.hh"
#include "io/ops.hh"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>

namespace tv::remote {

namespace {

namespace fs = std::filesystem;

remote_error bad_key(std::string message) {
    return make_remote_error(remote_errc::bad_config, std::move(message));
}

std::string parent_of(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == 0 ? std::string("/") : path.substr(0, slash);
}

io::task<remote_result<void>> sync_dir(std::string dir) {
    auto fd = co_await io::openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
    if (!fd) {
        co_return from_error_code(fd.error(), fmt::format("open directory {}", dir));
    }
    io::file f(*fd, false);
    auto synced = co_await io::fsync(f.fd());
    co_await f.close();
    if (!synced) {
        co_return from_error_code(synced.error(), fmt::format("fsync directory {}", dir));
    }
    co_return remote_result<void>{};
}

/// A name no other put (in this process or another) uses at the same time.
std::string temp_name(const std::string& path) {
    static std::atomic<uint64_t> counter{0};
    return fmt::format("{}{}{}-{}", path, local_store::temp_marker, ::getpid(), counter.fetch_add(1));
}

int64_t modified_ms(const struct statx& st) {
    return st.stx_mtime.tv_sec * 1000 + st.stx_mtime.tv_nsec / 1000000;
}

}  // namespace

local_store::local_store(std::string root) : _root(std::move(root)) {
    while (_root.size() > 1 && _root.back() == '/') {
        _root.pop_back();
    }
}

io::task<remote_result<void>> local_store::make_dirs(std::string dir) {
    auto st = co_await io::statx(AT_FDCWD, dir);
    if (st && S_ISDIR(st->stx_mode)) {
        co_return remote_result<void>{};
    }
    // Walk down from the top, creating what is missing; each new directory is made durable by
    // an fsync of its parent, or a crash could lose the entry of a renamed-in object.
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        std::string part = dir.substr(0, pos);
        auto made = co_await io::mkdirat(AT_FDCWD, part, 0755);
        if (!made) {
            if (made.error() == std::errc::file_exists) {
                continue;
            }
            co_return from_error_code(made.error(), fmt::format("create directory {}", part));
        }
        auto synced = co_await sync_dir(parent_of(part));
        if (!synced) {
            co_return synced.error();
        }
    }
    co_return remote_result<void>{};
}

io::task<remote_result<local_store::temp_file>> local_store::create_temp(const std::string& key) {
    if (auto why = check_key(key)) {
        co_return bad_key(*why);
    }
    temp_file out;
    out.path = _root + "/" + key;
    auto made = co_await make_dirs(parent_of(out.path));
    if (!made) {
        co_return made.error();
    }
    out.temp = temp_name(out.path);
    auto f = co_await io::open_file(out.temp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (!f) {
        co_return from_error_code(f.error(), fmt::format("create {}", out.temp));
    }
    out.file = std::move(*f);
    co_return out;
}

io::task<remote_result<void>> local_store::put(std::string key, std::span<const std::byte> data, body_pacer pacer) {
    auto created = co_await create_temp(key);
    if (!created) {
        co_return created.error();
    }
    const std::string& path = created->path;
    const std::string& temp = created->temp;
    io::file& f = created->file;
    // A local write is one burst: pace the whole of it before it goes.
    bool allowed = true;
    if (pacer) {
        allowed = co_await pacer.take(data.size());
    }
    io::result<void> written = std::make_error_code(std::errc::operation_canceled);
    if (allowed) {
        written = co_await io::write_fully(f.fd(), data, 0);
    }
    // Not `written ? co_await ... : ...`: GCC 12 mishandles co_await inside ?:.
    io::result<void> synced = written;
    if (written) {
        synced = co_await io::fdatasync(f.fd());
    }
    auto closed = co_await f.close();
    if (synced && !closed) {
        synced = closed;
    }
    if (!synced) {
        // Nothing of a failed put stays visible: the temporary name goes, the key is untouched.
        co_await io::unlinkat(AT_FDCWD, temp);
        co_return from_error_code(synced.error(), fmt::format("write {} under {}", key, _root));
    }
    auto renamed = co_await io::renameat(AT_FDCWD, temp, AT_FDCWD, path);
    if (!renamed) {
        co_await io::unlinkat(AT_FDCWD, temp);
        co_return from_error_code(renamed.error(), fmt::format("rename {} to {}", temp, path));
    }
    co_return co_await sync_dir(parent_of(path));
}

io::task<remote_result<std::string>> local_store::get(std::string key, std::optional<byte_range> range) {
    if (auto why = check_key(key)) {
        co_return bad_key(*why);
    }
    std::string path = _root + "/" + key;
    auto f = co_await io::open_file(path, O_RDONLY);
    if (!f) {
        co_return from_error_code(f.error(), fmt::format("open {} under {}", key, _root));
    }
    auto st = co_await io::statx(f->fd(), "", AT_EMPTY_PATH);
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
                                     offset);
    co_await f->close();
    if (!n) {
        co_return from_error_code(n.error(), fmt::format("read {} under {}", key, _root));
    }
    data.resize(*n);
    co_return data;
}

io::task<remote_result<object_info>> local_store::head(std::string key) {
    if (auto why = check_key(key)) {
        co_return bad_key(*why);
    }
    auto st = co_await io::statx(AT_FDCWD, _root + "/" + key);
    if (!st) {
        co_return from_error_code(st.error(), fmt::format("stat {} under {}", key, _root));
    }
    if (!S_ISREG(st->stx_mode)) {
        co_return make_remote_error(remote_errc::not_found, fmt::format("{} under {} is not an object", key, _root));
    }
    co_return object_info{std::move(key), st->stx_size, modified_ms(*st)};
}

io::task<remote_result<std::vector<object_info>>> local_store::list(std::string prefix) {
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
        if (!it->is_regular_file(ec)) {
            continue;
        }
        std::string path = it->path().string();
        std::string key = path.substr(_root.size() + 1);
        if (key.find(temp_marker) != std::string::npos || !key.starts_with(prefix)) {
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
        auto st = co_await io::statx(AT_FDCWD, _root + "/" + info.key);
        if (st) {
            info.modified_ms = modified_ms(*st);
        }
    }
    co_return out;
}

io::task<remote_result<void>> local_store::remove(std::vector<std::string> keys) {
    for (const auto& key : keys) {
        if (auto why = check_key(key)) {
            co_return bad_key(*why);
        }
    }
    std::set<std::string> dirs;
    for (const auto& key : keys) {
        std::string path = _root + "/" + key;
        auto removed = co_await io::unlinkat(AT_FDCWD, path);
        if (!removed && removed.error() != std::errc::no_such_file_or_directory) {
            co_return from_error_code(removed.error(), fmt::format("delete {} under {}", key, _root));
        }
        if (removed) {
            dirs.insert(parent_of(path));
        }
    }
    for (const auto& dir : dirs) {
        auto synced = co_await sync_dir(dir);
        if (!synced) {
            co_return synced.error();
        }
    }
    co_return remote_result<void>{};
}

io::task<remote_result<size_t>> local_store::read(std::string key, uint64_t offset, std::span<std::byte> into,
                                                 std::stop_token stop) {
    if (auto why = check_key(key)) {
        co_return bad_key(*why);
    }
    std::string path = _root + "/" + key;
    auto f = co_await io::open_file(path, O_RDONLY, 0, io::direct_mode::preferred);
    if (!f) {
        co_return from_error_code(f.error(), fmt::format("open {} under {}", key, _root));
    }
    io::result<size_t> n = size_t{0};
    if (f->direct() && !io::direct_aligned(into, offset)) {
        // An unaligned request (a caller's own buffer) goes through the page cache instead.
        auto buffered = co_await io::open_file(path, O_RDONLY);
        if (!buffered) {
            co_await f->close();
            co_return from_error_code(buffered.error(), fmt::format("open {} under {}", key, _root));
        }
        n = co_await io::read_fully(*buffered, into, offset, stop);
        co_await buffered->close();
    } else {
        n = co_await io::read_fully(*f, into, offset, stop);
    }
    co_await f->close();
    if (!n) {
        co_return from_error_code(n.error(), fmt::format("read {} under {}", key, _root));
    }
    co_return *n;
}

namespace {

/// A part-wise upload into a temporary file beside the key.
class local_upload final : public object_upload {
public:
    local_upload(local_store* store, std::string key, std::string path, std::string temp, io::file direct,
                 io::file buffered)
        : _store(store), _key(std::move(key)), _path(std::move(path)), _temp(std::move(temp)),
          _direct(std::move(direct)), _buffered(std::move(buffered)) {}

    ~local_upload() override {
        if (!_finished) {
            ::unlink(_temp.c_str());  // an upload dropped without complete() or abort()
        }
    }

    io::task<remote_result<uploaded_part>> write_part(int number, uint64_t offset, std::span<const std::byte> data,
                                                      std::stop_token stop, body_pacer pacer) override {
        if (pacer) {
            auto allowed = co_await pacer.take(data.size());
            if (!allowed) {
                co_return from_error_code(std::make_error_code(std::errc::operation_canceled),
                                          fmt::format("write {} under {}", _key, _store->root()));
            }
        }
        // O_DIRECT for aligned parts; the unaligned last part through the page cache (the
        // kernel keeps the two coherent, and the ranges never overlap).
        int fd = _direct.is_open() && io::direct_aligned(data, offset) ? _direct.fd() : _buffered.fd();
        auto written = co_await io::write_fully(fd, data, offset, std::move(stop));
        if (!written) {
            co_return from_error_code(written.error(), fmt::format("write {} under {}", _key, _store->root()));
        }
        co_return uploaded_part{number, {}, data.size()};
    }

    io::task<remote_result<void>> complete(std::vector<uploaded_part> parts) override {
        (void)parts;
        auto synced = co_await io::fdatasync(_buffered.fd());
        io::result<void> closed = co_await _buffered.close();
        if (_direct.is_open()) {
            auto direct_closed = co_await _direct.close();
            if (closed && !direct_closed) {
                closed = direct_closed;
            }
        }
        if (synced && !closed) {
            synced = closed;
        }
        if (!synced) {
            co_await abort();
            co_return from_error_code(synced.error(), fmt::format("write {} under {}", _key, _store->root()));
        }
        auto renamed = co_await io::renameat(AT_FDCWD, _temp, AT_FDCWD, _path);
        if (!renamed) {
            co_await abort();
            co_return from_error_code(renamed.error(), fmt::format("rename {} to {}", _temp, _path));
        }
        _finished = true;
        co_return co_await sync_dir(parent_of(_path));
    }

    io::task<remote_result<void>> abort() override {
        if (_finished) {
            co_return remote_result<void>{};
        }
        _finished = true;
        if (_direct.is_open()) {
            co_await _direct.close();
        }
        if (_buffered.is_open()) {
            co_await _buffered.close();
        }
        co_await io::unlinkat(AT_FDCWD, _temp);
        co_return remote_result<void>{};
    }

    const std::string& upload_id() const override { return _no_id; }

private:
    local_store* _store;
    std::string _key;
    std::string _path;
    std::string _temp;
    io::file _direct;
    io::file _buffered;
    bool _finished = false;
    std::string _no_id;
};

}  // namespace

io::task<remote_result<std::unique_ptr<object_upload>>> local_store::begin_upload(std::string key) {
    auto created = co_await create_temp(key);
    if (!created) {
        co_return created.error();
    }
    const std::string& path = created->path;
    const std::string& temp = created->temp;
    io::file& buffered = created->file;
    auto direct = co_await io::open_file(temp, O_WRONLY, 0644, io::direct_mode::preferred);
    if (!direct) {
        co_await buffered.close();
        co_await io::unlinkat(AT_FDCWD, temp);
        co_return from_error_code(direct.error(), fmt::format("open {}", temp));
    }
    io::file direct_file;
    if (direct->direct()) {
        direct_file = std::move(*direct);
    } else {
        co_await direct->close();  // the filesystem has no O_DIRECT: one descriptor does
    }
    std::unique_ptr<object_upload> upload =
        std::make_unique<local_upload>(this, key, path, temp, std::move(direct_file), std::move(buffered));
    co_return upload;
}

io::task<remote_result<resumed_upload>> local_store::resume_upload(std::string key, std::string upload_id) {
    (void)upload_id;
    co_return make_remote_error(remote_errc::not_found,
                                fmt::format("a local upload of {} under {} starts over", key, _root));
}

}  // namespace tv::remote
