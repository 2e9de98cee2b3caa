// SPDX-License-Identifier: Apache-2.0
// Journal and image files: framing, durable appends, checkpoints, and recovery at start-up.
#include "storage/journal.hh"

#include "io/durable_file.hh"
#include "io/failpoint.hh"
#include "io/log.hh"
#include "io/metrics.hh"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

namespace tv::storage {

namespace {

// What a change waits for to be durable (catalog changes, job state changes).
io::metrics::family<io::metrics::histogram>& fsync_seconds = []() -> auto& {
    auto& f = io::metrics::process_registry().add_histogram(
        "tabletvault_journal_fsync_duration_seconds",
        "Time of each journal append's fdatasync, by journal: catalog (the data dir's meta) or jobs.", {"journal"},
        io::metrics::latency_bounds_seconds());
    f.with({"catalog"});  // both shown from the start
    f.with({"jobs"});
    return f;
}();

constexpr std::string_view image_magic = "TVIMAGE1";
constexpr size_t image_overhead = 8 + 8 + 8 + 8;  // magic, sequence, length, checksum
// Sequences a torn-tail scan accepts as "a later record": anything near the expected one.
constexpr uint64_t scan_window = uint64_t{1} << 20;

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

void put_u64(std::string& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

uint64_t get_le(std::string_view data, size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        v = (v << 8) | static_cast<unsigned char>(data[at + static_cast<size_t>(i)]);
    }
    return v;
}

uint64_t record_hash(std::string_view length_and_seq, std::string_view payload) {
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    XXH3_64bits_update(&state, length_and_seq.data(), length_and_seq.size());
    XXH3_64bits_update(&state, payload.data(), payload.size());
    return XXH3_64bits_digest(&state);
}

storage_error io_failure(const std::error_code& ec, std::string_view what) {
    return make_error(storage_errc::io_error, io::describe(ec, what));
}

storage_error corrupt(std::string message) {
    return make_error(storage_errc::corrupt_metadata, std::move(message));
}

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

/// A file name "<prefix><digits>" -> the number.
std::optional<uint64_t> numbered(std::string_view name, std::string_view prefix) {
    if (!name.starts_with(prefix) || name.size() == prefix.size()) {
        return std::nullopt;
    }
    std::string_view digits = name.substr(prefix.size());
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc{} || end != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return v;
}

struct meta_listing {
    std::vector<uint64_t> images;    // ascending
    std::vector<uint64_t> journals;  // ascending first sequences
    std::vector<std::string> temps;
};

// Directory listing has no io_uring operation; this runs at start-up and after checkpoints only.
storage_result<meta_listing> list_meta(const std::string& dir) {
    meta_listing out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        if (io::is_temp_name(name)) {
            out.temps.push_back(name);
        } else if (auto seq = numbered(name, "image.")) {
            out.images.push_back(*seq);
        } else if (auto first = numbered(name, "journal.")) {
            out.journals.push_back(*first);
        }
    }
    if (ec) {
        return io_failure(ec, fmt::format("list {}", dir));
    }
    std::sort(out.images.begin(), out.images.end());
    std::sort(out.journals.begin(), out.journals.end());
    return out;
}

io::task<storage_result<std::string>> read_whole(std::string path) {
    auto st = co_await io::statx(AT_FDCWD, path);
    if (!st) {
        co_return io_failure(st.error(), fmt::format("stat {}", path));
    }
    auto f = co_await io::open_file(path, O_RDONLY);
    if (!f) {
        co_return io_failure(f.error(), fmt::format("open {}", path));
    }
    std::string data(st->stx_size, '\0');
    auto n = co_await io::read_fully(f->fd(), std::as_writable_bytes(std::span<char>(data.data(), data.size())), 0);
    co_await f->close();
    if (!n) {
        co_return io_failure(n.error(), fmt::format("read {}", path));
    }
    data.resize(*n);
    co_return data;
}

io::task<storage_result<void>> sync_dir(std::string dir) {
    if (auto synced = co_await io::sync_directory(dir); !synced) {
        co_return io_failure(synced.error(), fmt::format("fsync directory {}", dir));
    }
    co_return storage_result<void>{};
}

/// The payload of a valid image file, or corrupt_metadata saying why it is not valid.
storage_result<std::string> parse_image(std::string_view data, uint64_t named_seq) {
    if (data.size() < image_overhead || data.substr(0, 8) != image_magic) {
        return corrupt("not an image (bad header)");
    }
    uint64_t seq = get_le(data, 8, 8);
    uint64_t length = get_le(data, 16, 8);
    if (length != data.size() - image_overhead) {
        return corrupt(fmt::format("length {} does not match the file size {}", length, data.size()));
    }
    uint64_t stored = get_le(data, data.size() - 8, 8);
    if (XXH3_64bits(data.data(), data.size() - 8) != stored) {
        return corrupt("checksum mismatch");
    }
    if (seq != named_seq) {
        return corrupt(fmt::format("holds sequence {}, not {}", seq, named_seq));
    }
    return std::string(data.substr(24, length));
}

enum class record_state { ok, short_header, short_payload, bad_checksum };

struct parsed_record {
    record_state state = record_state::ok;
    uint64_t seq = 0;
    std::string_view payload;
    size_t size = 0;
};

parsed_record parse_record(std::string_view data, size_t at) {
    parsed_record r;
    if (data.size() - at < journal_header_size) {
        r.state = record_state::short_header;
        return r;
    }
    uint64_t length = get_le(data, at, 4);
    r.seq = get_le(data, at + 4, 8);
    uint64_t stored = get_le(data, at + 12, 8);
    if (length > journal_max_payload || length > data.size() - at - journal_header_size) {
        r.state = record_state::short_payload;
        return r;
    }
    r.payload = data.substr(at + journal_header_size, length);
    r.size = journal_header_size + length;
    if (record_hash(data.substr(at, 12), r.payload) != stored) {
        r.state = record_state::bad_checksum;
    }
    return r;
}

/// True when a whole, valid record with a sequence at or after `min_seq` starts anywhere after
/// `from`: the bad record at `from` is then damage in the middle, not a torn tail.
bool valid_record_after(std::string_view data, size_t from, uint64_t min_seq) {
    for (size_t at = from + 1; at + journal_header_size <= data.size(); ++at) {
        uint64_t seq = get_le(data, at + 4, 8);
        if (seq < min_seq || seq - min_seq >= scan_window) {
            continue;  // cheap filter before hashing
        }
        if (parse_record(data, at).state == record_state::ok) {
            return true;
        }
    }
    return false;
}

std::string_view describe_state(record_state s) {
    switch (s) {
    case record_state::ok: return "ok";
    case record_state::short_header: return "cut short in its header";
    case record_state::short_payload: return "cut short in its payload (or a damaged length)";
    case record_state::bad_checksum: return "checksum mismatch";
    }
    return "?";
}

}  // namespace

