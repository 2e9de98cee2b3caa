// SPDX-License-Identifier: Apache-2.0
// Durable file publishing: temporary name, fdatasync, rename, directory fsync; and the sweep of
// temporary names a crash left behind.
#include "io/durable_file.hh"

#include "io/log.hh"
#include "io/ops.hh"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

namespace tv::io {

namespace {

const std::string& host_name() {
    static const std::string name = [] {
        std::array<char, 256> buffer{};
        if (::gethostname(buffer.data(), buffer.size() - 1) != 0 || buffer[0] == '\0') {
            return std::string("localhost");
        }
        std::string host(buffer.data());
        std::replace(host.begin(), host.end(), '/', '_');
        return host;
    }();
    return name;
}

/// The writer of a temporary name: its host and pid (nothing when the name has another shape,
/// such as one an older version wrote).
std::optional<std::pair<std::string_view, pid_t>> writer_of(std::string_view name) {
    size_t marker = name.find(temp_marker);
    if (marker == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view tag = name.substr(marker + temp_marker.size());
    size_t dash = tag.rfind('-');
    size_t dot = dash == std::string_view::npos ? std::string_view::npos : tag.rfind('.', dash);
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    pid_t pid = 0;
    std::string_view digits = tag.substr(dot + 1, dash - dot - 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) {
        return std::nullopt;
    }
    return std::pair{tag.substr(0, dot), pid};
}

bool process_alive(pid_t pid) {
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace

std::string temp_path_for(std::string_view final_path) {
    static std::atomic<uint64_t> counter{0};
    return fmt::format("{}{}{}.{}-{}", final_path, temp_marker, host_name(), ::getpid(), counter.fetch_add(1));
}

bool is_temp_name(std::string_view path) noexcept {
    size_t slash = path.rfind('/');
    std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    return name.find(temp_marker) != std::string_view::npos;
}

std::string parent_directory(std::string_view path) {
    size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) {
        return ".";
    }
    if (slash == 0) {
        return "/";
    }
    return std::string(path.substr(0, slash));
}

task<result<void>> sync_directory(std::string dir, std::stop_token stop) {
    auto f = co_await open_file(std::move(dir), O_RDONLY | O_DIRECTORY, 0, direct_mode::off, stop);
    if (!f) {
        co_return f.error();
    }
    auto synced = co_await fsync(f->fd(), std::move(stop));
    auto closed = co_await f->close();
    if (!synced) {
        co_return synced;
    }
    co_return closed;
}

task<result<void>> make_directories(std::string dir, mode_t mode, std::stop_token stop) {
    auto st = co_await statx(AT_FDCWD, dir);
    if (st && S_ISDIR(st->stx_mode)) {
        co_return result<void>{};
    }
    // Walk down from the top, creating what is missing; a new directory's entry is made durable
    // by an fsync of its parent, or a crash could lose whatever is later renamed into it.
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        std::string part = dir.substr(0, pos);
        auto made = co_await mkdirat(AT_FDCWD, part, mode);
        if (!made) {
            if (made.error() == std::errc::file_exists) {
                continue;
            }
            co_return made;
        }
        auto synced = co_await sync_directory(parent_directory(part), stop);
        if (!synced) {
            co_return synced;
        }
    }
    co_return result<void>{};
}

namespace {

/// rename(2) with the chosen replace mode; no_replace uses RENAME_NOREPLACE, or on a file system
/// without it a check first (only our own writers publish under these names, one per name).
task<result<void>> rename_into_place(std::string from, std::string to, replace_mode mode) {
    if (mode == replace_mode::replace) {
        co_return co_await renameat(AT_FDCWD, std::move(from), AT_FDCWD, std::move(to));
    }
    auto renamed = co_await renameat(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
    if (renamed || renamed.error() != std::errc::invalid_argument) {
        co_return renamed;
    }
    if (auto existing = co_await statx(AT_FDCWD, to); existing) {
        co_return errno_error(EEXIST);
    }
    co_return co_await renameat(AT_FDCWD, std::move(from), AT_FDCWD, std::move(to));
}

}  // namespace

task<result<void>> rename_durably(std::string from, std::string to, replace_mode mode, std::stop_token stop) {
    std::string dir = parent_directory(to);
    auto renamed = co_await rename_into_place(std::move(from), std::move(to), mode);
    if (!renamed) {
        co_return renamed;
    }
    co_return co_await sync_directory(std::move(dir), std::move(stop));
}

task<result<durable_file>> durable_file::create(std::string final_path, direct_mode direct, mode_t mode,
                                                std::stop_token stop) {
    std::string temp = temp_path_for(final_path);
    auto f = co_await open_file(temp, O_WRONLY | O_CREAT | O_EXCL, mode, direct, std::move(stop));
    if (!f) {
        co_return f.error();
    }
    co_return durable_file(std::move(*f), std::move(final_path), std::move(temp));
}

durable_file::durable_file(durable_file&& other) noexcept
    : _file(std::move(other._file)),
      _final_path(std::move(other._final_path)),
      _temp_path(std::exchange(other._temp_path, {})),
      _renamed(other._renamed) {}

durable_file& durable_file::operator=(durable_file&& other) noexcept {
    if (this != &other) {
        if (!_temp_path.empty()) {
            ::unlink(_temp_path.c_str());
        }
        _file = std::move(other._file);
        _final_path = std::move(other._final_path);
        _temp_path = std::exchange(other._temp_path, {});
        _renamed = other._renamed;
    }
    return *this;
}

durable_file::~durable_file() {
    // A safety net for error paths that did not abandon(): a synchronous unlink, as io::file's
    // destructor closes synchronously. The start-up sweep catches what a crash leaves.
    if (!_temp_path.empty()) {
        ::unlink(_temp_path.c_str());
    }
}

task<result<void>> durable_file::write(std::span<const std::byte> data, uint64_t offset, std::stop_token stop) {
    co_return co_await write_fully(_file.fd(), data, offset, std::move(stop));
}

result<void> durable_file::set_size(uint64_t size) {
    if (::ftruncate(_file.fd(), static_cast<off_t>(size)) != 0) {
        return errno_error(errno);
    }
    return {};
}

task<result<void>> durable_file::commit(replace_mode mode, std::stop_token stop) {
    auto synced = co_await fdatasync(_file.fd(), stop);
    auto closed = co_await _file.close();
    if (synced && !closed) {
        synced = closed;
    }
    if (!synced) {
        co_await abandon();
        co_return synced;
    }
    std::string temp = std::exchange(_temp_path, {});
    std::string dir = parent_directory(_final_path);
    auto renamed = co_await rename_into_place(temp, _final_path, mode);
    if (!renamed) {
        co_await unlinkat(AT_FDCWD, temp);
        co_return renamed;
    }
    _renamed = true;
    co_return co_await sync_directory(std::move(dir), std::move(stop));
}

task<void> durable_file::abandon() {
    co_await _file.close();
    std::string temp = std::exchange(_temp_path, {});
    if (!temp.empty()) {
        co_await unlinkat(AT_FDCWD, std::move(temp));
    }
}

task<result<void>> write_file_durably(std::string path, std::span<const std::byte> data, replace_mode mode,
                                      mode_t permissions, std::stop_token stop) {
    auto f = co_await durable_file::create(std::move(path), direct_mode::off, permissions, stop);
    if (!f) {
        co_return f.error();
    }
    auto written = co_await f->write(data, 0, stop);
    if (!written) {
        co_await f->abandon();
        co_return written;
    }
    co_return co_await f->commit(mode, std::move(stop));
}

namespace {

/// Removes every temporary file under `dir` that `abandoned` picks; yields how many went.
template <typename Predicate>
result<size_t> sweep_temp_files_where(const std::string& dir, Predicate abandoned) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        return size_t{0};
    }
    // Directory listing has no io_uring operation; callers run this once per start or job.
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_directory(ec) && is_temp_name(it->path().native()) && abandoned(*it)) {
            found.push_back(it->path());
        }
    }
    if (ec) {
        return ec;
    }
    size_t removed = 0;
    for (const auto& path : found) {
        if (fs::remove(path, ec)) {
            ++removed;
        } else if (ec) {
            TV_LOG_WARN("could not remove the temporary file {}: {}", path.native(), ec.message());
        }
    }
    return removed;
}

}  // namespace

result<size_t> sweep_temp_files(const std::string& dir) {
    return sweep_temp_files_where(dir, [](const std::filesystem::directory_entry&) { return true; });
}

result<size_t> sweep_abandoned_temp_files(const std::string& dir, std::chrono::seconds other_hosts_after) {
    auto stale_before = std::filesystem::file_time_type::clock::now() - other_hosts_after;
    return sweep_temp_files_where(dir, [&](const std::filesystem::directory_entry& entry) {
        std::string name = entry.path().filename().native();
        auto writer = writer_of(name);
        if (writer && writer->first == host_name()) {
            return writer->second != ::getpid() && !process_alive(writer->second);
        }
        std::error_code ec;
        auto modified = entry.last_write_time(ec);
        return !ec && modified < stale_before;
    });
}

}  // namespace tv::io
