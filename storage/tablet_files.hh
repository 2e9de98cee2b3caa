// SPDX-License-Identifier: Apache-2.0
// Where tablet data lives on disk, and when its files may go: deletion deferred while scans
// that started earlier still read them, and start-up removal of files no rowset references.
#pragma once

#include "storage/catalog_ops.hh"
#include "storage/catalog_state.hh"
#include "storage/catalog_types.hh"

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tv::storage {

/// <data_dir>/storage/data
std::string tablets_root(std::string_view data_dir);
/// <data_dir>/storage/data/<tablet_id>
std::string tablet_dir(std::string_view data_dir, object_id tablet);
/// "<rowset_id>_<n>.dat"
std::string segment_file_name(object_id rowset_id, uint64_t n);
/// <data_dir>/storage/data/<tablet_id>/<name>
std::string segment_path(std::string_view data_dir, object_id tablet, std::string_view name);

/// Deletes the files changes took out of the catalog (DROP, TRUNCATE, INSERT OVERWRITE) once
/// no scan that started before the change is still open. Scans hold a pin for their lifetime.
/// Thread-safe: pins may be released on any loop. Deletion is plain unlink(2)/rmdir(2) on
/// the releasing thread: metadata operations, a handful per tablet.
class file_reclaimer : public std::enable_shared_from_this<file_reclaimer> {
public:
    explicit file_reclaimer(std::string data_dir);
    file_reclaimer(const file_reclaimer&) = delete;
    file_reclaimer& operator=(const file_reclaimer&) = delete;

    /// Keeps every file referenced at the time of the call until it is destroyed.
    class pin {
    public:
        pin() = default;
        pin(pin&& other) noexcept;
        pin& operator=(pin&& other) noexcept;
        ~pin();

    private:
        friend class file_reclaimer;
        pin(std::shared_ptr<file_reclaimer> owner, uint64_t epoch) : _owner(std::move(owner)), _epoch(epoch) {}
        void release();

        std::shared_ptr<file_reclaimer> _owner;
        uint64_t _epoch = 0;
    };

    pin take_pin();
    /// Files and tablets a change removed: deleted now when nothing pins them, else later.
    void retire(removed_data removed);
    /// Retired batches still waiting for pins to go (tests).
    size_t pending() const;
    /// Files deleted so far (tests, logs).
    uint64_t deleted_files() const;

private:
    void collect();

    std::string _data_dir;
    mutable std::mutex _mutex;
    uint64_t _epoch = 0;                 // number of retire() calls so far
    std::multiset<uint64_t> _pins;       // the epoch each open pin was taken at
    std::vector<std::pair<uint64_t, removed_data>> _pending;  // (epoch of the retire, what it removed)
    uint64_t _deleted = 0;
};

struct orphan_report {
    uint64_t files = 0;  // files removed (temp files, unpublished segments, dropped tablets' files)
    uint64_t dirs = 0;   // empty tablet directories removed
};

/// Removes every file under <data_dir>/storage/data/<tablet_id>/ that no rowset in `state`
/// references, and tablet directories left empty. Entries that are not ours (a name that is
/// not a tablet id at the top level) are left alone with a warning, and so are the directories
/// of the tablets in `keep` (a restore placed them before publishing its record, and publishes
/// it when it resumes). Synchronous: start-up only.
orphan_report remove_orphan_files(const catalog_state& state, std::string_view data_dir,
                                  const std::set<object_id>& keep = {});

}  // namespace tv::storage