std::string frame_record(uint64_t seq, std::string_view payload) {
    std::string out;
    out.reserve(journal_header_size + payload.size());
    put_u32(out, static_cast<uint32_t>(payload.size()));
    put_u64(out, seq);
    put_u64(out, record_hash(std::string_view(out).substr(0, 12), payload));
    out.append(payload);
    return out;
}

std::string frame_image(uint64_t seq, std::string_view payload) {
    std::string out;
    out.reserve(image_overhead + payload.size());
    out.append(image_magic);
    put_u64(out, seq);
    put_u64(out, payload.size());
    out.append(payload);
    put_u64(out, XXH3_64bits(out.data(), out.size()));
    return out;
}

journal::~journal() = default;

std::string journal::current_path() const {
    return fmt::format("{}/journal.{}", _dir, _file_first_seq);
}

io::task<storage_result<opened_journal>> journal::open(std::string meta_dir) {
    auto made = co_await io::mkdirat(AT_FDCWD, meta_dir, 0700);
    if (!made && made.error() != std::errc::file_exists) {
        co_return io_failure(made.error(), fmt::format("create {}", meta_dir));
    }
    {
        // The directory's name, durable before anything in it is relied on (also when an
        // earlier start created it and then failed this fsync).
        std::string parent = std::filesystem::path(meta_dir).parent_path().string();
        if (parent.empty()) {
            parent = ".";
        }
        if (auto synced = co_await sync_dir(parent); !synced) {
            co_return synced.error();
        }
    }
    // Secrets (password hashes, later repository credentials) live here: owner only.
    if (::chmod(meta_dir.c_str(), 0700) != 0) {
        co_return io_failure(io::errno_error(errno), fmt::format("chmod {}", meta_dir));
    }
    auto listing = list_meta(meta_dir);
    if (!listing) {
        co_return listing.error();
    }
    for (const auto& temp : listing->temps) {
        // A checkpoint that did not reach its rename: the journal still has everything.
        co_await io::unlinkat(AT_FDCWD, meta_dir + "/" + temp);
    }

    opened_journal out;
    out.log.reset(new journal());
    journal& j = *out.log;
    j._dir = meta_dir;
    recovered_meta& rec = out.recovered;

    for (auto it = listing->images.rbegin(); it != listing->images.rend(); ++it) {
        std::string path = fmt::format("{}/image.{}", meta_dir, *it);
        auto data = co_await read_whole(path);
        if (!data) {
            co_return data.error();
        }
        auto payload = parse_image(*data, *it);
        if (payload) {
            rec.image_seq = *it;
            rec.image = std::move(*payload);
            break;
        }
        TV_LOG_WARN("catalog: ignoring damaged image {}: {}; using an older image and the journal", path,
                    payload.error().message);
    }

    const auto& journals = listing->journals;
    uint64_t stream_next = 0;  // sequence the next record must have; 0 before the first file read
    for (size_t i = 0; i < journals.size(); ++i) {
        bool last = i + 1 == journals.size();
        if (!last && journals[i + 1] - 1 <= rec.image_seq) {
            continue;  // every record in it is in the image
        }
        uint64_t first = journals[i];
        std::string path = fmt::format("{}/journal.{}", meta_dir, first);
        if (stream_next == 0 && first > rec.image_seq + 1) {
            co_return corrupt(fmt::format("journal records {}..{} are missing: the image is at {} and {} starts at {}",
                                          rec.image_seq + 1, first - 1, rec.image_seq, path, first));
        }
        if (stream_next != 0 && first != stream_next) {
            co_return corrupt(fmt::format("journal {} starts at sequence {} but the previous file ends at {}", path,
                                          first, stream_next - 1));
        }
        auto data = co_await read_whole(path);
        if (!data) {
            co_return data.error();
        }
        uint64_t expected = first;
        size_t at = 0;
        while (at < data->size()) {
            parsed_record r = parse_record(*data, at);
            if (r.state == record_state::ok && r.seq != expected) {
                co_return corrupt(fmt::format("journal {} has sequence {} at offset {} where {} was expected", path,
                                              r.seq, at, expected));
            }
            if (r.state != record_state::ok) {
                if (!last || valid_record_after(*data, at, expected)) {
                    co_return corrupt(fmt::format(
                        "journal {} is damaged at offset {} (record {}: {}) and valid records follow it; refusing "
                        "to start rather than lose acknowledged changes",
                        path, at, expected, describe_state(r.state)));
                }
                TV_LOG_WARN("catalog: dropping a torn record at the end of {} (offset {}, {} bytes, {}): the write "
                            "was interrupted and never acknowledged",
                            path, at, data->size() - at, describe_state(r.state));
                break;
            }
            if (r.seq > rec.image_seq) {
                rec.records.push_back(journal_record{r.seq, std::string(r.payload)});
            }
            ++expected;
            at += r.size;
        }
        stream_next = expected;
        if (last) {
            auto f = co_await io::open_file(path, O_WRONLY, 0600);
            if (!f) {
                co_return io_failure(f.error(), fmt::format("open {}", path));
            }
            if (at < data->size()) {
                // No io_uring truncate on the kernels we support; start-up only.
                if (::ftruncate(f->fd(), static_cast<off_t>(at)) != 0) {
                    co_return io_failure(io::errno_error(errno), fmt::format("truncate {}", path));
                }
                if (auto synced = co_await io::fsync(f->fd()); !synced) {
                    co_return io_failure(synced.error(), fmt::format("fsync {}", path));
                }
            }
            j._file = std::move(*f);
            j._file_first_seq = first;
            j._offset = at;
        }
    }
    j._image_seq = rec.image_seq;
    j._last_seq = std::max(rec.image_seq, stream_next == 0 ? 0 : stream_next - 1);
    if (!j._file.is_open() || stream_next != j._last_seq + 1) {
        if (j._file.is_open()) {
            TV_LOG_WARN("catalog: {} ends at sequence {} but image.{} is newer; starting a new journal file",
                        j.current_path(), stream_next - 1, rec.image_seq);
            co_await j._file.close();
        }
        if (auto started = co_await j.start_file(j._last_seq + 1); !started) {
            co_return started.error();
        }
    }
    co_return out;
}

