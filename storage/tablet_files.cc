// SPDX-License-Identifier: Apache-2.0
// Tablet file layout, deferred deletion behind scan pins, and start-up orphan removal.
#include "storage/tablet_files.hh"

#include "io/log.hh"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <set>
#include <system_error>

#include <unistd.h>

namespace tv::storage {

namespace fs = std::filesystem;

std::string tablets_root(std::string_view data_dir) {
    return fmt::format("{}/storage/data", data_dir);
}

std::string tablet_dir(std::string_view data_dir, object_id tablet) {
    return fmt::format("{}/storage/data/{}", data_dir, tablet);
}

std::string segment_file_name(object_id rowset_id, uint64_t n) {
    return fmt::format("{}_{}.dat", rowset_id, n);
}

std::string segment_path(std::string_view data_dir, object_id tablet, std::string_view name) {
    return fmt::format("{}/storage/data/{}/{}", data_dir, tablet, name);
}

file_reclaimer::file_reclaimer(std::string data_dir) : _data_dir(std::move(data_dir)) {}

file_reclaimer::pin::pin(pin&& other) noexcept : _owner(std::move(other._owner)), _epoch(other._epoch) {}

file_reclaimer::pin& file_reclaimer::pin::operator=(pin&& other) noexcept {
    if (this != &other) {
        release();
        _owner = std::move(other._owner);
        _epoch = other._epoch;
    }
    return *this;
}

file_reclaimer::pin::~pin() {
    release();
}

void file_reclaimer::pin::release() {
    if (!_owner) {
        return;
    }
    std::shared_ptr<file_reclaimer> owner = std::move(_owner);
    {
        std::lock_guard lock(owner->_mutex);
        owner->_pins.erase(owner->_pins.find(_epoch));
    }
    owner->collect();
}

file_reclaimer::pin file_reclaimer::take_pin() {
    std::lock_guard lock(_mutex);
    _pins.insert(_epoch);
    return pin(shared_from_this(), _epoch);
}

void file_reclaimer::retire(removed_data removed) {
    if (removed.files.empty() && removed.tablets.empty()) {
        return;
    }
    {
        std::lock_guard lock(_mutex);
        ++_epoch;
        _pending.emplace_back(_epoch, std::move(removed));
    }
    collect();
}

size_t file_reclaimer::pending() const {
    std::lock_guard lock(_mutex);
    return _pending.size();
}

uint64_t file_reclaimer::deleted_files() const {
    std::lock_guard lock(_mutex);
    return _deleted;
}

void file_reclaimer::collect() {
    std::vector<removed_data> ready;
    {
        std::lock_guard lock(_mutex);
        // A batch retired at epoch e is still visible to pins taken before it (epoch < e).
        uint64_t oldest = _pins.empty() ? UINT64_MAX : *_pins.begin();
        auto keep = _pending.begin();
        for (auto it = _pending.begin(); it != _pending.end(); ++it) {
            if (it->first <= oldest) {
                ready.push_back(std::move(it->second));
            } else {
                if (keep != it) {
                    *keep = std::move(*it);  // never onto itself: a self-moved vector empties
                }
                ++keep;
            }
        }
        _pending.erase(keep, _pending.end());
    }
    uint64_t deleted = 0;
    for (const auto& batch : ready) {
        for (const auto& f : batch.files) {
            std::string path = segment_path(_data_dir, f.tablet_id, f.name);
            if (::unlink(path.c_str()) == 0) {
                ++deleted;
            } else if (errno != ENOENT) {
                // Left for the next start-up's orphan removal.
                TV_LOG_WARN("storage: could not delete {}: {}", path,
                            std::error_code(errno, std::generic_category()).message());
            }
        }
        for (object_id tablet : batch.tablets) {
            std::string dir = tablet_dir(_data_dir, tablet);
            (void)::rmdir(dir.c_str());  // only when empty; a leftover is removed at start-up
        }
    }
    if (deleted != 0) {
        std::lock_guard lock(_mutex);
        _deleted += deleted;
    }
}

namespace {

bool parse_id(std::string_view s, object_id& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && out > 0;
}

}  // namespace

orphan_report remove_orphan_files(const catalog_state& state, std::string_view data_dir,
                                  const std::set<object_id>& keep) {
    orphan_report report;
    std::string root = tablets_root(data_dir);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return report;
    }
    for (fs::directory_iterator dir(root, ec), end; !ec && dir != end; dir.increment(ec)) {
        std::string name = dir->path().filename().string();
        object_id tablet = 0;
        std::error_code type_ec;
        if (!parse_id(name, tablet) || !dir->is_directory(type_ec)) {
            TV_LOG_WARN("storage: {} is not a tablet directory; left alone", dir->path().string());
            continue;
        }
        if (keep.contains(tablet)) {
            continue;
        }
        std::set<std::string, std::less<>> referenced;
        if (auto it = state.tablet_rowsets.find(tablet); it != state.tablet_rowsets.end()) {
            for (const auto& rs : it->second) {
                for (const auto& f : rs.files) {
                    referenced.insert(f.name);
                }
            }
        }
        std::vector<fs::path> doomed;
        size_t kept = 0;
        std::error_code list_ec;
        for (fs::directory_iterator file(dir->path(), list_ec), fend; !list_ec && file != fend;
             file.increment(list_ec)) {
            if (referenced.contains(file->path().filename().string())) {
                ++kept;
            } else {
                doomed.push_back(file->path());
            }
        }
        if (list_ec) {
            TV_LOG_WARN("storage: could not list {}: {}", dir->path().string(), list_ec.message());
            continue;
        }
        for (const auto& path : doomed) {
            std::error_code rm_ec;
            // remove_all: a directory inside a tablet directory is not ours either way.
            if (fs::remove_all(path, rm_ec) != static_cast<std::uintmax_t>(-1) && !rm_ec) {
                ++report.files;
            } else {
                ++kept;
                TV_LOG_WARN("storage: could not remove orphan {}: {}", path.string(), rm_ec.message());
            }
        }
        if (kept == 0) {
            std::error_code rm_ec;
            if (fs::remove(dir->path(), rm_ec)) {
                ++report.dirs;
            }
        }
    }
    if (ec) {
        TV_LOG_WARN("storage: could not list {}: {}", root, ec.message());
    }
    return report;
}

}  // namespace tv::storage