io::task<storage_result<void>> journal::start_file(uint64_t first_seq) {
    std::string path = fmt::format("{}/journal.{}", _dir, first_seq);
    auto f = co_await io::open_file(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (!f) {
        co_return io_failure(f.error(), fmt::format("create {}", path));
    }
    // The new name must survive a crash before its first record does.
    if (auto synced = co_await sync_dir(_dir); !synced) {
        // Recovery reads a file as ending where the next one starts, so an empty file left
        // here while appends continue in the current one would hide those appends. It is
        // removed, but with the directory failing its fsync neither the name nor its removal
        // is sure to be on disk: no more appends until a restart reads what is there.
        co_await f->close();
        (void)co_await io::unlinkat(AT_FDCWD, path);
        _failed = true;
        co_return synced.error();
    }
    if (_file.is_open()) {
        co_await _file.close();
    }
    _file = std::move(*f);
    _file_first_seq = first_seq;
    _offset = 0;
    co_return storage_result<void>{};
}

io::task<storage_result<uint64_t>> journal::append(std::string_view payload) {
    if (_failed) {
        co_return make_error(storage_errc::io_error,
                             "the metadata journal failed an earlier write and accepts no more changes; restart the "
                             "server to recover it");
    }
    if (payload.size() > journal_max_payload) {
        co_return make_error(storage_errc::bad_definition, "the change is too large to journal");
    }
    uint64_t seq = _last_seq + 1;
    std::string record = frame_record(seq, payload);
    auto written = co_await io::write_fully(_file.fd(), bytes_of(record), _offset);
    if (!written) {
        // A write the filesystem refused for want of space took nothing to the disk but maybe
        // part of the record to the page cache: cut that part off, and this change fails while
        // later ones may succeed once space is freed (the caller applies a change only after it
        // is journaled). Any other failure, or a cut that fails, stops the journal. No io_uring
        // truncate on the kernels we support; this is the rare path.
        int err = written.error().value();
        bool no_space = written.error().category() == std::system_category() && (err == ENOSPC || err == EDQUOT);
        if (!no_space || ::ftruncate(_file.fd(), static_cast<off_t>(_offset)) != 0) {
            _failed = true;
        }
        co_return io_failure(written.error(), fmt::format("write {}", current_path()));
    }
    io::crash_point(_dir.ends_with("/jobs") ? "journal.jobs.before_fsync" : "journal.meta.before_fsync");
    // After a failed fdatasync the page cache may hold data that never reaches the disk, so
    // nothing written since can be trusted: fail this change and all later ones.
    auto sync_started = std::chrono::steady_clock::now();
    auto synced = co_await io::fdatasync(_file.fd());
    if (synced && !_dir.ends_with("/jobs") &&
        io::failpoint("journal.meta.fdatasync_fails") == io::failpoint_action::error) {
        synced = io::result<void>(io::errno_error(EIO));  // as a disk error would: the record is in the page cache
    }
    fsync_seconds.with({_dir.ends_with("/jobs") ? "jobs" : "catalog"})
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - sync_started).count());
    if (!synced) {
        _failed = true;
        co_return io_failure(synced.error(), fmt::format("fdatasync {}", current_path()));
    }
    _offset += record.size();
    _last_seq = seq;
    co_return seq;
}

io::task<storage_result<void>> journal::write_image(std::string_view payload) {
    if (_failed) {
        co_return make_error(storage_errc::io_error, "the metadata journal failed an earlier write");
    }
    uint64_t seq = _last_seq;
    std::string final_path = fmt::format("{}/image.{}", _dir, seq);
    std::string data = frame_image(seq, payload);
    // Replacing: an image of the same sequence (a checkpoint retried after a failed journal
    // switch) holds the same state.
    auto written = co_await io::write_file_durably(final_path, bytes_of(data), io::replace_mode::replace, 0600);
    if (!written) {
        co_return io_failure(written.error(), fmt::format("write {}", final_path));
    }
    _image_seq = seq;
    if (_file_first_seq != seq + 1) {
        if (auto started = co_await start_file(seq + 1); !started) {
            // The image stands. A failed create leaves appends going on in the current file
            // (the next checkpoint retries); a failed directory fsync stops them (start_file).
            co_return started.error();
        }
    }
    co_await prune();
    co_return storage_result<void>{};
}

io::task<void> journal::prune() {
    auto listing = list_meta(_dir);
    if (!listing) {
        TV_LOG_WARN("catalog: cannot list {} to delete old metadata files: {}", _dir, listing.error().message);
        co_return;
    }
    const auto& images = listing->images;
    // The older of the two images kept is the fallback should the newest one be damaged; the
    // journals from it on must stay to bring it up to date.
    uint64_t keep_from = images.size() >= 2 ? images[images.size() - 2] : 0;
    std::vector<std::string> doomed;
    for (size_t i = 0; i + 2 < images.size(); ++i) {
        doomed.push_back(fmt::format("image.{}", images[i]));
    }
    const auto& journals = listing->journals;
    for (size_t i = 0; i + 1 < journals.size(); ++i) {
        if (journals[i + 1] - 1 <= keep_from && journals[i] != _file_first_seq) {
            doomed.push_back(fmt::format("journal.{}", journals[i]));
        }
    }
    for (const auto& name : doomed) {
        if (auto removed = co_await io::unlinkat(AT_FDCWD, _dir + "/" + name); !removed) {
            TV_LOG_WARN("catalog: cannot delete {}/{}: {}", _dir, name, removed.error().message());
        }
    }
}

io::task<void> journal::close() {
    if (_file.is_open()) {
        co_await _file.close();
    }
}

}  // namespace tv::storage
